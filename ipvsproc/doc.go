// Package ipvsproc reads the kernel's IPVS files under /proc/net: the
// connection table (ip_vs_conn and ip_vs_conn_sync), the text view of the
// services and their destinations (ip_vs), and the global counters
// (ip_vs_stats, ip_vs_stats_percpu).
//
// Netlink has no connection listing, so /proc/net/ip_vs_conn is the only
// way to list IPVS connections. The table can hold millions of entries, so
// the parser streams: ConnScanner (and the ScanConns and ReadConns
// callbacks) hands out one reused *Conn per line and allocates nothing per
// line for ordinary entries. Input is read with requests of at least
// MinReadSize bytes per read(2): on kernels whose seq_file restarts its hash
// walk on every read(), fewer reads are cheaper. (The 6.1 kernel still
// returns at most one page per read, whatever the request; see Reads.)
//
// Format notes (Linux 6.1, see ip_vs_conn_seq_show and
// ip_vs_info_seq_show):
//
//   - IPv4 addresses are 8 hex digits of the host-order value, IPv6
//     addresses the uncompressed %pI6 form, ports 4 hex digits. The address
//     family is detected per field: a connection of an IPv6 service to an
//     IPv4 tunnel destination has IPv6 client and virtual addresses and an
//     IPv4 destination.
//   - Persistence templates have client port 0. Templates of firewall-mark
//     services have protocol IP, and their virtual address holds the mark
//     (see Conn.FWMark).
//   - Expiry is in seconds; the optional PE name and data (for example
//     "sip <Call-ID>") follow it. ip_vs_conn_sync has an Origin column
//     (LOCAL or SYNC) instead of the PE columns.
//   - In /proc/net/ip_vs the persistence timeout is in jiffies, the IPv6
//     "mask" is the prefix length passed through ntohl, IPv6 services never
//     show "ops", firewall-mark lines carry no address family, and each
//     destination is printed in its own family.
//
// Every reader can target another network namespace (WithNetNS): the file
// is opened under /proc/thread-self/net on a thread switched into that
// namespace by package netns, which fixes the file's namespace at open
// time; the reading itself then happens on the caller's goroutine, and no
// other goroutine or thread changes namespace.
//
// Nothing in this package prints, reads flags or exits. Malformed input
// gives a *ParseError naming the file, line and field; the parsers never
// panic.
package ipvsproc
