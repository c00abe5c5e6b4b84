package ipvsadmargs

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestStrerror(t *testing.T) {
	cases := []struct {
		fn    Func
		errno unix.Errno
		want  string
	}{
		{FuncAddService, unix.EEXIST, "Service already exists"},
		{FuncAddService, unix.ENOENT, "Scheduler or persistence engine not found"},
		{FuncUpdateService, unix.ESRCH, "No such service"},
		{FuncUpdateService, unix.ENOENT, "Scheduler or persistence engine not found"},
		{FuncUpdateService, unix.EEXIST, "File exists"},
		{FuncDelService, unix.ESRCH, "No such service"},
		{FuncDelService, unix.ENOENT, "No such file or directory"},
		{FuncZeroService, unix.ESRCH, "No such service"},
		{FuncAddDest, unix.ESRCH, "Service not defined"},
		{FuncAddDest, unix.EEXIST, "Destination already exists"},
		{FuncAddDest, unix.ENOENT, "No such file or directory"},
		{FuncAddDest, unix.ERANGE, "Numerical result out of range"},
		{FuncUpdateDest, unix.ESRCH, "Service not defined"},
		{FuncUpdateDest, unix.ENOENT, "No such destination"},
		{FuncDelDest, unix.ESRCH, "Service not defined"},
		{FuncDelDest, unix.ENOENT, "No such destination"},
		{FuncStartDaemon, unix.EEXIST, "Daemon has already run"},
		{FuncStartDaemon, unix.ENODEV, "No such device"},
		{FuncStopDaemon, unix.ESRCH, "No daemon is running"},
		{FuncGetServices, unix.ESRCH, "No such service"},
		{FuncGetDests, unix.ESRCH, "No such service"},
		{FuncGetService, unix.ESRCH, "No such service"},
		// The listing quirk: a full listing runs with ipvs_func still
		// at init, so ESRCH is glibc's text.
		{FuncInit, unix.ESRCH, "No such process"},
		{FuncInit, unix.EPERM, "Permission denied (you must be root)"},
		{FuncAddService, unix.EPERM, "Permission denied (you must be root)"},
		{FuncInit, unix.EINVAL, "Invalid operation.  Possibly wrong module version, address not unicast, ..."},
		{FuncInit, unix.ENOPROTOOPT, "Protocol not available"},
		{FuncInit, unix.ENOMEM, "Memory allocation problem"},
		{FuncInit, unix.EOPNOTSUPP, "Operation not supported with IPv6"},
		{FuncInit, unix.EAFNOSUPPORT, "Operation not supported with specified address family"},
		{FuncInit, unix.EMSGSIZE, "Module is wrong version"},
		{FuncInit, unix.EBUSY, "Device or resource busy"},
		{FuncInit, unix.ENOBUFS, "No buffer space available"},
		{FuncInit, unix.Errno(41), "Unknown error 41"},
		{FuncInit, unix.Errno(999), "Unknown error 999"},
		{FuncInit, 0, "Success"},
	}
	for _, c := range cases {
		if got := Strerror(c.fn, c.errno); got != c.want {
			t.Errorf("Strerror(%d, %d) = %q, want %q", c.fn, c.errno, got, c.want)
		}
	}
}
