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

// parseFamily reads "", "v4", "inet", "ipv4", "v6", "inet6", "ipv6".
func parseFamily(s string) (ipvs.AddressFamily, error) {
	switch strings.ToLower(s) {
	case "":
		return ipvs.AFUnspec, nil
	case "v4", "4", "inet", "ipv4":
		return ipvs.AFInet, nil
	case "v6", "6", "inet6", "ipv6":
		return ipvs.AFInet6, nil
	}
	return ipvs.AFUnspec, fmt.Errorf("unknown address family %q (want inet or inet6)", s)
}

// FamilyName returns "inet" or "inet6".
func FamilyName(f ipvs.AddressFamily) string { return f.String() }

// ParseProtocol reads "tcp", "udp" or "sctp" (any case).
func ParseProtocol(s string) (ipvs.Protocol, error) {
	switch strings.ToLower(s) {
	case "tcp":
		return ipvs.ProtoTCP, nil
	case "udp":
		return ipvs.ProtoUDP, nil
	case "sctp":
		return ipvs.ProtoSCTP, nil
	}
	return 0, fmt.Errorf("unknown protocol %q (want tcp, udp or sctp)", s)
}

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
	if m, ok := forwardNames[strings.ToLower(s)]; ok {
		return m, nil
	}
	return 0, fmt.Errorf("unknown forwarding method %q (want route, masq, tunnel, local or bypass)", s)
}

// ForwardName returns the document name of m.
func ForwardName(m ipvs.ForwardMethod) string {
	switch m {
	case ipvs.FwdMasq:
		return "masq"
	case ipvs.FwdLocal:
		return "local"
	case ipvs.FwdTunnel:
		return "tunnel"
	case ipvs.FwdRoute:
		return "route"
	case ipvs.FwdBypass:
		return "bypass"
	}
	return fmt.Sprintf("fwd(%d)", uint32(m))
}

// ParseTunnelType reads ipip, gue or gre.
func ParseTunnelType(s string) (ipvs.TunnelType, error) {
	switch strings.ToLower(s) {
	case "", "ipip":
		return ipvs.TunnelIPIP, nil
	case "gue":
		return ipvs.TunnelGUE, nil
	case "gre":
		return ipvs.TunnelGRE, nil
	}
	return 0, fmt.Errorf("unknown tunnel type %q (want ipip, gue or gre)", s)
}

// ParseChecksum reads nocsum, csum or remcsum.
func ParseChecksum(s string) (ipvs.TunnelFlags, error) {
	switch strings.ToLower(s) {
	case "", "nocsum", "none":
		return ipvs.TunnelNoCsum, nil
	case "csum":
		return ipvs.TunnelCsum, nil
	case "remcsum":
		return ipvs.TunnelRemCsum, nil
	}
	return 0, fmt.Errorf("unknown tunnel checksum %q (want nocsum, csum or remcsum)", s)
}

// ChecksumName returns the document name of f.
func ChecksumName(f ipvs.TunnelFlags) string {
	switch f {
	case ipvs.TunnelNoCsum:
		return "nocsum"
	case ipvs.TunnelCsum:
		return "csum"
	case ipvs.TunnelRemCsum:
		return "remcsum"
	}
	return fmt.Sprintf("%d", uint16(f))
}

// ParseSchedFlag reads a scheduler flag name.
func ParseSchedFlag(s string) (ipvs.ServiceFlags, error) {
	switch strings.ToLower(s) {
	case "flag-1", "sh-fallback", "mh-fallback":
		return ipvs.SvcSched1, nil
	case "flag-2", "sh-port", "mh-port":
		return ipvs.SvcSched2, nil
	case "flag-3":
		return ipvs.SvcSched3, nil
	}
	return 0, fmt.Errorf("unknown scheduler flag %q (want flag-1, flag-2, flag-3, sh-fallback, sh-port, mh-fallback or mh-port)", s)
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
	switch strings.ToLower(s) {
	case "master":
		return ipvs.DaemonMaster, nil
	case "backup":
		return ipvs.DaemonBackup, nil
	}
	return 0, fmt.Errorf("unknown sync daemon state %q (want master or backup)", s)
}
