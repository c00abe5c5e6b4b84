package ipvsadmargs

// This file emulates the parts of popt 1.19 that ipvsadm's behaviour
// depends on: poptGetNextOpt with short-option bundling, "-x=value" and
// "--long=value", optional arguments, "--", leftover arguments, and the
// error codes and poptBadOption text.

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

type poptOption struct {
	long  string
	short byte
	arg   argType
	val   int
}

// optionsTable is ipvsadm's popt table, in its order (the first match
// wins).
var optionsTable = []poptOption{
	{"add-service", 'A', argNone, 'A'},
	{"edit-service", 'E', argNone, 'E'},
	{"delete-service", 'D', argNone, 'D'},
	{"clear", 'C', argNone, 'C'},
	{"list", 'L', argNone, 'L'},
	{"list", 'l', argNone, 'l'},
	{"zero", 'Z', argNone, 'Z'},
	{"add-server", 'a', argNone, 'a'},
	{"edit-server", 'e', argNone, 'e'},
	{"delete-server", 'd', argNone, 'd'},
	{"set", 0, argNone, tagSet},
	{"help", 'h', argNone, 'h'},
	{"version", 'v', argNone, 'v'},
	{"restore", 'R', argNone, 'R'},
	{"save", 'S', argNone, 'S'},
	{"start-daemon", 0, argString, tagStartDaemon},
	{"stop-daemon", 0, argString, tagStopDaemon},
	{"tcp-service", 't', argString, 't'},
	{"udp-service", 'u', argString, 'u'},
	{"sctp-service", 0, argString, tagSCTPService},
	{"fwmark-service", 'f', argString, 'f'},
	{"scheduler", 's', argString, 's'},
	{"persistent", 'p', argOptional, 'p'},
	{"netmask", 'M', argString, 'M'},
	{"real-server", 'r', argString, 'r'},
	{"masquerading", 'm', argNone, 'm'},
	{"ipip", 'i', argNone, 'i'},
	{"gatewaying", 'g', argNone, 'g'},
	{"weight", 'w', argString, 'w'},
	{"u-threshold", 'x', argString, 'x'},
	{"l-threshold", 'y', argString, 'y'},
	{"numeric", 'n', argNone, 'n'},
	{"connection", 'c', argNone, 'c'},
	{"mcast-interface", 0, argString, tagMcastInterface},
	{"syncid", 0, argString, 'I'},
	{"timeout", 0, argNone, tagTimeout},
	{"daemon", 0, argNone, tagDaemon},
	{"stats", 0, argNone, tagStats},
	{"rate", 0, argNone, tagRate},
	{"thresholds", 0, argNone, tagThresholds},
	{"persistent-conn", 0, argNone, tagPersistentConn},
	{"nosort", 0, argNone, tagNoSort},
	{"sort", 0, argNone, tagSort},
	{"exact", 'X', argNone, 'X'},
	{"ipv6", '6', argNone, '6'},
	{"ops", 'o', argNone, 'o'},
	{"pe", 0, argString, tagPersistenceEngine},
	{"sched-flags", 'b', argString, 'b'},
	{"mcast-group", 0, argString, tagMcastGroup},
	{"mcast-port", 0, argString, tagMcastPort},
	{"mcast-ttl", 0, argString, tagMcastTTL},
	{"sync-maxlen", 0, argString, tagSyncMaxLen},
	{"tun-info", 0, argNone, tagTunInfo},
	{"tun-type", 0, argString, tagTunType},
	{"tun-port", 0, argString, tagTunPort},
	{"tun-nocsum", 0, argNone, tagTunNoCsum},
	{"tun-csum", 0, argNone, tagTunCsum},
	{"tun-remcsum", 0, argNone, tagTunRemCsum},
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
