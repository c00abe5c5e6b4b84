package ipvsadmfmt

import (
	"io"
	"strconv"
	"strings"

	"github.com/ipvs-tools/ipvs/ipvsadmargs"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
)

// Format selects a listing format (ipvsadm's FMT_* flags).
type Format struct {
	Numeric        bool // -n
	Rule           bool // -S: save format
	Stats          bool // --stats
	Rate           bool // --rate
	Thresholds     bool // --thresholds
	PersistentConn bool // --persistent-conn
	NoSort         bool // --nosort
	Exact          bool // --exact
	TunInfo        bool // --tun-info
}

// FormatFor returns the format of a listing command (save selects -S).
func FormatFor(l ipvsadmargs.ListOptions, save bool) Format {
	return Format{
		Numeric:        l.Numeric,
		Rule:           save,
		Stats:          l.Stats,
		Rate:           l.Rate,
		Thresholds:     l.Thresholds,
		PersistentConn: l.PersistentConn,
		NoSort:         l.NoSort,
		Exact:          l.Exact,
		TunInfo:        l.TunInfo,
	}
}

// ServiceEntry is a service with its destinations as fetched from the
// kernel (kernel order).
type ServiceEntry struct {
	Service netlinkipvs.Service
	Dests   []netlinkipvs.Destination
}

// Snapshot is everything a full listing prints.
type Snapshot struct {
	Info     netlinkipvs.Info
	Services []ServiceEntry
}

// Service flags.
const (
	svcPersistent = 0x0001
	svcOnePacket  = 0x0004
	svcSched1     = 0x0008
	svcSched2     = 0x0010
	svcSched3     = 0x0020
)

// WriteVersionLine writes "IP Virtual Server version X.Y.Z (size=N)".
func WriteVersionLine(w io.Writer, info netlinkipvs.Info) {
	io.WriteString(w, "IP Virtual Server version "+info.Version.String()+
		" (size="+strconv.Itoa(int(int32(info.ConnTableSize)))+")\n")
}

// WriteTitle writes the column titles of format f (nothing for -S).
func WriteTitle(w io.Writer, f Format) {
	switch {
	case f.Stats:
		io.WriteString(w, padRight("Prot LocalAddress:Port", 33)+" "+padLeft("Conns", 8)+" "+
			padLeft("InPkts", 8)+" "+padLeft("OutPkts", 8)+" "+padLeft("InBytes", 8)+" "+
			padLeft("OutBytes", 8)+"\n  -> RemoteAddress:Port\n")
	case f.Rate:
		io.WriteString(w, padRight("Prot LocalAddress:Port", 33)+" "+padLeft("CPS", 8)+" "+
			padLeft("InPPS", 8)+" "+padLeft("OutPPS", 8)+" "+padLeft("InBPS", 8)+" "+
			padLeft("OutBPS", 8)+"\n  -> RemoteAddress:Port\n")
	case f.Thresholds:
		io.WriteString(w, padRight("Prot LocalAddress:Port", 33)+" "+padRight("Uthreshold", 10)+" "+
			padRight("Lthreshold", 10)+" "+padRight("ActiveConn", 10)+" "+padRight("InActConn", 10)+
			"\n  -> RemoteAddress:Port\n")
	case f.PersistentConn:
		io.WriteString(w, padRight("Prot LocalAddress:Port", 33)+" "+padRight("Weight", 9)+" "+
			padRight("PersistConn", 11)+" "+padRight("ActiveConn", 10)+" "+padRight("InActConn", 10)+
			"\n  -> RemoteAddress:Port\n")
	case f.TunInfo:
		io.WriteString(w, "Prot LocalAddress:Port Scheduler Flags\n"+
			"  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n")
	case !f.Rule:
		io.WriteString(w, "Prot LocalAddress:Port Scheduler Flags\n"+
			"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n")
	}
}

// largenum is ipvsadm's print_largenum.
func largenum(i uint64, f Format) string {
	if f.Exact {
		s := strconv.FormatUint(i, 10)
		width := 9
		if len(s) > 8 {
			width = len(s) + 1
		}
		return padLeft(s, width)
	}
	switch {
	case i < 100000000:
		return padLeft(strconv.FormatUint(i, 10), 9)
	case i < 1000000000:
		return padLeft(strconv.FormatUint(i/1000, 10), 8) + "K"
	case i < 100000000000:
		return padLeft(strconv.FormatUint(i/1000000, 10), 8) + "M"
	case i < 100000000000000:
		return padLeft(strconv.FormatUint(i/1000000000, 10), 8) + "G"
	}
	return padLeft(strconv.FormatUint(i/1000000000000, 10), 8) + "T"
}

// schedFlags is ipvsadm's print_sched_flags.
func schedFlags(s *netlinkipvs.Service) string {
	var parts []string
	fl := uint32(s.Flags)
	switch s.Scheduler {
	case "sh", "mh":
		if fl&svcSched1 != 0 {
			parts = append(parts, s.Scheduler+"-fallback")
		}
		if fl&svcSched2 != 0 {
			parts = append(parts, s.Scheduler+"-port")
		}
	default:
		if fl&svcSched1 != 0 {
			parts = append(parts, "flag-1")
		}
		if fl&svcSched2 != 0 {
			parts = append(parts, "flag-2")
		}
		if fl&svcSched3 != 0 {
			parts = append(parts, "flag-3")
		}
	}
	return strings.Join(parts, ",")
}

func protocolName(proto uint16) string {
	switch proto {
	case protoTCP:
		return "TCP"
	case protoUDP:
		return "UDP"
	case protoSCTP:
		return "SCTP"
	}
	return "?"
}

func protocolOption(proto uint16) string {
	switch proto {
	case protoTCP:
		return "-t"
	case protoUDP:
		return "-u"
	case protoSCTP:
		return "--sctp-service"
	}
	return "--xxx-service"
}

var fwdNames = [8]string{"Masq", "Local", "Tunnel", "Route", "(null)", "(null)", "(null)", "(null)"}
var fwdSwitches = [8]string{"-m", "-g", "-i", "-g", "(null)", "(null)", "(null)", "(null)"}
var tunFlagNames = [3]string{"-c", "+c", "r+c"}
var tunFlagOpts = [3]string{"--tun-nocsum", "--tun-csum", "--tun-remcsum"}

func index3(a [3]string, i uint16) string {
	if int(i) < len(a) {
		return a[i]
	}
	return "(null)"
}

// tunInfo is ipvsadm's fwd_tun_info ("" when it would be NULL).
func tunInfo(d *netlinkipvs.Destination) string {
	if d.ForwardMethod&7 != 2 {
		return ""
	}
	var s string
	switch d.TunnelType {
	case 0:
		s = "ipip"
	case 1:
		s = "gue:" + strconv.Itoa(int(d.TunnelPort)) + ":" + index3(tunFlagNames, uint16(d.TunnelFlags))
	case 2:
		s = "gre:" + index3(tunFlagNames, uint16(d.TunnelFlags))
	default:
		return ""
	}
	return cut(s, 15)
}

// serviceName is the svc_name of print_service_entry.
func serviceName(s *netlinkipvs.Service, f Format, r Resolver) string {
	if s.FWMark != 0 {
		mark := strconv.Itoa(int(int32(s.FWMark)))
		if f.Rule {
			if s.Family == afInet6 {
				return "-f " + mark + " -6"
			}
			return "-f " + mark
		}
		if s.Family == afInet6 {
			return "FWM  " + mark + " IPv6"
		}
		return "FWM  " + mark
	}
	proto := uint16(s.Protocol)
	vname := addrPortToAnyname(int(s.Family), addr16(s.Address), s.Port, proto, f.Numeric, r)
	if f.Rule {
		return protocolOption(proto) + " " + vname
	}
	name := padRight(protocolName(proto), 4) + " " + vname
	if s.Family != afInet6 {
		name = cut(name, 33)
	}
	return name
}

// ipv4Mask formats an IPv4 netmask (as a number) dotted.
func ipv4Mask(m uint32) string {
	return strconv.Itoa(int(m>>24)) + "." + strconv.Itoa(int(m>>16&0xff)) + "." +
		strconv.Itoa(int(m>>8&0xff)) + "." + strconv.Itoa(int(m&0xff))
}

// WriteService writes one service and its destinations in format f, as
// ipvsadm's print_service_entry does (destinations sorted unless NoSort).
func WriteService(w io.Writer, e ServiceEntry, f Format, r Resolver) {
	if r == nil {
		r = NoNames{}
	}
	s := &e.Service
	name := serviceName(s, f, r)
	fl := uint32(s.Flags)
	var b strings.Builder
	switch {
	case f.Rule:
		b.WriteString("-A " + name + " -s " + s.Scheduler)
		if fl&svcPersistent != 0 {
			b.WriteString(" -p " + strconv.FormatUint(uint64(s.Timeout), 10))
			if s.Family == afInet && s.Netmask != 0xffffffff {
				b.WriteString(" -M " + ipv4Mask(s.Netmask))
			}
			if s.Family == afInet6 && s.Netmask != 128 {
				b.WriteString(" -M " + strconv.Itoa(int(int32(s.Netmask))))
			}
		}
		if s.PEName != "" {
			b.WriteString(" --pe " + s.PEName)
		}
		if fl&svcOnePacket != 0 {
			b.WriteString(" -o")
		}
		if fl&(svcSched1|svcSched2|svcSched3) != 0 {
			b.WriteString(" -b " + schedFlags(s))
		}
	case f.Stats:
		st := s.Stats
		b.WriteString(padRight(name, 33) + largenum(st.Conns, f) + largenum(st.InPkts, f) +
			largenum(st.OutPkts, f) + largenum(st.InBytes, f) + largenum(st.OutBytes, f))
	case f.Rate:
		st := s.Stats
		b.WriteString(padRight(name, 33) + largenum(st.CPS, f) + largenum(st.InPPS, f) +
			largenum(st.OutPPS, f) + largenum(st.InBPS, f) + largenum(st.OutBPS, f))
	default:
		b.WriteString(name + " " + s.Scheduler)
		if fl&(svcSched1|svcSched2|svcSched3) != 0 {
			b.WriteString(" (" + schedFlags(s) + ")")
		}
		if fl&svcPersistent != 0 {
			b.WriteString(" persistent " + strconv.FormatUint(uint64(s.Timeout), 10))
			if s.Family == afInet && s.Netmask != 0xffffffff {
				b.WriteString(" mask " + ipv4Mask(s.Netmask))
			}
			if s.Family == afInet6 && s.Netmask != 128 {
				b.WriteString(" mask " + strconv.Itoa(int(int32(s.Netmask))))
			}
			if s.PEName != "" {
				b.WriteString(" pe " + s.PEName)
			}
		}
		if fl&svcOnePacket != 0 {
			b.WriteString(" ops")
		}
	}
	b.WriteString("\n")

	dests := e.Dests
	if !f.NoSort {
		dests = append([]netlinkipvs.Destination(nil), dests...)
		SortDests(dests)
	}
	proto := uint16(s.Protocol)
	if s.FWMark != 0 {
		proto = 0
	}
	for i := range dests {
		d := &dests[i]
		dname := addrPortToAnyname(int(d.Family), addr16(d.Address), d.Port, proto, f.Numeric, r)
		if !f.Rule && d.Family != afInet6 {
			dname = cut(dname, 28)
		}
		fwd := d.ForwardMethod & 7
		// ipvsadm decodes destination STATS64 with 32-bit getters: all
		// but the byte counters lose their upper half.
		st := d.Stats
		lo := func(v uint64) uint64 { return uint64(uint32(v)) }
		switch {
		case f.Rule:
			line := "-a " + name + " -r " + dname + " " + fwdSwitches[fwd] + " -w " + strconv.Itoa(int(int32(d.Weight)))
			if fwd == 2 {
				switch d.TunnelType {
				case 2:
					line += " --tun-type gre " + index3(tunFlagOpts, uint16(d.TunnelFlags))
				case 1:
					line += " --tun-type gue --tun-port " + strconv.Itoa(int(d.TunnelPort)) + " " + index3(tunFlagOpts, uint16(d.TunnelFlags))
				case 0:
					line += " --tun-type ipip"
				}
			}
			b.WriteString(line + "\n")
		case f.Stats:
			b.WriteString("  -> " + padRight(dname, 28) + largenum(lo(st.Conns), f) + largenum(lo(st.InPkts), f) +
				largenum(lo(st.OutPkts), f) + largenum(st.InBytes, f) + largenum(st.OutBytes, f) + "\n")
		case f.Rate:
			b.WriteString("  -> " + padRight(dname, 28) + " " + padLeft(strconv.FormatUint(lo(st.CPS), 10), 8) +
				" " + padLeft(strconv.FormatUint(lo(st.InPPS), 10), 8) + " " + padLeft(strconv.FormatUint(lo(st.OutPPS), 10), 8) +
				largenum(lo(st.InBPS), f) + largenum(lo(st.OutBPS), f) + "\n")
		case f.Thresholds:
			b.WriteString("  -> " + padRight(dname, 28) + " " + padRight(u(d.UpperThreshold), 10) + " " +
				padRight(u(d.LowerThreshold), 10) + " " + padRight(u(d.ActiveConns), 10) + " " +
				padRight(u(d.InactiveConns), 10) + "\n")
		case f.PersistentConn:
			b.WriteString("  -> " + padRight(dname, 28) + " " + padRight(u(d.Weight), 9) + " " +
				padRight(u(d.PersistConns), 11) + " " + padRight(u(d.ActiveConns), 10) + " " +
				padRight(u(d.InactiveConns), 10) + "\n")
		case f.TunInfo:
			ti := tunInfo(d)
			if ti == "" {
				ti = "n/a"
			}
			b.WriteString("  -> " + padRight(dname, 28) + " " + padRight(fwdNames[fwd], 7) + " " +
				padRight(ti, 13) + " " + padRight(strconv.Itoa(int(int32(d.Weight))), 6) + " " +
				padRight(u(d.ActiveConns), 10) + " " + padRight(u(d.InactiveConns), 10) + "\n")
		default:
			b.WriteString("  -> " + padRight(dname, 28) + " " + padRight(fwdNames[fwd], 7) + " " +
				padRight(strconv.Itoa(int(int32(d.Weight))), 6) + " " +
				padRight(u(d.ActiveConns), 10) + " " + padRight(u(d.InactiveConns), 10) + "\n")
		}
	}
	io.WriteString(w, b.String())
}

func u(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

// WriteListing writes a complete -L/-S listing of snap: the version line
// (not for -S), the titles and every service, sorted unless NoSort.
func WriteListing(w io.Writer, snap Snapshot, f Format, r Resolver) {
	if !f.Rule {
		WriteVersionLine(w, snap.Info)
	}
	entries := snap.Services
	if !f.NoSort {
		entries = SortEntries(entries)
	}
	WriteTitle(w, f)
	for _, e := range entries {
		WriteService(w, e, f, r)
	}
}

// SortEntries returns the entries sorted by service as ipvsadm sorts them.
func SortEntries(entries []ServiceEntry) []ServiceEntry {
	out := append([]ServiceEntry(nil), entries...)
	msort(out, func(a, b *ServiceEntry) int32 { return CompareServices(&a.Service, &b.Service) })
	return out
}

// WriteTimeouts writes the -L --timeout line.
func WriteTimeouts(w io.Writer, t netlinkipvs.Timeouts) {
	io.WriteString(w, "Timeout (tcp tcpfin udp): "+strconv.Itoa(int(int32(t.TCP)))+" "+
		strconv.Itoa(int(int32(t.TCPFin)))+" "+strconv.Itoa(int(int32(t.UDP)))+"\n")
}

// WriteDaemons writes the -L --daemon lines. ipvsadm keeps at most two
// daemons: the first reply in slot 0, every later one in slot 1.
func WriteDaemons(w io.Writer, ds []netlinkipvs.Daemon) {
	var slots [2]*netlinkipvs.Daemon
	for i := range ds {
		if slots[0] != nil && slots[0].State != 0 {
			slots[1] = &ds[i]
		} else {
			slots[0] = &ds[i]
		}
	}
	for _, d := range slots {
		if d == nil {
			continue
		}
		var typ string
		switch {
		case d.State&1 != 0:
			typ = "master"
		case d.State&2 != 0:
			typ = "backup"
		default:
			continue
		}
		line := typ + " sync daemon (mcast=" + cut(d.Interface, 15) + ", syncid=" + strconv.Itoa(int(int32(d.SyncID)))
		if d.SyncMaxLen != 0 {
			line += ", maxlen=" + strconv.Itoa(int(d.SyncMaxLen))
		}
		if d.Group.IsValid() {
			var g string
			if d.Group.Is4() {
				g, _ = InetNtop(afInet, addr16(d.Group))
			} else {
				g = inetNtop6(d.Group.As16())
			}
			line += ", group=" + g
		}
		if d.Port != 0 {
			line += ", port=" + strconv.Itoa(int(d.Port))
		}
		if d.TTL != 0 {
			line += ", ttl=" + strconv.Itoa(int(d.TTL))
		}
		io.WriteString(w, line+")\n")
	}
}
