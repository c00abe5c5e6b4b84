//go:build !unix

package healthcheck

import (
	"errors"
	"net"
)

// connectOnlyOK: the tcp check needs net.Dialer off Unix.
const connectOnlyOK = false

func (p *prober) connectOnly() error { return errors.ErrUnsupported }

func (p *prober) dialSocket(network string) (net.Conn, error) { return nil, errors.ErrUnsupported }
