//go:build unix

package healthcheck

import (
	"context"
	"net"
	"os"
	"syscall"
)

// connectOnlyOK: the system-call tcp check is available.
const connectOnlyOK = true

// connectOnly is the tcp check without net.Dialer: socket, a connect that
// does not block a thread (the runtime's poller waits for it), SO_ERROR,
// close. net.Dialer adds TCP_NODELAY, getsockname and getpeername for a
// connection the check closes at once (BenchmarkTCPProbe).
func (p *prober) connectOnly() error {
	f, err := p.connectFile(syscall.SOCK_STREAM)
	if err != nil {
		return p.fail(err)
	}
	f.Close()
	return nil
}

// dialSocket opens a connection ("tcp" or "udp") through env.Socket: the
// http, https, udp and dns checks of an agent probing from another
// namespace.
func (p *prober) dialSocket(network string) (net.Conn, error) {
	typ := syscall.SOCK_STREAM
	if network == "udp" {
		typ = syscall.SOCK_DGRAM
	}
	f, err := p.connectFile(typ)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return net.FileConn(f)
}

// connectFile opens a socket of type typ to the target (env.Socket or
// socket(2)) and connects it, bounded by the probe's context.
func (p *prober) connectFile(typ int) (*os.File, error) {
	family, sa := syscall.AF_INET, syscall.Sockaddr(nil)
	if a := p.target.Addr(); a.Is4() {
		sa = &syscall.SockaddrInet4{Port: int(p.target.Port()), Addr: a.As4()}
	} else {
		family = syscall.AF_INET6
		sa = &syscall.SockaddrInet6{Port: int(p.target.Port()), Addr: a.As16()}
	}
	socket := p.env.Socket
	if socket == nil {
		socket = syscall.Socket
	}
	fd, err := socket(family, typ|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	// Registered with the poller before connect: it waits for the edge
	// that connect's completion makes.
	f := os.NewFile(uintptr(fd), "probe")
	if dl, ok := p.ctx.Deadline(); ok {
		f.SetDeadline(dl)
	}
	stop := context.AfterFunc(p.ctx, func() { f.SetDeadline(aLongTimeAgo) })
	defer stop()
	fail := func(err error) (*os.File, error) {
		f.Close()
		return nil, err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return fail(err)
	}
	// connect runs inside Write, after the poller was made ready to wait
	// for writability: a completion between the two cannot be missed.
	var soErr error
	connected := false
	err = rc.Write(func(fd uintptr) bool {
		if !connected {
			connected = true
			switch err := syscall.Connect(int(fd), sa); err {
			case nil:
				return true
			case syscall.EINPROGRESS:
				return false // wait until writable
			default:
				soErr = os.NewSyscallError("connect", err)
				return true
			}
		}
		v, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
		if err != nil {
			soErr = os.NewSyscallError("getsockopt", err)
			return true
		}
		switch e := syscall.Errno(v); e {
		case syscall.EINPROGRESS, syscall.EALREADY, syscall.EINTR:
			return false
		case 0:
			// The poller can wake spuriously (as net.Dialer knows): only
			// a peer name says the connection is made.
			_, err := syscall.Getpeername(int(fd))
			return err == nil
		default:
			soErr = os.NewSyscallError("connect", e)
			return true
		}
	})
	if err == nil {
		err = soErr
	}
	if err != nil {
		return fail(err)
	}
	f.SetDeadline(noDeadline)
	return f, nil
}
