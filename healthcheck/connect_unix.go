//go:build unix

package healthcheck

import (
	"context"
	"os"
	"syscall"
)

// connectOnlyOK: the system-call tcp check is available.
const connectOnlyOK = true

// connectOnly is the tcp check without net.Dialer: socket, a connect that
// does not block a thread (the runtime's poller waits for it), SO_ERROR,
// close. net.Dialer adds five setsockopt calls (TCP_NODELAY and
// keep-alive) and getsockname and getpeername for a connection the check
// closes at once: half its system calls.
func (p *prober) connectOnly() error {
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
	fd, err := socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return p.fail(os.NewSyscallError("socket", err))
	}
	// Registered with the poller before connect: it waits for the edge
	// that connect's completion makes.
	f := os.NewFile(uintptr(fd), "probe")
	defer f.Close()
	if dl, ok := p.ctx.Deadline(); ok {
		f.SetDeadline(dl)
	}
	stop := context.AfterFunc(p.ctx, func() { f.SetDeadline(aLongTimeAgo) })
	defer stop()
	rc, err := f.SyscallConn()
	if err != nil {
		return p.fail(err)
	}
	if cerr := rc.Control(func(fd uintptr) { err = syscall.Connect(int(fd), sa) }); cerr != nil {
		return p.fail(cerr)
	}
	switch err {
	case nil:
		return nil
	case syscall.EINPROGRESS:
	default:
		return p.fail(os.NewSyscallError("connect", err))
	}
	var soErr error
	waited := false
	err = rc.Write(func(fd uintptr) bool {
		if !waited { // connect is in progress: wait until writable
			waited = true
			return false
		}
		v, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
		switch {
		case err != nil:
			soErr = os.NewSyscallError("getsockopt", err)
		case v != 0:
			soErr = os.NewSyscallError("connect", syscall.Errno(v))
		}
		return true
	})
	if err == nil {
		err = soErr
	}
	if err != nil {
		return p.fail(err)
	}
	return nil
}
