package ipvsadmargs

import (
	"math"
	"net/netip"
	"strings"

	"github.com/ipvs-tools/ipvs/netlinkipvs"
)

// Address families and protocols as ipvsadm stores them.
const (
	afInet  = 2
	afInet6 = 10

	protoTCP  = 6
	protoUDP  = 17
	protoSCTP = 132
)

// Defaults and limits of ipvsadm 1.31 (Debian 12).
const (
	defaultPersistentTimeout = 360 // IPVS_SVC_PERSISTENT_TIMEOUT
	maxTimeout               = 86400 * 31
	maxWeight                = math.MaxInt32 // Debian: INT_MAX (upstream 1.31: 65535)
	defaultScheduler         = "wlc"
	defaultMcastIfn          = "eth0"
	schedNameMax             = 15 // IP_VS_SCHEDNAME_MAXLEN - 1
	peNameMax                = 16 // IP_VS_PENAME_MAXLEN
	ifNameMax                = 15 // IP_VS_IFNAME_MAXLEN - 1
	schedFlagsArgMax         = 127
)

// Service flags.
const (
	svcPersistent = 0x0001
	svcOnePacket  = 0x0004
	svcSched1     = 0x0008
	svcSched2     = 0x0010
	svcSched3     = 0x0020
)

// Forwarding methods (IP_VS_CONN_F_*).
const (
	fwdMasq   = 0
	fwdTunnel = 2
	fwdDRoute = 3
)

// svcState mirrors ipvsadm's ipvs_service_t while options are parsed.
type svcState struct {
	af       uint16
	protocol uint16
	addr     [16]byte
	port     uint16
	fwmark   uint32
	sched    string
	flags    uint32
	timeout  uint32
	netmask  uint32
	pe       string
}

// destState mirrors ipvsadm's ipvs_dest_t.
type destState struct {
	af        uint16
	addr      [16]byte
	port      uint16
	connFlags uint32
	weight    int64
	uthresh   int64
	lthresh   int64
	tunType   int
	tunPort   uint16
	tunFlags  uint16
}

type daemonState struct {
	state   uint32
	ifn     string
	syncID  uint32
	maxLen  uint16
	group   netip.Addr
	port    uint16
	ttl     uint8
	hasMcAF bool
}

// parser holds one invocation's state (ipvsadm's ipvs_command_entry,
// options and format).
type parser struct {
	env     *Env
	argv0   string
	kind    Kind
	options Options
	svc     svcState
	dest    destState
	timeout netlinkipvs.Timeouts
	daemon  daemonState
	list    ListOptions
}

func (p *parser) setOption(o Opt) *Error {
	if p.options.Has(o) {
		return failf("multiple '%s' options specified", optNames[o])
	}
	p.options |= 1 << o
	return nil
}

// Parse parses one ipvsadm invocation. argv[0] is the program name as
// invoked. The returned error is always an *Error.
func Parse(argv []string, env Env) (*Command, error) {
	cmd, err := parse(argv, &env)
	if err != nil {
		return nil, err
	}
	return cmd, nil
}

func parse(argv []string, env *Env) (*Command, *Error) {
	argv0 := ""
	if len(argv) > 0 {
		argv0 = argv[0]
	} else {
		argv = []string{""}
	}
	p := &parser{env: env, argv0: argv0}
	p.dest.weight = 1
	p.dest.connFlags = fwdDRoute
	p.svc.netmask = 0xffffffff

	ctx := newPopt(argv, env.PosixlyCorrect)
	c := ctx.getNextOpt()
	if c < 0 {
		return nil, TryHelp(argv0)
	}
	switch c {
	case 'A':
		p.kind = KindAdd
	case 'E':
		p.kind = KindEdit
	case 'D':
		p.kind = KindDelete
	case 'a':
		p.kind = KindAddDest
	case 'e':
		p.kind = KindEditDest
	case 'd':
		p.kind = KindDeleteDest
	case 'C':
		p.kind = KindFlush
	case 'L', 'l':
		p.kind = KindList
	case 'Z':
		p.kind = KindZero
	case tagSet:
		p.kind = KindSetTimeout
	case 'R':
		p.kind = KindRestore
	case 'S':
		p.kind = KindSave
	case tagStartDaemon, tagStopDaemon:
		if c == tagStartDaemon {
			p.kind = KindStartDaemon
		} else {
			p.kind = KindStopDaemon
		}
		switch ctx.arg {
		case "master":
			p.daemon.state = 1
		case "backup":
			p.daemon.state = 2
		default:
			if c == tagStartDaemon {
				return nil, failf("illegal start-daemon parameter specified")
			}
			return nil, failf("illegal start_daemon specified")
		}
	case 'h':
		return &Command{Kind: KindHelp, Argv0: argv0}, nil
	case 'v':
		return &Command{Kind: KindVersion, Argv0: argv0}, nil
	default:
		return nil, TryHelp(argv0)
	}

	schedFlagsArg := ""
	for {
		c = ctx.getNextOpt()
		if c < 0 {
			break
		}
		var arg *string
		if ctx.hasArg {
			a := ctx.arg
			arg = &a
		}
		if err := p.option(c, arg, &schedFlagsArg, ctx); err != nil {
			return nil, err
		}
	}
	if c < poptEnd {
		return nil, &Error{
			Kind:   ErrPopt,
			Argv0:  argv0,
			Msg:    ctx.badOption() + ": " + poptStrerror(c) + "\n",
			Status: 255,
		}
	}

	if p.kind == KindSetTimeout {
		a0, ok0 := ctx.getArg()
		a1, ok1 := "", false
		a2, ok2 := "", false
		if ok0 {
			a1, ok1 = ctx.getArg()
		}
		if ok1 {
			a2, ok2 = ctx.getArg()
		}
		if !ok2 {
			return nil, failf("--set option requires 3 timeout values")
		}
		var err *Error
		if p.timeout.TCP, err = parseTimeout(&a0, 0, maxTimeout); err != nil {
			return nil, err
		}
		if p.timeout.TCPFin, err = parseTimeout(&a1, 0, maxTimeout); err != nil {
			return nil, err
		}
		if p.timeout.UDP, err = parseTimeout(&a2, 0, maxTimeout); err != nil {
			return nil, err
		}
	}
	if a, ok := ctx.getArg(); ok {
		return nil, failf("unexpected argument %s", a)
	}
	if schedFlagsArg != "" {
		flags, err := parseSchedFlags(p.svc.sched, schedFlagsArg)
		if err != nil {
			return nil, err
		}
		p.svc.flags &^= svcSched1 | svcSched2 | svcSched3
		p.svc.flags |= flags
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return p.command(), nil
}

// option handles one option of the option loop (after the command).
func (p *parser) option(c int, arg *string, schedFlagsArg *string, ctx *poptContext) *Error {
	val := ""
	if arg != nil {
		val = *arg
	}
	switch c {
	case 't', 'u', tagSCTPService:
		if err := p.setOption(OptService); err != nil {
			return err
		}
		switch c {
		case 't':
			p.svc.protocol = protoTCP
		case 'u':
			p.svc.protocol = protoUDP
		default:
			p.svc.protocol = protoSCTP
		}
		if parseService(p.env, val, &p.svc)&serviceAddr == 0 {
			return failf("illegal virtual server address[:port] specified")
		}
	case 'f':
		if err := p.setOption(OptService); err != nil {
			return err
		}
		p.svc.af = afInet
		p.svc.protocol = protoTCP
		fw, err := parseFwmark(val)
		if err != nil {
			return err
		}
		p.svc.fwmark = fw
	case 's':
		if err := p.setOption(OptScheduler); err != nil {
			return err
		}
		p.svc.sched = truncate(val, schedNameMax)
	case 'p':
		if err := p.setOption(OptPersistent); err != nil {
			return err
		}
		p.svc.flags |= svcPersistent
		t, err := parseTimeout(arg, 1, maxTimeout)
		if err != nil {
			return err
		}
		p.svc.timeout = t
	case 'M':
		if err := p.setOption(OptNetmask); err != nil {
			return err
		}
		if p.svc.af != afInet6 {
			m, ok := parseNetmask(p.env, val)
			if !ok {
				return failf("illegal virtual server persistent mask specified")
			}
			p.svc.netmask = m
		} else {
			p.svc.netmask = uint32(atoi(val))
			if p.svc.netmask < 1 || p.svc.netmask > 128 {
				return failf("illegal ipv6 netmask specified")
			}
		}
	case 'r':
		if err := p.setOption(OptServer); err != nil {
			return err
		}
		t := p.svc
		parse := parseService(p.env, val, &t)
		p.dest.af = t.af
		p.dest.addr = t.addr
		p.dest.port = t.port
		if parse&serviceAddr == 0 {
			return failf("illegal real server address[:port] specified")
		}
		if parse == serviceAddr {
			p.dest.port = p.svc.port
		}
	case 'i', 'g', 'm':
		if err := p.setOption(OptForward); err != nil {
			return err
		}
		switch c {
		case 'i':
			p.dest.connFlags = fwdTunnel
		case 'g':
			p.dest.connFlags = fwdDRoute
		default:
			p.dest.connFlags = fwdMasq
		}
	case 'w':
		if err := p.setOption(OptWeight); err != nil {
			return err
		}
		if p.dest.weight = stringToNumber(val, 0, maxWeight); p.dest.weight == -1 {
			return failf("illegal weight specified")
		}
	case 'x':
		if err := p.setOption(OptUThreshold); err != nil {
			return err
		}
		if p.dest.uthresh = stringToNumber(val, 0, math.MaxInt32); p.dest.uthresh == -1 {
			return failf("illegal u_threshold specified")
		}
	case 'y':
		if err := p.setOption(OptLThreshold); err != nil {
			return err
		}
		if p.dest.lthresh = stringToNumber(val, 0, math.MaxInt32); p.dest.lthresh == -1 {
			return failf("illegal l_threshold specified")
		}
	case 'c':
		if err := p.setOption(OptConnection); err != nil {
			return err
		}
		p.list.Connection = true
	case 'n':
		if err := p.setOption(OptNumeric); err != nil {
			return err
		}
		p.list.Numeric = true
	case tagMcastInterface:
		if err := p.setOption(OptMcastInterface); err != nil {
			return err
		}
		p.daemon.ifn = truncate(val, ifNameMax)
	case 'I':
		if err := p.setOption(OptSyncID); err != nil {
			return err
		}
		n := stringToNumber(val, 0, 255)
		if n == -1 {
			return failf("illegal syncid specified")
		}
		p.daemon.syncID = uint32(n)
	case tagTimeout:
		if err := p.setOption(OptTimeout); err != nil {
			return err
		}
		p.list.Timeout = true
	case tagDaemon:
		if err := p.setOption(OptDaemon); err != nil {
			return err
		}
		p.list.Daemon = true
	case tagStats:
		if err := p.setOption(OptStats); err != nil {
			return err
		}
		p.list.Stats = true
	case tagRate:
		if err := p.setOption(OptRate); err != nil {
			return err
		}
		p.list.Rate = true
	case tagThresholds:
		if err := p.setOption(OptThresholds); err != nil {
			return err
		}
		p.list.Thresholds = true
	case tagPersistentConn:
		if err := p.setOption(OptPersistentConn); err != nil {
			return err
		}
		p.list.PersistentConn = true
	case tagNoSort:
		if err := p.setOption(OptNoSort); err != nil {
			return err
		}
		p.list.NoSort = true
	case tagSort:
		// A no-op kept for compatibility.
	case 'X':
		if err := p.setOption(OptExact); err != nil {
			return err
		}
		p.list.Exact = true
	case '6':
		if p.svc.fwmark != 0 {
			p.svc.af = afInet6
			p.svc.netmask = 128
		} else {
			return failf("-6 used before -f\n")
		}
	case 'o':
		if err := p.setOption(OptOnePacket); err != nil {
			return err
		}
		p.svc.flags |= svcOnePacket
	case tagPersistenceEngine:
		if err := p.setOption(OptPersistenceEngine); err != nil {
			return err
		}
		p.svc.pe = truncate(val, peNameMax)
	case 'b':
		if err := p.setOption(OptSchedFlags); err != nil {
			return err
		}
		*schedFlagsArg = truncate(val, schedFlagsArgMax)
	case tagMcastGroup:
		if err := p.setOption(OptMcastGroup); err != nil {
			return err
		}
		if strings.IndexByte(val, ':') >= 0 {
			a, ok := InetPton6(val)
			if !ok || a[0] != 0xff {
				return failf("invalid IPv6 mcast-group `%s'", val)
			}
			p.daemon.group = netip.AddrFrom16(a)
		} else {
			a, ok := InetPton4(val)
			if !ok || a[0]&0xf0 != 0xe0 {
				return failf("invalid IPv4 mcast-group `%s'", val)
			}
			p.daemon.group = netip.AddrFrom4(a)
		}
		p.daemon.hasMcAF = true
	case tagMcastPort:
		if err := p.setOption(OptMcastPort); err != nil {
			return err
		}
		n := stringToNumber(val, 1, 65535)
		if n == -1 {
			return failf("illegal mcast-port specified")
		}
		p.daemon.port = uint16(n)
	case tagMcastTTL:
		if err := p.setOption(OptMcastTTL); err != nil {
			return err
		}
		n := stringToNumber(val, 1, 255)
		if n == -1 {
			return failf("illegal mcast-ttl specified")
		}
		p.daemon.ttl = uint8(n)
	case tagSyncMaxLen:
		if err := p.setOption(OptSyncMaxLen); err != nil {
			return err
		}
		n := stringToNumber(val, 1, 65535-20-8)
		if n == -1 {
			return failf("illegal sync-maxlen specified")
		}
		p.daemon.maxLen = uint16(n)
	case tagTunInfo:
		if err := p.setOption(OptTunInfo); err != nil {
			return err
		}
		p.list.TunInfo = true
	case tagTunType:
		if err := p.setOption(OptTunType); err != nil {
			return err
		}
		t := -1
		for i, n := range tunNames {
			if val == n {
				t = i
			}
		}
		if t == -1 {
			return failf("illegal tunnel type specified")
		}
		p.dest.tunType = t
	case tagTunPort:
		if err := p.setOption(OptTunPort); err != nil {
			return err
		}
		n := stringToNumber(val, 1, 65535)
		if n == -1 {
			return failf("illegal tunnel port specified")
		}
		p.dest.tunPort = uint16(n)
	case tagTunNoCsum:
		if err := p.setOption(OptTunNoCsum); err != nil {
			return err
		}
	case tagTunCsum:
		if err := p.setOption(OptTunCsum); err != nil {
			return err
		}
		p.dest.tunFlags |= 1
	case tagTunRemCsum:
		if err := p.setOption(OptTunRemCsum); err != nil {
			return err
		}
		p.dest.tunFlags |= 2
	default:
		// A second command, -h or -v after the command.
		return failf("invalid option `%s'", ctx.badOption())
	}
	return nil
}

// parseSchedFlags is ipvsadm's parse_sched_flags. ipvsadm crashes when the
// list holds nothing but commas (strtok returns NULL); this reports
// "invalid scheduler flag" instead.
func parseSchedFlags(sched, arg string) (uint32, *Error) {
	if sched == "" {
		sched = defaultScheduler
	}
	var flags uint32
	any := false
	for _, flag := range strings.Split(arg, ",") {
		if flag == "" {
			continue
		}
		any = true
		switch flag {
		case "flag-1":
			flags |= svcSched1
		case "flag-2":
			flags |= svcSched2
		case "flag-3":
			flags |= svcSched3
		case "sh-fallback", "sh-port", "mh-fallback", "mh-port":
			if flag[2] == '-' && flag[3] == 'f' {
				flags |= svcSched1
			} else {
				flags |= svcSched2
			}
			if sched != flag[:2] {
				return 0, failf("incompatible scheduler flag `%s'", flag)
			}
		default:
			return 0, failf("invalid scheduler flag `%s'", flag)
		}
	}
	if !any {
		return 0, failf("invalid scheduler flag `%s'", arg)
	}
	return flags, nil
}

// check runs process_options' checks after parsing, in ipvsadm's order.
func (p *parser) check() *Error {
	if err := genericOptCheck(p.kind, p.options); err != nil {
		return err
	}
	if p.kind == KindAdd || p.kind == KindEdit {
		if p.svc.fwmark == 0 && p.svc.port == 0 && p.svc.flags&svcPersistent == 0 {
			return failf("Zero port specified for non-persistent service")
		}
		if p.svc.flags&svcOnePacket != 0 && p.svc.fwmark == 0 && p.svc.protocol != protoUDP {
			return failf("One-Packet Scheduling is only for UDP virtual services")
		}
		if p.svc.sched == "" {
			p.svc.sched = defaultScheduler
		}
	}
	if p.kind == KindStartDaemon && p.daemon.ifn == "" {
		p.daemon.ifn = defaultMcastIfn
	}
	fwd := p.dest.connFlags & 7
	if p.kind == KindAddDest || p.kind == KindEditDest {
		if p.svc.fwmark == 0 && (fwd == fwdTunnel || fwd == fwdDRoute) {
			p.dest.port = p.svc.port
		}
		if p.dest.af != p.svc.af && fwd != fwdTunnel {
			return failf("Different address family is allowed only for tunneling servers")
		}
		tunOpts := p.options.Has(OptTunType) || p.options.Has(OptTunPort) ||
			p.options.Has(OptTunNoCsum) || p.options.Has(OptTunCsum) || p.options.Has(OptTunRemCsum)
		if tunOpts && fwd != fwdTunnel {
			return failf("Tunnel options conflict with forward method")
		}
		if err := tunnelOptCheck(p.dest.tunType, p.options); err != nil {
			return err
		}
	}
	if p.kind == KindList {
		o := p.options
		if ((o.Has(OptConnection) || o.Has(OptTimeout) || o.Has(OptDaemon)) &&
			(o.Has(OptStats) || o.Has(OptRate) || o.Has(OptThresholds))) ||
			((o.Has(OptTimeout) || o.Has(OptDaemon)) && o.Has(OptPersistentConn)) {
			return failf("options conflicts in the list command")
		}
	}
	return nil
}

func addrOf(af uint16, b [16]byte) netip.Addr {
	switch af {
	case afInet:
		return netip.AddrFrom4([4]byte(b[:4]))
	case afInet6:
		return netip.AddrFrom16(b)
	}
	return netip.Addr{}
}

// command builds the Command from the parsed state.
func (p *parser) command() *Command {
	c := &Command{
		Kind:       p.kind,
		Argv0:      p.argv0,
		Options:    p.options,
		HasService: p.options.Has(OptService),
		List:       p.list,
		Timeouts:   p.timeout,
	}
	s := &c.Service
	s.Family = netlinkipvs.AddressFamily(p.svc.af)
	s.Protocol = netlinkipvs.Protocol(p.svc.protocol)
	s.FWMark = p.svc.fwmark
	if p.svc.fwmark == 0 {
		s.Address = addrOf(p.svc.af, p.svc.addr)
		s.Port = p.svc.port
	}
	s.Scheduler = p.svc.sched
	s.Flags = netlinkipvs.ServiceFlags(p.svc.flags)
	s.Timeout = p.svc.timeout
	s.Netmask = p.svc.netmask
	s.PEName = p.svc.pe

	d := &c.Destination
	d.Family = netlinkipvs.AddressFamily(p.dest.af)
	d.Address = addrOf(p.dest.af, p.dest.addr)
	d.Port = p.dest.port
	d.ForwardMethod = netlinkipvs.ForwardMethod(p.dest.connFlags & 7)
	d.Weight = uint32(p.dest.weight)
	d.UpperThreshold = uint32(p.dest.uthresh)
	d.LowerThreshold = uint32(p.dest.lthresh)
	d.TunnelType = netlinkipvs.TunnelType(p.dest.tunType)
	d.TunnelPort = p.dest.tunPort
	d.TunnelFlags = netlinkipvs.TunnelFlags(p.dest.tunFlags)

	c.Daemon = netlinkipvs.Daemon{
		State:      netlinkipvs.DaemonState(p.daemon.state),
		Interface:  p.daemon.ifn,
		SyncID:     p.daemon.syncID,
		SyncMaxLen: p.daemon.maxLen,
		Port:       p.daemon.port,
		TTL:        p.daemon.ttl,
	}
	if p.daemon.hasMcAF {
		c.Daemon.Group = p.daemon.group
	}
	return c
}
