package ipvsadmfmt

import (
	"strconv"

	"github.com/ipvs-tools/ipvs"
)

// The append helpers below produce the same bytes as the string helpers
// (padRight, addrPortToAnyname, and the test oracles largenum and
// serviceName of original_test.go) without allocating, for listings of
// many rows.

const blanks = "                                                                "

// appendBlanks appends n blanks.
func appendBlanks(dst []byte, n int) []byte {
	for n > len(blanks) {
		dst = append(dst, blanks...)
		n -= len(blanks)
	}
	if n > 0 {
		dst = append(dst, blanks[:n]...)
	}
	return dst
}

// appendPadRight appends s padded with blanks to n bytes (C's %-Ns).
func appendPadRight[S string | []byte](dst []byte, s S, n int) []byte {
	dst = append(dst, s...)
	return appendBlanks(dst, n-len(s))
}

// appendUintRight is C's %-Nu.
func appendUintRight(dst []byte, v uint64, n int) []byte {
	start := len(dst)
	dst = strconv.AppendUint(dst, v, 10)
	return appendBlanks(dst, n-(len(dst)-start))
}

// appendIntRight is C's %-Nd.
func appendIntRight(dst []byte, v int64, n int) []byte {
	start := len(dst)
	dst = strconv.AppendInt(dst, v, 10)
	return appendBlanks(dst, n-(len(dst)-start))
}

// appendUintLeft is C's %Nu.
func appendUintLeft(dst []byte, v uint64, n int) []byte {
	var b [20]byte
	d := strconv.AppendUint(b[:0], v, 10)
	dst = appendBlanks(dst, n-len(d))
	return append(dst, d...)
}

// appendLargenum is ipvsadm's print_largenum (see largenum).
func appendLargenum(dst []byte, i uint64, f Format) []byte {
	if f.Exact {
		var b [20]byte
		d := strconv.AppendUint(b[:0], i, 10)
		width := 9
		if len(d) > 8 {
			width = len(d) + 1
		}
		dst = appendBlanks(dst, width-len(d))
		return append(dst, d...)
	}
	switch {
	case i < 100000000:
		return appendUintLeft(dst, i, 9)
	case i < 1000000000:
		return append(appendUintLeft(dst, i/1000, 8), 'K')
	case i < 100000000000:
		return append(appendUintLeft(dst, i/1000000, 8), 'M')
	case i < 100000000000000:
		return append(appendUintLeft(dst, i/1000000000, 8), 'G')
	}
	return append(appendUintLeft(dst, i/1000000000000, 8), 'T')
}

// appendIPv4Mask appends an IPv4 netmask (as a number) dotted.
func appendIPv4Mask(dst []byte, m uint32) []byte {
	dst = strconv.AppendUint(dst, uint64(m>>24), 10)
	dst = append(dst, '.')
	dst = strconv.AppendUint(dst, uint64(m>>16&0xff), 10)
	dst = append(dst, '.')
	dst = strconv.AppendUint(dst, uint64(m>>8&0xff), 10)
	dst = append(dst, '.')
	return strconv.AppendUint(dst, uint64(m&0xff), 10)
}

// appendSchedFlags is ipvsadm's print_sched_flags.
func appendSchedFlags(dst []byte, s *ipvs.Service) []byte {
	fl := s.Flags
	n := 0
	add := func(parts ...string) {
		if n > 0 {
			dst = append(dst, ',')
		}
		for _, p := range parts {
			dst = append(dst, p...)
		}
		n++
	}
	switch s.Scheduler {
	case "sh", "mh":
		if fl&ipvs.SvcSched1 != 0 {
			add(s.Scheduler, "-fallback")
		}
		if fl&ipvs.SvcSched2 != 0 {
			add(s.Scheduler, "-port")
		}
	default:
		if fl&ipvs.SvcSched1 != 0 {
			add("flag-1")
		}
		if fl&ipvs.SvcSched2 != 0 {
			add("flag-2")
		}
		if fl&ipvs.SvcSched3 != 0 {
			add("flag-3")
		}
	}
	return dst
}

// appendServiceName is serviceName appended to dst.
func appendServiceName(dst []byte, s *ipvs.Service, f Format, r Resolver) []byte {
	if s.FWMark != 0 {
		if f.Rule {
			dst = append(dst, "-f "...)
		} else {
			dst = append(dst, "FWM  "...)
		}
		dst = strconv.AppendInt(dst, int64(int32(s.FWMark)), 10)
		if s.Family == ipvs.AFInet6 {
			if f.Rule {
				dst = append(dst, " -6"...)
			} else {
				dst = append(dst, " IPv6"...)
			}
		}
		return dst
	}
	proto := s.Protocol
	start := len(dst)
	if f.Rule {
		dst = append(dst, protocolOption(proto)...)
		dst = append(dst, ' ')
	} else {
		dst = appendPadRight(dst, protocolName(proto), 4)
		dst = append(dst, ' ')
	}
	dst = appendAddrPortName(dst, s.Family, addr16(s.Address), s.Port, proto, f.Numeric, r)
	if !f.Rule && s.Family != ipvs.AFInet6 && len(dst)-start > 33 {
		dst = dst[:start+33]
	}
	return dst
}

// appendInetNtop appends InetNtop's text, or "(null)" for other families.
func appendInetNtop(dst []byte, af ipvs.AddressFamily, b [16]byte) []byte {
	switch af {
	case ipvs.AFInet:
		for i := 0; i < 4; i++ {
			if i > 0 {
				dst = append(dst, '.')
			}
			dst = strconv.AppendUint(dst, uint64(b[i]), 10)
		}
		return dst
	case ipvs.AFInet6:
		return append(dst, inetNtop6(b)...)
	}
	return append(dst, "(null)"...)
}

// appendAddrPortName is addrPortToAnyname appended to dst.
func appendAddrPortName(dst []byte, af ipvs.AddressFamily, b [16]byte, port uint16, proto ipvs.Protocol, numeric bool, r Resolver) []byte {
	if !numeric {
		return append(dst, addrPortToAnyname(af, b, port, proto, numeric, r)...)
	}
	start := len(dst)
	if af != ipvs.AFInet {
		dst = append(dst, '[')
	}
	dst = appendInetNtop(dst, af, b)
	if af != ipvs.AFInet {
		dst = append(dst, ']')
	}
	dst = append(dst, ':')
	dst = strconv.AppendUint(dst, uint64(port), 10)
	if len(dst)-start > 59 {
		dst = dst[:start+59]
	}
	return dst
}
