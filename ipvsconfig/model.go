package ipvsconfig

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// APIVersion is the schema version this package reads and writes. A
// document must carry it in its apiVersion field; a later, incompatible
// schema will get a new version string.
const APIVersion = "ipvsctl/v1"

// Document is a whole IPVS configuration, or a listing of the live one.
//
// Sections that are absent (nil) are not managed: applying a document
// without a timeouts section leaves the timeouts alone. Services are always
// managed; an empty list means no services.
type Document struct {
	// APIVersion must be APIVersion.
	APIVersion string `json:"apiVersion" yaml:"apiVersion"`
	// Timeouts are the TCP, TCP FIN_WAIT and UDP connection timeouts.
	Timeouts *Timeouts `json:"timeouts,omitempty" yaml:"timeouts,omitempty"`
	// Daemons are the connection synchronisation daemons; an empty list
	// (as opposed to an absent one) means none should run.
	Daemons *[]Daemon `json:"daemons,omitempty" yaml:"daemons,omitempty"`
	// Sysctls are values of /proc/sys/net/ipv4/vs/*, by file name.
	Sysctls map[string]SysctlValue `json:"sysctls,omitempty" yaml:"sysctls,omitempty"`
	// Services are the virtual services with their destinations.
	Services []Service `json:"services" yaml:"services"`

	// loc resolves object paths to source lines (nil for documents not
	// read from a file).
	loc *locator
}

// Service is a virtual service: either a protocol service (protocol,
// address, port) or a firewall-mark service (fwmark, family).
type Service struct {
	// Protocol is "tcp", "udp" or "sctp"; empty for fwmark services.
	Protocol string `json:"protocol,omitempty" yaml:"protocol,omitempty"`
	// Address is the virtual IP address (IPv4 or IPv6, no zone).
	Address string `json:"address,omitempty" yaml:"address,omitempty"`
	// Port is the virtual port; 0 (or absent) makes a port-0 service that
	// matches every port, which needs persistence.
	Port uint16 `json:"port,omitempty" yaml:"port,omitempty"`
	// FWMark, 1..4294967295, makes this a firewall-mark service.
	FWMark uint32 `json:"fwmark,omitempty" yaml:"fwmark,omitempty"`
	// Family is "inet" or "inet6". It is derived from Address for protocol
	// services; for fwmark services it defaults to "inet".
	Family string `json:"family,omitempty" yaml:"family,omitempty"`
	// Scheduler is the scheduler's name (default "wlc").
	Scheduler string `json:"scheduler,omitempty" yaml:"scheduler,omitempty"`
	// SchedFlags are scheduler flags: "flag-1", "flag-2", "flag-3", or the
	// aliases "sh-fallback"/"mh-fallback" (flag-1) and "sh-port"/"mh-port"
	// (flag-2). Output always uses flag-N.
	SchedFlags []string `json:"schedFlags,omitempty" yaml:"schedFlags,omitempty,flow"`
	// OnePacket enables one-packet scheduling (UDP).
	OnePacket bool `json:"onePacket,omitempty" yaml:"onePacket,omitempty"`
	// Persistence makes the service persistent.
	Persistence *Persistence `json:"persistence,omitempty" yaml:"persistence,omitempty"`
	// PE is the persistence engine, e.g. "sip".
	PE string `json:"pe,omitempty" yaml:"pe,omitempty"`
	// Destinations are the real servers.
	Destinations []Destination `json:"destinations,omitempty" yaml:"destinations,omitempty"`

	// HealthCheck checks every destination that has none of its own
	// (ipvsctl agent; apply and diff ignore it).
	HealthCheck *HealthCheck `json:"healthCheck,omitempty" yaml:"healthCheck,omitempty,flow"`
	// OnFailure is what a failed check does: "quiesce" (weight 0, existing
	// connections go on; the default) or "remove".
	OnFailure string `json:"onFailure,omitempty" yaml:"onFailure,omitempty"`
	// SorryServer is added while the healthy servers' weights sum below
	// Quorum; the others are then taken out as OnFailure says.
	SorryServer *Destination `json:"sorryServer,omitempty" yaml:"sorryServer,omitempty"`
	// Quorum is the least sum of healthy weights that keeps the sorry
	// server out (default 1: it comes in when no server is healthy).
	Quorum *uint32 `json:"quorum,omitempty" yaml:"quorum,omitempty"`

	// Output only.
	Stats *Stats `json:"stats,omitempty" yaml:"stats,omitempty"`
	Rates *Rates `json:"rates,omitempty" yaml:"rates,omitempty"`
}

// Persistence are a service's persistence settings.
type Persistence struct {
	// Timeout in seconds, 1..2678400 (default 360, as ipvsadm -p).
	Timeout uint32 `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// PrefixLength is the persistence granularity: 0..32 for IPv4 (default
	// 32), 1..128 for IPv6 (default 128).
	PrefixLength *int `json:"prefixLength,omitempty" yaml:"prefixLength,omitempty"`
	// Netmask is an IPv4 netmask in dotted form; it is only written for
	// masks that are not a prefix, and wins over PrefixLength.
	Netmask string `json:"netmask,omitempty" yaml:"netmask,omitempty"`
}

// Destination is a real server.
type Destination struct {
	// Address of the real server.
	Address string `json:"address" yaml:"address"`
	// Port of the real server; absent means the service's port.
	Port *uint16 `json:"port,omitempty" yaml:"port,omitempty"`
	// Family is "inet" or "inet6", derived from Address when absent.
	Family string `json:"family,omitempty" yaml:"family,omitempty"`
	// Forward is "route" (direct routing, the default), "masq" (NAT),
	// "tunnel", "local" or "bypass".
	Forward string `json:"forward,omitempty" yaml:"forward,omitempty"`
	// Weight, 0..2147483647 (default 1); 0 quiesces the server.
	Weight *uint32 `json:"weight,omitempty" yaml:"weight,omitempty"`
	// UpperThreshold and LowerThreshold bound the server's connections
	// (0: no limit).
	UpperThreshold uint32 `json:"upperThreshold,omitempty" yaml:"upperThreshold,omitempty"`
	LowerThreshold uint32 `json:"lowerThreshold,omitempty" yaml:"lowerThreshold,omitempty"`
	// Tunnel configures the encapsulation; only with forward: tunnel.
	Tunnel *Tunnel `json:"tunnel,omitempty" yaml:"tunnel,omitempty"`
	// HealthCheck checks this server instead of the service's check.
	HealthCheck *HealthCheck `json:"healthCheck,omitempty" yaml:"healthCheck,omitempty,flow"`

	// Output only.
	Connections *Connections `json:"connections,omitempty" yaml:"connections,omitempty"`
	Stats       *Stats       `json:"stats,omitempty" yaml:"stats,omitempty"`
	Rates       *Rates       `json:"rates,omitempty" yaml:"rates,omitempty"`
}

// Tunnel is the encapsulation of a tunnelling destination.
type Tunnel struct {
	// Type is "ipip" (default), "gue" or "gre".
	Type string `json:"type,omitempty" yaml:"type,omitempty"`
	// Port is the GUE UDP port (required for gue, not allowed otherwise).
	Port uint16 `json:"port,omitempty" yaml:"port,omitempty"`
	// Checksum is "nocsum" (default), "csum" or "remcsum" (gue only);
	// gue and gre only.
	Checksum string `json:"checksum,omitempty" yaml:"checksum,omitempty"`
}

// Connections are a destination's connection counters.
type Connections struct {
	Active     uint32 `json:"active" yaml:"active"`
	Inactive   uint32 `json:"inactive" yaml:"inactive"`
	Persistent uint32 `json:"persistent" yaml:"persistent"`
}

// Stats are counters since creation or the last zero.
type Stats struct {
	Conns      uint64 `json:"conns" yaml:"conns"`
	InPackets  uint64 `json:"inPackets" yaml:"inPackets"`
	OutPackets uint64 `json:"outPackets" yaml:"outPackets"`
	InBytes    uint64 `json:"inBytes" yaml:"inBytes"`
	OutBytes   uint64 `json:"outBytes" yaml:"outBytes"`
}

// Rates are the kernel estimator's per-second rates.
type Rates struct {
	CPS    uint64 `json:"cps" yaml:"cps"`
	InPPS  uint64 `json:"inPps" yaml:"inPps"`
	OutPPS uint64 `json:"outPps" yaml:"outPps"`
	InBPS  uint64 `json:"inBps" yaml:"inBps"`
	OutBPS uint64 `json:"outBps" yaml:"outBps"`
}

// Timeouts are connection timeouts in seconds (0 leaves a value alone).
type Timeouts struct {
	TCP    uint32 `json:"tcp" yaml:"tcp"`
	TCPFin uint32 `json:"tcpFin" yaml:"tcpFin"`
	UDP    uint32 `json:"udp" yaml:"udp"`
}

// Daemon is a connection synchronisation daemon.
type Daemon struct {
	// State is "master" or "backup".
	State string `json:"state" yaml:"state"`
	// Interface is the multicast interface.
	Interface string `json:"interface" yaml:"interface"`
	// SyncID is 0..255 (0 on a backup accepts any).
	SyncID uint32 `json:"syncID" yaml:"syncID"`
	// SyncMaxLen, Group, Port and TTL are optional (kernel 4.3+); absent
	// lets the kernel choose (MTU-derived, 224.0.0.81, 8848, 1).
	SyncMaxLen uint16 `json:"syncMaxLen,omitempty" yaml:"syncMaxLen,omitempty"`
	Group      string `json:"group,omitempty" yaml:"group,omitempty"`
	Port       uint16 `json:"port,omitempty" yaml:"port,omitempty"`
	TTL        uint8  `json:"ttl,omitempty" yaml:"ttl,omitempty"`
}

// SysctlValue is the value of a sysctl: written as a number when it is a
// single integer, as a string otherwise ("3 50" for sync_threshold, a CPU
// list for est_cpulist).
type SysctlValue string

// MarshalJSON writes integers as numbers.
func (v SysctlValue) MarshalJSON() ([]byte, error) {
	s := strings.TrimSpace(string(v))
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return []byte(s), nil
	}
	return json.Marshal(string(v))
}

// UnmarshalJSON accepts a number or a string.
func (v *SysctlValue) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*v = SysctlValue(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("sysctl value must be a number or a string, not %s", b)
	}
	*v = SysctlValue(n.String())
	return nil
}

// MarshalYAML writes integers as numbers.
func (v SysctlValue) MarshalYAML() (any, error) {
	s := strings.TrimSpace(string(v))
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	return string(v), nil
}
