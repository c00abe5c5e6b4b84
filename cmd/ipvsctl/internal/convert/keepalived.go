package convert

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ipvs-tools/ipvs/ipvsconfig"
)

// keepalived's defaults where they differ from ipvsctl's (keepalived's
// check_data.c, check_api.c and the checkers).
const (
	kaDelayLoop      = 60 * time.Second
	kaConnectTimeout = 5 * time.Second
	kaForward        = "masq" // lvs_method NAT
)

// kaConv converts the statements of one keepalived.conf.
type kaConv struct {
	c      *conv
	groups map[string]*stmt
}

func convertKeepalived(c *conv, name string, data []byte) error {
	top, err := parseKeepalived(c, name, data)
	if err != nil {
		return err
	}
	k := &kaConv{c: c, groups: map[string]*stmt{}}
	for _, s := range top {
		if s.key() == "virtual_server_group" && len(s.args()) > 0 {
			k.groups[s.args()[0]] = s
		}
	}
	vrrp := false
	for _, s := range top {
		switch key := s.key(); {
		case key == "virtual_server":
			k.virtualServer(s)
		case key == "virtual_server_group":
			if len(s.args()) == 0 {
				c.warnf(s.at, "virtual_server_group without a name: ignored")
			}
		case key == "global_defs":
			k.globalDefs(s)
		case key == "SSL":
			c.warnf(s.at, "the SSL block (client certificate and CA for SSL_GET) is not converted: https checks present no client certificate and verify nothing unless tlsVerify is set")
		case strings.HasPrefix(key, "vrrp_"):
			if !vrrp && (key == "vrrp_instance" || key == "vrrp_sync_group") {
				c.notef(s.at, "VRRP is not converted: keep keepalived for VRRP only (without virtual_server blocks) and let ipvsctl agent manage the IPVS table")
				vrrp = true
			}
		case strings.HasPrefix(key, "virtual") || key == "real_server":
			c.warnf(s.at, "unknown keyword %q: ignored", key)
		}
		// Everything else (static routes, BFD, track files, namespaces)
		// is not about the IPVS table.
	}
	return nil
}

// globalDefs converts lvs_timeouts; the rest of global_defs is keepalived's
// own business.
func (k *kaConv) globalDefs(g *stmt) {
	for _, s := range g.block {
		switch s.key() {
		case "lvs_timeouts":
			t := &ipvsconfig.Timeouts{}
			args := s.args()
			for i := 0; i+1 < len(args); i += 2 {
				n, err := strconv.ParseUint(args[i+1], 10, 32)
				if err != nil {
					k.c.warnf(s.at, "lvs_timeouts %s %s: not a number of seconds, ignored", args[i], args[i+1])
					continue
				}
				switch args[i] {
				case "tcp":
					t.TCP = uint32(n)
				case "tcpfin":
					t.TCPFin = uint32(n)
				case "udp":
					t.UDP = uint32(n)
				default:
					k.c.warnf(s.at, "lvs_timeouts %s: unknown timeout (want tcp, tcpfin or udp), ignored", args[i])
				}
			}
			if len(args)%2 != 0 {
				k.c.warnf(s.at, "lvs_timeouts %s: a name without a value, ignored", args[len(args)-1])
			}
			if *t != (ipvsconfig.Timeouts{}) {
				k.c.timeouts, k.c.timeoutsAt = t, s.at
			}
		case "lvs_sync_daemon":
			k.c.warnf(s.at, "lvs_sync_daemon follows the VRRP state and is not converted: keep it in keepalived's global_defs")
		}
	}
}

// setting is a value given at one level of the file, with its line.
type setting[T any] struct {
	v  T
	at pos
	ok bool
}

// pick returns the first setting given, from the innermost level out.
func pick[T any](levels ...setting[T]) setting[T] {
	for _, s := range levels {
		if s.ok {
			return s
		}
	}
	return setting[T]{}
}

// kaSettings are the check settings a virtual_server, a real_server and a
// checker may each give, the innermost winning.
type kaSettings struct {
	delayLoop, timeout, delayBeforeRetry setting[time.Duration]
	retry                                setting[int]
	inhibit                              setting[bool]
	virtualhost                          setting[string]
}

// common reads a setting that keepalived allows at several levels. It
// reports whether s was one.
func (k *kaConv) common(s *stmt, set *kaSettings) bool {
	args := s.args()
	switch s.key() {
	case "delay_loop", "connect_timeout", "delay_before_retry":
		d, ok := k.timer(s)
		if !ok {
			return true
		}
		v := setting[time.Duration]{d, s.at, true}
		switch s.key() {
		case "delay_loop":
			if d == 0 {
				k.c.warnf(s.at, "delay_loop 0 is not an interval: ignored")
				return true
			}
			set.delayLoop = v
		case "connect_timeout":
			set.timeout = v
		default:
			set.delayBeforeRetry = v
		}
	case "retry", "nb_get_retry":
		if len(args) < 1 {
			k.c.warnf(s.at, "%s without a number: ignored", s.key())
			return true
		}
		n, err := strconv.ParseUint(args[0], 10, 31)
		if err != nil {
			k.c.warnf(s.at, "%s %s: not a number, ignored", s.key(), args[0])
			return true
		}
		set.retry = setting[int]{int(n), s.at, true}
	case "inhibit_on_failure":
		v := true
		if len(args) > 0 {
			b, ok := kaBool(args[0])
			if !ok {
				k.c.warnf(s.at, "inhibit_on_failure %s: want true or false, ignored", args[0])
				return true
			}
			v = b
		}
		set.inhibit = setting[bool]{v, s.at, true}
	case "virtualhost":
		if len(args) < 1 {
			k.c.warnf(s.at, "virtualhost without a name: ignored")
			return true
		}
		set.virtualhost = setting[string]{args[0], s.at, true}
	case "alpha":
		// ipvsctl agent never adds a server before its first result,
		// which is what alpha asks for.
	case "warmup", "log_all_failures", "smtp_alert", "snmp_name":
		// Start-up jitter, logging and alerts: nothing for the table.
	default:
		return false
	}
	return true
}

func kaBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "on", "yes":
		return true, true
	case "false", "off", "no":
		return false, true
	}
	return false, false
}

// timer reads a keepalived TIMER: seconds, with a fraction.
func (k *kaConv) timer(s *stmt) (time.Duration, bool) {
	args := s.args()
	if len(args) < 1 {
		k.c.warnf(s.at, "%s without a value: ignored", s.key())
		return 0, false
	}
	f, err := strconv.ParseFloat(args[0], 64)
	if err != nil || f < 0 || f > 86400 {
		k.c.warnf(s.at, "%s %s: not a number of seconds (0..86400), ignored", s.key(), args[0])
		return 0, false
	}
	return time.Duration(f * float64(time.Second)).Round(time.Millisecond), true
}

// fwdSpec is an lvs_method: a forwarding method and tunnel options.
type fwdSpec struct {
	forward string
	tunnel  *ipvsconfig.Tunnel
	ok      bool
}

// method reads lvs_method (lb_kind) NAT|DR|TUN [type ipip|gue port N|gre]
// [nocsum|csum|remcsum].
func (k *kaConv) method(s *stmt) fwdSpec {
	args := s.args()
	if len(args) < 1 {
		k.c.warnf(s.at, "%s without a method: ignored", s.key())
		return fwdSpec{}
	}
	switch strings.ToUpper(args[0]) {
	case "NAT":
		return fwdSpec{forward: "masq", ok: true}
	case "DR":
		return fwdSpec{forward: "route", ok: true}
	case "TUN":
	default:
		k.c.warnf(s.at, "%s %s: want NAT, DR or TUN, ignored", s.key(), args[0])
		return fwdSpec{}
	}
	f := fwdSpec{forward: "tunnel", ok: true}
	rest := args[1:]
	if len(rest) == 0 {
		return f
	}
	t := &ipvsconfig.Tunnel{}
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case "type":
			if i+1 < len(rest) {
				i++
				t.Type = rest[i]
			}
		case "port":
			if i+1 < len(rest) {
				i++
				p, ok := parsePort(rest[i])
				if !ok || p == 0 {
					k.c.warnf(s.at, "%s: tunnel port %s is not a port, ignored", s.key(), rest[i])
					continue
				}
				t.Port = p
			}
		case "nocsum", "csum", "remcsum":
			t.Checksum = rest[i]
		default:
			k.c.warnf(s.at, "%s: %q is not a tunnel option, ignored", s.key(), rest[i])
		}
	}
	if *t != (ipvsconfig.Tunnel{}) {
		f.tunnel = t
	}
	return f
}

// kaVS is the body of a virtual_server block.
type kaVS struct {
	at          pos
	protocol    string
	family      string
	scheduler   string
	schedFlags  []string
	ops         bool
	method      fwdSpec
	pe          string
	persist     *ipvsconfig.Persistence
	granularity setting[string]
	quorum      setting[uint32]
	sorry       *stmt
	sorryMethod fwdSpec
	weight      setting[uint32]
	set         kaSettings
	reals       []*kaRS
}

// kaRS is a real_server block.
type kaRS struct {
	s      *stmt
	addr   netip.Addr
	port   *uint16
	weight setting[uint32]
	method fwdSpec
	upper  uint32
	lower  setting[uint32]
	set    kaSettings
	checks []*stmt
}

// vsKey is one service a virtual_server stands for (a group stands for
// several).
type vsKey struct {
	fwmark uint32
	family string
	addr   netip.Addr
	port   uint16
	name   string
}

func (k *kaConv) virtualServer(s *stmt) {
	args := s.args()
	var keys []vsKey
	switch {
	case len(args) >= 2 && args[0] == "fwmark":
		m, err := strconv.ParseUint(args[1], 10, 32)
		if err != nil || m == 0 {
			k.c.warnf(s.at, "%s: the mark must be 1..4294967295; not converted", s.line())
			return
		}
		keys = []vsKey{{fwmark: uint32(m)}}
	case len(args) >= 2 && args[0] == "group":
		g := k.groups[args[1]]
		if g == nil {
			k.c.warnf(s.at, "%s: no virtual_server_group %s in the file; not converted", s.line(), args[1])
			return
		}
		keys = k.groupKeys(g)
	case len(args) >= 1:
		a, ok := parseIP(args[0])
		if !ok {
			k.c.warnf(s.at, "%s: %q is not an IP address (names are not resolved); not converted", s.line(), args[0])
			return
		}
		key := vsKey{addr: a}
		if len(args) >= 2 {
			p, ok := parsePort(args[1])
			if !ok {
				k.c.warnf(s.at, "%s: %q is not a port; not converted", s.line(), args[1])
				return
			}
			key.port = p
		}
		keys = []vsKey{key}
	default:
		k.c.warnf(s.at, "virtual_server needs ADDRESS [PORT], fwmark MARK or group NAME; not converted")
		return
	}
	vs := k.parseVS(s)
	if len(vs.reals) == 0 {
		k.c.warnf(s.at, "%s has no real_server: keepalived ignores it, so it is not converted", s.line())
		return
	}
	for _, key := range keys {
		k.c.add(k.service(s, vs, key))
	}
}

// groupKeys lists the services of a virtual_server_group.
func (k *kaConv) groupKeys(g *stmt) []vsKey {
	var keys []vsKey
	for _, e := range g.block {
		w := e.words
		if w[0] == "fwmark" {
			if len(w) < 2 {
				k.c.warnf(e.at, "fwmark without a mark: ignored")
				continue
			}
			m, err := strconv.ParseUint(w[1], 10, 32)
			if err != nil || m == 0 {
				k.c.warnf(e.at, "fwmark %s: the mark must be 1..4294967295, ignored", w[1])
				continue
			}
			key := vsKey{fwmark: uint32(m)}
			if len(w) >= 3 {
				key.family = w[2]
			}
			keys = append(keys, key)
			continue
		}
		addrs, err := expandRange(w[0], maxRange)
		if err != nil {
			k.c.warnf(e.at, "%v: not converted", err)
			continue
		}
		var port uint16
		if len(w) >= 2 {
			p, ok := parsePort(w[1])
			if !ok {
				k.c.warnf(e.at, "%q is not a port: not converted", w[1])
				continue
			}
			port = p
		}
		for _, a := range addrs {
			keys = append(keys, vsKey{addr: a, port: port})
		}
	}
	if len(keys) == 0 {
		k.c.warnf(g.at, "virtual_server_group %s has no entry that could be converted", g.args()[0])
	}
	return keys
}

// parseVS reads the body of a virtual_server.
func (k *kaConv) parseVS(s *stmt) *kaVS {
	vs := &kaVS{at: s.at, protocol: "tcp"}
	for _, b := range s.block {
		args := b.args()
		if k.common(b, &vs.set) {
			continue
		}
		arg := func() (string, bool) {
			if len(args) < 1 {
				k.c.warnf(b.at, "%s without a value: ignored", b.key())
				return "", false
			}
			return args[0], true
		}
		switch b.key() {
		case "lb_algo", "lvs_sched":
			if v, ok := arg(); ok {
				vs.scheduler = v
			}
		case "lb_kind", "lvs_method":
			vs.method = k.method(b)
		case "flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback", "mh-port", "mh-fallback":
			vs.schedFlags = append(vs.schedFlags, b.key())
		case "ops":
			vs.ops = true
		case "hashed":
			// An old flag the kernel sets itself.
		case "persistence_engine":
			if v, ok := arg(); ok {
				vs.pe = v
			}
		case "persistence_timeout":
			t := uint32(ipvsconfig.DefaultPersistenceTimeout)
			if len(args) > 0 {
				n, err := strconv.ParseUint(args[0], 10, 32)
				if err != nil || n == 0 {
					k.c.warnf(b.at, "persistence_timeout %s: not a number of seconds, ignored", args[0])
					continue
				}
				t = uint32(n)
			}
			vs.persist = &ipvsconfig.Persistence{Timeout: t}
		case "persistence_granularity":
			if v, ok := arg(); ok {
				vs.granularity = setting[string]{v, b.at, true}
			}
		case "protocol":
			if v, ok := arg(); ok {
				switch p := strings.ToLower(v); p {
				case "tcp", "udp", "sctp":
					vs.protocol = p
				default:
					k.c.warnf(b.at, "protocol %s: want TCP, UDP or SCTP, ignored", v)
				}
			}
		case "ip_family":
			if v, ok := arg(); ok {
				vs.family = v
			}
		case "ha_suspend":
			// Nothing to do without keepalived's addresses.
		case "quorum":
			if v, ok := arg(); ok {
				n, err := strconv.ParseUint(v, 10, 31)
				if err != nil {
					k.c.warnf(b.at, "quorum %s: not a number, ignored", v)
					continue
				}
				vs.quorum = setting[uint32]{uint32(n), b.at, true}
			}
		case "hysteresis":
			if v, _ := arg(); v != "" && v != "0" {
				k.c.warnf(b.at, "hysteresis is not supported: the sorry server comes in below quorum and goes out at quorum")
			}
		case "quorum_up", "quorum_down":
			k.c.warnf(b.at, "%s scripts are not supported: not converted", b.key())
		case "omega":
			// Only about the notify scripts at shutdown.
		case "weight":
			if v, ok := arg(); ok {
				n, err := strconv.ParseUint(v, 10, 31)
				if err != nil {
					k.c.warnf(b.at, "weight %s: not a weight, ignored", v)
					continue
				}
				vs.weight = setting[uint32]{uint32(n), b.at, true}
			}
		case "sorry_server":
			vs.sorry = b
		case "sorry_server_lvs_method":
			vs.sorryMethod = k.method(b)
		case "sorry_server_inhibit":
			k.c.warnf(b.at, "sorry_server_inhibit is not supported: the sorry server is removed when quorum is back")
		case "real_server":
			if rs := k.parseRS(b); rs != nil {
				vs.reals = append(vs.reals, rs)
			}
		default:
			k.c.warnf(b.at, "unknown keyword %q in virtual_server: ignored", b.key())
		}
	}
	if vs.granularity.ok && vs.persist == nil {
		k.c.warnf(vs.granularity.at, "persistence_granularity without persistence_timeout has no effect: not converted")
	}
	return vs
}

// parseRS reads a real_server block.
func (k *kaConv) parseRS(s *stmt) *kaRS {
	args := s.args()
	if len(args) < 1 {
		k.c.warnf(s.at, "real_server without an address: not converted")
		return nil
	}
	a, ok := parseIP(args[0])
	if !ok {
		k.c.warnf(s.at, "%s: %q is not an IP address (names are not resolved); not converted", s.line(), args[0])
		return nil
	}
	rs := &kaRS{s: s, addr: a}
	if len(args) >= 2 {
		p, ok := parsePort(args[1])
		if !ok {
			k.c.warnf(s.at, "%s: %q is not a port; not converted", s.line(), args[1])
			return nil
		}
		rs.port = &p
	}
	for _, b := range s.block {
		if k.common(b, &rs.set) {
			continue
		}
		args := b.args()
		num := func() (uint32, bool) {
			if len(args) < 1 {
				k.c.warnf(b.at, "%s without a value: ignored", b.key())
				return 0, false
			}
			n, err := strconv.ParseUint(args[0], 10, 31)
			if err != nil {
				k.c.warnf(b.at, "%s %s: not a number, ignored", b.key(), args[0])
				return 0, false
			}
			return uint32(n), true
		}
		switch key := b.key(); {
		case key == "weight":
			if n, ok := num(); ok {
				rs.weight = setting[uint32]{n, b.at, true}
			}
		case key == "lvs_method" || key == "lb_kind":
			rs.method = k.method(b)
		case key == "uthreshold":
			if n, ok := num(); ok {
				rs.upper = n
			}
		case key == "lthreshold":
			if n, ok := num(); ok {
				rs.lower = setting[uint32]{n, b.at, true}
			}
		case key == "notify_up" || key == "notify_down":
			k.c.warnf(b.at, "%s scripts are not supported: not converted", key)
		case kaCheckers[key] != "" || strings.HasSuffix(key, "_CHECK"):
			rs.checks = append(rs.checks, b)
		default:
			k.c.warnf(b.at, "unknown keyword %q in real_server: ignored", key)
		}
	}
	if rs.lower.ok && rs.upper == 0 {
		k.c.warnf(rs.lower.at, "lthreshold without uthreshold has no effect: not converted")
		rs.lower = setting[uint32]{}
	}
	return rs
}

// kaCheckers maps keepalived's checkers to check types; "" marks the ones
// ipvsctl has no check for.
var kaCheckers = map[string]string{
	"TCP_CHECK": "tcp", "HTTP_GET": "http", "SSL_GET": "https", "SMTP_CHECK": "tcp",
	"DNS_CHECK": "dns", "MISC_CHECK": "exec", "UDP_CHECK": "udp",
	"PING_CHECK": "-", "BFD_CHECK": "-", "FILE_CHECK": "-",
}

// service builds the service key stands for.
func (k *kaConv) service(s *stmt, vs *kaVS, key vsKey) *svcEntry {
	e := &svcEntry{at: s.at, name: s.line()}
	sv := &e.svc
	if key.fwmark != 0 {
		sv.FWMark = key.fwmark
		fam := key.family
		if fam == "" {
			fam = vs.family
		}
		if fam == "" {
			fam = k.fwmarkFamily(vs)
		}
		if fam == "inet6" {
			sv.Family = "inet6"
		}
		if e.name == "" || strings.HasPrefix(e.name, "virtual_server group") {
			e.name = fmt.Sprintf("%s (fwmark %d)", s.line(), key.fwmark)
		}
	} else {
		sv.Protocol, sv.Address, sv.Port = vs.protocol, key.addr.String(), key.port
		if strings.HasPrefix(e.name, "virtual_server group") {
			e.name = fmt.Sprintf("%s (%s)", s.line(), netip.AddrPortFrom(key.addr, key.port))
		}
	}
	sv.Scheduler = vs.scheduler
	sv.SchedFlags = vs.schedFlags
	sv.OnePacket = vs.ops
	sv.PE = vs.pe
	if vs.persist != nil {
		p := *vs.persist
		if vs.granularity.ok {
			g, ok := prefixOrMask(vs.granularity.v)
			if ok {
				p.PrefixLength, p.Netmask = g.PrefixLength, g.Netmask
			} else {
				k.c.warnf(vs.granularity.at, "persistence_granularity %s: not a netmask or prefix length, ignored", vs.granularity.v)
			}
		}
		sv.Persistence = &p
	}
	// inhibit_on_failure is a real_server keyword (and a virtual_server
	// default); onFailure is per service: the virtual_server's setting,
	// else the first real server's.
	inhibit, inhibitFrom := pick(vs.set.inhibit).v, "the virtual_server says"
	if !vs.set.inhibit.ok && len(vs.reals) > 0 {
		inhibit, inhibitFrom = vs.reals[0].set.inhibit.v, "its first real server says"
	}
	if inhibit {
		sv.OnFailure = "quiesce"
	} else {
		sv.OnFailure = "remove"
	}
	for _, rs := range vs.reals {
		d := &destEntry{at: rs.s.at, name: rs.s.line(), checkAt: rs.s.at}
		d.dest = ipvsconfig.Destination{Address: rs.addr.String(), Port: rs.port}
		k.forward(&d.dest, rs.method, vs.method)
		if w := pick(rs.weight, vs.weight); w.ok {
			d.dest.Weight = u32(w.v)
		}
		d.dest.UpperThreshold = rs.upper
		d.dest.LowerThreshold = rs.lower.v
		if in := pick(rs.set.inhibit, vs.set.inhibit); in.v != inhibit {
			k.c.warnf(in.at, "inhibit_on_failure differs between the real servers of %s: ipvsctl's onFailure is per service, so every server is %s as %s", s.line(), map[bool]string{true: "quiesced", false: "removed"}[inhibit], inhibitFrom)
		}
		d.check, d.checkAt = k.checks(rs, vs)
		e.dests = append(e.dests, d)
	}
	if vs.sorry != nil {
		e.sorry = k.sorry(vs)
	}
	if vs.quorum.ok {
		if vs.sorry != nil {
			sv.Quorum = u32(vs.quorum.v)
		} else if vs.quorum.v != 1 {
			k.c.warnf(vs.quorum.at, "quorum without sorry_server only decides when quorum_up and quorum_down run: not converted")
		}
	}
	return e
}

// fwmarkFamily is the family keepalived gives a firewall-mark service
// without ip_family: that of its sorry or real servers that are not
// tunnelled, else IPv4.
func (k *kaConv) fwmarkFamily(vs *kaVS) string {
	tunnelled := func(m fwdSpec) bool {
		if !m.ok {
			m = vs.method
		}
		return m.forward == "tunnel"
	}
	if vs.sorry != nil && len(vs.sorry.args()) > 0 && !tunnelled(vs.sorryMethod) {
		if a, ok := parseIP(vs.sorry.args()[0]); ok && a.Is6() {
			return "inet6"
		}
	}
	for _, rs := range vs.reals {
		if !tunnelled(rs.method) {
			if rs.addr.Is6() {
				return "inet6"
			}
			return "inet"
		}
	}
	return "inet"
}

// forward sets the forwarding method: the server's, else the virtual
// server's, else keepalived's default, NAT.
func (k *kaConv) forward(d *ipvsconfig.Destination, own, vs fwdSpec) {
	m := own
	if !m.ok {
		m = vs
	}
	if !m.ok {
		m = fwdSpec{forward: kaForward}
	}
	d.Forward = m.forward
	if m.tunnel != nil {
		t := *m.tunnel
		d.Tunnel = &t
	}
}

// sorry converts sorry_server ADDRESS [PORT].
func (k *kaConv) sorry(vs *kaVS) *destEntry {
	s := vs.sorry
	args := s.args()
	if len(args) < 1 {
		k.c.warnf(s.at, "sorry_server without an address: not converted")
		return nil
	}
	a, ok := parseIP(args[0])
	if !ok {
		k.c.warnf(s.at, "%s: %q is not an IP address; not converted", s.line(), args[0])
		return nil
	}
	d := &destEntry{at: s.at, name: s.line()}
	d.dest.Address = a.String()
	if len(args) >= 2 {
		p, ok := parsePort(args[1])
		if !ok {
			k.c.warnf(s.at, "%s: %q is not a port; not converted", s.line(), args[1])
			return nil
		}
		d.dest.Port = &p
	}
	k.forward(&d.dest, vs.sorryMethod, vs.method)
	return d
}

// checks picks the check of a real server: ipvsctl runs one, keepalived
// requires every checker to pass.
func (k *kaConv) checks(rs *kaRS, vs *kaVS) (*ipvsconfig.HealthCheck, pos) {
	var chosen *stmt
	for _, c := range rs.checks {
		typ, known := kaCheckers[c.key()]
		switch {
		case !known:
			k.c.warnf(c.at, "unknown check type %s: not converted", c.key())
		case typ == "-":
			k.c.warnf(c.at, "%s is not supported (ipvsctl has tcp, http, https, udp, dns and exec checks): not converted", c.key())
		case chosen != nil:
			k.c.warnf(c.at, "%s not converted: ipvsctl runs one check per server (keepalived needs every check to pass), the %s at line %d is used", c.key(), chosen.key(), chosen.at.line)
		default:
			chosen = c
		}
	}
	if chosen == nil {
		return nil, rs.s.at
	}
	return k.check(chosen, rs, vs), chosen.at
}

// check converts one checker block.
func (k *kaConv) check(chk *stmt, rs *kaRS, vs *kaVS) *ipvsconfig.HealthCheck {
	typ := chk.key()
	h := &ipvsconfig.HealthCheck{Type: kaCheckers[typ], Rise: 1}
	var cs kaSettings
	defRetry := 1
	var urls []*stmt
	var miscTimeout setting[time.Duration]
	var requireReply *stmt
	switch typ {
	case "DNS_CHECK":
		defRetry = 3
		h.QueryType = "SOA"
	case "MISC_CHECK":
		defRetry = 0
	case "SMTP_CHECK":
		k.c.warnf(chk.at, "SMTP_CHECK is converted to a tcp check: the connection is made, the SMTP greeting is not checked")
	}
	for _, s := range chk.block {
		args := s.args()
		arg := func() (string, bool) {
			if len(args) < 1 {
				k.c.warnf(s.at, "%s without a value: ignored", s.key())
				return "", false
			}
			return args[0], true
		}
		if typ != "MISC_CHECK" || s.key() != "connect_timeout" {
			if k.common(s, &cs) {
				continue
			}
		}
		switch key := s.key(); {
		case key == "connect_port" && typ != "MISC_CHECK":
			if v, ok := arg(); ok {
				p, ok := parsePort(v)
				if !ok || p == 0 {
					k.c.warnf(s.at, "connect_port %s: not a port, ignored", v)
					continue
				}
				h.Port = p
			}
		case key == "connect_ip" || key == "bindto" || key == "bind_port" || key == "bind_if" || key == "fwmark":
			k.c.warnf(s.at, "%s is not supported: the check connects to the server's own address, from the host's default source", key)
		case (typ == "HTTP_GET" || typ == "SSL_GET") && key == "url":
			urls = append(urls, s)
		case typ == "SSL_GET" && key == "sni_name":
			if v, ok := arg(); ok {
				h.SNI = v
			}
		case (typ == "HTTP_GET" || typ == "SSL_GET") && (key == "http_protocol" || key == "fast_recovery" || key == "tls_compliant" || key == "enable_sni"):
			// Protocol details; ipvsctl sends SNI from host.
		case typ == "SMTP_CHECK" && key == "helo_name":
		case typ == "SMTP_CHECK" && key == "host":
			k.c.warnf(s.at, "host blocks of SMTP_CHECK (other addresses to check) are not supported: ignored")
		case typ == "DNS_CHECK" && key == "type":
			if v, ok := arg(); ok {
				h.QueryType = strings.ToUpper(v)
			}
		case typ == "DNS_CHECK" && key == "name":
			if v, ok := arg(); ok {
				h.Query = v
			}
		case typ == "MISC_CHECK" && key == "misc_path":
			h.Command = k.miscCommand(s)
		case typ == "MISC_CHECK" && key == "misc_timeout":
			if d, ok := k.timer(s); ok && d > 0 {
				miscTimeout = setting[time.Duration]{d, s.at, true}
			}
		case typ == "MISC_CHECK" && key == "misc_dynamic":
			h.DynamicWeight = true
		case typ == "MISC_CHECK" && key == "user":
			k.c.warnf(s.at, "user is not supported: ipvsctl agent runs the command as its own user")
		case typ == "UDP_CHECK" && key == "payload":
			b, x, err := kaHex(args)
			switch {
			case err != nil || x:
				k.c.warnf(s.at, "payload: not a hex string, ignored")
			case !printable(string(b)):
				k.c.warnf(s.at, "payload is not text (ipvsctl's send is a UTF-8 string): an empty datagram is sent instead")
			default:
				h.Send = string(b)
			}
		case typ == "UDP_CHECK" && key == "require_reply":
			requireReply = s
		case typ == "UDP_CHECK" && (key == "min_reply_length" || key == "max_reply_length"):
			k.c.warnf(s.at, "%s is not supported: any reply length passes", key)
		default:
			k.c.warnf(s.at, "unknown keyword %q in %s: ignored", key, typ)
		}
	}

	// Timing: the checker's, the real server's, the virtual server's,
	// keepalived's default.
	t := timing{intervalKey: "delay_loop", timeoutKey: "connect_timeout", interval: kaDelayLoop}
	if d := pick(cs.delayLoop, rs.set.delayLoop, vs.set.delayLoop); d.ok {
		t.interval, t.intervalAt = d.v, d.at
	}
	if typ == "MISC_CHECK" {
		t.timeoutKey = "misc_timeout"
		t.timeout = t.interval
		if miscTimeout.ok {
			t.timeout, t.timeoutAt = miscTimeout.v, miscTimeout.at
		}
	} else {
		t.timeout = kaConnectTimeout
		if d := pick(cs.timeout, rs.set.timeout, vs.set.timeout); d.ok {
			t.timeout, t.timeoutAt = d.v, d.at
		}
	}
	k.c.fit(h, t)
	retry := pick(cs.retry, rs.set.retry, vs.set.retry)
	if !retry.ok {
		retry.v, retry.at = defRetry, chk.at
	}
	h.Fall = k.c.fall(retry.at, retry.v+1, fmt.Sprintf("retry %d", retry.v))
	if d := pick(cs.delayBeforeRetry, rs.set.delayBeforeRetry, vs.set.delayBeforeRetry); d.ok && retry.v > 0 {
		k.c.warnf(d.at, "delay_before_retry is not converted: ipvsctl probes a failing server again after the interval (%s), not after %s", h.Interval, duration(d.v))
	}

	switch typ {
	case "HTTP_GET", "SSL_GET":
		host := pick(cs.virtualhost, rs.set.virtualhost, vs.set.virtualhost)
		if len(urls) == 0 {
			k.c.warnf(chk.at, "%s without url: the check asks for /", typ)
		} else {
			k.url(h, urls[0], &host)
			for _, u := range urls[1:] {
				k.c.warnf(u.at, "only the first url of %s is converted (ipvsctl checks one path per server)", typ)
			}
		}
		h.Host = host.v
		// A failed HTTP_GET comes back after one success of the url
		// that failed and then one of every url (epilog in
		// check_http.c), however many ipvsctl probes.
		h.Rise = min(1+max(len(urls), 1), 100)
	case "MISC_CHECK":
		if len(h.Command) == 0 {
			k.c.warnf(chk.at, "MISC_CHECK without misc_path: not converted")
			return nil
		}
	case "UDP_CHECK":
		k.reply(h, requireReply, chk)
	}
	return h
}

// url converts the first url block of an HTTP_GET or SSL_GET.
func (k *kaConv) url(h *ipvsconfig.HealthCheck, u *stmt, host *setting[string]) {
	var status []int
	statusSet := false
	var regex, options string
	regexOK := true
	for _, s := range u.block {
		args := s.args()
		switch s.key() {
		case "path":
			if len(args) > 0 {
				h.Path = args[0]
			}
		case "status_code":
			statusSet = true
			for _, a := range args {
				codes, ok := statusRange(a)
				if !ok {
					k.c.warnf(s.at, "status_code %s: not a status or a range of statuses (100..599), ignored", a)
					continue
				}
				status = append(status, codes...)
			}
		case "digest":
			k.c.warnf(s.at, "digest is not supported: the body is not compared with an MD5 sum (expectBody can match it instead)")
		case "virtualhost":
			if len(args) > 0 {
				*host = setting[string]{args[0], s.at, true}
			}
		case "regex":
			if len(args) > 0 {
				regex = args[0]
			}
		case "regex_no_match":
			k.c.warnf(s.at, "regex_no_match is not supported: the regex is not converted")
			regexOK = false
		case "regex_options":
			for _, o := range args {
				switch o {
				case "caseless":
					options += "i"
				case "multiline":
					options += "m"
				case "dotall":
					options += "s"
				case "ungreedy":
					options += "U"
				default:
					k.c.warnf(s.at, "regex option %s is not supported: ignored", o)
				}
			}
		case "regex_min_offset", "regex_max_offset", "regex_stack":
			k.c.warnf(s.at, "%s is not supported: the first 64 KiB of the body are searched", s.key())
		case "tls_compliant":
		default:
			k.c.warnf(s.at, "unknown keyword %q in url: ignored", s.key())
		}
	}
	if statusSet {
		h.ExpectStatus = status
	} else {
		k.c.warnf(u.at, "url without status_code: keepalived passes 200-299, ipvsctl's default passes 200-399 (redirects too); add expectStatus to narrow it")
	}
	if regex != "" && regexOK {
		if options != "" {
			regex = "(?" + options + ")" + regex
		}
		if _, err := regexp.Compile(regex); err != nil {
			k.c.warnf(u.at, "regex %q is not a regular expression ipvsctl reads (RE2): not converted", regex)
		} else {
			h.ExpectBody = regex
		}
	}
}

// statusRange reads a status or a range of statuses: 200, 200-299.
func statusRange(s string) ([]int, bool) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err := strconv.Atoi(a)
	if err != nil {
		return nil, false
	}
	hi := lo
	if isRange {
		if hi, err = strconv.Atoi(b); err != nil {
			return nil, false
		}
	}
	if lo < 100 || hi > 599 || hi < lo {
		return nil, false
	}
	out := make([]int, 0, hi-lo+1)
	for n := lo; n <= hi; n++ {
		out = append(out, n)
	}
	return out, true
}

// reply converts require_reply.
func (k *kaConv) reply(h *ipvsconfig.HealthCheck, rr, chk *stmt) {
	if rr == nil {
		k.c.warnf(chk.at, "UDP_CHECK without require_reply passes unless an ICMP error comes back; ipvsctl's udp check needs a reply")
		return
	}
	if len(rr.args()) == 0 {
		return // any reply, as ipvsctl's default
	}
	b, x, err := kaHex(rr.args())
	switch {
	case err != nil:
		k.c.warnf(rr.at, "require_reply: not a hex string; any reply passes")
	case x:
		k.c.warnf(rr.at, "require_reply with X (any nibble) is not supported; any reply passes")
	case !printable(string(b)):
		k.c.warnf(rr.at, "require_reply is not text (ipvsctl's expect is a regular expression on a UTF-8 string); any reply passes")
	default:
		h.Expect = "^" + regexp.QuoteMeta(string(b))
	}
}

// kaHex reads keepalived's free-form hex strings: "Ab12f 3 456" is
// AB 12 0F 03 45 06 (pairs from the left of each word, a lone last digit
// a byte of its own). It reports whether an X (any nibble) was used.
func kaHex(words []string) ([]byte, bool, error) {
	var out []byte
	x := false
	for _, w := range words {
		for i := 0; i < len(w); i += 2 {
			pair := w[i:min(i+2, len(w))]
			if strings.ContainsAny(pair, "xX") {
				x = true
				out = append(out, 0)
				continue
			}
			if len(pair) == 1 {
				pair = "0" + pair
			}
			b, err := hex.DecodeString(pair)
			if err != nil {
				return nil, false, err
			}
			out = append(out, b...)
		}
	}
	return out, x, nil
}

// miscCommand reads misc_path as keepalived does: the first word of the
// line (a quoted string is one word), split again into the program and
// its arguments with quotes and backslash escapes, never by a shell.
func (k *kaConv) miscCommand(s *stmt) []string {
	rest := strings.TrimSpace(strings.TrimPrefix(s.raw, "misc_path"))
	words, err := splitQuoted(rest, false)
	if err != nil || len(words) == 0 {
		k.c.warnf(s.at, "misc_path: %v", orMissing(err))
		return nil
	}
	if len(words) > 1 {
		k.c.warnf(s.at, "misc_path: keepalived runs only %q and ignores the rest of the line; quote the whole command to pass arguments", words[0])
	}
	cmd, err := splitQuoted(words[0], true)
	if err != nil || len(cmd) == 0 {
		k.c.warnf(s.at, "misc_path: %v", orMissing(err))
		return nil
	}
	return cmd
}

func orMissing(err error) error {
	if err == nil {
		return fmt.Errorf("no command")
	}
	return err
}
