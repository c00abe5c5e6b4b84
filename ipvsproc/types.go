package ipvsproc

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/ipvs-tools/ipvs"
)

// Protocol is an IP protocol number as the IPVS /proc files name it.
// Its values are the IPPROTO_* numbers, so ipvs.Protocol(p) converts
// it for the netlink client. It is not ipvs.Protocol, the protocol of a
// service: connection entries have more protocols (IP, ICMP, ICMPv6, any
// other as IP_<n>), and String gives the kernel's names for them.
type Protocol uint8

// Protocols that appear in the IPVS /proc files.
const (
	ProtoIP     Protocol = 0                        // "IP": templates of firewall-mark services
	ProtoICMP   Protocol = 1                        // "ICMP"
	ProtoTCP             = Protocol(ipvs.ProtoTCP)  // "TCP"
	ProtoUDP             = Protocol(ipvs.ProtoUDP)  // "UDP"
	ProtoICMPv6 Protocol = 58                       // "ICMPv6"
	ProtoSCTP            = Protocol(ipvs.ProtoSCTP) // "SCTP"
)

// String returns the kernel's name (ip_vs_proto_name): TCP, UDP, SCTP,
// ICMP, ICMPv6, IP, or IP_<n> for any other protocol.
func (p Protocol) String() string { return protocolNames.Name(p, "IP_%d") }

var protocolNames = ipvs.NameTable[Protocol]{
	ProtoIP: "IP", ProtoICMP: "ICMP", ProtoTCP: "TCP", ProtoUDP: "UDP", ProtoICMPv6: "ICMPv6", ProtoSCTP: "SCTP",
}

// parseProtocol is the inverse of Protocol.String.
func parseProtocol(b []byte) (Protocol, bool) {
	switch string(b) {
	case "TCP":
		return ProtoTCP, true
	case "UDP":
		return ProtoUDP, true
	case "SCTP":
		return ProtoSCTP, true
	case "IP":
		return ProtoIP, true
	case "ICMP":
		return ProtoICMP, true
	case "ICMPv6":
		return ProtoICMPv6, true
	}
	if len(b) > 3 && string(b[:3]) == "IP_" {
		n, ok := parseDec(b[3:], 255)
		if ok {
			return Protocol(n), true
		}
	}
	return 0, false
}

// ForwardMethod is a destination's forwarding method as /proc/net/ip_vs
// names it: the vocabulary's ipvs.ForwardMethod, whose String gives the
// names the file prints (Masq, Local, Tunnel, Route).
type ForwardMethod = ipvs.ForwardMethod

// Forwarding methods /proc/net/ip_vs prints.
const (
	FwdMasq   = ipvs.FwdMasq   // "Masq": NAT (ipvsadm -m)
	FwdLocal  = ipvs.FwdLocal  // "Local"
	FwdTunnel = ipvs.FwdTunnel // "Tunnel" (ipvsadm -i)
	FwdRoute  = ipvs.FwdRoute  // "Route": direct routing (ipvsadm -g)
)

func parseForward(b []byte) (ForwardMethod, bool) {
	switch string(b) {
	case "Masq":
		return FwdMasq, true
	case "Local":
		return FwdLocal, true
	case "Tunnel":
		return FwdTunnel, true
	case "Route":
		return FwdRoute, true
	}
	return 0, false
}

// Origin tells where an entry of ip_vs_conn_sync came from.
type Origin uint8

// Origins.
const (
	// OriginUnknown: the entry came from ip_vs_conn, which has no origin
	// column.
	OriginUnknown Origin = iota
	// OriginLocal: scheduled by this director ("LOCAL").
	OriginLocal
	// OriginSync: learned from a master sync daemon ("SYNC").
	OriginSync
)

// String returns "LOCAL", "SYNC" or "" for OriginUnknown.
func (o Origin) String() string { return originNames.Name(o, "origin(%d)") }

var originNames = ipvs.NameTable[Origin]{OriginLocal: "LOCAL", OriginSync: "SYNC", OriginUnknown: ""}

// Conn is one entry of the IPVS connection table.
type Conn struct {
	// Protocol is the connection's protocol; ProtoIP for templates of
	// firewall-mark services.
	Protocol Protocol
	// Client is the client's address and port; the port is 0 for
	// persistence templates (and the address is masked by the service's
	// persistence netmask).
	Client netip.AddrPort
	// Virtual is the virtual service's address and port. For templates of
	// firewall-mark services the address holds the mark (see FWMark).
	Virtual netip.AddrPort
	// Dest is the real server. Its family may differ from Client's
	// (IPv6 services with IPv4 tunnel destinations).
	Dest netip.AddrPort
	// State is the protocol state as the kernel names it: ESTABLISHED,
	// SYN_RECV, TIME_WAIT, FIN_WAIT, CLOSE, ... for TCP; UDP for UDP;
	// NONE or ASSURED for templates; INIT, C-SENT, ... for SCTP.
	State string
	// Expires is the time left, in seconds, as printed by the kernel.
	Expires uint64
	// PEName and PEData are the persistence engine and its data (for
	// example "sip" and the SIP Call-ID); empty for most connections and
	// always in ip_vs_conn_sync.
	PEName string
	PEData string
	// Origin is set for entries read from ip_vs_conn_sync.
	Origin Origin
}

// IsTemplate reports whether c is a persistence template (client port 0).
func (c *Conn) IsTemplate() bool { return c.Client.Port() == 0 }

// FWMark returns the firewall mark of a firewall-mark service's template
// (protocol IP), which the kernel stores in the first 32 bits of the
// virtual address in network order. ok is false for other entries.
func (c *Conn) FWMark() (mark uint32, ok bool) {
	if c.Protocol != ProtoIP || !c.Virtual.Addr().IsValid() {
		return 0, false
	}
	a := c.Virtual.Addr()
	if a.Is4() {
		b := a.As4()
		return binary.BigEndian.Uint32(b[:]), true
	}
	b := a.As16()
	return binary.BigEndian.Uint32(b[:4]), true
}

// String formats c in one line, the way "ipvsadm -Lcn" orders the fields:
// protocol, expiry, state, client, virtual, destination (and PE or origin
// when set).
func (c *Conn) String() string {
	s := fmt.Sprintf("%s %ds %s %s %s %s", c.Protocol, c.Expires, c.State, c.Client, c.Virtual, c.Dest)
	if c.PEName != "" {
		s += " " + c.PEName + " " + c.PEData
	}
	if c.Origin != OriginUnknown {
		s += " " + c.Origin.String()
	}
	return s
}

// Stats are the global IPVS counters of a network namespace from
// /proc/net/ip_vs_stats: totals since the module was loaded (or the last
// zeroing of all counters), and the estimator's per-second rates: the
// vocabulary's ipvs.Stats, whose fields are the file's columns.
type Stats = ipvs.Stats

// ParseError reports malformed input: which file and line, which field, and
// why.
type ParseError struct {
	// File names the input: the /proc file's path, or a name such as
	// "ip_vs_conn" for other readers.
	File string
	// Line is the 1-based line number (0 if the input ended early).
	Line int
	// Field names the offending field ("client port", "header", ...).
	Field string
	// Msg says what is wrong.
	Msg string
	// Text is the offending line, shortened to 120 bytes.
	Text string
}

// Error implements error.
func (e *ParseError) Error() string {
	s := e.File
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
	}
	s += ": "
	if e.Field != "" {
		s += e.Field + ": "
	}
	s += e.Msg
	if e.Text != "" {
		s += fmt.Sprintf(" (line %q)", e.Text)
	}
	return s
}

// shorten returns line cut to 120 bytes for error messages.
func shorten(line []byte) string {
	const max = 120
	if len(line) > max {
		return string(line[:max]) + "..."
	}
	return string(line)
}
