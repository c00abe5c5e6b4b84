package ipvsconfig

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/ipvs-tools/ipvs"
)

// ParseServiceKey parses the service syntax of ipvsctl:
//
//	tcp:10.0.0.1:80          TCP service (also udp:, sctp:)
//	udp:[2001:db8::1]:53     IPv6 addresses in brackets
//	tcp:10.0.0.1             port 0 (all ports; needs persistence)
//	fwmark:7                 IPv4 firewall-mark service
//	fwmark:7:v6              IPv6 firewall-mark service (also :inet6)
//
// Protocol and family words are case-insensitive.
func ParseServiceKey(s string) (ipvs.ServiceKey, error) {
	bad := func(why string) (ipvs.ServiceKey, error) {
		return ipvs.ServiceKey{}, fmt.Errorf("invalid service %q: %s (want tcp:ADDR:PORT, udp:[V6ADDR]:PORT, sctp:ADDR:PORT or fwmark:MARK[:v6])", s, why)
	}
	kind, rest, ok := strings.Cut(s, ":")
	if !ok {
		return bad("no protocol prefix")
	}
	switch strings.ToLower(kind) {
	case "fwmark", "fwm", "f":
		markText, fam, _ := strings.Cut(rest, ":")
		mark, err := strconv.ParseUint(markText, 10, 32)
		if err != nil || mark == 0 {
			return bad("the mark must be 1..4294967295")
		}
		f, err := parseFamily(fam)
		if err != nil {
			return bad(err.Error())
		}
		if f == ipvs.AFUnspec {
			f = ipvs.AFInet
		}
		return ipvs.ServiceKey{Family: f, FWMark: uint32(mark)}, nil
	}
	proto, err := ParseProtocol(kind)
	if err != nil {
		return bad(err.Error())
	}
	addr, port, err := ParseAddrPort(rest, true)
	if err != nil {
		return bad(err.Error())
	}
	return ipvs.ServiceKey{Family: FamilyOf(addr), Protocol: proto, Address: addr, Port: port}, nil
}

// ParseAddrPort parses "ADDR:PORT", "[V6]:PORT", or, if portOptional,
// "ADDR", "[V6]" and a bare IPv6 address; a missing port is 0.
func ParseAddrPort(s string, portOptional bool) (netip.Addr, uint16, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Addr().Zone() != "" {
			return netip.Addr{}, 0, fmt.Errorf("zones are not allowed")
		}
		return ap.Addr().Unmap(), ap.Port(), nil
	}
	host := s
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		host = s[1 : len(s)-1]
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return netip.Addr{}, 0, fmt.Errorf("zones are not allowed")
		}
		if !portOptional {
			return netip.Addr{}, 0, fmt.Errorf("%q has no port", s)
		}
		if host == s && a.Is6() && !a.Is4In6() && strings.Count(s, ":") < 2 {
			return netip.Addr{}, 0, fmt.Errorf("bad address")
		}
		return a.Unmap(), 0, nil
	}
	// Give a precise reason.
	h, p, ok := cutLast(s, ":")
	if !ok {
		return netip.Addr{}, 0, fmt.Errorf("%q is not an IP address", s)
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if _, err := netip.ParseAddr(h); err != nil {
		return netip.Addr{}, 0, fmt.Errorf("%q is not an IP address (names are not resolved)", h)
	}
	if _, err := strconv.ParseUint(p, 10, 16); err != nil {
		return netip.Addr{}, 0, fmt.Errorf("port %q is not a number 0..65535", p)
	}
	return netip.Addr{}, 0, fmt.Errorf("IPv6 addresses with a port need brackets: [ADDR]:PORT")
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// FormatServiceKey writes k in the syntax ParseServiceKey reads.
func FormatServiceKey(k ipvs.ServiceKey) string {
	if k.IsFWMark() {
		if k.Family == ipvs.AFInet6 {
			return fmt.Sprintf("fwmark:%d:v6", k.FWMark)
		}
		return fmt.Sprintf("fwmark:%d", k.FWMark)
	}
	return ProtocolName(k.Protocol) + ":" + netip.AddrPortFrom(k.Address, k.Port).String()
}

// FamilyOf returns the IPVS family of a.
func FamilyOf(a netip.Addr) ipvs.AddressFamily {
	if a.Is4() || a.Is4In6() {
		return ipvs.AFInet
	}
	if a.Is6() {
		return ipvs.AFInet6
	}
	return ipvs.AFUnspec
}

// parseName looks s up, in any case, in names; an unknown name is an error
// that says what s was to be and what is wanted.
func parseName[T any](names map[string]T, s, what, want string) (T, error) {
	if v, ok := names[strings.ToLower(s)]; ok {
		return v, nil
	}
	var zero T
	return zero, fmt.Errorf("unknown %s %q (want %s)", what, s, want)
}

// parseFamily reads "", "v4", "inet", "ipv4", "v6", "inet6", "ipv6".
func parseFamily(s string) (ipvs.AddressFamily, error) {
	return parseName(familyNames, s, "address family", "inet or inet6")
}

var familyNames = map[string]ipvs.AddressFamily{
	"":   ipvs.AFUnspec,
	"v4": ipvs.AFInet, "4": ipvs.AFInet, "inet": ipvs.AFInet, "ipv4": ipvs.AFInet,
	"v6": ipvs.AFInet6, "6": ipvs.AFInet6, "inet6": ipvs.AFInet6, "ipv6": ipvs.AFInet6,
}

// FamilyName returns "inet" or "inet6".
func FamilyName(f ipvs.AddressFamily) string { return f.String() }

// ParseProtocol reads "tcp", "udp" or "sctp" (any case).
func ParseProtocol(s string) (ipvs.Protocol, error) {
	return parseName(protocolNames, s, "protocol", "tcp, udp or sctp")
}

var protocolNames = map[string]ipvs.Protocol{"tcp": ipvs.ProtoTCP, "udp": ipvs.ProtoUDP, "sctp": ipvs.ProtoSCTP}

// ProtocolName returns "tcp", "udp", "sctp" or "proto(N)".
func ProtocolName(p ipvs.Protocol) string {
	switch p {
	case ipvs.ProtoTCP, ipvs.ProtoUDP, ipvs.ProtoSCTP:
		return strings.ToLower(p.String())
	}
	return p.String()
}

// Forwarding method names in documents.
var forwardNames = map[string]ipvs.ForwardMethod{
	"masq": ipvs.FwdMasq, "nat": ipvs.FwdMasq,
	"local":  ipvs.FwdLocal,
	"tunnel": ipvs.FwdTunnel, "ipip": ipvs.FwdTunnel,
	"route": ipvs.FwdRoute, "dr": ipvs.FwdRoute, "gate": ipvs.FwdRoute,
	"bypass": ipvs.FwdBypass,
}

// ParseForward reads a forwarding method: masq (nat), route (dr, gate),
// tunnel, local or bypass.
func ParseForward(s string) (ipvs.ForwardMethod, error) {
	return parseName(forwardNames, s, "forwarding method", "route, masq, tunnel, local or bypass")
}

// ForwardName returns the document name of m: masq, local, tunnel, route,
// bypass or fwd(N), the vocabulary's name in lower case.
func ForwardName(m ipvs.ForwardMethod) string { return strings.ToLower(m.String()) }

// ParseTunnelType reads ipip, gue or gre.
func ParseTunnelType(s string) (ipvs.TunnelType, error) {
	return parseName(tunnelTypeNames, s, "tunnel type", "ipip, gue or gre")
}

var tunnelTypeNames = map[string]ipvs.TunnelType{"": ipvs.TunnelIPIP, "ipip": ipvs.TunnelIPIP, "gue": ipvs.TunnelGUE, "gre": ipvs.TunnelGRE}

// ParseChecksum reads nocsum, csum or remcsum.
func ParseChecksum(s string) (ipvs.TunnelFlags, error) {
	return parseName(checksumNames, s, "tunnel checksum", "nocsum, csum or remcsum")
}

var checksumNames = map[string]ipvs.TunnelFlags{
	"": ipvs.TunnelNoCsum, "nocsum": ipvs.TunnelNoCsum, "none": ipvs.TunnelNoCsum,
	"csum": ipvs.TunnelCsum, "remcsum": ipvs.TunnelRemCsum,
}

// ChecksumName returns the document name of f: nocsum, csum, remcsum, or
// the number of any other combination.
func ChecksumName(f ipvs.TunnelFlags) string { return checksumDocNames.Name(f, "%d") }

var checksumDocNames = ipvs.NameTable[ipvs.TunnelFlags]{
	ipvs.TunnelNoCsum: "nocsum", ipvs.TunnelCsum: "csum", ipvs.TunnelRemCsum: "remcsum",
}

// ParseSchedFlag reads a scheduler flag name.
func ParseSchedFlag(s string) (ipvs.ServiceFlags, error) {
	return parseName(schedFlagNames, s, "scheduler flag", "flag-1, flag-2, flag-3, sh-fallback, sh-port, mh-fallback or mh-port")
}

var schedFlagNames = map[string]ipvs.ServiceFlags{
	"flag-1": ipvs.SvcSched1, "sh-fallback": ipvs.SvcSched1, "mh-fallback": ipvs.SvcSched1,
	"flag-2": ipvs.SvcSched2, "sh-port": ipvs.SvcSched2, "mh-port": ipvs.SvcSched2,
	"flag-3": ipvs.SvcSched3,
}

// SchedFlagNames returns the flag-N names of the scheduler flags in f.
func SchedFlagNames(f ipvs.ServiceFlags) []string {
	var out []string
	for i, b := range []ipvs.ServiceFlags{ipvs.SvcSched1, ipvs.SvcSched2, ipvs.SvcSched3} {
		if f&b != 0 {
			out = append(out, fmt.Sprintf("flag-%d", i+1))
		}
	}
	return out
}

// ParseDaemonState reads master or backup.
func ParseDaemonState(s string) (ipvs.DaemonState, error) {
	return parseName(daemonStateNames, s, "sync daemon state", "master or backup")
}

var daemonStateNames = map[string]ipvs.DaemonState{"master": ipvs.DaemonMaster, "backup": ipvs.DaemonBackup}
