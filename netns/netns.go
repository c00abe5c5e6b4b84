// Package netns resolves network namespace names and runs code inside a
// network namespace without leaking it to other goroutines.
//
// A namespace is given either as a name, meaning /run/netns/NAME (the
// convention of "ip netns"), or as a path to an nsfs file such as
// /proc/1234/ns/net.
//
// Linux keeps the network namespace per thread. Do runs a function on a
// dedicated, locked OS thread that is switched into the namespace and back;
// the calling goroutine's thread never changes namespace, and a thread that
// cannot be switched back is destroyed rather than reused. Files whose
// namespace is fixed when they are opened (sockets, /proc/thread-self/net/*,
// /proc/sys/net/*) can be opened inside Do, or with OpenFile, and then used
// from any goroutine.
package netns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// Dir is where "ip netns add" mounts named namespaces.
const Dir = "/run/netns"

// threadSelfNet is the calling thread's network namespace file.
const threadSelfNet = "/proc/thread-self/ns/net"

// Path returns the file of the namespace nameOrPath: a value containing a
// slash is a path and is returned unchanged, anything else is a name under
// Dir.
func Path(nameOrPath string) string {
	if strings.Contains(nameOrPath, "/") {
		return nameOrPath
	}
	return filepath.Join(Dir, nameOrPath)
}

// PIDPath returns the namespace file of process pid, /proc/PID/ns/net.
func PIDPath(pid int) string {
	return fmt.Sprintf("/proc/%d/ns/net", pid)
}

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

// OpenFile opens the file name with the thread in the network namespace
// nameOrPath (the current one if empty), as os.OpenFile does. Files that
// take their namespace from the opener, such as /proc/thread-self/net/* and
// /proc/sys/net/*, then stay bound to that namespace and can be read and
// written from any goroutine.
func OpenFile(nameOrPath, name string, flag int, perm os.FileMode) (*os.File, error) {
	var f *os.File
	err := Do(nameOrPath, func() error {
		var err error
		f, err = os.OpenFile(name, flag, perm)
		return err
	})
	if err != nil {
		if f != nil {
			f.Close()
		}
		return nil, err
	}
	return f, nil
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

// List returns the names of the namespaces in Dir ("ip netns list"),
// sorted. A missing Dir is an empty list.
func List() ([]string, error) {
	return list(Dir)
}

func list(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, nil
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
