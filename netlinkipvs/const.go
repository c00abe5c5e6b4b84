package netlinkipvs

// The generic netlink family, from include/uapi/linux/ip_vs.h.
const (
	familyName    = "IPVS" // IPVS_GENL_NAME
	familyVersion = 1      // IPVS_GENL_VERSION
)

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
