package netlinkipvs

import (
	"github.com/ipvs-tools/ipvs"
	"golang.org/x/sys/unix"
)

// Error is the error of an IPVS operation: ipvs.Error, the vocabulary's
// one error type. Err is a unix.Errno when the kernel answered with an
// error code, otherwise the transport error.
type Error = ipvs.Error

// Errno returns the errno of err if it is (or wraps) a kernel error code.
func Errno(err error) (unix.Errno, bool) { return ipvs.Errno(err) }
