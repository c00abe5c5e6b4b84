package netlinkipvs

import (
	"errors"
	"fmt"
	"os"

	"github.com/ipvs-tools/ipvs"
	"golang.org/x/sys/unix"
)

// Error is the error of an IPVS operation. Err is a unix.Errno when the
// kernel answered with an error code, otherwise the transport error.
type Error struct {
	// Op is the IPVS command that failed.
	Op ipvs.Command
	// Err is the underlying error, usually a unix.Errno.
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
	var errno unix.Errno
	if !errors.As(e.Err, &errno) {
		return false
	}
	switch target {
	case os.ErrNotExist:
		return errno == unix.ENOENT || errno == unix.ESRCH
	case os.ErrExist:
		return errno == unix.EEXIST
	case os.ErrPermission:
		return errno == unix.EPERM || errno == unix.EACCES
	}
	return false
}

// Errno returns the errno of err if it is (or wraps) a kernel error code.
func Errno(err error) (unix.Errno, bool) {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno, true
	}
	return 0, false
}
