package ipvsadmargs

// This file emulates the parts of popt 1.19 that ipvsadm's behaviour
// depends on: poptGetNextOpt with short-option bundling, "-x=value" and
// "--long=value", optional arguments, "--", leftover arguments, and the
// error codes and poptBadOption text.

import (
	"math"

	"github.com/ipvs-tools/ipvs"
)

type argType int

const (
	argNone     argType = iota // POPT_ARG_NONE
	argString                  // POPT_ARG_STRING
	argOptional                // POPT_ARG_STRING | POPT_ARGFLAG_OPTIONAL
)

// Option values (the "val" of the table): short options use their
// character, long-only options a tag above the ASCII range.
const (
	tagSet = 128 + iota
	tagStartDaemon
	tagStopDaemon
	tagMcastInterface
	tagTimeout
	tagDaemon
	tagStats
	tagRate
	tagThresholds
	tagPersistentConn
	tagSort
	tagNoSort
	tagPersistenceEngine
	tagSCTPService
	tagMcastGroup
	tagMcastPort
	tagMcastTTL
	tagSyncMaxLen
	tagTunInfo
	tagTunType
	tagTunPort
	tagTunNoCsum
	tagTunCsum
	tagTunRemCsum
)

// poptOption is one row of the option table: what popt matches (long,
// short, arg, val) and what ipvsadm does with the option in the loop
// after the command: the Options bit it sets (a second occurrence is an
// error) and apply, which stores its value.
type poptOption struct {
	long  string
	short byte
	arg   argType
	val   int
	// opt is the option's bit; noOpt for the commands, -h, -v, -6 and
	// --sort.
	opt Opt
	// apply stores the option's value after its bit is set; nil for
	// options that are only their bit. An option with neither a bit nor
	// apply (a command, -h, -v) is invalid after the command.
	apply func(p *parser, a optArg) *Error
}

// noOpt is the opt of table rows that set no Options bit.
const noOpt = numberOfOpts

// optionsTable is ipvsadm's popt table, in its order (the first match
// wins), with what each option does.
var optionsTable = []poptOption{
	{"add-service", 'A', argNone, 'A', noOpt, nil},
	{"edit-service", 'E', argNone, 'E', noOpt, nil},
	{"delete-service", 'D', argNone, 'D', noOpt, nil},
	{"clear", 'C', argNone, 'C', noOpt, nil},
	{"list", 'L', argNone, 'L', noOpt, nil},
	{"list", 'l', argNone, 'l', noOpt, nil},
	{"zero", 'Z', argNone, 'Z', noOpt, nil},
	{"add-server", 'a', argNone, 'a', noOpt, nil},
	{"edit-server", 'e', argNone, 'e', noOpt, nil},
	{"delete-server", 'd', argNone, 'd', noOpt, nil},
	{"set", 0, argNone, tagSet, noOpt, nil},
	{"help", 'h', argNone, 'h', noOpt, nil},
	{"version", 'v', argNone, 'v', noOpt, nil},
	{"restore", 'R', argNone, 'R', noOpt, nil},
	{"save", 'S', argNone, 'S', noOpt, nil},
	{"start-daemon", 0, argString, tagStartDaemon, noOpt, nil},
	{"stop-daemon", 0, argString, tagStopDaemon, noOpt, nil},
	{"tcp-service", 't', argString, 't', OptService, service(ipvs.ProtoTCP)},
	{"udp-service", 'u', argString, 'u', OptService, service(ipvs.ProtoUDP)},
	{"sctp-service", 0, argString, tagSCTPService, OptService, service(ipvs.ProtoSCTP)},
	{"fwmark-service", 'f', argString, 'f', OptService, applyFwmark},
	{"scheduler", 's', argString, 's', OptScheduler, applyScheduler},
	{"persistent", 'p', argOptional, 'p', OptPersistent, applyPersistent},
	{"netmask", 'M', argString, 'M', OptNetmask, applyNetmask},
	{"real-server", 'r', argString, 'r', OptServer, applyServer},
	{"masquerading", 'm', argNone, 'm', OptForward, forward(ipvs.FwdMasq)},
	{"ipip", 'i', argNone, 'i', OptForward, forward(ipvs.FwdTunnel)},
	{"gatewaying", 'g', argNone, 'g', OptForward, forward(ipvs.FwdRoute)},
	{"weight", 'w', argString, 'w', OptWeight, number(0, maxWeight, "weight", func(p *parser, n int64) { p.dest.weight = n })},
	{"u-threshold", 'x', argString, 'x', OptUThreshold, number(0, math.MaxInt32, "u_threshold", func(p *parser, n int64) { p.dest.uthresh = n })},
	{"l-threshold", 'y', argString, 'y', OptLThreshold, number(0, math.MaxInt32, "l_threshold", func(p *parser, n int64) { p.dest.lthresh = n })},
	{"numeric", 'n', argNone, 'n', OptNumeric, nil},
	{"connection", 'c', argNone, 'c', OptConnection, nil},
	{"mcast-interface", 0, argString, tagMcastInterface, OptMcastInterface, applyMcastInterface},
	{"syncid", 0, argString, 'I', OptSyncID, number(0, 255, "syncid", func(p *parser, n int64) { p.daemon.syncID = uint32(n) })},
	{"timeout", 0, argNone, tagTimeout, OptTimeout, nil},
	{"daemon", 0, argNone, tagDaemon, OptDaemon, nil},
	{"stats", 0, argNone, tagStats, OptStats, nil},
	{"rate", 0, argNone, tagRate, OptRate, nil},
	{"thresholds", 0, argNone, tagThresholds, OptThresholds, nil},
	{"persistent-conn", 0, argNone, tagPersistentConn, OptPersistentConn, nil},
	{"nosort", 0, argNone, tagNoSort, OptNoSort, nil},
	{"sort", 0, argNone, tagSort, noOpt, applyNothing},
	{"exact", 'X', argNone, 'X', OptExact, nil},
	{"ipv6", '6', argNone, '6', noOpt, applyIPv6},
	{"ops", 'o', argNone, 'o', OptOnePacket, applyOnePacket},
	{"pe", 0, argString, tagPersistenceEngine, OptPersistenceEngine, applyPE},
	{"sched-flags", 'b', argString, 'b', OptSchedFlags, applySchedFlags},
	{"mcast-group", 0, argString, tagMcastGroup, OptMcastGroup, applyMcastGroup},
	{"mcast-port", 0, argString, tagMcastPort, OptMcastPort, number(1, 65535, "mcast-port", func(p *parser, n int64) { p.daemon.port = uint16(n) })},
	{"mcast-ttl", 0, argString, tagMcastTTL, OptMcastTTL, number(1, 255, "mcast-ttl", func(p *parser, n int64) { p.daemon.ttl = uint8(n) })},
	{"sync-maxlen", 0, argString, tagSyncMaxLen, OptSyncMaxLen, number(1, 65535-20-8, "sync-maxlen", func(p *parser, n int64) { p.daemon.maxLen = uint16(n) })},
	{"tun-info", 0, argNone, tagTunInfo, OptTunInfo, nil},
	{"tun-type", 0, argString, tagTunType, OptTunType, applyTunType},
	{"tun-port", 0, argString, tagTunPort, OptTunPort, number(1, 65535, "tunnel port", func(p *parser, n int64) { p.dest.tunPort = uint16(n) })},
	{"tun-nocsum", 0, argNone, tagTunNoCsum, OptTunNoCsum, nil},
	{"tun-csum", 0, argNone, tagTunCsum, OptTunCsum, applyTunCsum},
	{"tun-remcsum", 0, argNone, tagTunRemCsum, OptTunRemCsum, applyTunRemCsum},
}

// popt error codes and their poptStrerror texts.
const (
	poptEnd          = -1
	poptErrNoArg     = -10
	poptErrBadOpt    = -11
	poptErrUnwantArg = -12
)

func poptStrerror(rc int) string {
	switch rc {
	case poptErrNoArg:
		return "missing argument"
	case poptErrBadOpt:
		return "unknown option"
	case poptErrUnwantArg:
		return "option does not take an argument"
	}
	return "unknown error"
}

// poptContext is the state of one option scan over argv (argv[0] is the
// program name and is skipped, as popt does).
type poptContext struct {
	argv []string
	next int
	// nextCharArg is the rest of a short-option bundle; hasNextChar
	// distinguishes an empty rest ("-n=") from none.
	nextCharArg  string
	hasNextChar  bool
	restLeftover bool
	posix        bool
	leftovers    []string
	nextLeftover int
	// arg is the argument of the option just returned; hasArg is false
	// when an optional argument was absent (optarg == NULL).
	arg    string
	hasArg bool
	// opt is the table row of the option just returned.
	opt *poptOption
}

func newPopt(argv []string, posix bool) *poptContext {
	return &poptContext{argv: argv, next: 1, posix: posix}
}

func findLong(name string) *poptOption {
	if name == "" {
		return nil
	}
	for i := range optionsTable {
		if optionsTable[i].long == name {
			return &optionsTable[i]
		}
	}
	return nil
}

func findShort(c byte) *poptOption {
	if c == 0 {
		return nil
	}
	for i := range optionsTable {
		if optionsTable[i].short == c {
			return &optionsTable[i]
		}
	}
	return nil
}

// getNextOpt is poptGetNextOpt: it returns the next option's val (>0),
// poptEnd when the arguments are exhausted, or a popt error code.
func (c *poptContext) getNextOpt() int {
	for {
		var opt *poptOption
		longArg := ""
		hasLongArg := false

		if !c.hasNextChar && c.next >= len(c.argv) {
			return poptEnd
		}
		if !c.hasNextChar {
			orig := c.argv[c.next]
			c.next++
			if c.restLeftover || len(orig) == 0 || orig[0] != '-' || orig == "-" {
				if c.posix {
					c.restLeftover = true
				}
				c.leftovers = append(c.leftovers, orig)
				continue
			}
			if orig == "--" {
				c.restLeftover = true
				continue
			}
			optString := orig[1:]
			oneDash := true
			if optString[0] == '-' {
				optString = optString[1:]
				oneDash = false
			}
			name := optString
			if i := indexByte(optString, '='); i >= 0 {
				name = optString[:i]
				longArg = optString[i+1:]
				hasLongArg = true
			}
			if !oneDash {
				opt = findLong(name)
				if opt == nil {
					return poptErrBadOpt
				}
			} else {
				// A single dash never names a long option here:
				// the argument is a bundle of short options.
				c.nextCharArg = orig[1:]
				c.hasNextChar = true
				hasLongArg = false
			}
		}
		if c.hasNextChar {
			s := c.nextCharArg
			c.hasNextChar = false
			c.nextCharArg = ""
			var ch byte
			if len(s) > 0 {
				ch = s[0]
			}
			opt = findShort(ch)
			if opt == nil {
				return poptErrBadOpt
			}
			// The rest of the bundle, "=" included: an argument
			// skips one '=', a no-argument option followed by '='
			// is an error.
			if len(s) > 1 {
				c.nextCharArg = s[1:]
				c.hasNextChar = true
			}
		}

		switch opt.arg {
		case argNone:
			if hasLongArg || (c.hasNextChar && len(c.nextCharArg) > 0 && c.nextCharArg[0] == '=') {
				return poptErrUnwantArg
			}
			c.hasArg = false
		default:
			switch {
			case hasLongArg:
				c.arg, c.hasArg = longArg, true
			case c.hasNextChar:
				s := c.nextCharArg
				if len(s) > 0 && s[0] == '=' {
					s = s[1:]
				}
				c.arg, c.hasArg = s, true
				c.hasNextChar = false
				c.nextCharArg = ""
			case c.next >= len(c.argv):
				if opt.arg != argOptional {
					return poptErrNoArg
				}
				c.arg, c.hasArg = "", false
			default:
				a := c.argv[c.next]
				if opt.arg == argOptional && len(a) > 0 && a[0] == '-' {
					c.arg, c.hasArg = "", false
				} else {
					c.next++
					c.arg, c.hasArg = a, true
				}
			}
		}
		c.opt = opt
		return opt.val
	}
}

// badOption is poptBadOption: the argv element last consumed.
func (c *poptContext) badOption() string {
	if c.next-1 < len(c.argv) && c.next >= 1 {
		return c.argv[c.next-1]
	}
	return ""
}

// getArg is poptGetArg: the next leftover argument.
func (c *poptContext) getArg() (string, bool) {
	if c.nextLeftover < len(c.leftovers) {
		a := c.leftovers[c.nextLeftover]
		c.nextLeftover++
		return a, true
	}
	return "", false
}

func indexByte(s string, b byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return i
		}
	}
	return -1
}
