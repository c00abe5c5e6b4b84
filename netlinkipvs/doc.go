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
// The kernel sends no answer at all when it stops a sync daemon whose
// thread has not run yet (kthread_stop returns EINTR, which netlink treats
// as "answer later"). The daemon is stopped all the same. So that such a
// request cannot leave its caller waiting, NEW_DAEMON and DEL_DAEMON are
// followed in the same sendmsg(2) by a GET_INFO barrier: when the barrier
// is answered and the daemon request is not, DEL_DAEMON counts as done and
// NEW_DAEMON returns an *Error with EINTR.
//
// The IPVS family has no notifications and no connection listing; the
// connection table is read from /proc by package ipvsproc.
package netlinkipvs
