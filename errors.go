package ipvs

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Error is the failure of an IPVS request: the kernel's refusal (Err is a
// syscall.Errno such as ESRCH or EEXIST) or the transport's error. The
// kernel model (ipvsmodel) and the netlink transport (netlinkipvs) return
// the same type, so callers and tests see one kind of error.
type Error struct {
	// Op is the IPVS command that failed.
	Op Command
	// Err is the underlying error, usually a syscall.Errno.
	Err error
}

// Error returns "ipvs <op>: <err>".
func (e *Error) Error() string {
	return fmt.Sprintf("ipvs %s: %v", e.Op, e.Err)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, os.ErrNotExist) true for ENOENT and ESRCH (IPVS
// reports a missing service as ESRCH), os.ErrExist for EEXIST and
// os.ErrPermission for EPERM and EACCES.
func (e *Error) Is(target error) bool {
	errno, ok := Errno(e.Err)
	if !ok {
		return false
	}
	switch target {
	case os.ErrNotExist:
		return errno == syscall.ENOENT || errno == syscall.ESRCH
	case os.ErrExist:
		return errno == syscall.EEXIST
	case os.ErrPermission:
		return errno == syscall.EPERM || errno == syscall.EACCES
	}
	return false
}

// Errno returns the errno of err if it is (or wraps) a kernel error code.
func Errno(err error) (syscall.Errno, bool) {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno, true
	}
	return 0, false
}
