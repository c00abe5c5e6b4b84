package ipvsadmargs

import (
	"fmt"
	"math"
	"net/netip"
	"strings"

	"github.com/ipvs-tools/ipvs"
)

func sprintf(format string, a ...any) string {
	if len(a) == 0 {
		return format
	}
	return fmt.Sprintf(format, a...)
}

// IsCSpace is C's isspace in the "C" locale.
func IsCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Strtol emulates glibc's strtol(s, &end, base) for base 10 or 16 on a
// 64-bit long: it returns the value (saturated on overflow), the index of
// the first unparsed byte (0 when no digits were found) and whether the
// value overflowed (ERANGE). sscanf's %d converts the same way.
func Strtol[S ~string | ~[]byte](s S, base int) (val int64, end int, erange bool) {
	u, neg, end, over := scanNumber(s, base)
	if end == 0 {
		return 0, 0, false
	}
	if neg {
		if over || u > 1<<63 {
			return math.MinInt64, end, true
		}
		return -int64(u), end, false
	}
	if over || u > math.MaxInt64 {
		return math.MaxInt64, end, true
	}
	return int64(u), end, false
}

// Strtoul emulates glibc's strtoul(s, &end, base) (base 0, 10 or 16) on a
// 64-bit unsigned long, including the negation of a leading '-' (but not
// of an overflowed value, which is ULONG_MAX). sscanf's %X converts the
// same way.
func Strtoul[S ~string | ~[]byte](s S, base int) (val uint64, end int, erange bool) {
	u, neg, end, over := scanNumber(s, base)
	if end == 0 {
		return 0, 0, false
	}
	if over {
		return math.MaxUint64, end, true
	}
	if neg {
		u = -u
	}
	return u, end, false
}

// scanNumber is what Strtol and Strtoul share: leading white space, a
// sign, a "0x" prefix (base 16, or base 0, which also takes a leading 0
// for octal), then digits. It returns their magnitude (exact unless over
// says it overflowed 64 bits), the sign, and the index of the first
// unparsed byte, 0 when there were no digits.
func scanNumber[S ~string | ~[]byte](s S, base int) (u uint64, neg bool, end int, over bool) {
	i := 0
	for i < len(s) && IsCSpace(s[i]) {
		i++
	}
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if (base == 0 || base == 16) && i+1 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && i+2 < len(s) && hexVal(s[i+2]) >= 0 {
		i += 2
		base = 16
	} else if base == 0 {
		if i < len(s) && s[i] == '0' {
			base = 8
		} else {
			base = 10
		}
	}
	start := i
	for i < len(s) {
		d := digitVal(s[i], base)
		if d < 0 {
			break
		}
		if u > (math.MaxUint64-uint64(d))/uint64(base) {
			over = true
		} else {
			u = u*uint64(base) + uint64(d)
		}
		i++
	}
	if i == start {
		return 0, false, 0, false
	}
	return u, neg, i, over
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func digitVal(c byte, base int) int {
	d := hexVal(c)
	if d < 0 || d >= base {
		return -1
	}
	return d
}

// stringToNumber is ipvsadm's string_to_number: the whole string must be a
// base-10 long within [min, max]; -1 otherwise.
func stringToNumber(s string, min, max int64) int64 {
	n, end, erange := Strtol(s, 10)
	if end == len(s) && end != 0 && !erange && min <= n && n <= max {
		return n
	}
	return -1
}

// atoi emulates atoi(3): strtol without error checks, truncated to int.
func atoi(s string) int32 {
	n, _, _ := Strtol(s, 10)
	return int32(n)
}

// strIsDigit is ipvsadm's str_is_digit: true for "" and all-digit strings.
func strIsDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// inetAton emulates glibc's inet_aton: the forms a, a.b, a.b.c and a.b.c.d
// with each part in C notation (0x hex, leading 0 octal), trailing
// whitespace allowed. It returns the address in network byte order.
func inetAton(s string) ([4]byte, bool) {
	var parts [3]uint32
	n := 0
	i := 0
	var val uint64
	for {
		if i >= len(s) || !isDigit(s[i]) {
			return [4]byte{}, false
		}
		v, end, erange := Strtoul(s[i:], 0)
		if erange || v > 0xffffffff {
			return [4]byte{}, false
		}
		val = v
		i += end
		if i < len(s) && s[i] == '.' {
			if n > 2 || val > 0xff {
				return [4]byte{}, false
			}
			parts[n] = uint32(val)
			n++
			i++
			continue
		}
		break
	}
	if i < len(s) && !IsCSpace(s[i]) {
		return [4]byte{}, false
	}
	max := [4]uint64{0xffffffff, 0xffffff, 0xffff, 0xff}
	if val > max[n] {
		return [4]byte{}, false
	}
	w := uint32(val)
	for k := 0; k < n; k++ {
		w |= parts[k] << (24 - 8*k)
	}
	return [4]byte{byte(w >> 24), byte(w >> 16), byte(w >> 8), byte(w)}, true
}

// InetPton4 emulates glibc's inet_pton(AF_INET): exactly four decimal
// octets without leading zeros.
func InetPton4(s string) ([4]byte, bool) {
	var out [4]byte
	octets := 0
	sawDigit := false
	cur := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			if sawDigit && cur == 0 {
				return out, false
			}
			cur = cur*10 + int(c-'0')
			if cur > 255 {
				return out, false
			}
			if !sawDigit {
				octets++
				if octets > 4 {
					return out, false
				}
				sawDigit = true
			}
			out[octets-1] = byte(cur)
		case c == '.' && sawDigit:
			if octets == 4 {
				return out, false
			}
			cur = 0
			sawDigit = false
		default:
			return out, false
		}
	}
	if octets < 4 || !sawDigit {
		return out, false
	}
	return out, true
}

// InetPton6 emulates glibc's inet_pton(AF_INET6): the RFC 4291 text forms
// (an embedded dotted IPv4 tail allowed), no zone index.
func InetPton6(s string) ([16]byte, bool) {
	if !strings.Contains(s, ":") || strings.ContainsAny(s, "%") {
		return [16]byte{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return [16]byte{}, false
	}
	return a.As16(), true
}

// Service parse results (SERVICE_ADDR, SERVICE_PORT).
const (
	serviceAddr = 1
	servicePort = 2
)

// ServProto returns the protocol name getservbyname and getservbyport
// take for an IP protocol ("tcp", "udp", "sctp"), "" for any other.
func ServProto(proto ipvs.Protocol) string {
	switch proto {
	case ipvs.ProtoTCP:
		return "tcp"
	case ipvs.ProtoUDP:
		return "udp"
	case ipvs.ProtoSCTP:
		return "sctp"
	}
	return ""
}

// serviceToPort is ipvsadm's service_to_port.
func serviceToPort(env *Env, name string, proto ipvs.Protocol) int64 {
	p := ServProto(proto)
	if p == "" || env.LookupService == nil {
		return -1
	}
	if port, ok := env.LookupService(name, p); ok {
		return int64(port)
	}
	return -1
}

// hostToAddr is ipvsadm's host_to_addr (gethostbyname, IPv4 only).
func hostToAddr(env *Env, name string) ([4]byte, bool) {
	if env.LookupHost == nil {
		return [4]byte{}, false
	}
	return env.LookupHost(name)
}

// parseService is ipvsadm's parse_service on the C service struct s.
func parseService(env *Env, buf string, s *svcState) int {
	if strIsDigit(buf) {
		return 0
	}
	host := buf
	var portp *string
	if buf[0] == '[' {
		rest := buf[1:]
		i := strings.IndexByte(rest, ']')
		if i < 0 {
			return 0
		}
		after := rest[i+1:]
		if after == "" || after[0] != ':' {
			return 0
		}
		host = rest[:i]
		p := after[1:]
		portp = &p
	}
	if a6, ok := InetPton6(host); ok {
		s.addr = a6
		s.af = ipvs.AFInet6
		s.netmask = 128
	} else {
		portp = nil
		if i := strings.LastIndexByte(host, ':'); i >= 0 {
			p := host[i+1:]
			portp = &p
			host = host[:i]
		}
		a4, ok := inetAton(host)
		if !ok {
			a4, ok = hostToAddr(env, host)
		}
		if !ok {
			return 0
		}
		copy(s.addr[:4], a4[:])
		s.af = ipvs.AFInet
	}
	result := serviceAddr
	if portp != nil {
		result |= servicePort
		if n := stringToNumber(*portp, 0, 65535); n != -1 {
			s.port = uint16(n)
		} else if n := serviceToPort(env, *portp, s.protocol); n != -1 {
			s.port = uint16(n)
		} else {
			return 0
		}
	}
	return result
}

// parseNetmask is ipvsadm's parse_netmask (IPv4): the mask as a number
// (0xffffff00 for 255.255.255.0).
func parseNetmask(env *Env, buf string) (uint32, bool) {
	a, ok := inetAton(buf)
	if !ok {
		a, ok = hostToAddr(env, buf)
	}
	if !ok {
		return 0, false
	}
	return uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]), true
}

// parseFwmark is ipvsadm's parse_fwmark: 1..4294967295.
func parseFwmark(buf string) (uint32, *Error) {
	n, end, erange := Strtol(buf, 10)
	if end != len(buf) || end == 0 || erange || n <= 0 || n > math.MaxUint32 {
		return 0, failf("invalid fwmark value `%s' specified", buf)
	}
	return uint32(n), nil
}

// parseTimeout is ipvsadm's parse_timeout; a nil buf is the default
// persistence timeout.
func parseTimeout(buf *string, min, max int64) (uint32, *Error) {
	if buf == nil {
		return defaultPersistentTimeout, nil
	}
	n := stringToNumber(*buf, min, max)
	if n == -1 {
		return 0, failf("invalid timeout value `%s' specified", *buf)
	}
	return uint32(n), nil
}

// truncate returns at most n bytes of s (strncpy into a fixed buffer).
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
