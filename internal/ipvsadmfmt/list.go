package ipvsadmfmt

import (
	"io"
	"strconv"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/ipvsadmargs"
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
	Service ipvs.Service
	Dests   []ipvs.Destination
}

// Snapshot is everything a full listing prints.
type Snapshot struct {
	Info     ipvs.Info
	Services []ServiceEntry
}

// WriteVersionLine writes "IP Virtual Server version X.Y.Z (size=N)".
func WriteVersionLine(w io.Writer, info ipvs.Info) {
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

// protocolName is the vocabulary's name of a service protocol, "?" for
// any other.
func protocolName(proto ipvs.Protocol) string {
	switch proto {
	case ipvs.ProtoTCP, ipvs.ProtoUDP, ipvs.ProtoSCTP:
		return proto.String()
	}
	return "?"
}

func protocolOption(proto ipvs.Protocol) string {
	switch proto {
	case ipvs.ProtoTCP:
		return "-t"
	case ipvs.ProtoUDP:
		return "-u"
	case ipvs.ProtoSCTP:
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
func tunInfo(d *ipvs.Destination) string {
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

// WriteService writes one service and its destinations in format f, as
// ipvsadm's print_service_entry does (destinations sorted unless NoSort).
func WriteService(w io.Writer, e ServiceEntry, f Format, r Resolver) {
	var sc Scratch
	w.Write(AppendService(nil, &e, f, r, &sc))
}

// Scratch holds buffers AppendService reuses between calls; the zero value
// is ready to use. It is not safe for concurrent use.
type Scratch struct {
	idx     []int32
	sortTmp []int32
	name    []byte
	tmp     []byte
}

// AppendService appends the lines of one service and its destinations in
// format f to dst, as ipvsadm's print_service_entry prints them
// (destinations sorted unless f.NoSort; e.Dests is not modified). It
// allocates nothing per destination for numeric formats.
func AppendService(dst []byte, e *ServiceEntry, f Format, r Resolver, sc *Scratch) []byte {
	if r == nil {
		r = NoNames{}
	}
	s := &e.Service
	sc.name = appendServiceName(sc.name[:0], s, f, r)
	name := sc.name
	fl := s.Flags
	switch {
	case f.Rule:
		dst = append(dst, "-A "...)
		dst = append(dst, name...)
		dst = append(dst, " -s "...)
		dst = append(dst, s.Scheduler...)
		if fl&ipvs.SvcPersistent != 0 {
			dst = appendPersistence(dst, s, " -p ", " -M ")
		}
		if s.PEName != "" {
			dst = append(dst, " --pe "...)
			dst = append(dst, s.PEName...)
		}
		if fl&ipvs.SvcOnePacket != 0 {
			dst = append(dst, " -o"...)
		}
		if fl&(ipvs.SvcSched1|ipvs.SvcSched2|ipvs.SvcSched3) != 0 {
			dst = append(dst, " -b "...)
			dst = appendSchedFlags(dst, s)
		}
	case f.Stats:
		st := &s.Stats
		dst = appendPadRight(dst, name, 33)
		dst = appendLargenums(dst, f, st.Conns, st.InPkts, st.OutPkts, st.InBytes, st.OutBytes)
	case f.Rate:
		st := &s.Stats
		dst = appendPadRight(dst, name, 33)
		dst = appendLargenums(dst, f, st.CPS, st.InPPS, st.OutPPS, st.InBPS, st.OutBPS)
	default:
		dst = append(dst, name...)
		dst = append(dst, ' ')
		dst = append(dst, s.Scheduler...)
		if fl&(ipvs.SvcSched1|ipvs.SvcSched2|ipvs.SvcSched3) != 0 {
			dst = append(dst, " ("...)
			dst = appendSchedFlags(dst, s)
			dst = append(dst, ')')
		}
		if fl&ipvs.SvcPersistent != 0 {
			dst = appendPersistence(dst, s, " persistent ", " mask ")
			if s.PEName != "" {
				dst = append(dst, " pe "...)
				dst = append(dst, s.PEName...)
			}
		}
		if fl&ipvs.SvcOnePacket != 0 {
			dst = append(dst, " ops"...)
		}
	}
	dst = append(dst, '\n')

	dests := e.Dests
	// Sort indexes, not the (large) destinations.
	sc.idx = sc.idx[:0]
	for i := range dests {
		sc.idx = append(sc.idx, int32(i))
	}
	if !f.NoSort && len(dests) > 1 {
		if cap(sc.sortTmp) < len(dests) {
			sc.sortTmp = make([]int32, len(dests))
		}
		msortRec(sc.idx, sc.sortTmp[:len(dests)], func(x, y *int32) int32 { return CompareDests(&dests[*x], &dests[*y]) })
	}
	proto := s.Protocol
	if s.FWMark != 0 {
		proto = 0
	}
	for _, i := range sc.idx {
		dst = appendDest(dst, name, &dests[i], proto, f, r, sc)
	}
	return dst
}

// appendPersistence appends a persistent service's timeout after
// timeoutWord and, when it covers less than a whole address, its netmask
// after maskWord.
func appendPersistence(dst []byte, s *ipvs.Service, timeoutWord, maskWord string) []byte {
	dst = append(dst, timeoutWord...)
	dst = strconv.AppendUint(dst, uint64(s.Timeout), 10)
	if s.Family == ipvs.AFInet && s.Netmask != 0xffffffff {
		dst = append(dst, maskWord...)
		dst = appendIPv4Mask(dst, s.Netmask)
	}
	if s.Family == ipvs.AFInet6 && s.Netmask != 128 {
		dst = append(dst, maskWord...)
		dst = strconv.AppendInt(dst, int64(int32(s.Netmask)), 10)
	}
	return dst
}

// appendLargenums appends each of vs with appendLargenum.
func appendLargenums(dst []byte, f Format, vs ...uint64) []byte {
	for _, v := range vs {
		dst = appendLargenum(dst, v, f)
	}
	return dst
}

// appendUintCol appends a blank and v as C's %-Nu.
func appendUintCol(dst []byte, v uint64, n int) []byte {
	return appendUintRight(append(dst, ' '), v, n)
}

// appendConnCols appends the ActiveConn and InActConn columns.
func appendConnCols(dst []byte, d *ipvs.Destination) []byte {
	dst = appendUintCol(dst, uint64(d.ActiveConns), 10)
	return appendUintCol(dst, uint64(d.InactiveConns), 10)
}

// appendDest appends one destination row of format f.
func appendDest(dst, name []byte, d *ipvs.Destination, proto ipvs.Protocol, f Format, r Resolver, sc *Scratch) []byte {
	sc.tmp = appendAddrPortName(sc.tmp[:0], d.Family, addr16(d.Address), d.Port, proto, f.Numeric, r)
	dname := sc.tmp
	if !f.Rule && d.Family != ipvs.AFInet6 && len(dname) > 28 {
		dname = dname[:28]
	}
	fwd := d.ForwardMethod & 7
	// ipvsadm decodes destination STATS64 with 32-bit getters: all but
	// the byte counters lose their upper half.
	st := &d.Stats
	lo := func(v uint64) uint64 { return uint64(uint32(v)) }
	if f.Rule {
		dst = append(dst, "-a "...)
		dst = append(dst, name...)
		dst = append(dst, " -r "...)
		dst = append(dst, dname...)
		dst = append(dst, ' ')
		dst = append(dst, fwdSwitches[fwd]...)
		dst = append(dst, " -w "...)
		dst = strconv.AppendInt(dst, int64(int32(d.Weight)), 10)
		if fwd == 2 {
			switch d.TunnelType {
			case 2:
				dst = append(dst, " --tun-type gre "...)
				dst = append(dst, index3(tunFlagOpts, uint16(d.TunnelFlags))...)
			case 1:
				dst = append(dst, " --tun-type gue --tun-port "...)
				dst = strconv.AppendInt(dst, int64(d.TunnelPort), 10)
				dst = append(dst, ' ')
				dst = append(dst, index3(tunFlagOpts, uint16(d.TunnelFlags))...)
			case 0:
				dst = append(dst, " --tun-type ipip"...)
			}
		}
		return append(dst, '\n')
	}
	dst = append(dst, "  -> "...)
	dst = appendPadRight(dst, dname, 28)
	switch {
	case f.Stats:
		dst = appendLargenums(dst, f, lo(st.Conns), lo(st.InPkts), lo(st.OutPkts), st.InBytes, st.OutBytes)
	case f.Rate:
		dst = append(dst, ' ')
		dst = appendUintLeft(dst, lo(st.CPS), 8)
		dst = append(dst, ' ')
		dst = appendUintLeft(dst, lo(st.InPPS), 8)
		dst = append(dst, ' ')
		dst = appendUintLeft(dst, lo(st.OutPPS), 8)
		dst = appendLargenum(dst, lo(st.InBPS), f)
		dst = appendLargenum(dst, lo(st.OutBPS), f)
	case f.Thresholds:
		dst = appendUintCol(dst, uint64(d.UpperThreshold), 10)
		dst = appendUintCol(dst, uint64(d.LowerThreshold), 10)
		dst = appendConnCols(dst, d)
	case f.PersistentConn:
		dst = appendUintCol(dst, uint64(d.Weight), 9)
		dst = appendUintCol(dst, uint64(d.PersistConns), 11)
		dst = appendConnCols(dst, d)
	default: // with f.TunInfo, a TunnelInfo column after Forward
		dst = append(dst, ' ')
		dst = appendPadRight(dst, fwdNames[fwd], 7)
		if f.TunInfo {
			ti := tunInfo(d)
			if ti == "" {
				ti = "n/a"
			}
			dst = append(dst, ' ')
			dst = appendPadRight(dst, ti, 13)
		}
		dst = append(dst, ' ')
		dst = appendIntRight(dst, int64(int32(d.Weight)), 6)
		dst = appendConnCols(dst, d)
	}
	return append(dst, '\n')
}

// SortEntries returns the entries sorted by service as ipvsadm sorts them.
func SortEntries(entries []ServiceEntry) []ServiceEntry {
	out := append([]ServiceEntry(nil), entries...)
	msort(out, func(a, b *ServiceEntry) int32 { return CompareServices(&a.Service, &b.Service) })
	return out
}

// WriteTimeouts writes the -L --timeout line.
func WriteTimeouts(w io.Writer, t ipvs.Timeouts) {
	io.WriteString(w, "Timeout (tcp tcpfin udp): "+strconv.Itoa(int(int32(t.TCP)))+" "+
		strconv.Itoa(int(int32(t.TCPFin)))+" "+strconv.Itoa(int(int32(t.UDP)))+"\n")
}

// WriteDaemons writes the -L --daemon lines. ipvsadm keeps at most two
// daemons: the first reply in slot 0, every later one in slot 1.
func WriteDaemons(w io.Writer, ds []ipvs.Daemon) {
	var slots [2]*ipvs.Daemon
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
				g, _ = InetNtop(ipvs.AFInet, addr16(d.Group))
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
