// Package cmdutil holds what the ipvsctl commands share: errors with
// hints, exit codes, output formats, tables and name resolution.
package cmdutil

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"
)

// ExitError ends the program with Code; Err, if not nil, is printed.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ErrSilent ends the program with status 1 without a message (the command
// has already said what went wrong).
var ErrSilent = &ExitError{Code: 1}

// FlagError is a usage error; the usage line is printed with it.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// FlagErrorf formats a usage error.
func FlagErrorf(format string, args ...any) error {
	return &FlagError{Err: fmt.Errorf(format, args...)}
}

// OpError is a failed operation on a named object, with a hint on how to
// fix it: "add service tcp:10.0.0.1:80: scheduler "foo" not found
// (ENOENT)\n  hint: ...".
type OpError struct {
	Op     string // "add service"
	Object string // "tcp:10.0.0.1:80"
	Err    error
	Hint   string
}

func (e *OpError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Object != "" {
		b.WriteString(" " + e.Object)
	}
	b.WriteString(": " + e.Message())
	if e.Hint != "" {
		b.WriteString("\n  hint: " + e.Hint)
	}
	return b.String()
}

func (e *OpError) Unwrap() error { return e.Err }

// Message is the error without op, object and hint.
func (e *OpError) Message() string {
	errno, ok := netlinkipvs.Errno(e.Err)
	if !ok {
		var ne *netlinkipvs.Error
		if errors.As(e.Err, &ne) {
			return ne.Err.Error()
		}
		return e.Err.Error()
	}
	return fmt.Sprintf("%s (%s)", errno.Error(), unix.ErrnoName(errno))
}

// Context describes an operation for Explain.
type Context struct {
	Op        string // "add service", "delete destination", ...
	Object    string // "tcp:10.0.0.1:80", "192.168.0.1:80 of tcp:10.0.0.1:80"
	Scheduler string // for ENOENT on service writes
	PE        string
	Interface string // for sync daemons
}

// errnoHints name the usual cause of an errno, whatever the request;
// requestHints, where it depends on the request, take precedence.
var (
	errnoHints = map[unix.Errno]string{
		unix.EPERM:        hintRoot,
		unix.EACCES:       hintRoot,
		unix.ESRCH:        "the service does not exist; see ipvsctl list",
		unix.EAFNOSUPPORT: "address family not supported: is IPv6 disabled? A real server of another family than its service is allowed only with tunnel forwarding",
		unix.ERANGE:       "a value is out of range: the weight must be 0..2147483647 and the lower threshold at most the upper one",
		unix.ENODEV:       "no such network interface (ip link)",
		unix.ENOBUFS:      "the kernel dropped replies, so the outcome is unknown: check with ipvsctl diff or ipvsctl list",
		unix.EOPNOTSUPP:   "the kernel does not support this request",
	}
	requestHints = map[unix.Errno]map[ipvs.Command]string{
		unix.ESRCH: {
			ipvs.CmdDelDaemon: "that sync daemon is not running; see ipvsctl sync status",
		},
		unix.ENOENT: {
			ipvs.CmdGetFamily: "the ip_vs kernel module is not available: modprobe ip_vs (or the kernel was built without CONFIG_IP_VS)",
			ipvs.CmdSetDest:   hintNoDest,
			ipvs.CmdDelDest:   hintNoDest,
		},
		unix.EEXIST: {
			ipvs.CmdNewDaemon:  "a sync daemon in that role is already running; ipvsctl sync stop it first",
			ipvs.CmdNewService: "the service already exists; change it with ipvsctl service edit",
			ipvs.CmdNewDest:    "the destination already exists; change it with ipvsctl dest edit",
		},
		unix.EINVAL: {
			ipvs.CmdNewDest:    hintBadDest,
			ipvs.CmdSetDest:    hintBadDest,
			ipvs.CmdNewDaemon:  "the kernel refused the sync daemon: it cannot run while a destination has another address family than its service (mixed-AF tunnel servers); the group must be multicast",
			ipvs.CmdNewService: hintBadService,
			ipvs.CmdSetService: hintBadService,
			ipvs.CmdSetConfig:  "a timeout is too large for the kernel (at most 2147483 seconds is safe)",
		},
	}
)

const (
	hintRoot       = "IPVS needs root: CAP_NET_ADMIN in the initial user namespace (rootless containers and user namespaces are refused by the kernel)"
	hintNoDest     = "the destination does not exist in that service (an IPv6 server of an IPv4 service needs its family); see ipvsctl get SERVICE"
	hintBadDest    = "the kernel refused the destination: a real server of another address family than its service is allowed only with tunnel forwarding and not while a sync daemon runs; the address must be unicast (and lo must be up); a gue tunnel needs a port"
	hintBadService = "the kernel refused the service settings (an IPv6 persistence prefix must be 1..128)"
)

// Explain wraps a kernel error in an OpError naming the operation and the
// object, with a hint for the usual causes. Errors that are already
// OpErrors are returned unchanged.
func Explain(ctx Context, err error) error {
	if err == nil {
		return nil
	}
	var oe *OpError
	if errors.As(err, &oe) {
		return err
	}
	e := &OpError{Op: ctx.Op, Object: ctx.Object, Err: err}
	// Only a kernel reply names a request: an errno from elsewhere (a
	// namespace file) must not get the hint of the zero request.
	var cmd ipvs.Command
	var ne *netlinkipvs.Error
	fromKernel := errors.As(err, &ne)
	if fromKernel {
		cmd = ne.Op
	}
	errno, _ := netlinkipvs.Errno(err)
	switch {
	case errno == unix.ENOENT && (cmd == ipvs.CmdNewService || cmd == ipvs.CmdSetService):
		s := ctx.Scheduler
		if s == "" {
			s = "<name>"
		}
		e.Hint = fmt.Sprintf("scheduler %q is not loaded: modprobe ip_vs_%s", s, s)
		if ctx.PE != "" {
			e.Hint += fmt.Sprintf("; or persistence engine %q: modprobe ip_vs_pe_%s", ctx.PE, ctx.PE)
		}
	case errno == unix.ENODEV && ctx.Interface != "":
		e.Hint = fmt.Sprintf("interface %q does not exist in this network namespace (ip link)", ctx.Interface)
	default:
		var ok bool
		if e.Hint, ok = requestHints[errno][cmd]; !ok || !fromKernel {
			e.Hint = errnoHints[errno]
		}
	}
	return e
}

// FieldErrors turns the validation errors of a one-object document built
// from command-line options into a usage error naming only the field
// ("scheduler: invalid scheduler name ...").
func FieldErrors(what string, err error) error {
	var list interface{ Error() string }
	list = err
	msgs := []string{}
	if el, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range el.Unwrap() {
			msgs = append(msgs, e.Error())
		}
	} else {
		msgs = append(msgs, list.Error())
	}
	for i, m := range msgs {
		for _, p := range []string{"services[0].destinations[0].", "services[0].destinations[0]: ", "services[0].", "services[0]: "} {
			m = strings.TrimPrefix(m, p)
		}
		msgs[i] = m
	}
	return &FlagError{Err: fmt.Errorf("%s: %s", what, strings.Join(msgs, "; "))}
}

// usageRange finds "A..B" in a flag's help ("WEIGHT 0..2147483647").
var usageRange = regexp.MustCompile(`(?:^|[^0-9./])([0-9]+)\.\.([0-9]+)(?:$|[^0-9.])`)

// FlagValue words pflag's error for a value a flag cannot take, which is
// Go's ("invalid argument "-1" for "-w, --weight" flag: strconv.ParseUint:
// parsing "-1": invalid syntax"), in the user's: the flag, the value and
// what it takes ("--weight -1: want a whole number 0..2147483647", the
// range from the flag's help or else its type's). Other errors are
// returned unchanged.
func FlagValue(err error) error {
	var ive *pflag.InvalidValueError
	if !errors.As(err, &ive) {
		return err
	}
	fl, v := ive.GetFlag(), ive.GetValue()
	given := fmt.Sprintf("--%s %s", fl.Name, v)
	if v == "" {
		given = fmt.Sprintf("--%s ''", fl.Name)
	}
	var want string
	switch t := fl.Value.Type(); t {
	case "uint", "uint8", "uint16", "uint32", "uint64":
		bits, _ := strconv.Atoi(strings.TrimPrefix(t, "uint"))
		if bits == 0 {
			bits = strconv.IntSize
		}
		lo, hi := "0", strconv.FormatUint(1<<bits-1, 10)
		if m := usageRange.FindStringSubmatch(fl.Usage); m != nil {
			lo, hi = m[1], m[2]
		}
		want = fmt.Sprintf("want a whole number %s..%s", lo, hi)
	case "int", "int8", "int16", "int32", "int64":
		want = "want a whole number"
		if m := usageRange.FindStringSubmatch(fl.Usage); m != nil {
			want += fmt.Sprintf(" %s..%s", m[1], m[2])
		}
	case "float32", "float64":
		want = "want a number"
	case "duration":
		want = "want a duration with its unit, such as 500ms, 10s, 5m or 1h30m"
	case "bool":
		given = fmt.Sprintf("--%s=%s", fl.Name, v)
		want = fmt.Sprintf("want true or false (--%s alone is true)", fl.Name)
	default:
		var ne *strconv.NumError
		if errors.As(err, &ne) {
			want = "not a valid number"
		} else {
			want = errors.Unwrap(err).Error()
		}
	}
	return fmt.Errorf("%s: %s", given, want)
}
