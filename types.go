package ipvs

import (
	"fmt"
	"net/netip"
)

// Version is the IPVS version reported by the kernel (IP_VS_VERSION_CODE).
type Version struct {
	Major, Minor, Patch uint8
}

// String returns the version as "major.minor.patch", e.g. "1.2.1".
func (v Version) String() string {
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// Code returns the version as the kernel encodes it (0x010201 for 1.2.1).
func (v Version) Code() uint32 {
	return uint32(v.Major)<<16 | uint32(v.Minor)<<8 | uint32(v.Patch)
}

// Info is the reply to GET_INFO.
type Info struct {
	// Version is the IPVS version, 1.2.1 on every kernel since 2.6.
	Version Version
	// ConnTableSize is the number of buckets of the connection hash table.
	ConnTableSize uint32
}

// Stats are the counters and rate estimates of a service or destination.
//
// Counters run from the object's creation or the last ZERO. Rates are per
// second, averaged by the kernel's estimator.
type Stats struct {
	Conns    uint64 // connections scheduled
	InPkts   uint64 // incoming packets
	OutPkts  uint64 // outgoing packets
	InBytes  uint64 // incoming bytes
	OutBytes uint64 // outgoing bytes
	CPS      uint64 // connections per second
	InPPS    uint64 // incoming packets per second
	OutPPS   uint64 // outgoing packets per second
	InBPS    uint64 // incoming bytes per second
	OutBPS   uint64 // outgoing bytes per second
}

// ServiceKey identifies a virtual service: either (Family, FWMark) for a
// firewall-mark service, or (Family, Protocol, Address, Port).
type ServiceKey struct {
	Family   AddressFamily
	Protocol Protocol   // zero for fwmark services
	Address  netip.Addr // invalid (zero) for fwmark services
	Port     uint16
	FWMark   uint32 // non-zero selects a firewall-mark service
}

// IsFWMark reports whether k names a firewall-mark service.
func (k ServiceKey) IsFWMark() bool { return k.FWMark != 0 }

// String returns a readable form: "TCP 10.0.0.1:80", "TCP [2001:db8::1]:80",
// "FWM 7" or "FWM 7 IPv6".
// Service returns a Service carrying only the identity k (what a request
// that names a service without changing it sends).
func (k ServiceKey) Service() Service {
	return Service{Family: k.Family, Protocol: k.Protocol, Address: k.Address, Port: k.Port, FWMark: k.FWMark}
}

func (k ServiceKey) String() string {
	if k.IsFWMark() {
		if k.Family == AFInet6 {
			return fmt.Sprintf("FWM %d IPv6", k.FWMark)
		}
		return fmt.Sprintf("FWM %d", k.FWMark)
	}
	return fmt.Sprintf("%s %s", k.Protocol, netip.AddrPortFrom(k.Address, k.Port))
}

// Service is a virtual service.
type Service struct {
	// Family is AFInet or AFInet6. It is required, also for fwmark services.
	Family AddressFamily
	// Protocol is TCP, UDP or SCTP; the kernel reports no protocol for
	// fwmark services, so it is zero there.
	Protocol Protocol
	// Address is the virtual IP; the zero Addr for fwmark services.
	Address netip.Addr
	// Port is the virtual port; 0 is a port-0 (all ports) service.
	Port uint16
	// FWMark, when non-zero, makes this a firewall-mark service.
	FWMark uint32

	// Scheduler is the scheduler's name, e.g. "wlc" (at most 15 bytes).
	Scheduler string
	// Flags are the service flags; the kernel-internal SvcHashed bit is
	// cleared when decoding.
	Flags ServiceFlags
	// Timeout is the persistence timeout in seconds.
	Timeout uint32
	// Netmask is the persistence granularity: for IPv4 the mask as a
	// number (0xffffff00 is 255.255.255.0), for IPv6 the prefix length.
	Netmask uint32
	// PEName is the persistence engine ("sip"), empty for none.
	PEName string

	// Stats are the service's counters (replies only).
	Stats Stats
	// Stats64 reports whether Stats came from the 64-bit STATS64 attribute
	// (kernel 4.1 and later) rather than the 32-bit STATS one.
	Stats64 bool
}

// Key returns the identity of s.
func (s Service) Key() ServiceKey {
	if s.FWMark != 0 {
		return ServiceKey{Family: s.Family, FWMark: s.FWMark}
	}
	return ServiceKey{Family: s.Family, Protocol: s.Protocol, Address: s.Address, Port: s.Port}
}

// DestKey identifies a destination within its service.
type DestKey struct {
	Family  AddressFamily
	Address netip.Addr
	Port    uint16
}

// String returns "addr:port" ("[v6]:port" for IPv6).
func (k DestKey) String() string { return netip.AddrPortFrom(k.Address, k.Port).String() }

// Destination returns a Destination carrying only the identity k (what a
// DEL_DEST request names).
func (k DestKey) Destination() Destination {
	return Destination{Family: k.Family, Address: k.Address, Port: k.Port}
}

// Destination is a real server of a virtual service.
type Destination struct {
	// Family is the destination's address family. When zero it defaults
	// to the family of Address. It may differ from the service's family
	// only for tunnelling destinations (kernel 3.18 and later).
	Family AddressFamily
	// Address and Port of the real server.
	Address netip.Addr
	Port    uint16

	// ForwardMethod is how packets reach the real server.
	ForwardMethod ForwardMethod
	// Weight is the scheduling weight, 0..2147483647; 0 quiesces.
	Weight uint32
	// UpperThreshold and LowerThreshold bound the number of connections;
	// 0 means no limit.
	UpperThreshold uint32
	LowerThreshold uint32

	// TunnelType, TunnelPort and TunnelFlags configure the encapsulation
	// of FwdTunnel destinations (GUE needs a port).
	TunnelType  TunnelType
	TunnelPort  uint16
	TunnelFlags TunnelFlags

	// Replies only.
	ActiveConns   uint32
	InactiveConns uint32
	PersistConns  uint32
	Stats         Stats
	Stats64       bool
}

// Key returns the identity of d within its service.
func (d Destination) Key() DestKey {
	return DestKey{Family: d.EffectiveFamily(), Address: d.Address, Port: d.Port}
}

// EffectiveFamily returns d.Family, or the family of its address when
// unset.
func (d Destination) EffectiveFamily() AddressFamily {
	if d.Family != AFUnspec {
		return d.Family
	}
	return FamilyOf(d.Address)
}

// FamilyOf returns the IPVS family of a; an IPv4-mapped IPv6 address is
// IPv6.
func FamilyOf(a netip.Addr) AddressFamily {
	switch {
	case a.Is4():
		return AFInet
	case a.Is6():
		return AFInet6
	}
	return AFUnspec
}

// Timeouts are the connection timeouts of the TCP ESTABLISHED, TCP FIN_WAIT
// and UDP states, in seconds. Zero in a SetTimeouts request leaves that
// value unchanged.
type Timeouts struct {
	TCP    uint32
	TCPFin uint32
	UDP    uint32
}

// Daemon is a connection synchronisation daemon.
type Daemon struct {
	// State is DaemonMaster or DaemonBackup.
	State DaemonState
	// Interface is the multicast interface (at most 15 bytes).
	Interface string
	// SyncID is the synchronisation ID, 0..255 (0 on a backup accepts any).
	SyncID uint32
	// SyncMaxLen is the maximum sync message length; 0 lets the kernel
	// derive it from the interface MTU. Kernel 4.3 and later.
	SyncMaxLen uint16
	// Group is the multicast group (IPv4 or IPv6); the zero Addr leaves the
	// kernel default 224.0.0.81. Kernel 4.3 and later.
	Group netip.Addr
	// Port is the base UDP port; 0 leaves the default 8848.
	Port uint16
	// TTL is the multicast TTL; 0 leaves the default 1.
	TTL uint8
}

// VirtualServer is a service together with its destinations.
type VirtualServer struct {
	Service      Service
	Destinations []Destination
}
