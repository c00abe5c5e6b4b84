package ipvsadmfmt

import (
	"io"
	"strconv"
	"strings"

	"github.com/ipvs-tools/ipvs"
)

// This is the string-building WriteService that AppendService replaced,
// kept as the oracle of TestAppendServiceMatchesOriginal, with the string
// formatters it uses (the append* functions are production's).

// originalWriteService writes one service and its destinations in format f, as
// ipvsadm's print_service_entry does (destinations sorted unless NoSort).
func originalWriteService(w io.Writer, e ServiceEntry, f Format, r Resolver) {
	if r == nil {
		r = NoNames{}
	}
	s := &e.Service
	name := serviceName(s, f, r)
	fl := s.Flags
	var b strings.Builder
	switch {
	case f.Rule:
		b.WriteString("-A " + name + " -s " + s.Scheduler)
		if fl&ipvs.SvcPersistent != 0 {
			b.WriteString(" -p " + strconv.FormatUint(uint64(s.Timeout), 10))
			if s.Family == ipvs.AFInet && s.Netmask != 0xffffffff {
				b.WriteString(" -M " + ipv4Mask(s.Netmask))
			}
			if s.Family == ipvs.AFInet6 && s.Netmask != 128 {
				b.WriteString(" -M " + strconv.Itoa(int(int32(s.Netmask))))
			}
		}
		if s.PEName != "" {
			b.WriteString(" --pe " + s.PEName)
		}
		if fl&ipvs.SvcOnePacket != 0 {
			b.WriteString(" -o")
		}
		if fl&(ipvs.SvcSched1|ipvs.SvcSched2|ipvs.SvcSched3) != 0 {
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
		if fl&(ipvs.SvcSched1|ipvs.SvcSched2|ipvs.SvcSched3) != 0 {
			b.WriteString(" (" + schedFlags(s) + ")")
		}
		if fl&ipvs.SvcPersistent != 0 {
			b.WriteString(" persistent " + strconv.FormatUint(uint64(s.Timeout), 10))
			if s.Family == ipvs.AFInet && s.Netmask != 0xffffffff {
				b.WriteString(" mask " + ipv4Mask(s.Netmask))
			}
			if s.Family == ipvs.AFInet6 && s.Netmask != 128 {
				b.WriteString(" mask " + strconv.Itoa(int(int32(s.Netmask))))
			}
			if s.PEName != "" {
				b.WriteString(" pe " + s.PEName)
			}
		}
		if fl&ipvs.SvcOnePacket != 0 {
			b.WriteString(" ops")
		}
	}
	b.WriteString("\n")

	dests := e.Dests
	if !f.NoSort {
		dests = append([]ipvs.Destination(nil), dests...)
		SortDests(dests)
	}
	proto := s.Protocol
	if s.FWMark != 0 {
		proto = 0
	}
	for i := range dests {
		d := &dests[i]
		dname := addrPortToAnyname(d.Family, addr16(d.Address), d.Port, proto, f.Numeric, r)
		if !f.Rule && d.Family != ipvs.AFInet6 {
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
func schedFlags(s *ipvs.Service) string {
	var parts []string
	fl := s.Flags
	switch s.Scheduler {
	case "sh", "mh":
		if fl&ipvs.SvcSched1 != 0 {
			parts = append(parts, s.Scheduler+"-fallback")
		}
		if fl&ipvs.SvcSched2 != 0 {
			parts = append(parts, s.Scheduler+"-port")
		}
	default:
		if fl&ipvs.SvcSched1 != 0 {
			parts = append(parts, "flag-1")
		}
		if fl&ipvs.SvcSched2 != 0 {
			parts = append(parts, "flag-2")
		}
		if fl&ipvs.SvcSched3 != 0 {
			parts = append(parts, "flag-3")
		}
	}
	return strings.Join(parts, ",")
}

// serviceName is the svc_name of print_service_entry.
func serviceName(s *ipvs.Service, f Format, r Resolver) string {
	if s.FWMark != 0 {
		mark := strconv.Itoa(int(int32(s.FWMark)))
		if f.Rule {
			if s.Family == ipvs.AFInet6 {
				return "-f " + mark + " -6"
			}
			return "-f " + mark
		}
		if s.Family == ipvs.AFInet6 {
			return "FWM  " + mark + " IPv6"
		}
		return "FWM  " + mark
	}
	proto := s.Protocol
	vname := addrPortToAnyname(s.Family, addr16(s.Address), s.Port, proto, f.Numeric, r)
	if f.Rule {
		return protocolOption(proto) + " " + vname
	}
	name := padRight(protocolName(proto), 4) + " " + vname
	if s.Family != ipvs.AFInet6 {
		name = cut(name, 33)
	}
	return name
}

// ipv4Mask formats an IPv4 netmask (as a number) dotted.
func ipv4Mask(m uint32) string {
	return strconv.Itoa(int(m>>24)) + "." + strconv.Itoa(int(m>>16&0xff)) + "." +
		strconv.Itoa(int(m>>8&0xff)) + "." + strconv.Itoa(int(m&0xff))
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
