package netlinkipvs

import "fmt"

// The generic netlink family, from include/uapi/linux/ip_vs.h.
const (
	familyName    = "IPVS" // IPVS_GENL_NAME
	familyVersion = 1      // IPVS_GENL_VERSION
)

// Command is an IPVS generic netlink command (enum IPVS_CMD_* in ip_vs.h).
type Command uint8

// IPVS commands. CmdGetFamily is not an IPVS command: it names the
// resolution of the family through the netlink controller in errors.
const (
	CmdGetFamily  Command = 0  // (pseudo command: nlctrl CTRL_CMD_GETFAMILY)
	CmdNewService Command = 1  // IPVS_CMD_NEW_SERVICE
	CmdSetService Command = 2  // IPVS_CMD_SET_SERVICE
	CmdDelService Command = 3  // IPVS_CMD_DEL_SERVICE
	CmdGetService Command = 4  // IPVS_CMD_GET_SERVICE
	CmdNewDest    Command = 5  // IPVS_CMD_NEW_DEST
	CmdSetDest    Command = 6  // IPVS_CMD_SET_DEST
	CmdDelDest    Command = 7  // IPVS_CMD_DEL_DEST
	CmdGetDest    Command = 8  // IPVS_CMD_GET_DEST
	CmdNewDaemon  Command = 9  // IPVS_CMD_NEW_DAEMON
	CmdDelDaemon  Command = 10 // IPVS_CMD_DEL_DAEMON
	CmdGetDaemon  Command = 11 // IPVS_CMD_GET_DAEMON
	CmdSetConfig  Command = 12 // IPVS_CMD_SET_CONFIG
	CmdGetConfig  Command = 13 // IPVS_CMD_GET_CONFIG
	CmdSetInfo    Command = 14 // IPVS_CMD_SET_INFO (only the GET_INFO reply)
	CmdGetInfo    Command = 15 // IPVS_CMD_GET_INFO
	CmdZero       Command = 16 // IPVS_CMD_ZERO
	CmdFlush      Command = 17 // IPVS_CMD_FLUSH
)

var commandNames = [...]string{
	CmdGetFamily:  "get-family",
	CmdNewService: "new-service",
	CmdSetService: "set-service",
	CmdDelService: "del-service",
	CmdGetService: "get-service",
	CmdNewDest:    "new-dest",
	CmdSetDest:    "set-dest",
	CmdDelDest:    "del-dest",
	CmdGetDest:    "get-dest",
	CmdNewDaemon:  "new-daemon",
	CmdDelDaemon:  "del-daemon",
	CmdGetDaemon:  "get-daemon",
	CmdSetConfig:  "set-config",
	CmdGetConfig:  "get-config",
	CmdSetInfo:    "set-info",
	CmdGetInfo:    "get-info",
	CmdZero:       "zero",
	CmdFlush:      "flush",
}

// String returns the command's name in lower-case words, e.g. "new-service".
func (c Command) String() string {
	if int(c) < len(commandNames) {
		return commandNames[c]
	}
	return fmt.Sprintf("command(%d)", uint8(c))
}

// Top-level attributes (IPVS_CMD_ATTR_*).
const (
	cmdAttrService       = 1 // IPVS_CMD_ATTR_SERVICE (nested)
	cmdAttrDest          = 2 // IPVS_CMD_ATTR_DEST (nested)
	cmdAttrDaemon        = 3 // IPVS_CMD_ATTR_DAEMON (nested)
	cmdAttrTimeoutTCP    = 4 // IPVS_CMD_ATTR_TIMEOUT_TCP (u32, seconds)
	cmdAttrTimeoutTCPFin = 5 // IPVS_CMD_ATTR_TIMEOUT_TCP_FIN (u32, seconds)
	cmdAttrTimeoutUDP    = 6 // IPVS_CMD_ATTR_TIMEOUT_UDP (u32, seconds)
)

// Top-level attributes of the GET_INFO reply (IPVS_INFO_ATTR_*).
const (
	infoAttrVersion     = 1 // IPVS_INFO_ATTR_VERSION (u32)
	infoAttrConnTabSize = 2 // IPVS_INFO_ATTR_CONN_TAB_SIZE (u32)
)

// Service attributes (IPVS_SVC_ATTR_*).
const (
	svcAttrAF        = 1  // IPVS_SVC_ATTR_AF (u16)
	svcAttrProtocol  = 2  // IPVS_SVC_ATTR_PROTOCOL (u16)
	svcAttrAddr      = 3  // IPVS_SVC_ATTR_ADDR (union nf_inet_addr, 16 bytes)
	svcAttrPort      = 4  // IPVS_SVC_ATTR_PORT (u16, network order)
	svcAttrFWMark    = 5  // IPVS_SVC_ATTR_FWMARK (u32)
	svcAttrSchedName = 6  // IPVS_SVC_ATTR_SCHED_NAME (string)
	svcAttrFlags     = 7  // IPVS_SVC_ATTR_FLAGS (struct ip_vs_flags)
	svcAttrTimeout   = 8  // IPVS_SVC_ATTR_TIMEOUT (u32, seconds)
	svcAttrNetmask   = 9  // IPVS_SVC_ATTR_NETMASK (u32: v4 mask bytes, v6 prefix length)
	svcAttrStats     = 10 // IPVS_SVC_ATTR_STATS (nested, 32-bit)
	svcAttrPEName    = 11 // IPVS_SVC_ATTR_PE_NAME (string)
	svcAttrStats64   = 12 // IPVS_SVC_ATTR_STATS64 (nested, 64-bit)
)

// Destination attributes (IPVS_DEST_ATTR_*).
const (
	destAttrAddr         = 1  // IPVS_DEST_ATTR_ADDR (union nf_inet_addr)
	destAttrPort         = 2  // IPVS_DEST_ATTR_PORT (u16, network order)
	destAttrFwdMethod    = 3  // IPVS_DEST_ATTR_FWD_METHOD (u32)
	destAttrWeight       = 4  // IPVS_DEST_ATTR_WEIGHT (u32)
	destAttrUThresh      = 5  // IPVS_DEST_ATTR_U_THRESH (u32)
	destAttrLThresh      = 6  // IPVS_DEST_ATTR_L_THRESH (u32)
	destAttrActiveConns  = 7  // IPVS_DEST_ATTR_ACTIVE_CONNS (u32)
	destAttrInactConns   = 8  // IPVS_DEST_ATTR_INACT_CONNS (u32)
	destAttrPersistConns = 9  // IPVS_DEST_ATTR_PERSIST_CONNS (u32)
	destAttrStats        = 10 // IPVS_DEST_ATTR_STATS (nested, 32-bit)
	destAttrAddrFamily   = 11 // IPVS_DEST_ATTR_ADDR_FAMILY (u16)
	destAttrStats64      = 12 // IPVS_DEST_ATTR_STATS64 (nested, 64-bit)
	destAttrTunType      = 13 // IPVS_DEST_ATTR_TUN_TYPE (u8)
	destAttrTunPort      = 14 // IPVS_DEST_ATTR_TUN_PORT (u16, network order)
	destAttrTunFlags     = 15 // IPVS_DEST_ATTR_TUN_FLAGS (u16)
)

// Sync daemon attributes (IPVS_DAEMON_ATTR_*).
const (
	daemonAttrState       = 1 // IPVS_DAEMON_ATTR_STATE (u32)
	daemonAttrMcastIfn    = 2 // IPVS_DAEMON_ATTR_MCAST_IFN (string)
	daemonAttrSyncID      = 3 // IPVS_DAEMON_ATTR_SYNC_ID (u32)
	daemonAttrSyncMaxLen  = 4 // IPVS_DAEMON_ATTR_SYNC_MAXLEN (u16)
	daemonAttrMcastGroup  = 5 // IPVS_DAEMON_ATTR_MCAST_GROUP (u32, network order)
	daemonAttrMcastGroup6 = 6 // IPVS_DAEMON_ATTR_MCAST_GROUP6 (struct in6_addr)
	daemonAttrMcastPort   = 7 // IPVS_DAEMON_ATTR_MCAST_PORT (u16, host order!)
	daemonAttrMcastTTL    = 8 // IPVS_DAEMON_ATTR_MCAST_TTL (u8)
)

// Statistics attributes (IPVS_STATS_ATTR_*), inside STATS and STATS64.
const (
	statsAttrConns    = 1  // IPVS_STATS_ATTR_CONNS
	statsAttrInPkts   = 2  // IPVS_STATS_ATTR_INPKTS
	statsAttrOutPkts  = 3  // IPVS_STATS_ATTR_OUTPKTS
	statsAttrInBytes  = 4  // IPVS_STATS_ATTR_INBYTES (u64 in both flavours)
	statsAttrOutBytes = 5  // IPVS_STATS_ATTR_OUTBYTES (u64 in both flavours)
	statsAttrCPS      = 6  // IPVS_STATS_ATTR_CPS
	statsAttrInPPS    = 7  // IPVS_STATS_ATTR_INPPS
	statsAttrOutPPS   = 8  // IPVS_STATS_ATTR_OUTPPS
	statsAttrInBPS    = 9  // IPVS_STATS_ATTR_INBPS
	statsAttrOutBPS   = 10 // IPVS_STATS_ATTR_OUTBPS
	statsAttrPad      = 11 // IPVS_STATS_ATTR_PAD (ignored)
)

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

// AddressFamily is an address family as used by IPVS (AF_INET or AF_INET6).
type AddressFamily uint16

// Address families.
const (
	AFUnspec AddressFamily = 0  // AF_UNSPEC
	AFInet   AddressFamily = 2  // AF_INET
	AFInet6  AddressFamily = 10 // AF_INET6
)

// String returns "inet", "inet6" or "af(N)".
func (f AddressFamily) String() string {
	switch f {
	case AFInet:
		return "inet"
	case AFInet6:
		return "inet6"
	case AFUnspec:
		return "unspec"
	}
	return fmt.Sprintf("af(%d)", uint16(f))
}

// Protocol is the IP protocol of a virtual service.
type Protocol uint16

// Protocols supported by IPVS services.
const (
	ProtoTCP  Protocol = 6   // IPPROTO_TCP
	ProtoUDP  Protocol = 17  // IPPROTO_UDP
	ProtoSCTP Protocol = 132 // IPPROTO_SCTP
)

// String returns "TCP", "UDP", "SCTP" or the number.
func (p Protocol) String() string {
	switch p {
	case ProtoTCP:
		return "TCP"
	case ProtoUDP:
		return "UDP"
	case ProtoSCTP:
		return "SCTP"
	}
	return fmt.Sprintf("proto(%d)", uint16(p))
}

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

	fwdMask ForwardMethod = 0x7 // IP_VS_CONN_F_FWD_MASK
)

// String returns the name ipvsadm prints: Masq, Local, Tunnel, Route, or
// Bypass; other values print as numbers.
func (m ForwardMethod) String() string {
	switch m {
	case FwdMasq:
		return "Masq"
	case FwdLocal:
		return "Local"
	case FwdTunnel:
		return "Tunnel"
	case FwdRoute:
		return "Route"
	case FwdBypass:
		return "Bypass"
	}
	return fmt.Sprintf("fwd(%d)", uint32(m))
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
func (t TunnelType) String() string {
	switch t {
	case TunnelIPIP:
		return "ipip"
	case TunnelGUE:
		return "gue"
	case TunnelGRE:
		return "gre"
	}
	return fmt.Sprintf("tun(%d)", uint8(t))
}

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
func (f TunnelFlags) String() string {
	switch f {
	case TunnelNoCsum:
		return "nocsum"
	case TunnelCsum:
		return "csum"
	case TunnelRemCsum:
		return "remcsum"
	case TunnelCsum | TunnelRemCsum:
		return "csum|remcsum"
	}
	return fmt.Sprintf("tunflags(%#x)", uint16(f))
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
func (s DaemonState) String() string {
	switch s {
	case DaemonMaster:
		return "master"
	case DaemonBackup:
		return "backup"
	case DaemonNone:
		return "none"
	}
	return fmt.Sprintf("state(%d)", uint32(s))
}
