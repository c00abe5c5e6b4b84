// Package ipvsadmfmt formats every output of ipvsadm 1.31 byte for byte:
// the version line, listing titles, service and destination rows of every
// listing format, save (-S) lines, timeouts, sync daemons, the connection
// table (-Lc), help and version texts.
//
// Formatting works on snapshots fetched beforehand and never talks to the
// kernel; host and port names come from an injected Resolver. Sorting
// reproduces glibc 2.36's qsort (a top-down merge sort) with ipvsadm's
// overflowing comparators, so even non-transitive orders come out the same.
package ipvsadmfmt

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/ipvsadmargs"
)

// Resolver supplies name lookups for listings without -n.
type Resolver interface {
	// HostByAddr returns the official name of a host, as gethostbyaddr(3)
	// would (h_name); ok is false when the address has no name.
	HostByAddr(addr netip.Addr) (name string, ok bool)
	// ServByPort returns the official name of port for protocol "tcp",
	// "udp" or "sctp", as getservbyport(3) would.
	ServByPort(port uint16, proto string) (name string, ok bool)
}

// NoNames is a Resolver that knows no names.
type NoNames struct{}

// HostByAddr implements Resolver.
func (NoNames) HostByAddr(netip.Addr) (string, bool) { return "", false }

// ServByPort implements Resolver.
func (NoNames) ServByPort(uint16, string) (string, bool) { return "", false }

// addr16 returns the 16 bytes of ipvsadm's union nf_inet_addr for a (IPv4
// in the first four bytes).
func addr16(a netip.Addr) [16]byte {
	var b [16]byte
	switch {
	case a.Is4():
		v := a.As4()
		copy(b[:], v[:])
	case a.IsValid():
		b = a.As16()
	}
	return b
}

// InetNtop is glibc's inet_ntop for af AF_INET (2) or AF_INET6 (10) on the
// 16-byte address b; ok is false for other families.
func InetNtop(af ipvs.AddressFamily, b [16]byte) (string, bool) {
	switch af {
	case ipvs.AFInet:
		return strconv.Itoa(int(b[0])) + "." + strconv.Itoa(int(b[1])) + "." +
			strconv.Itoa(int(b[2])) + "." + strconv.Itoa(int(b[3])), true
	case ipvs.AFInet6:
		return inetNtop6(b), true
	}
	return "", false
}

// inetNtop6 formats an IPv6 address as glibc does: the longest run (the
// first of equal runs) of two or more zero words becomes "::", and the
// IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d) forms keep a
// dotted tail.
func inetNtop6(b [16]byte) string {
	var words [8]int
	for i := range words {
		words[i] = int(b[2*i])<<8 | int(b[2*i+1])
	}
	bestBase, bestLen := -1, 0
	curBase, curLen := -1, 0
	for i := 0; i < 8; i++ {
		if words[i] == 0 {
			if curBase == -1 {
				curBase, curLen = i, 1
			} else {
				curLen++
			}
		} else if curBase != -1 {
			if bestBase == -1 || curLen > bestLen {
				bestBase, bestLen = curBase, curLen
			}
			curBase = -1
		}
	}
	if curBase != -1 && (bestBase == -1 || curLen > bestLen) {
		bestBase, bestLen = curBase, curLen
	}
	if bestBase != -1 && bestLen < 2 {
		bestBase = -1
	}
	var sb strings.Builder
	for i := 0; i < 8; i++ {
		if bestBase != -1 && i >= bestBase && i < bestBase+bestLen {
			if i == bestBase {
				sb.WriteByte(':')
			}
			continue
		}
		if i != 0 {
			sb.WriteByte(':')
		}
		if i == 6 && bestBase == 0 && (bestLen == 6 || (bestLen == 5 && words[5] == 0xffff)) {
			sb.WriteString(strconv.Itoa(int(b[12])) + "." + strconv.Itoa(int(b[13])) + "." +
				strconv.Itoa(int(b[14])) + "." + strconv.Itoa(int(b[15])))
			break
		}
		sb.WriteString(strconv.FormatInt(int64(words[i]), 16))
	}
	if bestBase != -1 && bestBase+bestLen == 8 {
		sb.WriteByte(':')
	}
	return sb.String()
}

// addrFromBytes converts ipvsadm's union to a netip.Addr for lookups.
func addrFromBytes(af ipvs.AddressFamily, b [16]byte) netip.Addr {
	if af == ipvs.AFInet {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(b)
}

// addrToAnyname is ipvsadm's addr_to_anyname.
func addrToAnyname(af ipvs.AddressFamily, b [16]byte, r Resolver) string {
	if af == ipvs.AFInet || af == ipvs.AFInet6 {
		if name, ok := r.HostByAddr(addrFromBytes(af, b)); ok {
			return name
		}
	}
	s, ok := InetNtop(af, b)
	if !ok {
		return "(null)"
	}
	return s
}

// portToAnyname is ipvsadm's port_to_anyname.
func portToAnyname(port uint16, proto ipvs.Protocol, r Resolver) string {
	if p := ipvsadmargs.ServProto(proto); p != "" {
		if name, ok := r.ServByPort(port, p); ok {
			return name
		}
	}
	return strconv.Itoa(int(port))
}

// addrPortToAnyname is ipvsadm's addrport_to_anyname: "a.b.c.d:port" or
// "[v6]:port", names unless numeric, cut to 59 bytes (a 60-byte buffer).
func addrPortToAnyname(af ipvs.AddressFamily, b [16]byte, port uint16, proto ipvs.Protocol, numeric bool, r Resolver) string {
	open, close := "[", "]"
	if af == ipvs.AFInet {
		open, close = "", ""
	}
	var s string
	if numeric {
		a, ok := InetNtop(af, b)
		if !ok {
			a = "(null)"
		}
		s = open + a + close + ":" + strconv.Itoa(int(port))
	} else {
		s = open + addrToAnyname(af, b, r) + close + ":" + portToAnyname(port, proto, r)
	}
	return cut(s, 59)
}

// cut returns at most n bytes of s.
func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// padRight pads s with blanks to n bytes (C's %-Ns).
func padRight(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}

// padLeft pads s with blanks on the left to n bytes (C's %Ns).
func padLeft(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return strings.Repeat(" ", n-len(s)) + s
}
