//go:build !unix

package healthcheck

import "errors"

// connectOnlyOK: the tcp check needs net.Dialer off Unix.
const connectOnlyOK = false

func (p *prober) connectOnly() error { return errors.ErrUnsupported }
