// Package lvslab builds small LVS labs inside the test VM (see
// internal/vm and internal/vm/vmtest) and measures the programs that
// manage them: real servers in network namespaces, keepalived's health
// checker running against the guest's IPVS, and the CPU time and memory
// of a process tree. It is for VM tests and benchmarks that compare
// keepalived with the project's own health-checking agent:
//
//	lvslab.RequireKeepalived(t)
//	vmtest.Reset(t)
//	ns := lvslab.NewNetns(t, "lvsrs")
//	lvslab.LinkRoot(t, ns, "lvs0", "lvs1", netip.MustParsePrefix("192.168.50.1/24"),
//		netip.MustParsePrefix("192.168.50.2/24"))
//	srv := lvslab.ServeHTTP(t, ns, netip.MustParseAddrPort("192.168.50.2:80"))
//	ka := lvslab.StartKeepalived(t, cfg.Text())
//	lvslab.WaitDest(t, vip, srv.Addr, "weight 1", lvslab.DestWeight(1), time.Minute)
//	srv.Stop(t)
//	took := lvslab.WaitDest(t, vip, srv.Addr, "down", lvslab.DestDown, time.Minute)
//	cpu := lvslab.Sum(ka.Usage(t)).CPU()
//
// The parts:
//
//   - Real servers: NewNetns, LinkRoot and IPBatch build namespaces
//     joined to the root one (the director) by veth pairs (Link joins
//     two namespaces, Veth without a default route); ServeHTTP runs
//     a busybox httpd on one address that Stop and Start take down and
//     bring back; Netns.TCPCounters counts the connections that reached a
//     namespace (PassiveOpens: one per TCP_CHECK or HTTP_GET).
//   - keepalived: StartKeepalived runs its checker alone (-C) in the
//     foreground with a given configuration; KeepalivedProc gives the
//     parent's and the checker's PIDs, their Usage, the log (WaitLog),
//     and stops them. CheckConfig runs --config-test. Config and Scale
//     write configurations: one service by hand, or N services x M real
//     servers from a pool of K.
//   - IPVS as the reference ipvsadm -Ln shows it: ListIPVS,
//     ListIPVSService, ParseIpvsadmList, and WaitDest and WaitIPVS, which
//     poll until a condition holds and say how long that took.
//   - etcd: StartEtcd runs tools/etcdserver in a namespace on a data
//     directory; EtcdProc stops it and starts it again on the same data
//     (Stop, Start), gives its endpoint URL and a Client that dials from
//     its namespace, and its log.
//   - Processes: ReadUsage, TreeUsage and Sum read CPU ticks and VmRSS
//     from /proc; Descendants, Children and MappedFiles (what a process
//     loaded, dlopen() included).
//
// Everything started is stopped, and every namespace deleted, by
// t.Cleanup. The helpers fail the test on errors; they skip nothing, so
// call vmtest.Require or RequireKeepalived first.
//
// The configuration generator (Config, Scale) and the parsers run
// anywhere; the rest needs the guest: its programs at the paths below,
// root, and a kernel with IPVS.
package lvslab

import "github.com/ipvs-tools/ipvs/internal/vm"

// Guest paths of the programs the lab runs.
const (
	// Keepalived is Debian's keepalived (absent if the image was built
	// on a host without it: see RequireKeepalived).
	Keepalived = vm.GuestKeepalived
	// Busybox is the static busybox (httpd, wget, nc).
	Busybox = vm.GuestBusybox
	// IPFull is iproute2's ip.
	IPFull = vm.GuestIPFull
	// EtcdServer is tools/etcdserver, a single-member etcd built from
	// the etcd module (vmrun installs every tool in /usr/local/sbin).
	EtcdServer = vm.GuestLocalSbin + "/etcdserver"
)
