package ipvssysctl

import "sort"

// Kind says what values a sysctl takes and how Set validates them.
type Kind int

// Kinds of sysctls.
const (
	// KindString is any text, written as is: sysctls this package does
	// not know.
	KindString Kind = iota
	// KindInt is one integer in [Min, Max].
	KindInt
	// KindBool is 0 or 1 (the kernel takes any integer and treats
	// non-zero as on; Set insists on 0 or 1).
	KindBool
	// KindDefense is a DoS-defense mode, 0..3 (see DefenseMode).
	KindDefense
	// KindPowerOf2 is a power of two in [Min, Max] (sync_ports).
	KindPowerOf2
	// KindIntPair is two integers (sync_threshold: threshold and period).
	KindIntPair
	// KindBitmap is an integer whose set bits must lie within Max.
	KindBitmap
	// KindCPUList is a CPU list such as "0-3,8" ("" is allowed).
	KindCPUList
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindInt:
		return "int"
	case KindBool:
		return "bool"
	case KindDefense:
		return "defense-mode"
	case KindPowerOf2:
		return "power-of-2"
	case KindIntPair:
		return "int-pair"
	case KindBitmap:
		return "bitmap"
	case KindCPUList:
		return "cpulist"
	}
	return "kind?"
}

// Info describes a sysctl this package knows.
type Info struct {
	// Name is the file name under /proc/sys/net/ipv4/vs.
	Name string
	// Kind and the inclusive range [Min, Max] (for KindBitmap, Max is the
	// mask of valid bits) drive validation.
	Kind     Kind
	Min, Max int64
	// Default is the kernel's default value as the file shows it ("" if it
	// depends on the machine).
	Default string
	// Unit is "pages", "seconds", "bytes", ... or "".
	Unit string
	// Defense marks the DoS-defense group: amemthresh, am_droprate,
	// drop_entry, drop_packet, secure_tcp.
	Defense bool
	// Description says what the sysctl does, in a sentence or two.
	Description string
	// Note is a caveat about availability or behaviour, or "".
	Note string
}

const maxInt = 1<<31 - 1

// secondsMax is the largest number of seconds that a jiffies-backed sysctl
// takes on any HZ up to 1000 (INT_MAX/HZ).
const secondsMax = maxInt / 1000

var known = []Info{
	{Name: "amemthresh", Kind: KindInt, Min: 0, Max: maxInt, Default: "1024", Unit: "pages", Defense: true,
		Description: "Memory is \"low\" when free plus buffer memory is below this many pages; the automatic DoS defences (modes 1 and 2) switch on while it is."},
	{Name: "am_droprate", Kind: KindInt, Min: 0, Max: maxInt, Default: "10", Defense: true,
		Description: "Rate for drop_packet mode 3: drop one in this many packets that would create a new connection."},
	{Name: "drop_entry", Kind: KindDefense, Min: 0, Max: 3, Default: "0", Defense: true,
		Description: "Randomly drop connection entries (half-open TCP, young idle entries, unassured templates) to free memory. " + defenseModes},
	{Name: "drop_packet", Kind: KindDefense, Min: 0, Max: 3, Default: "0", Defense: true,
		Description: "Drop a share of the packets that would create new connections (automatic rate from memory, or 1/am_droprate in mode 3). " + defenseModes},
	{Name: "secure_tcp", Kind: KindDefense, Min: 0, Max: 3, Default: "0", Defense: true,
		Description: "Use the stricter TCP state table (and its timeouts) that resists SYN floods; for NAT a connection is ESTABLISHED only after the full handshake. " + defenseModes},
	{Name: "conntrack", Kind: KindBool, Min: 0, Max: 1, Default: "0",
		Description: "Keep netfilter conntrack entries for IPVS connections, as stateful firewall rules on the director need.",
		Note:        "Only with CONFIG_IP_VS_NFCT."},
	{Name: "snat_reroute", Kind: KindBool, Min: 0, Max: 1, Default: "1",
		Description: "Route NAT replies again after source NAT, as if they were sent by the director (for policy routing by source)."},
	{Name: "cache_bypass", Kind: KindBool, Min: 0, Max: 1, Default: "0",
		Description: "When no destination is available, send packets to their original destination (transparent cache clusters)."},
	{Name: "expire_nodest_conn", Kind: KindBool, Min: 0, Max: 1, Default: "0",
		Description: "Expire a connection at its next packet once its destination has been removed, instead of dropping packets until it times out."},
	{Name: "expire_quiescent_template", Kind: KindBool, Min: 0, Max: 1, Default: "0",
		Description: "Expire persistence templates that point at a quiesced (weight 0) destination, so clients move to another one."},
	{Name: "sloppy_tcp", Kind: KindBool, Min: 0, Max: 1, Default: "0",
		Description: "Create connections from any TCP packet, not only SYN (lets a backup director take over established flows)."},
	{Name: "sloppy_sctp", Kind: KindBool, Min: 0, Max: 1, Default: "0",
		Description: "Create connections from any SCTP packet, not only INIT."},
	{Name: "nat_icmp_send", Kind: KindBool, Min: 0, Max: 1, Default: "0",
		Description: "Send ICMP port unreachable for NAT replies from real servers that match no connection."},
	{Name: "pmtu_disc", Kind: KindBool, Min: 0, Max: 1, Default: "1",
		Description: "Honour DF and send ICMP FRAG_NEEDED for oversized packets; 0 lets tunnel forwarding fragment them."},
	{Name: "backup_only", Kind: KindBool, Min: 0, Max: 1, Default: "0",
		Description: "Disable the director function while the backup sync daemon runs (avoids loops with DR/TUN between directors)."},
	{Name: "conn_reuse_mode", Kind: KindBitmap, Min: 0, Max: 3, Default: "1",
		Description: "What to do when a client reuses the port of an old connection: bit 0 (1) reschedules it when that is safe (expire_nodest_conn, TIME_WAIT); bit 1 (2) also in FIN_WAIT. 0 keeps the old destination."},
	{Name: "schedule_icmp", Kind: KindBool, Min: 0, Max: 1, Default: "0",
		Description: "Schedule ICMP errors that match no connection as new flows (for consistent hashing across ECMP directors)."},
	{Name: "ignore_tunneled", Kind: KindBool, Min: 0, Max: 1, Default: "0",
		Description: "Mark packets of unknown tunnelled protocols as owned by IPVS so they are not scheduled again (avoids loops)."},
	{Name: "run_estimation", Kind: KindBool, Min: 0, Max: 1, Default: "1",
		Description: "Run the rate estimator; with 0 the CPS/PPS/BPS rates stop changing.",
		Note:        "Linux 5.18 and later; read-only in namespaces of non-init user namespaces (6.2+)."},
	{Name: "sync_version", Kind: KindInt, Min: 0, Max: 1, Default: "1",
		Description: "Version of the sync protocol the master sends: 1 (current) or 0 (before Linux 2.6.39)."},
	{Name: "sync_ports", Kind: KindPowerOf2, Min: 1, Max: maxInt, Default: "1",
		Description: "Number of sync threads and UDP ports used by the sync daemons; a power of two (capped at 64 when the daemon starts)."},
	{Name: "sync_persist_mode", Kind: KindBool, Min: 0, Max: 1, Default: "0",
		Description: "For persistent services, sync only the templates, not every connection."},
	{Name: "sync_qlen_max", Kind: KindInt, Min: 0, Max: 1<<63 - 1, Default: "",
		Description: "Largest number of sync messages queued for sending (default: free memory pages / 32)."},
	{Name: "sync_sock_size", Kind: KindInt, Min: 0, Max: maxInt, Default: "0", Unit: "bytes",
		Description: "Send and receive buffer size of the sync sockets; 0 keeps the system default."},
	{Name: "sync_threshold", Kind: KindIntPair, Min: 0, Max: maxInt, Default: "3\t50",
		Description: "Two numbers, threshold and period: a connection is synced when its incoming packet count modulo period equals threshold. threshold must be below period unless period is 0 (sync only on state changes)."},
	{Name: "sync_refresh_period", Kind: KindInt, Min: 0, Max: secondsMax, Default: "0", Unit: "seconds",
		Description: "Sync a connection again when its timer changed by this much (0: use sync_threshold instead)."},
	{Name: "sync_retries", Kind: KindInt, Min: 0, Max: 3, Default: "0",
		Description: "How many times to resend sync messages, at sync_refresh_period/8 intervals."},
	{Name: "lblc_expiration", Kind: KindInt, Min: 0, Max: secondsMax, Default: "86400", Unit: "seconds",
		Description: "How long the lblc scheduler keeps an unused destination entry.",
		Note:        "Present only while the ip_vs_lblc module is loaded."},
	{Name: "lblcr_expiration", Kind: KindInt, Min: 0, Max: secondsMax, Default: "86400", Unit: "seconds",
		Description: "How long the lblcr scheduler keeps an unused destination set.",
		Note:        "Present only while the ip_vs_lblcr module is loaded."},
	{Name: "est_cpulist", Kind: KindCPUList, Default: "",
		Description: "CPUs that run the rate-estimation kernel threads, as a CPU list (\"0-3,8\"); empty stops estimation.",
		Note:        "Linux 6.2 and later."},
	{Name: "est_nice", Kind: KindInt, Min: -20, Max: 19, Default: "0",
		Description: "Nice value of the estimation kernel threads.",
		Note:        "Linux 6.2 and later."},
	{Name: "conn_lfactor", Kind: KindInt, Min: -8, Max: 8, Default: "-4",
		Description: "Load factor of the resizable per-namespace connection table (buckets = connections * 2^-lfactor).",
		Note:        "Upstream 2026 (expected after 7.0)."},
	{Name: "svc_lfactor", Kind: KindInt, Min: -8, Max: 8, Default: "-3",
		Description: "Load factor of the resizable per-namespace service table.",
		Note:        "Upstream 2026 (expected after 7.0)."},
	{Name: "debug_level", Kind: KindInt, Min: 0, Max: maxInt, Default: "0",
		Description: "Verbosity of IPVS debug messages.",
		Note:        "Only with CONFIG_IP_VS_DEBUG (off in distribution kernels)."},
}

const defenseModes = "0: never; 1: automatic, currently off (the kernel switches it to 2 while memory is low); 2: automatic, currently on (switched back to 1 when memory recovers); 3: always."

var knownIndex = func() map[string]*Info {
	m := make(map[string]*Info, len(known))
	for i := range known {
		m[known[i].Name] = &known[i]
	}
	return m
}()

// Known returns every sysctl this package knows, sorted by name, whether
// or not the running kernel has it.
func Known() []Info {
	out := append([]Info(nil), known...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns what the package knows about the sysctl name.
func Lookup(name string) (Info, bool) {
	if i, ok := knownIndex[name]; ok {
		return *i, true
	}
	return Info{}, false
}

// DefenseNames are the sysctls of the DoS-defense group, in the order the
// kernel documentation lists them.
var DefenseNames = []string{"amemthresh", "am_droprate", "drop_entry", "drop_packet", "secure_tcp"}
