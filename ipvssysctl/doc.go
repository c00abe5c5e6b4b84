// Package ipvssysctl reads, validates and writes the IPVS sysctls under
// /proc/sys/net/ipv4/vs.
//
// The set of sysctls differs between kernels (est_cpulist and est_nice
// appeared in 6.2, run_estimation in 5.18), with the loaded modules
// (lblc_expiration, lblcr_expiration) and with the namespace: in 6.1 a
// network namespace owned by a non-init user namespace has none of them
// (its directory is empty, as seen in the test VM), and newer kernels show
// some read-only there. So List discovers what is
// present at run time; every known sysctl comes with a description and a
// validation rule (Info), and unknown ones are still listed and settable
// as raw strings.
//
// Set validates before it writes: an out-of-range value gets an *Error
// that names the sysctl and says why, matches ErrInvalid, and leaves the
// value unchanged. Errors match os.ErrNotExist when a sysctl is absent and
// os.ErrPermission when it is read-only.
//
// The DoS-defense group (amemthresh, am_droprate, drop_entry, drop_packet,
// secure_tcp) has its own accessors; see DefenseMode for the kernel's own
// flipping between modes 1 and 2.
//
// A handle can target another network namespace (WithNetNS): files are
// opened on a thread switched into it by package netns, never on the
// caller's thread. For tests the directory is injectable (WithDir).
package ipvssysctl
