package ipvs

import "fmt"

// Limits of the kernel's string attributes.
const (
	// MaxSchedNameLen is the longest scheduler name the kernel accepts
	// (IP_VS_SCHEDNAME_MAXLEN 16, including the NUL).
	MaxSchedNameLen = 15
	// MaxPENameLen is the longest persistence engine name the netlink
	// policy admits (IP_VS_PENAME_MAXLEN, a NUL_STRING of up to 16 bytes).
	MaxPENameLen = 16
	// MaxIfNameLen is the longest sync daemon interface name
	// (IP_VS_IFNAME_MAXLEN 16, including the NUL).
	MaxIfNameLen = 15
)

// NameTable names the values of an integer enum, for its String method.
type NameTable[T ~int | ~uint8 | ~uint16 | ~uint32] map[T]string

// Name returns the name of v, or, for a value without one, unknown as a
// fmt format applied to v's number (e.g. "af(%d)").
func (t NameTable[T]) Name(v T, unknown string) string {
	if n, ok := t[v]; ok {
		return n
	}
	return fmt.Sprintf(unknown, int64(v))
}

// AddressFamily is an address family as used by IPVS (AF_INET or AF_INET6).
type AddressFamily uint16

// Address families.
const (
	AFUnspec AddressFamily = 0  // AF_UNSPEC
	AFInet   AddressFamily = 2  // AF_INET
	AFInet6  AddressFamily = 10 // AF_INET6
)

// String returns "inet", "inet6" or "af(N)".
func (f AddressFamily) String() string { return familyNames.Name(f, "af(%d)") }

var familyNames = NameTable[AddressFamily]{AFInet: "inet", AFInet6: "inet6", AFUnspec: "unspec"}

// Protocol is the IP protocol of a virtual service.
type Protocol uint16

// Protocols supported by IPVS services.
const (
	ProtoTCP  Protocol = 6   // IPPROTO_TCP
	ProtoUDP  Protocol = 17  // IPPROTO_UDP
	ProtoSCTP Protocol = 132 // IPPROTO_SCTP
)

// String returns "TCP", "UDP", "SCTP" or the number.
func (p Protocol) String() string { return protocolNames.Name(p, "proto(%d)") }

var protocolNames = NameTable[Protocol]{ProtoTCP: "TCP", ProtoUDP: "UDP", ProtoSCTP: "SCTP"}

// ForwardMethod is a destination's packet forwarding method
// (IP_VS_CONN_F_FWD_MASK bits of the connection flags).
type ForwardMethod uint32

// Forwarding methods.
const (
	FwdMasq   ForwardMethod = 0 // IP_VS_CONN_F_MASQ (NAT, ipvsadm -m)
	FwdLocal  ForwardMethod = 1 // IP_VS_CONN_F_LOCALNODE
	FwdTunnel ForwardMethod = 2 // IP_VS_CONN_F_TUNNEL (ipvsadm -i)
	FwdRoute  ForwardMethod = 3 // IP_VS_CONN_F_DROUTE (direct routing, ipvsadm -g)
	FwdBypass ForwardMethod = 4 // IP_VS_CONN_F_BYPASS (cache bypass)

	// FwdMask covers the forwarding method bits of the connection flags.
	FwdMask ForwardMethod = 0x7 // IP_VS_CONN_F_FWD_MASK
)

// String returns the name ipvsadm prints: Masq, Local, Tunnel, Route, or
// Bypass; other values print as numbers.
func (m ForwardMethod) String() string { return forwardNames.Name(m, "fwd(%d)") }

var forwardNames = NameTable[ForwardMethod]{
	FwdMasq: "Masq", FwdLocal: "Local", FwdTunnel: "Tunnel", FwdRoute: "Route", FwdBypass: "Bypass",
}

// TunnelType is the encapsulation of a tunnelling destination.
type TunnelType uint8

// Tunnel types (IP_VS_CONN_F_TUNNEL_TYPE_*).
const (
	TunnelIPIP TunnelType = 0 // IP_VS_CONN_F_TUNNEL_TYPE_IPIP
	TunnelGUE  TunnelType = 1 // IP_VS_CONN_F_TUNNEL_TYPE_GUE (needs a tunnel port)
	TunnelGRE  TunnelType = 2 // IP_VS_CONN_F_TUNNEL_TYPE_GRE
)

// String returns "ipip", "gue", "gre" or the number.
func (t TunnelType) String() string { return tunnelNames.Name(t, "tun(%d)") }

var tunnelNames = NameTable[TunnelType]{TunnelIPIP: "ipip", TunnelGUE: "gue", TunnelGRE: "gre"}

// TunnelFlags are the checksum options of a GUE or GRE tunnel.
type TunnelFlags uint16

// Tunnel encapsulation flags (IP_VS_TUNNEL_ENCAP_FLAG_*). The zero value,
// TunnelNoCsum, means no checksum.
const (
	TunnelNoCsum  TunnelFlags = 0      // IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM
	TunnelCsum    TunnelFlags = 1 << 0 // IP_VS_TUNNEL_ENCAP_FLAG_CSUM
	TunnelRemCsum TunnelFlags = 1 << 1 // IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM
)

// String returns "nocsum", "csum", "remcsum", or a "|"-joined combination.
func (f TunnelFlags) String() string { return tunnelFlagNames.Name(f, "tunflags(%#x)") }

var tunnelFlagNames = NameTable[TunnelFlags]{
	TunnelNoCsum: "nocsum", TunnelCsum: "csum", TunnelRemCsum: "remcsum", TunnelCsum | TunnelRemCsum: "csum|remcsum",
}

// ServiceFlags are the flags of a virtual service (IP_VS_SVC_F_*).
type ServiceFlags uint32

// Service flags.
const (
	SvcPersistent ServiceFlags = 0x0001 // IP_VS_SVC_F_PERSISTENT
	SvcHashed     ServiceFlags = 0x0002 // IP_VS_SVC_F_HASHED (kernel-internal; removed when decoding)
	SvcOnePacket  ServiceFlags = 0x0004 // IP_VS_SVC_F_ONEPACKET
	SvcSched1     ServiceFlags = 0x0008 // IP_VS_SVC_F_SCHED1 (sh-fallback, mh-fallback)
	SvcSched2     ServiceFlags = 0x0010 // IP_VS_SVC_F_SCHED2 (sh-port, mh-port)
	SvcSched3     ServiceFlags = 0x0020 // IP_VS_SVC_F_SCHED3

	// SvcSchedFlags is the mask of the three scheduler flags.
	SvcSchedFlags = SvcSched1 | SvcSched2 | SvcSched3
)

// String returns the set flags as "|"-joined names, or "none".
func (f ServiceFlags) String() string {
	names := []struct {
		f ServiceFlags
		n string
	}{
		{SvcPersistent, "persistent"}, {SvcHashed, "hashed"}, {SvcOnePacket, "onepacket"},
		{SvcSched1, "sched1"}, {SvcSched2, "sched2"}, {SvcSched3, "sched3"},
	}
	var s string
	rest := f
	for _, n := range names {
		if f&n.f != 0 {
			if s != "" {
				s += "|"
			}
			s += n.n
			rest &^= n.f
		}
	}
	if rest != 0 {
		if s != "" {
			s += "|"
		}
		s += fmt.Sprintf("%#x", uint32(rest))
	}
	if s == "" {
		return "none"
	}
	return s
}

// DaemonState selects the role of a connection synchronisation daemon.
type DaemonState uint32

// Sync daemon roles (IP_VS_STATE_*).
const (
	DaemonNone   DaemonState = 0 // IP_VS_STATE_NONE
	DaemonMaster DaemonState = 1 // IP_VS_STATE_MASTER
	DaemonBackup DaemonState = 2 // IP_VS_STATE_BACKUP
)

// String returns "master", "backup" or "none".
func (s DaemonState) String() string { return daemonStateNames.Name(s, "state(%d)") }

var daemonStateNames = NameTable[DaemonState]{DaemonMaster: "master", DaemonBackup: "backup", DaemonNone: "none"}

// Schedulers returns the names of the mainline kernel's scheduling methods,
// as a service names its scheduler (each is the module ip_vs_NAME). Kernels
// differ in which they have: twos is in newer kernels only (6.12 has it,
// 6.1 not), and a distribution may build fewer. Package ipvsprobe asks the
// running kernel.
func Schedulers() []string {
	return []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"}
}
