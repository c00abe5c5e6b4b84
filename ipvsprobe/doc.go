// Package ipvsprobe asks the running kernel which IPVS features it has,
// where kernels differ: the schedulers and persistence engines it can use
// (twos is in newer kernels only: 6.12 has it, 6.1 not; a distribution may
// leave some out) and the tunnel encapsulations (GUE with Linux 5.2, GRE
// with 5.3).
//
// The kernel cannot be asked directly: no netlink message lists the
// schedulers, and a kernel that does not know a destination attribute
// ignores it without an error, so a GRE destination would silently become
// an IPIP one. So Probe tries the features in a scratch network namespace
// (netns.Scratch) that is discarded afterwards: it creates a service per
// scheduler and persistence engine (the kernel loads the module if it can,
// as a real request would) and a tunnel destination per encapsulation,
// reads them back and reports what the kernel refused or changed. The
// caller's table is never touched. Sysctls need no probe: ipvssysctl lists
// the ones present.
//
// Probing needs CAP_SYS_ADMIN (to create the namespace) besides
// CAP_NET_ADMIN; without it Probe fails with an error matching
// os.ErrPermission, and callers should let the kernel's own answers speak.
package ipvsprobe
