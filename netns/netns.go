// Package netns resolves network namespace names and runs code inside a
// network namespace without leaking it to other goroutines.
//
// A namespace is given either as a name, meaning /run/netns/NAME (the
// convention of "ip netns"), or as a path to an nsfs file such as
// /proc/1234/ns/net.
package netns

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Dir is where "ip netns add" mounts named namespaces.
const Dir = "/run/netns"

// Path returns the file of the namespace nameOrPath: a value containing a
// slash is a path and is returned unchanged, anything else is a name under
// Dir.
func Path(nameOrPath string) string {
	if strings.Contains(nameOrPath, "/") {
		return nameOrPath
	}
	return filepath.Join(Dir, nameOrPath)
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

// Do runs fn with the calling goroutine's OS thread in the network
// namespace nameOrPath. An empty nameOrPath runs fn directly. The thread is
// locked for the duration; if it cannot be switched back afterwards it stays
// locked, so the Go runtime discards it instead of reusing it in the wrong
// namespace.
func Do(nameOrPath string, fn func() error) error {
	if nameOrPath == "" {
		return fn()
	}
	target, err := Open(nameOrPath)
	if err != nil {
		return err
	}
	defer unix.Close(target)

	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("network namespace of this thread: %w", err)
	}
	defer unix.Close(orig)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter network namespace %q: %w", nameOrPath, err)
	}
	ferr := fn()
	if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
		// Leave the thread locked: it dies with the goroutine.
		return fmt.Errorf("leave network namespace %q: %w", nameOrPath, err)
	}
	runtime.UnlockOSThread()
	return ferr
}
