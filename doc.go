// Package ipvs is the vocabulary of IP Virtual Server: the nouns of the
// kernel's include/uapi/linux/ip_vs.h as Go values — services and their
// keys, destinations, statistics, timeouts, sync daemons, address
// families, protocols, forwarding methods, tunnel types and flags, with
// String methods — the commands (IPVS_CMD_*) and the write requests (Op)
// that carry a change to a table.
//
// It depends on nothing but the standard library and builds for every
// GOOS, so that the packages that only reason about tables (the ipvsadm
// grammar, plans, documents) can be used anywhere. The transports speak
// to a kernel in these terms: netlinkipvs (the generic netlink family),
// ipvsproc (/proc/net/ip_vs*), ipvssysctl and netns.
package ipvs
