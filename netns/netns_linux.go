//go:build linux

package netns

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// threadSelfNet is the calling thread's network namespace file.
const threadSelfNet = "/proc/thread-self/ns/net"

// Open opens the namespace nameOrPath and returns its file descriptor, which
// the caller closes. It fails unless the file is a network namespace.
func Open(nameOrPath string) (int, error) {
	p := Path(nameOrPath)
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("network namespace %q: %w", nameOrPath, &os.PathError{Op: "open", Path: p, Err: err})
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("network namespace %q: %w", nameOrPath, err)
	}
	if st.Type != unix.NSFS_MAGIC && st.Type != unix.PROC_SUPER_MAGIC {
		unix.Close(fd)
		return -1, fmt.Errorf("network namespace %q: %s is not a namespace file", nameOrPath, p)
	}
	return fd, nil
}

// Do runs fn with an OS thread in the network namespace nameOrPath and
// returns fn's error. An empty nameOrPath runs fn directly on the calling
// goroutine.
//
// Otherwise fn runs on a new goroutine whose thread is locked, switched into
// the namespace, and switched back after fn returns; the calling goroutine's
// own thread never changes namespace. If the thread cannot be switched back,
// its goroutine exits still locked, so the Go runtime destroys the thread
// instead of reusing it, and Do reports the error. A panic in fn is
// re-raised in the caller. Goroutines that fn starts run on other threads,
// in the caller's namespace.
func Do(nameOrPath string, fn func() error) error {
	if nameOrPath == "" {
		return fn()
	}
	target, err := Open(nameOrPath)
	if err != nil {
		return err
	}
	defer unix.Close(target)
	enter := func() error {
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("enter network namespace %q: %w", nameOrPath, err)
		}
		return nil
	}
	return onThreadIn(enter, fn, fmt.Sprintf("network namespace %q", nameOrPath))
}

// onThreadIn runs fn on a new goroutine whose thread is locked and switched
// by enter into another network namespace, and switched back afterwards;
// what names that namespace in errors. If the thread cannot be switched
// back, its goroutine exits still locked, so the Go runtime destroys the
// thread instead of reusing it. A panic in fn is re-raised in the caller.
func onThreadIn(enter, fn func() error, what string) error {
	type result struct {
		err   error
		panic any
	}
	done := make(chan result, 1)
	go func() {
		var res result
		defer func() { done <- res }()
		runtime.LockOSThread()
		orig, err := unix.Open(threadSelfNet, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			res.err = fmt.Errorf("network namespace of this thread: %w", err)
			return
		}
		defer unix.Close(orig)
		if err := enter(); err != nil {
			runtime.UnlockOSThread()
			res.err = err
			return
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					res.panic = p
				}
			}()
			res.err = fn()
		}()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			// Stay locked: the thread ends with this goroutine.
			res.err = errors.Join(res.err, fmt.Errorf("leave %s: %w", what, err))
			return
		}
		runtime.UnlockOSThread()
	}()
	res := <-done
	if res.panic != nil {
		panic(res.panic)
	}
	return res.err
}

// ID returns the inode number of the namespace nameOrPath, which identifies
// it: two namespace files with the same ID are the same namespace. An empty
// nameOrPath means the calling thread's namespace (lock the goroutine to
// its thread if that matters).
func ID(nameOrPath string) (uint64, error) {
	p := threadSelfNet
	if nameOrPath != "" {
		p = Path(nameOrPath)
	}
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return 0, fmt.Errorf("network namespace %q: %w", nameOrPath, &os.PathError{Op: "stat", Path: p, Err: err})
	}
	return st.Ino, nil
}

// Scratch creates a new, empty network namespace and runs fn with a path
// that names it (for Do, OpenFile and the WithNetNS options of this
// module). The namespace lives while fn runs; afterwards, once the sockets
// fn opened in it are closed, the kernel destroys it. It is for trying
// something without touching the caller's namespace. Creating a namespace
// needs CAP_SYS_ADMIN; without it the error matches os.ErrPermission.
func Scratch(fn func(path string) error) error {
	fd := -1
	enter := func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("create a network namespace: %w", &os.SyscallError{Syscall: "unshare", Err: err})
		}
		return nil
	}
	pin := func() error {
		var err error
		fd, err = unix.Open(threadSelfNet, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		return err
	}
	err := onThreadIn(enter, pin, "the new network namespace")
	if fd >= 0 {
		defer unix.Close(fd)
	}
	if err != nil {
		return err
	}
	return fn(fmt.Sprintf("/proc/self/fd/%d", fd))
}

// LoopbackUp brings the loopback interface of namespace nameOrPath up, as
// it is on every running host. A fresh namespace (Scratch) starts with lo
// down, and with it IPv4 has no local routing table: the kernel then takes
// no IPv4 address as a destination of a virtual service.
func LoopbackUp(nameOrPath string) error {
	return Do(nameOrPath, func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("bringing lo up: %w", err)
		}
		defer unix.Close(fd)
		ifr, err := unix.NewIfreq("lo")
		if err != nil {
			return err
		}
		if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
			return fmt.Errorf("bringing lo up: %w", err)
		}
		ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
		if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
			return fmt.Errorf("bringing lo up: %w", err)
		}
		return nil
	})
}

// Sockets opens sockets in a network namespace from one thread that
// entered it once: cheaper than Do for many short-lived sockets (a health
// checker's), which Do would open each on a fresh thread. A socket stays
// in the namespace it was opened in, whichever thread uses it later.
type Sockets struct {
	req  chan socketReq
	done chan struct{}
	here bool // the caller's namespace: no thread
}

type socketReq struct {
	domain, typ, proto int
	reply              chan socketRes
}

type socketRes struct {
	fd  int
	err error
}

// NewSockets starts the thread in nameOrPath ("" is the caller's
// namespace: then Socket is socket(2)).
func NewSockets(nameOrPath string) (*Sockets, error) {
	s := &Sockets{req: make(chan socketReq), done: make(chan struct{})}
	if nameOrPath == "" {
		s.here = true
		return s, nil
	}
	target, err := Open(nameOrPath)
	if err != nil {
		return nil, err
	}
	started := make(chan error, 1)
	go func() {
		// The thread never leaves the namespace: its goroutine ends
		// locked, and the runtime destroys the thread.
		runtime.LockOSThread()
		err := unix.Setns(target, unix.CLONE_NEWNET)
		unix.Close(target)
		if err != nil {
			started <- fmt.Errorf("enter network namespace %q: %w", nameOrPath, err)
			return
		}
		started <- nil
		for {
			select {
			case r := <-s.req:
				fd, err := unix.Socket(r.domain, r.typ, r.proto)
				r.reply <- socketRes{fd, err}
			case <-s.done:
				return
			}
		}
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return s, nil
}

// Socket opens a socket in the namespace (socket(2)'s arguments).
func (s *Sockets) Socket(domain, typ, proto int) (int, error) {
	if s.here {
		return unix.Socket(domain, typ, proto)
	}
	reply := make(chan socketRes, 1)
	select {
	case s.req <- socketReq{domain, typ, proto, reply}:
	case <-s.done:
		return -1, errors.New("netns: the namespace's socket thread is closed")
	}
	r := <-reply
	return r.fd, r.err
}

// Close ends the thread.
func (s *Sockets) Close() {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
}
