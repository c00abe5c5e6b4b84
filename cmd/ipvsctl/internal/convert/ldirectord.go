package convert

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ipvs-tools/ipvs/ipvsconfig"
)

// ldirectord's defaults (set_defaults and read_config in ldirectord.in).
const (
	ldCheckInterval    = 10 * time.Second
	ldCheckTimeout     = 5 * time.Second
	ldNegotiateTimeout = 30 * time.Second
	ldScheduler        = "wrr"
)

// ldServicePorts are the service names ldirectord knows (ld_service_to_port),
// with the /etc/services aliases configurations use for them.
var ldServicePorts = map[string]uint16{
	"ftp": 21, "smtp": 25, "dns": 53, "domain": 53, "http": 80, "www": 80, "pop": 110, "pop3": 110,
	"nntp": 119, "imap": 143, "imap2": 143, "ldap": 389, "https": 443, "submission": 587,
	"imaps": 993, "pops": 995, "pop3s": 995, "oracle": 1521, "radius": 1812, "http_proxy": 3128,
	"mysql": 3306, "sip": 5060, "pgsql": 5432, "postgresql": 5432,
}

// ldPortServices is ld_port_to_service: the default service of a port.
var ldPortServices = map[uint16]string{
	21: "ftp", 25: "smtp", 53: "dns", 80: "http", 110: "pop", 119: "nntp", 143: "imap", 389: "ldap",
	443: "https", 587: "submission", 993: "imaps", 995: "pops", 1521: "oracle", 1812: "radius",
	3128: "http_proxy", 3306: "mysql", 5060: "sip", 5432: "pgsql",
}

// ldSettings are the settings a virtual section may give and the global
// part of the file may default.
type ldSettings struct {
	checkTimeout, negotiateTimeout, checkInterval setting[time.Duration]
	failureCount                                  setting[int]
	quiescent                                     setting[bool]
	fallback                                      setting[string]
}

// ldVirtual is a virtual= section.
type ldVirtual struct {
	at         pos
	line       string
	v6         bool
	fwmark     uint32
	addr       netip.Addr
	port       uint16
	protocol   setting[string]
	scheduler  string
	schedFlags []string
	persistent *uint32
	netmask    setting[string]
	ops        bool
	checktype  setting[string]
	service    setting[string]
	request    string
	receive    string
	command    string
	checkPort  uint16
	httpMethod string
	vhost      string
	set        ldSettings
	reals      []*ldReal
	// skip marks a section that is not converted (its virtual= line
	// was refused).
	skip bool
}

// ldReal is a real= line (one of the servers of a range).
type ldReal struct {
	at      pos
	name    string
	addr    netip.Addr
	port    *uint16
	forward string
	weight  *uint32
	request *string
	receive *string
	// lower and upper are the connection thresholds (l:N, u:N).
	lower, upper uint32
}

type ldConv struct {
	c      *conv
	global ldSettings
	// fallback6 is the global fallback6 (fallback is in global).
	fallback6 setting[string]
	fork      bool
}

var ldKeyRE = regexp.MustCompile(`^([A-Za-z0-9_-]+)\s*(?:=\s*(.*))?$`)

func convertLdirectord(c *conv, name string, data []byte) error {
	l := &ldConv{c: c}
	var virtuals []*ldVirtual
	var cur *ldVirtual
	for i, text := range splitLines(data) {
		at := pos{name, i + 1}
		if cur != nil {
			if strings.HasPrefix(strings.TrimSpace(text), "#") {
				continue
			}
			t := strings.ReplaceAll(ldComment(text), "\t", "    ")
			if strings.HasPrefix(t, "    ") && strings.TrimSpace(t) != "" {
				if !cur.skip {
					l.virtualLine(cur, at, strings.TrimSpace(t))
				}
				continue
			}
			cur = nil
		}
		t := strings.TrimRight(ldComment(text), " \t\r")
		if strings.TrimSpace(t) == "" {
			continue
		}
		if t[0] == ' ' || t[0] == '\t' {
			return &Error{File: name, Line: i + 1, Msg: "an indented line outside a virtual section (ldirectord ends a section at the first line that is not indented, a blank line included)"}
		}
		m := ldKeyRE.FindStringSubmatch(t)
		if m == nil {
			return &Error{File: name, Line: i + 1, Msg: fmt.Sprintf("%q is not a setting (want NAME = VALUE)", t)}
		}
		key, value := m[1], ldUnquote(m[2])
		if key == "virtual" || key == "virtual6" {
			cur = l.virtual(at, key, value, t)
			if cur != nil {
				virtuals = append(virtuals, cur)
			} else {
				cur = &ldVirtual{skip: true} // its lines go with it
			}
			continue
		}
		l.globalLine(at, key, value)
	}
	if len(virtuals) == 0 {
		return nil
	}
	quiescentSet := l.global.quiescent.ok
	for _, v := range virtuals {
		quiescentSet = quiescentSet || v.set.quiescent.ok
	}
	if !quiescentSet {
		c.warnf(virtuals[0].at, "quiescent is not set: ldirectord's code removes a failed server by default (its manual says it quiesces), so onFailure is remove; set quiescent to choose")
	}
	for _, v := range virtuals {
		l.convert(v)
	}
	return nil
}

// ldComment removes a # comment outside double quotes.
func ldComment(s string) string {
	q := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			q = !q
		case '#':
			if !q {
				return s[:i]
			}
		}
	}
	return s
}

// ldUnquote removes the quotes around a value ("..." up to the last
// quote, as ldirectord's \"(.*)\").
func ldUnquote(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, `"`) {
		if j := strings.LastIndexByte(s, '"'); j > 0 {
			return s[1:j]
		}
	}
	return s
}

// seconds reads a positive number of seconds.
func (l *ldConv) seconds(at pos, key, value string) (setting[time.Duration], bool) {
	n, err := strconv.ParseUint(value, 10, 31)
	if err != nil || n == 0 {
		l.c.warnf(at, "%s = %s: not a number of seconds, ignored", key, value)
		return setting[time.Duration]{}, false
	}
	return setting[time.Duration]{time.Duration(n) * time.Second, at, true}, true
}

// shared reads a setting allowed both globally and in a virtual section.
func (l *ldConv) shared(set *ldSettings, at pos, key, value string) bool {
	switch key {
	case "checktimeout":
		if s, ok := l.seconds(at, key, value); ok {
			set.checkTimeout = s
		}
	case "negotiatetimeout":
		if s, ok := l.seconds(at, key, value); ok {
			set.negotiateTimeout = s
		}
	case "checkinterval":
		if s, ok := l.seconds(at, key, value); ok {
			set.checkInterval = s
		}
	case "failurecount":
		n, err := strconv.ParseUint(value, 10, 31)
		if err != nil || n == 0 {
			l.c.warnf(at, "failurecount = %s: not a count, ignored", value)
			return true
		}
		set.failureCount = setting[int]{int(n), at, true}
	case "quiescent":
		switch value {
		case "yes", "no":
			set.quiescent = setting[bool]{value == "yes", at, true}
		default:
			l.c.warnf(at, "quiescent = %s: want yes or no, ignored", value)
		}
	case "fallback", "fallback6":
		set.fallback = setting[string]{value, at, true}
	case "connecttimeout":
		l.c.warnf(at, "connecttimeout is no longer read by ldirectord (negotiatetimeout replaced it): ignored")
	case "checkcount":
		l.c.warnf(at, "checkcount is not converted: ldirectord uses it for ping checks, which ipvsctl does not have")
	case "emailalert", "emailalertfreq", "emailalertstatus", "emailalertfrom", "smtp":
		l.c.warnf(at, "e-mail alerts are not supported: %s not converted", key)
	case "fallbackcommand":
		l.c.warnf(at, "fallbackcommand is not supported: not converted")
	case "cleanstop":
		// ipvsctl agent never flushes the table when it stops.
	default:
		return false
	}
	return true
}

func (l *ldConv) globalLine(at pos, key, value string) {
	if key == "fallback6" {
		l.fallback6 = setting[string]{value, at, true}
		return
	}
	if l.shared(&l.global, at, key, value) {
		return
	}
	switch key {
	case "fork":
		l.fork = value == "yes"
	case "autoreload", "callback", "logfile", "supervised", "readdquiescent":
		// How ldirectord runs: nothing for the table.
	case "maintenancedir":
		l.c.warnf(at, "maintenancedir is not supported: take a server out by setting its weight to 0 in the document")
	case "execute":
		l.c.warnf(at, "execute starts ldirectord with another configuration: convert %s too", value)
	default:
		l.c.warnf(at, "unknown setting %q: ignored", key)
	}
}

// virtual reads a virtual= or virtual6= line.
func (l *ldConv) virtual(at pos, key, value, line string) *ldVirtual {
	v := &ldVirtual{at: at, line: strings.TrimSpace(line), v6: key == "virtual6"}
	value = strings.Fields(value + " ")[0]
	if n, err := strconv.ParseUint(value, 10, 32); err == nil {
		if n == 0 {
			l.c.warnf(at, "%s: the firewall mark must be 1..4294967295; not converted", v.line)
			return nil
		}
		v.fwmark = uint32(n)
		return v
	}
	host, port, ok := cutPort(value)
	if !ok {
		l.c.warnf(at, "%s: want ADDRESS:PORT or a firewall mark; not converted", v.line)
		return nil
	}
	a, ok := parseIP(host)
	if !ok {
		l.c.warnf(at, "%s: %q is not an IP address (names are not resolved); not converted", v.line, host)
		return nil
	}
	if a.Is6() != v.v6 {
		l.c.warnf(at, "%s: %s addresses go in %s; not converted", v.line, map[bool]string{true: "IPv6", false: "IPv4"}[a.Is6()], map[bool]string{true: "virtual6", false: "virtual"}[a.Is6()])
		return nil
	}
	p, ok := l.port(port)
	if !ok {
		l.c.warnf(at, "%s: %q is not a port or a service ldirectord knows; not converted", v.line, port)
		return nil
	}
	v.addr, v.port = a, p
	return v
}

// cutPort splits ADDR:PORT or [V6]:PORT.
func cutPort(s string) (host, port string, ok bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.HasPrefix(s, "[") && !strings.Contains(s[:i], "]") {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

func (l *ldConv) port(s string) (uint16, bool) {
	if p, ok := parsePort(s); ok {
		return p, true
	}
	p, ok := ldServicePorts[s]
	return p, ok
}

// virtualLine reads an indented line of a virtual section.
func (l *ldConv) virtualLine(v *ldVirtual, at pos, t string) {
	m := ldKeyRE.FindStringSubmatch(t)
	if m == nil {
		l.c.warnf(at, "%q is not a setting (want NAME = VALUE): ignored", t)
		return
	}
	key, raw := m[1], strings.TrimSpace(m[2])
	value := ldUnquote(raw)
	if (key == "fallback" || key == "fallback6") && (key == "fallback6") != v.v6 {
		l.c.warnf(at, "%s belongs in a %s section: ignored", key, map[bool]string{true: "virtual6", false: "virtual"}[key == "fallback6"])
		return
	}
	if l.shared(&v.set, at, key, value) {
		return
	}
	switch key {
	case "real", "real6":
		if (key == "real6") != v.v6 {
			l.c.warnf(at, "%s belongs in a %s section: not converted", key, map[bool]string{true: "virtual6", false: "virtual"}[key == "real6"])
			return
		}
		v.reals = append(v.reals, l.real(v, at, t, raw)...)
	case "request":
		v.request = value
	case "receive":
		v.receive = value
	case "checktype":
		v.checktype = setting[string]{value, at, true}
	case "checkcommand":
		v.command = value
	case "checkport":
		p, ok := parsePort(value)
		if !ok || p == 0 {
			l.c.warnf(at, "checkport = %s: not a port, ignored", value)
			return
		}
		v.checkPort = p
	case "service":
		v.service = setting[string]{value, at, true}
	case "scheduler":
		v.scheduler = value
	case "schedflags":
		for _, f := range strings.Split(value, ",") {
			if f = strings.TrimSpace(f); f != "" {
				v.schedFlags = append(v.schedFlags, f)
			}
		}
	case "servicename", "comment":
		// Names for people.
	case "persistent":
		n, err := strconv.ParseUint(value, 10, 32)
		if err != nil || n == 0 {
			l.c.warnf(at, "persistent = %s: not a number of seconds, ignored", value)
			return
		}
		v.persistent = u32(uint32(n))
	case "netmask":
		v.netmask = setting[string]{value, at, true}
	case "protocol":
		switch value {
		case "tcp", "udp", "fwm":
			v.protocol = setting[string]{value, at, true}
		default:
			l.c.warnf(at, "protocol = %s: want tcp, udp or fwm, ignored", value)
		}
	case "ops":
		v.ops = value == "yes"
	case "httpmethod":
		v.httpMethod = strings.ToUpper(value)
	case "virtualhost":
		v.vhost = value
	case "login", "passwd", "database", "secret":
		// Used by the negotiate checks ipvsctl does not have.
	case "monitorfile":
		l.c.warnf(at, "monitorfile is not supported: ipvsctl agent logs check results itself")
	case "load":
		l.c.warnf(at, "load is not supported: ignored")
	default:
		l.c.warnf(at, "unknown setting %q in a virtual section: ignored", key)
	}
}

var (
	ldReqRE   = regexp.MustCompile(`^"(.*)"[, ]\s*"(.*)"(.*)$`)
	ldLowerRE = regexp.MustCompile(`^\s*l:(\d+)(.*)$`)
	ldUpperRE = regexp.MustCompile(`^\s*u:(\d+)(.*)$`)
)

// real reads real = ADDR[->ADDR2][:PORT] gate|masq|ipip [WEIGHT]
// ["REQUEST", "RECEIVE"] [l:LOWER] [u:UPPER].
func (l *ldConv) real(v *ldVirtual, at pos, line, value string) []*ldReal {
	name := strings.TrimSpace(line)
	fields := strings.Fields(value)
	if len(fields) < 2 {
		l.c.warnf(at, "%s: want ADDRESS[:PORT] gate|masq|ipip [WEIGHT]; not converted", name)
		return nil
	}
	spec := fields[0]
	r := ldReal{at: at, name: name}
	var portText string
	if i := strings.LastIndexByte(spec, ':'); i >= 0 && (!strings.HasPrefix(spec, "[") || strings.HasSuffix(spec[:i], "]")) {
		spec, portText = spec[:i], spec[i+1:]
	}
	if portText != "" {
		p, ok := l.port(portText)
		if !ok {
			l.c.warnf(at, "%s: %q is not a port or a service ldirectord knows; not converted", name, portText)
			return nil
		}
		r.port = u16(p)
	}
	switch fields[1] {
	case "gate":
		r.forward = "route"
	case "masq":
		r.forward = "masq"
	case "ipip":
		r.forward = "tunnel"
	default:
		l.c.warnf(at, "%s: the forwarding method must be gate, masq or ipip; not converted", name)
		return nil
	}
	rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(value, fields[0])), fields[1]))
	if len(fields) > 2 {
		if n, err := strconv.ParseUint(fields[2], 10, 31); err == nil {
			r.weight = u32(uint32(n))
			rest = strings.TrimSpace(strings.TrimPrefix(rest, fields[2]))
		}
	}
	// As add_real_server reads them, in this order.
	if m := ldReqRE.FindStringSubmatch(rest); m != nil {
		r.request, r.receive = &m[1], &m[2]
		rest = m[3]
	}
	if m := ldLowerRE.FindStringSubmatch(rest); m != nil {
		n, _ := strconv.ParseUint(m[1], 10, 31)
		r.lower, rest = uint32(n), m[2]
	}
	if m := ldUpperRE.FindStringSubmatch(rest); m != nil {
		n, _ := strconv.ParseUint(m[1], 10, 31)
		r.upper, rest = uint32(n), m[2]
	}
	if rest = strings.TrimSpace(rest); rest != "" {
		l.c.warnf(at, "%s: %q is not a weight, a \"request\", \"receive\" pair or a threshold (l:N, u:N): ignored", name, rest)
	}
	if r.lower > 0 && r.upper == 0 {
		l.c.warnf(at, "%s: a lower threshold without an upper one has no effect: not converted", name)
		r.lower = 0
	}
	first, last, isRange := strings.Cut(spec, "->")
	var addrs []netip.Addr
	if isRange {
		a, ok1 := parseIP(first)
		b, ok2 := parseIP(last)
		if !ok1 || !ok2 {
			l.c.warnf(at, "%s: not an address range (names are not resolved); not converted", name)
			return nil
		}
		var err error
		if addrs, err = expandRange(a.String()+"-"+b.String(), maxRange); err != nil {
			l.c.warnf(at, "%s: %v; not converted", name, err)
			return nil
		}
	} else {
		a, ok := parseIP(spec)
		if !ok {
			l.c.warnf(at, "%s: %q is not an IP address (names are not resolved); not converted", name, spec)
			return nil
		}
		addrs = []netip.Addr{a}
	}
	out := make([]*ldReal, len(addrs))
	for i, a := range addrs {
		rr := r
		rr.addr = a
		if isRange {
			rr.name = fmt.Sprintf("%s (%s)", name, a)
		}
		out[i] = &rr
	}
	return out
}

// convert makes the service of a virtual section.
func (l *ldConv) convert(v *ldVirtual) {
	if len(v.reals) == 0 {
		l.c.warnf(v.at, "%s has no real server: not converted", v.line)
		return
	}
	e := &svcEntry{at: v.at, name: v.line}
	sv := &e.svc
	proto := "tcp"
	if v.fwmark != 0 {
		proto = "fwm"
	} else if v.port == 53 {
		proto = "udp"
	}
	if v.protocol.ok {
		if (v.protocol.v == "fwm") != (v.fwmark != 0) {
			l.c.warnf(v.protocol.at, "protocol = %s does not fit %s: ignored", v.protocol.v, v.line)
		} else {
			proto = v.protocol.v
		}
	}
	if v.fwmark != 0 {
		sv.FWMark = v.fwmark
		if v.v6 {
			sv.Family = "inet6"
		}
	} else {
		sv.Protocol, sv.Address, sv.Port = proto, v.addr.String(), v.port
	}
	sv.Scheduler = v.scheduler
	if sv.Scheduler == "" {
		sv.Scheduler = ldScheduler
	}
	sv.SchedFlags = v.schedFlags
	sv.OnePacket = v.ops
	if v.persistent != nil {
		sv.Persistence = &ipvsconfig.Persistence{Timeout: *v.persistent}
		if v.netmask.ok {
			g, ok := prefixOrMask(v.netmask.v)
			if ok {
				sv.Persistence.PrefixLength, sv.Persistence.Netmask = g.PrefixLength, g.Netmask
			} else {
				l.c.warnf(v.netmask.at, "netmask = %s: not a netmask or prefix length, ignored", v.netmask.v)
			}
		}
	} else if v.netmask.ok {
		l.c.warnf(v.netmask.at, "netmask without persistent has no effect: not converted")
	}
	quiescent := pick(v.set.quiescent, l.global.quiescent).v
	if quiescent {
		sv.OnFailure = "quiesce"
	} else {
		sv.OnFailure = "remove"
	}
	checktype := "negotiate"
	if v.checktype.ok {
		checktype = v.checktype.v
	}
	off := checktype == "off"
	if off {
		l.c.warnf(v.checktype.at, "checktype = off: ldirectord never adds the real servers of %s, so they are written with weight 0", v.line)
	}
	for _, r := range v.reals {
		d := &destEntry{at: r.at, name: r.name, checkAt: r.at}
		d.dest = ipvsconfig.Destination{Address: r.addr.String(), Port: r.port, Forward: r.forward, Weight: r.weight,
			LowerThreshold: r.lower, UpperThreshold: r.upper}
		if off {
			d.dest.Weight = u32(0)
		} else {
			d.check = l.check(v, r, proto, checktype)
			if v.checktype.ok {
				d.checkAt = v.checktype.at
			}
		}
		e.dests = append(e.dests, d)
	}
	fb := pick(v.set.fallback, l.global.fallback)
	if v.v6 {
		fb = pick(v.set.fallback, l.fallback6)
	}
	if fb.ok && !off {
		e.sorry = l.fallback(fb)
	}
	l.c.add(e)
}

// fallback converts fallback = ADDR[:PORT] [gate|masq|ipip].
func (l *ldConv) fallback(fb setting[string]) *destEntry {
	f := strings.Fields(fb.v)
	if len(f) == 0 {
		return nil
	}
	d := &destEntry{at: fb.at, name: "fallback = " + fb.v}
	spec := f[0]
	if host, port, ok := cutPort(spec); ok && (!strings.Contains(host, ":") || strings.HasPrefix(host, "[")) {
		p, ok := l.port(port)
		if !ok {
			l.c.warnf(fb.at, "fallback %s: %q is not a port or a service ldirectord knows; not converted", fb.v, port)
			return nil
		}
		spec, d.dest.Port = host, u16(p)
	}
	a, ok := parseIP(spec)
	if !ok {
		l.c.warnf(fb.at, "fallback %s: %q is not an IP address (names are not resolved); not converted", fb.v, spec)
		return nil
	}
	d.dest.Address = a.String()
	d.dest.Forward = "route"
	if len(f) > 1 {
		switch f[1] {
		case "gate":
		case "masq":
			d.dest.Forward = "masq"
		case "ipip":
			d.dest.Forward = "tunnel"
		default:
			l.c.warnf(fb.at, "fallback %s: the forwarding method must be gate, masq or ipip; not converted", fb.v)
			return nil
		}
	}
	return d
}

// check converts the check of one real server of v.
func (l *ldConv) check(v *ldVirtual, r *ldReal, proto, checktype string) *ipvsconfig.HealthCheck {
	at := v.at
	if v.checktype.ok {
		at = v.checktype.at
	}
	service := "none"
	if v.fwmark == 0 {
		if s, ok := ldPortServices[v.port]; ok {
			service = s
		}
	}
	if v.service.ok {
		service = v.service.v
	}
	negotiate := checktype == "negotiate"
	if n, err := strconv.Atoi(checktype); err == nil && n >= 0 {
		l.c.warnf(at, "checktype = %d (a negotiate check after every %d connect checks) is converted to the negotiate check on every probe", n, n)
		negotiate = true
	}
	h := &ipvsconfig.HealthCheck{Rise: 1}
	switch {
	case checktype == "on":
		return nil
	case checktype == "ping":
		l.c.warnf(at, "ping checks are not supported: the real servers of %s are not checked", v.line)
		return nil
	case checktype == "connect" && proto == "udp":
		l.c.warnf(at, "ldirectord pings for a connect check of a UDP service, which ipvsctl does not do: the real servers of %s are not checked", v.line)
		return nil
	case checktype == "connect":
		h.Type, h.Port = "tcp", v.checkPort
	case checktype == "external" || checktype == "external-perl":
		cmd := v.command
		if cmd == "" {
			cmd = "/bin/true"
		}
		vip, vport := v.addr.String(), strconv.Itoa(int(v.port))
		if v.fwmark != 0 {
			vip = strconv.FormatUint(uint64(v.fwmark), 10)
		}
		rport := v.port
		if r.port != nil {
			rport = *r.port
		}
		// ldirectord execs the command (no shell) with these four
		// arguments.
		h.Type, h.Command = "exec", []string{cmd, vip, vport, r.addr.String(), strconv.Itoa(int(rport))}
	case negotiate:
		if !l.negotiate(h, v, r, proto, service, at) {
			return nil
		}
		// ld_checkport: without checkport and a real server port (a
		// firewall-mark service), the service's well-known port.
		if h.Port == 0 && (r.port == nil || *r.port == 0) && v.port == 0 && h.Type != "exec" {
			h.Port = ldServicePorts[service]
		}
	default:
		l.c.warnf(at, "unknown checktype %q: the real servers of %s are not checked", checktype, v.line)
		return nil
	}

	t := timing{intervalKey: "checkinterval", interval: ldCheckInterval}
	if s := l.global.checkInterval; s.ok {
		t.interval, t.intervalAt = s.v, s.at
	}
	if s := v.set.checkInterval; s.ok {
		if l.fork {
			t.interval, t.intervalAt = s.v, s.at
		} else {
			l.c.warnf(s.at, "ldirectord ignores checkinterval in a virtual section unless fork = yes: not converted (the check runs every %s)", duration(t.interval))
		}
	}
	// checktimeout and negotiatetimeout default to each other, as
	// ldirectord's ld_setup resolves them.
	type named struct {
		s   setting[time.Duration]
		key string
	}
	chain := []named{{v.set.checkTimeout, "checktimeout"}, {v.set.negotiateTimeout, "negotiatetimeout"},
		{l.global.checkTimeout, "checktimeout"}, {l.global.negotiateTimeout, "negotiatetimeout"}}
	t.timeoutKey, t.timeout = "checktimeout", ldCheckTimeout
	if negotiate {
		chain[0], chain[1], chain[2], chain[3] = chain[1], chain[0], chain[3], chain[2]
		t.timeoutKey, t.timeout = "negotiatetimeout", ldNegotiateTimeout
	}
	for _, n := range chain {
		if n.s.ok {
			t.timeout, t.timeoutAt, t.timeoutKey = n.s.v, n.s.at, n.key
			break
		}
	}
	l.c.fit(h, t)
	fall := pick(v.set.failureCount, l.global.failureCount)
	if !fall.ok {
		fall.v = 1
	}
	h.Fall = l.c.fall(fall.at, fall.v, fmt.Sprintf("failurecount = %d", fall.v))
	return h
}

// negotiate fills in the negotiate check of service; false: not checked.
func (l *ldConv) negotiate(h *ipvsconfig.HealthCheck, v *ldVirtual, r *ldReal, proto, service string, at pos) bool {
	request, receive := v.request, v.receive
	if r.request != nil {
		request, receive = *r.request, *r.receive
	}
	if v.service.ok {
		at = v.service.at
	}
	switch service {
	case "none":
		return false
	case "http", "https":
		h.Type, h.Port, h.Host = service, v.checkPort, v.vhost
		path := request
		if u, ok := strings.CutPrefix(path, "http://"); ok || strings.HasPrefix(path, "https://") {
			if !ok {
				u = strings.TrimPrefix(path, "https://")
			}
			l.c.warnf(r.at, "request %s is an absolute URL, which ldirectord asks that host for: ipvsctl asks the real server for its path", path)
			_, p, _ := strings.Cut(u, "/")
			path = "/" + p
		}
		if path == "" {
			path = "/"
		} else if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		if path != "/" {
			h.Path = path
		}
		if v.httpMethod == "HEAD" {
			h.Method = "HEAD"
		}
		if receive != "" {
			if _, err := regexp.Compile(receive); err != nil {
				l.c.warnf(r.at, "receive %q is not a regular expression ipvsctl reads (RE2): not converted", receive)
			} else {
				h.ExpectBody = receive
			}
		}
	case "dns":
		h.Type = "dns"
		q := strings.TrimPrefix(request, "/")
		if q != "" {
			h.Query = q
		}
		if _, err := netip.ParseAddr(q); err == nil {
			l.c.warnf(at, "a DNS check of an address (a PTR lookup) is converted to an A query of %s", q)
		}
		if receive != "" {
			l.c.warnf(at, "the DNS answer is not compared with receive: any NOERROR or NXDOMAIN answer passes")
		}
	case "simpletcp", "ftp", "smtp", "submission", "pop", "pops", "imap", "imaps", "ldap", "nntp",
		"mysql", "pgsql", "oracle", "radius", "sip", "http_proxy":
		if proto == "udp" {
			l.c.warnf(at, "ipvsctl has no %s check for a UDP service: the real servers of %s are not checked", service, v.line)
			return false
		}
		l.c.warnf(at, "ipvsctl has no %s check: converted to a tcp check (the connection is made, the protocol is not spoken)", service)
		h.Type, h.Port = "tcp", v.checkPort
	default:
		l.c.warnf(at, "unknown service %q: the real servers of %s are not checked", service, v.line)
		return false
	}
	return true
}
