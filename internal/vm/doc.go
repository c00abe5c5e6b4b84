// Package vm boots throwaway Linux guests with real IPVS kernels under
// QEMU and runs commands in them.
//
// The host this project is developed and tested on runs a kernel built
// without IPVS, so everything that must talk to the real kernel code runs in
// small virtual machines instead: Debian's 5.10, 6.1 and 6.12 kernels,
// pinned to exact packages and checksums in kernels.txt ([Kernels],
// fetched with apt-get and cached by [PrepareAssets]), an initramfs written
// by this package (newc cpio + gzip, see [CPIOWriter]) holding busybox, the
// ip_vs modules ([ModuleTree]), Debian's ipvsadm 1.31 as the reference
// implementation, iproute2 and whatever the caller adds, and a generated
// /init script that asks the host for [Job] values to run until it is
// told to stop, then powers the machine off.
//
// The guest console is the first serial port, read by [Boot] on QEMU's
// standard output. The init script frames each job's output with marker
// lines (@@@VMJOB-BEGIN name, @@@VMJOB-END name rc=N, and @@@VM-DONE at the
// end), which [ConsoleParser] turns into a [Result]. The second serial port
// is the control channel: the guest asks for its next job there and
// [Config].Next answers, so several guests can share one queue of work.
//
// # Guest layout
//
//   - /bin/busybox and its applets (installed at boot by busybox --install -s)
//   - /usr/sbin/ipvsadm: the host's Debian ipvsadm, the reference oracle
//   - /usr/sbin/ip-full: the host's iproute2 ip (busybox's ip applet shadows
//     the name "ip", so call this one by absolute path for ip netns)
//   - /usr/sbin/keepalived: the host's Debian keepalived with its libraries,
//     if the host has it ([GuestKeepalived])
//   - /usr/local/sbin: programs the caller adds (the project's own commands)
//   - /lib/modules/<version>/...: the modules listed by [DefaultModules],
//     plus [FTPModules] and [SIPModules] on request
//   - /etc/services, /etc/protocols (copied from the host), /etc/nsswitch.conf
//     (files only), /etc/passwd and /etc/group (root only) and /etc/hosts
//     with the fixed test names in [GuestHosts]
//   - /run/netns, /tmp: tmpfs mounts
//
// The environment of every job contains IPVS_VM=1, which is how tests tell
// that they run inside the guest, and IPVS_VM_KERNEL, the pinned name of
// the kernel ("6.1").
//
// Nothing in this package prints to standard output or exits the process:
// progress goes to the io.Writer values in [Config] and [AssetOptions], and
// failures come back as errors.
package vm
