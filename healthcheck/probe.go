package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"syscall"
	"time"
)

// maxRead bounds what a probe reads of a body, a datagram or a command's
// output.
const maxRead = 64 << 10

// Probe runs one probe of c against the server at target (c's side port,
// when set, replaces target's port) and reports the outcome. The probe is
// bounded by c.Timeout (DefaultTimeout when zero) and by ctx; Latency is
// the time it took and Weight is -1 unless an exec check with
// DynamicWeight asked for one. Connections are opened through env.Dial and
// commands started through env.Start when they are set.
//
// A failed Result's Err is in an operator's words ("connection refused",
// "timed out after 2s", "status 503 (want 200-399)") and wraps the cause,
// so errors.Is(r.Err, syscall.ECONNREFUSED) still holds.
func Probe(ctx context.Context, env Env, c *Check, target netip.AddrPort) Result {
	target = c.Target(target)
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	p := &prober{env: env, c: c, target: target, parent: ctx, timeout: timeout}
	var cancel context.CancelFunc
	p.ctx, cancel = context.WithTimeout(ctx, timeout)
	defer cancel()

	start := time.Now()
	weight := -1
	var err error
	switch c.Type {
	case TCP:
		err = p.tcp()
	case HTTP, HTTPS:
		err = p.http()
	case UDP:
		err = p.udp()
	case DNS:
		err = p.dns()
	case Exec:
		weight, err = p.exec()
	default:
		err = fmt.Errorf("unknown check type %q", c.Type)
	}
	r := Result{OK: err == nil, Err: err, Latency: time.Since(start), Weight: -1}
	if r.OK {
		r.Weight = weight
	}
	return r
}

// prober is one probe in progress.
type prober struct {
	env     Env
	c       *Check
	target  netip.AddrPort
	parent  context.Context // the caller's context
	ctx     context.Context // parent bounded by timeout
	timeout time.Duration
}

// probeError is a failure in an operator's words; it wraps its cause.
type probeError struct {
	msg   string
	cause error
}

func (e *probeError) Error() string { return e.msg }
func (e *probeError) Unwrap() error { return e.cause }

// fail words err, a failure of the network or of the context, for an
// operator: the errno or the timeout, without Go's "dial tcp 1.2.3.4:80:"
// prefixes.
func (p *prober) fail(err error) error {
	var ne net.Error
	switch {
	case p.parent.Err() != nil:
		return &probeError{"canceled", err}
	case p.ctx.Err() != nil, errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &probeError{fmt.Sprintf("timed out after %v", p.timeout), err}
	}
	for _, e := range []struct {
		errno syscall.Errno
		msg   string
	}{
		{syscall.ECONNREFUSED, "connection refused"},
		{syscall.ECONNRESET, "connection reset"},
		{syscall.ECONNABORTED, "connection aborted"},
		{syscall.EPIPE, "connection closed"},
		{syscall.EHOSTUNREACH, "host unreachable"},
		{syscall.ENETUNREACH, "network unreachable"},
		{syscall.EADDRNOTAVAIL, "address not available"},
	} {
		if errors.Is(err, e.errno) {
			return &probeError{e.msg, err}
		}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &probeError{"connection closed by the server", err}
	}
	return &probeError{bare(err).Error(), err}
}

// bare strips the wrappers that only say which call failed (url.Error,
// net.OpError, os.SyscallError) off err.
func bare(err error) error {
	for {
		var u *url.Error
		var op *net.OpError
		var sc *os.SyscallError
		switch {
		case errors.As(err, &u):
			err = u.Err
		case errors.As(err, &op):
			err = op.Err
		case errors.As(err, &sc):
			err = sc.Err
		default:
			return err
		}
	}
}

// dial opens a connection to the target (address is always p.target):
// through env.Dial, else through a socket from env.Socket, else through
// a net.Dialer.
func (p *prober) dial(ctx context.Context, network, address string) (net.Conn, error) {
	if p.env.Dial != nil {
		return p.env.Dial(ctx, network, address)
	}
	if p.env.Socket != nil {
		return p.dialSocket(network)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}

// aLongTimeAgo is a deadline in the past: it ends a wait at once;
// noDeadline clears one.
var aLongTimeAgo, noDeadline = time.Unix(1, 0), time.Time{}

// tcp connects and closes: through env.Dial when set (tests), else
// without net.Dialer's extra calls (connectOnly).
func (p *prober) tcp() error {
	if p.env.Dial == nil && connectOnlyOK {
		return p.connectOnly()
	}
	conn, err := p.dial(p.ctx, "tcp", p.target.String())
	if err != nil {
		return p.fail(err)
	}
	conn.Close()
	return nil
}
