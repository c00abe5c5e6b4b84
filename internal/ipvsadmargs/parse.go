package ipvsadmargs

import (
	"math"
	"net/netip"
	"strings"

	"github.com/ipvs-tools/ipvs"
)

// Defaults and limits of ipvsadm 1.31 (Debian 12).
const (
	defaultPersistentTimeout = 360 // IPVS_SVC_PERSISTENT_TIMEOUT
	maxTimeout               = 86400 * 31
	maxWeight                = math.MaxInt32 // Debian: INT_MAX (upstream 1.31: 65535)
	defaultScheduler         = "wlc"
	defaultMcastIfn          = "eth0"
	schedFlagsArgMax         = 127
)

// svcState mirrors ipvsadm's ipvs_service_t while options are parsed.
type svcState struct {
	af       ipvs.AddressFamily
	protocol ipvs.Protocol
	addr     [16]byte
	port     uint16
	fwmark   uint32
	sched    string
	flags    ipvs.ServiceFlags
	timeout  uint32
	netmask  uint32
	pe       string
}

// destState mirrors ipvsadm's ipvs_dest_t.
type destState struct {
	af        ipvs.AddressFamily
	addr      [16]byte
	port      uint16
	connFlags ipvs.ForwardMethod
	weight    int64
	uthresh   int64
	lthresh   int64
	tunType   ipvs.TunnelType
	tunPort   uint16
	tunFlags  ipvs.TunnelFlags
}

type daemonState struct {
	state   ipvs.DaemonState
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
	timeout ipvs.Timeouts
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
	cmd := new(Command)
	if err := parse(cmd, argv, &env); err != nil {
		return nil, err
	}
	return cmd, nil
}

// ParseInto is Parse writing the command into *cmd, which it overwrites
// completely, for callers that parse many lines (ipvsadm -R) and want no
// allocation per line. *cmd is undefined after an error.
func ParseInto(cmd *Command, argv []string, env Env) error {
	if err := parse(cmd, argv, &env); err != nil {
		return err
	}
	return nil
}

func parse(out *Command, argv []string, env *Env) *Error {
	argv0 := ""
	if len(argv) > 0 {
		argv0 = argv[0]
	} else {
		argv = []string{""}
	}
	p := &parser{env: env, argv0: argv0}
	p.dest.weight = 1
	p.dest.connFlags = ipvs.FwdRoute
	p.svc.netmask = 0xffffffff

	ctx := newPopt(argv, env.PosixlyCorrect)
	c := ctx.getNextOpt()
	if c < 0 {
		return TryHelp(argv0)
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
			p.daemon.state = ipvs.DaemonMaster
		case "backup":
			p.daemon.state = ipvs.DaemonBackup
		default:
			if c == tagStartDaemon {
				return failf("illegal start-daemon parameter specified")
			}
			return failf("illegal start_daemon specified")
		}
	case 'h':
		*out = Command{Kind: KindHelp, Argv0: argv0}
		return nil
	case 'v':
		*out = Command{Kind: KindVersion, Argv0: argv0}
		return nil
	default:
		return TryHelp(argv0)
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
			return err
		}
	}
	if c < poptEnd {
		return &Error{
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
			return failf("--set option requires 3 timeout values")
		}
		var err *Error
		if p.timeout.TCP, err = parseTimeout(&a0, 0, maxTimeout); err != nil {
			return err
		}
		if p.timeout.TCPFin, err = parseTimeout(&a1, 0, maxTimeout); err != nil {
			return err
		}
		if p.timeout.UDP, err = parseTimeout(&a2, 0, maxTimeout); err != nil {
			return err
		}
	}
	if a, ok := ctx.getArg(); ok {
		return failf("unexpected argument %s", a)
	}
	if schedFlagsArg != "" {
		flags, err := parseSchedFlags(p.svc.sched, schedFlagsArg)
		if err != nil {
			return err
		}
		p.svc.flags &^= ipvs.SvcSchedFlags
		p.svc.flags |= flags
	}
	if err := p.check(); err != nil {
		return err
	}
	p.command(out)
	return nil
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
			p.svc.protocol = ipvs.ProtoTCP
		case 'u':
			p.svc.protocol = ipvs.ProtoUDP
		default:
			p.svc.protocol = ipvs.ProtoSCTP
		}
		if parseService(p.env, val, &p.svc)&serviceAddr == 0 {
			return failf("illegal virtual server address[:port] specified")
		}
	case 'f':
		if err := p.setOption(OptService); err != nil {
			return err
		}
		p.svc.af = ipvs.AFInet
		p.svc.protocol = ipvs.ProtoTCP
		fw, err := parseFwmark(val)
		if err != nil {
			return err
		}
		p.svc.fwmark = fw
	case 's':
		if err := p.setOption(OptScheduler); err != nil {
			return err
		}
		p.svc.sched = truncate(val, ipvs.MaxSchedNameLen)
	case 'p':
		if err := p.setOption(OptPersistent); err != nil {
			return err
		}
		p.svc.flags |= ipvs.SvcPersistent
		t, err := parseTimeout(arg, 1, maxTimeout)
		if err != nil {
			return err
		}
		p.svc.timeout = t
	case 'M':
		if err := p.setOption(OptNetmask); err != nil {
			return err
		}
		if p.svc.af != ipvs.AFInet6 {
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
			p.dest.connFlags = ipvs.FwdTunnel
		case 'g':
			p.dest.connFlags = ipvs.FwdRoute
		default:
			p.dest.connFlags = ipvs.FwdMasq
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
		p.daemon.ifn = truncate(val, ipvs.MaxIfNameLen)
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
			p.svc.af = ipvs.AFInet6
			p.svc.netmask = 128
		} else {
			return failf("-6 used before -f\n")
		}
	case 'o':
		if err := p.setOption(OptOnePacket); err != nil {
			return err
		}
		p.svc.flags |= ipvs.SvcOnePacket
	case tagPersistenceEngine:
		if err := p.setOption(OptPersistenceEngine); err != nil {
			return err
		}
		p.svc.pe = truncate(val, ipvs.MaxPENameLen)
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
		p.dest.tunType = ipvs.TunnelType(t)
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
		p.dest.tunFlags |= ipvs.TunnelCsum
	case tagTunRemCsum:
		if err := p.setOption(OptTunRemCsum); err != nil {
			return err
		}
		p.dest.tunFlags |= ipvs.TunnelRemCsum
	default:
		// A second command, -h or -v after the command.
		return failf("invalid option `%s'", ctx.badOption())
	}
	return nil
}

// parseSchedFlags is ipvsadm's parse_sched_flags. ipvsadm crashes when the
// list holds nothing but commas (strtok returns NULL); this reports
// "invalid scheduler flag" instead.
func parseSchedFlags(sched, arg string) (ipvs.ServiceFlags, *Error) {
	if sched == "" {
		sched = defaultScheduler
	}
	var flags ipvs.ServiceFlags
	any := false
	for _, flag := range strings.Split(arg, ",") {
		if flag == "" {
			continue
		}
		any = true
		switch flag {
		case "flag-1":
			flags |= ipvs.SvcSched1
		case "flag-2":
			flags |= ipvs.SvcSched2
		case "flag-3":
			flags |= ipvs.SvcSched3
		case "sh-fallback", "sh-port", "mh-fallback", "mh-port":
			if flag[2] == '-' && flag[3] == 'f' {
				flags |= ipvs.SvcSched1
			} else {
				flags |= ipvs.SvcSched2
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
		if p.svc.fwmark == 0 && p.svc.port == 0 && p.svc.flags&ipvs.SvcPersistent == 0 {
			return failf("Zero port specified for non-persistent service")
		}
		if p.svc.flags&ipvs.SvcOnePacket != 0 && p.svc.fwmark == 0 && p.svc.protocol != ipvs.ProtoUDP {
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
		if p.svc.fwmark == 0 && (fwd == ipvs.FwdTunnel || fwd == ipvs.FwdRoute) {
			p.dest.port = p.svc.port
		}
		if p.dest.af != p.svc.af && fwd != ipvs.FwdTunnel {
			return failf("Different address family is allowed only for tunneling servers")
		}
		tunOpts := p.options.Has(OptTunType) || p.options.Has(OptTunPort) ||
			p.options.Has(OptTunNoCsum) || p.options.Has(OptTunCsum) || p.options.Has(OptTunRemCsum)
		if tunOpts && fwd != ipvs.FwdTunnel {
			return failf("Tunnel options conflict with forward method")
		}
		if err := tunnelOptCheck(int(p.dest.tunType), p.options); err != nil {
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

func addrOf(af ipvs.AddressFamily, b [16]byte) netip.Addr {
	switch af {
	case ipvs.AFInet:
		return netip.AddrFrom4([4]byte(b[:4]))
	case ipvs.AFInet6:
		return netip.AddrFrom16(b)
	}
	return netip.Addr{}
}

// command builds the Command from the parsed state into c.
func (p *parser) command(c *Command) {
	*c = Command{
		Kind:       p.kind,
		Argv0:      p.argv0,
		Options:    p.options,
		HasService: p.options.Has(OptService),
		List:       p.list,
		Timeouts:   p.timeout,
	}
	s := &c.Service
	s.Family = p.svc.af
	s.Protocol = p.svc.protocol
	s.FWMark = p.svc.fwmark
	if p.svc.fwmark == 0 {
		s.Address = addrOf(p.svc.af, p.svc.addr)
		s.Port = p.svc.port
	}
	s.Scheduler = p.svc.sched
	s.Flags = p.svc.flags
	s.Timeout = p.svc.timeout
	s.Netmask = p.svc.netmask
	s.PEName = p.svc.pe

	d := &c.Destination
	d.Family = p.dest.af
	d.Address = addrOf(p.dest.af, p.dest.addr)
	d.Port = p.dest.port
	d.ForwardMethod = p.dest.connFlags & ipvs.FwdMask
	d.Weight = uint32(p.dest.weight)
	d.UpperThreshold = uint32(p.dest.uthresh)
	d.LowerThreshold = uint32(p.dest.lthresh)
	d.TunnelType = p.dest.tunType
	d.TunnelPort = p.dest.tunPort
	d.TunnelFlags = p.dest.tunFlags

	c.Daemon = ipvs.Daemon{
		State:      p.daemon.state,
		Interface:  p.daemon.ifn,
		SyncID:     p.daemon.syncID,
		SyncMaxLen: p.daemon.maxLen,
		Port:       p.daemon.port,
		TTL:        p.daemon.ttl,
	}
	if p.daemon.hasMcAF {
		c.Daemon.Group = p.daemon.group
	}
}
