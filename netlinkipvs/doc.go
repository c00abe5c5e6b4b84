// Package netlinkipvs speaks the Linux IPVS (IP Virtual Server) generic
// netlink family "IPVS" directly, without libnl and without cgo.
//
// A Client holds one long-lived netlink socket on which the family ID was
// resolved once. It covers every command of the family: GET_INFO, service
// and destination create/update/delete/list, FLUSH, ZERO, the TCP/TCP-FIN/UDP
// timeouts (GET/SET_CONFIG) and the connection synchronisation daemons. Write
// requests can be batched many to a sendmsg(2) call with Client.Batch, each
// acknowledgement matched back to its request.
//
// Values are typed: addresses are netip.Addr, protocols, forwarding methods,
// tunnel types and flags are small integer types with String methods, and
// the kernel's constants live in const.go next to their ip_vs.h names.
//
// Errors returned by the kernel are *Error values carrying the IPVS command
// and the errno; errors.Is maps ENOENT and ESRCH to os.ErrNotExist, EEXIST to
// os.ErrExist and EPERM/EACCES to os.ErrPermission.
//
// Every operation is bounded by a per-request deadline (see WithTimeout), so
// no call can block forever, and a Client can be bound to a network namespace
// with WithNetNS.
//
// The IPVS family has no notifications and no connection listing; the
// connection table is read from /proc by package ipvsproc.
package netlinkipvs
