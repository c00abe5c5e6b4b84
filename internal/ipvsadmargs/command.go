package ipvsadmargs

import "github.com/ipvs-tools/ipvs"

// Kind is the command of an invocation (ipvsadm's CMD_* plus help and
// version, which act before any other processing).
type Kind int

// Commands, in ipvsadm's CMD_* order (the matrix rows follow it).
const (
	KindNone        Kind = iota
	KindAdd              // -A, --add-service
	KindEdit             // -E, --edit-service
	KindDelete           // -D, --delete-service
	KindFlush            // -C, --clear
	KindList             // -L, -l, --list
	KindAddDest          // -a, --add-server
	KindDeleteDest       // -d, --delete-server
	KindEditDest         // -e, --edit-server
	KindSetTimeout       // --set
	KindStartDaemon      // --start-daemon
	KindStopDaemon       // --stop-daemon
	KindRestore          // -R, --restore
	KindSave             // -S, --save
	KindZero             // -Z, --zero
	KindHelp             // -h, --help (first option only)
	KindVersion          // -v, --version (first option only)
)

// numberOfCommands is the number of matrix rows (KindAdd..KindZero).
const numberOfCommands = 14

// cmdNames are the command names used in messages (cmdnames[]).
var cmdNames = [numberOfCommands]string{
	"add-service",
	"edit-service",
	"delete-service",
	"flush",
	"list",
	"add-server",
	"delete-server",
	"edit-server",
	"set",
	"start-daemon",
	"stop-daemon",
	"restore",
	"save",
	"zero",
}

// String returns the command's name as ipvsadm's messages spell it.
func (k Kind) String() string {
	switch {
	case k >= KindAdd && k <= KindZero:
		return cmdNames[k-KindAdd]
	case k == KindHelp:
		return "help"
	case k == KindVersion:
		return "version"
	}
	return "none"
}

// Opt is one option bit (ipvsadm's OPTC_* column index).
type Opt uint

// Option columns, in ipvsadm's order: the order decides which matrix error
// is reported first.
const (
	OptNumeric Opt = iota
	OptConnection
	OptService
	OptScheduler
	OptPersistent
	OptNetmask
	OptServer
	OptForward
	OptWeight
	OptUThreshold
	OptLThreshold
	OptMcastInterface
	OptTimeout
	OptDaemon
	OptStats
	OptRate
	OptThresholds
	OptPersistentConn
	OptNoSort
	OptSyncID
	OptExact
	OptOnePacket
	OptPersistenceEngine
	OptSchedFlags
	OptMcastGroup
	OptMcastPort
	OptMcastTTL
	OptSyncMaxLen
	OptTunInfo
	OptTunType
	OptTunPort
	OptTunNoCsum
	OptTunCsum
	OptTunRemCsum
	numberOfOpts
)

// optNames are the option names used in messages (optnames[]).
var optNames = [numberOfOpts]string{
	"numeric",
	"connection",
	"service-address",
	"scheduler",
	"persistent",
	"netmask",
	"real-server",
	"forwarding-method",
	"weight",
	"u-threshold",
	"l-threshold",
	"mcast-interface",
	"timeout",
	"daemon",
	"stats",
	"rate",
	"thresholds",
	"persistent-conn",
	"nosort",
	"syncid",
	"exact",
	"ops",
	"pe",
	"sched-flags",
	"mcast-group",
	"mcast-port",
	"mcast-ttl",
	"sync-maxlen",
	"tun-info",
	"tun-type",
	"tun-port",
	"tun-nocsum",
	"tun-csum",
	"tun-remcsum",
}

// String returns the option's name as ipvsadm's messages spell it.
func (o Opt) String() string {
	if o < numberOfOpts {
		return optNames[o]
	}
	return "?"
}

// Options is a set of option bits.
type Options uint64

// Has reports whether o is in the set.
func (s Options) Has(o Opt) bool { return s&(1<<o) != 0 }

// ListOptions are the output options of -L and -S.
type ListOptions struct {
	Numeric        bool // -n
	Connection     bool // -c
	Timeout        bool // --timeout
	Daemon         bool // --daemon
	Stats          bool // --stats
	Rate           bool // --rate
	Thresholds     bool // --thresholds
	PersistentConn bool // --persistent-conn
	TunInfo        bool // --tun-info
	NoSort         bool // --nosort
	Exact          bool // -X, --exact
}

// Command is one parsed invocation. The Service, Destination, Timeouts and
// Daemon hold exactly what ipvsadm would send to the kernel for the
// command (defaults applied).
type Command struct {
	Kind Kind
	// Argv0 is argv[0] as given; help text and "Try" messages use it.
	Argv0 string
	// Options are the option bits given.
	Options Options
	// HasService reports whether a virtual service (-t/-u/--sctp-service/-f)
	// was given.
	HasService  bool
	Service     ipvs.Service
	Destination ipvs.Destination
	Timeouts    ipvs.Timeouts
	Daemon      ipvs.Daemon
	List        ListOptions
}

// ServiceKey returns the identity of the command's service.
func (c *Command) ServiceKey() ipvs.ServiceKey { return c.Service.Key() }

// ZeroAll reports whether a -Z command zeroes every service: ipvsadm sends
// no service when the fwmark, the address and the port are all zero.
func (c *Command) ZeroAll() bool {
	s := c.Service
	return s.FWMark == 0 && s.Port == 0 && (!s.Address.IsValid() || s.Address.IsUnspecified())
}

// Env supplies everything impure that parsing needs. A nil function finds
// nothing.
type Env struct {
	// LookupHost resolves a host name to its first IPv4 address, as
	// gethostbyname(3) does.
	LookupHost func(name string) ([4]byte, bool)
	// LookupService resolves a service name for protocol "tcp", "udp" or
	// "sctp" to a port, as getservbyname(3) does.
	LookupService func(name, proto string) (uint16, bool)
	// PosixlyCorrect is set when POSIXLY_CORRECT or POSIX_ME_HARDER is in
	// the environment: popt then stops at the first non-option.
	PosixlyCorrect bool
}

// ErrorKind tells how ipvsadm reacts to an error.
type ErrorKind int

const (
	// ErrFail is ipvsadm's fail(): message, exit 2, even inside -R.
	ErrFail ErrorKind = iota
	// ErrTry is the "Try `%s -h'..." message: exit 255, even inside -R.
	ErrTry
	// ErrPopt is an option error of popt: message, status 255; inside -R
	// processing continues with the next line.
	ErrPopt
)

// Error is a parse error with the exact text ipvsadm prints on stderr.
type Error struct {
	Kind ErrorKind
	// Argv0 is argv[0] of the invocation (the Try message names it).
	Argv0 string
	// Msg is the complete stderr text, trailing newline(s) included.
	Msg string
	// Status is the exit status: 2 for ErrFail, 255 otherwise.
	Status int
}

func (e *Error) Error() string { return e.Msg }

func failf(format string, a ...any) *Error {
	return &Error{Kind: ErrFail, Msg: sprintf(format, a...) + "\n", Status: 2}
}

// TryHelp returns the "Try ..." error for argv0.
func TryHelp(argv0 string) *Error {
	return &Error{
		Kind:   ErrTry,
		Argv0:  argv0,
		Msg:    "Try `" + argv0 + " -h' or '" + argv0 + " --help' for more information.\n",
		Status: 255,
	}
}
