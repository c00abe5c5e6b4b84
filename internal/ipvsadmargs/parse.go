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
	// schedFlagsArg is the argument of -b, parsed after the loop.
	schedFlagsArg string
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

// commandKinds are the commands by their popt values; -h and -v are
// answered at once.
var commandKinds = map[int]Kind{
	'A': KindAdd, 'E': KindEdit, 'D': KindDelete,
	'a': KindAddDest, 'e': KindEditDest, 'd': KindDeleteDest,
	'C': KindFlush, 'L': KindList, 'l': KindList, 'Z': KindZero, tagSet: KindSetTimeout,
	'R': KindRestore, 'S': KindSave, tagStartDaemon: KindStartDaemon, tagStopDaemon: KindStopDaemon,
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
	kind, isCommand := commandKinds[c]
	p.kind = kind
	switch {
	case c == tagStartDaemon || c == tagStopDaemon:
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
	case c == 'h':
		*out = Command{Kind: KindHelp, Argv0: argv0}
		return nil
	case c == 'v':
		*out = Command{Kind: KindVersion, Argv0: argv0}
		return nil
	case !isCommand:
		return TryHelp(argv0)
	}

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
		if err := p.option(ctx, arg); err != nil {
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
	if p.schedFlagsArg != "" {
		flags, err := parseSchedFlags(p.svc.sched, p.schedFlagsArg)
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

// optArg is the argument of one occurrence of an option; arg is nil when
// an optional argument is absent, and val is then "".
type optArg struct {
	val string
	arg *string
}

// option handles one option of the option loop (after the command), as
// its row of optionsTable says: the option's bit first (a repeated option
// is an error), then its value.
func (p *parser) option(ctx *poptContext, arg *string) *Error {
	o := ctx.opt
	if o.opt == noOpt && o.apply == nil {
		// A second command, -h or -v after the command.
		return failf("invalid option `%s'", ctx.badOption())
	}
	if o.opt != noOpt {
		if err := p.setOption(o.opt); err != nil {
			return err
		}
	}
	if o.apply == nil {
		return nil
	}
	a := optArg{arg: arg}
	if arg != nil {
		a.val = *arg
	}
	return o.apply(p, a)
}

// The apply functions of optionsTable, and the functions that make them.

// service returns the apply of the service option of protocol proto.
func service(proto ipvs.Protocol) func(*parser, optArg) *Error {
	return func(p *parser, a optArg) *Error {
		p.svc.protocol = proto
		if parseService(p.env, a.val, &p.svc)&serviceAddr == 0 {
			return failf("illegal virtual server address[:port] specified")
		}
		return nil
	}
}

func applyFwmark(p *parser, a optArg) *Error {
	p.svc.af = ipvs.AFInet
	p.svc.protocol = ipvs.ProtoTCP
	fw, err := parseFwmark(a.val)
	if err != nil {
		return err
	}
	p.svc.fwmark = fw
	return nil
}

func applyScheduler(p *parser, a optArg) *Error {
	p.svc.sched = truncate(a.val, ipvs.MaxSchedNameLen)
	return nil
}

func applyPersistent(p *parser, a optArg) *Error {
	p.svc.flags |= ipvs.SvcPersistent
	t, err := parseTimeout(a.arg, 1, maxTimeout)
	if err != nil {
		return err
	}
	p.svc.timeout = t
	return nil
}

func applyNetmask(p *parser, a optArg) *Error {
	if p.svc.af != ipvs.AFInet6 {
		m, ok := parseNetmask(p.env, a.val)
		if !ok {
			return failf("illegal virtual server persistent mask specified")
		}
		p.svc.netmask = m
		return nil
	}
	p.svc.netmask = uint32(atoi(a.val))
	if p.svc.netmask < 1 || p.svc.netmask > 128 {
		return failf("illegal ipv6 netmask specified")
	}
	return nil
}

func applyServer(p *parser, a optArg) *Error {
	t := p.svc
	parse := parseService(p.env, a.val, &t)
	p.dest.af = t.af
	p.dest.addr = t.addr
	p.dest.port = t.port
	if parse&serviceAddr == 0 {
		return failf("illegal real server address[:port] specified")
	}
	if parse == serviceAddr {
		p.dest.port = p.svc.port
	}
	return nil
}

// forward returns the apply of the option of forwarding method m.
func forward(m ipvs.ForwardMethod) func(*parser, optArg) *Error {
	return func(p *parser, _ optArg) *Error {
		p.dest.connFlags = m
		return nil
	}
}

// number returns the apply of an option whose value is ipvsadm's
// string_to_number(val, min, max), "illegal <what> specified" otherwise;
// set stores the number.
func number(min, max int64, what string, set func(p *parser, n int64)) func(*parser, optArg) *Error {
	return func(p *parser, a optArg) *Error {
		n := stringToNumber(a.val, min, max)
		if n == -1 {
			return failf("illegal %s specified", what)
		}
		set(p, n)
		return nil
	}
}
func applyMcastInterface(p *parser, a optArg) *Error {
	p.daemon.ifn = truncate(a.val, ipvs.MaxIfNameLen)
	return nil
}

func applyNothing(*parser, optArg) *Error { return nil }

func applyIPv6(p *parser, _ optArg) *Error {
	if p.svc.fwmark == 0 {
		return failf("-6 used before -f\n")
	}
	p.svc.af = ipvs.AFInet6
	p.svc.netmask = 128
	return nil
}

func applyOnePacket(p *parser, _ optArg) *Error {
	p.svc.flags |= ipvs.SvcOnePacket
	return nil
}

func applyPE(p *parser, a optArg) *Error {
	p.svc.pe = truncate(a.val, ipvs.MaxPENameLen)
	return nil
}

func applySchedFlags(p *parser, a optArg) *Error {
	p.schedFlagsArg = truncate(a.val, schedFlagsArgMax)
	return nil
}

func applyMcastGroup(p *parser, a optArg) *Error {
	if strings.IndexByte(a.val, ':') >= 0 {
		b, ok := InetPton6(a.val)
		if !ok || b[0] != 0xff {
			return failf("invalid IPv6 mcast-group `%s'", a.val)
		}
		p.daemon.group = netip.AddrFrom16(b)
	} else {
		b, ok := InetPton4(a.val)
		if !ok || b[0]&0xf0 != 0xe0 {
			return failf("invalid IPv4 mcast-group `%s'", a.val)
		}
		p.daemon.group = netip.AddrFrom4(b)
	}
	p.daemon.hasMcAF = true
	return nil
}

func applyTunType(p *parser, a optArg) *Error {
	t := -1
	for i, n := range tunNames {
		if a.val == n {
			t = i
		}
	}
	if t == -1 {
		return failf("illegal tunnel type specified")
	}
	p.dest.tunType = ipvs.TunnelType(t)
	return nil
}

func applyTunCsum(p *parser, _ optArg) *Error {
	p.dest.tunFlags |= ipvs.TunnelCsum
	return nil
}

func applyTunRemCsum(p *parser, _ optArg) *Error {
	p.dest.tunFlags |= ipvs.TunnelRemCsum
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

// listOptions are the output options set in o.
func listOptions(o Options) ListOptions {
	return ListOptions{
		Numeric:        o.Has(OptNumeric),
		Connection:     o.Has(OptConnection),
		Timeout:        o.Has(OptTimeout),
		Daemon:         o.Has(OptDaemon),
		Stats:          o.Has(OptStats),
		Rate:           o.Has(OptRate),
		Thresholds:     o.Has(OptThresholds),
		PersistentConn: o.Has(OptPersistentConn),
		TunInfo:        o.Has(OptTunInfo),
		NoSort:         o.Has(OptNoSort),
		Exact:          o.Has(OptExact),
	}
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
		List:       listOptions(p.options),
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
