package doctor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/ipvsprobe"
)

// methods names the forwarding methods of a service's real servers, for
// a sentence: ", and its NAT and direct routing real servers get
// nothing"; empty for a service without any.
func methods(vs ipvs.VirtualServer) string {
	names := map[ipvs.ForwardMethod]string{ipvs.FwdMasq: "NAT", ipvs.FwdRoute: "direct routing",
		ipvs.FwdTunnel: "tunnelling", ipvs.FwdLocal: "local"}
	var out []string
	for _, m := range []ipvs.ForwardMethod{ipvs.FwdMasq, ipvs.FwdRoute, ipvs.FwdTunnel, ipvs.FwdLocal} {
		if slices.ContainsFunc(vs.Destinations, func(d ipvs.Destination) bool { return d.ForwardMethod == m }) {
			out = append(out, names[m])
		}
	}
	if len(out) == 0 {
		return ""
	}
	return ", and its " + strings.Join(out, " and ") + " real servers get nothing"
}

// hostBits returns /32 or /128 for a.
func hostBits(vs ipvs.Service) string {
	if vs.Address.Is4() {
		return "/32"
	}
	return "/128"
}

// checkVIPs: packets for a VIP reach IPVS only if the director takes them
// as its own (LOCAL_IN), whatever the forwarding method; a firewall-mark
// service has no VIP, its marks come from the firewall.
func checkVIPs(in Input, svcs []service, h Host) []Finding {
	var out []Finding
	for _, s := range svcs {
		k := s.vs.Service
		f := Finding{Check: CheckVIP, Object: Object{KindService, s.name()}}
		if k.Key().IsFWMark() {
			f.Severity = Info
			f.Message = "a firewall-mark service has no address to check: packets reach it by the marks your firewall rules set (iptables -t mangle, nft), which doctor does not read" + s.where()
			out = append(out, f)
			continue
		}
		local, err := h.IsLocal(k.Address)
		switch {
		case err != nil:
			f.Severity = Warning
			f.Message = fmt.Sprintf("could not tell whether %s is an address of this director: %v", k.Address, err)
		case local:
			f.Severity = OK
			f.Message = fmt.Sprintf("%s is an address of this director, so IPVS sees its packets%s", k.Address, s.where())
		default:
			f.Severity = Problem
			f.Message = fmt.Sprintf("%s is not an address of this director, so IPVS never sees packets for it%s%s; add it on lo (or on the interface clients reach), or route the VIPs here with a local route",
				k.Address, methods(s.vs), s.where())
			f.Action = in.sh("ip addr add " + k.Address.String() + hostBits(k) + " dev lo")
		}
		out = append(out, f)
	}
	return out
}

// natCounts counts the NAT real servers by family.
func natCounts(svcs []service) (v4, v6 int) {
	for _, s := range svcs {
		for _, d := range s.vs.Destinations {
			if d.ForwardMethod != ipvs.FwdMasq {
				continue
			}
			if d.EffectiveFamily() == ipvs.AFInet6 {
				v6++
			} else {
				v4++
			}
		}
	}
	return v4, v6
}

// checkForwarding: NAT replies are forwarded by the director (IPVS takes
// them at FORWARD), so the family's forwarding must be on.
func checkForwarding(in Input, svcs []service, h Host) []Finding {
	v4, v6 := natCounts(svcs)
	var out []Finding
	for _, c := range []struct {
		n    int
		path string
	}{{v4, "net/ipv4/ip_forward"}, {v6, "net/ipv6/conf/all/forwarding"}} {
		if c.n == 0 {
			continue
		}
		name := sysctlName(c.path)
		f := Finding{Check: CheckForward, Object: Object{KindSysctl, name}}
		v, err := sysctlInt(h, c.path)
		switch {
		case err != nil:
			f.Severity = Warning
			f.Message = fmt.Sprintf("could not read it (%v); %d NAT real server%s need%s it on", err, c.n, plural(c.n), verbS(c.n))
		case v == 0:
			f.Severity = Problem
			f.Message = fmt.Sprintf("is 0, but %d NAT (masq) real server%s need%s it: their replies pass through this director on the way to the clients and are dropped, so clients get no answer (set it, and in /etc/sysctl.d to keep it)", c.n, plural(c.n), verbS(c.n))
			f.Action = in.sh("sysctl -w " + name + "=1")
		default:
			f.Severity = OK
			f.Message = fmt.Sprintf("is on, as the replies of %d NAT real server%s need", c.n, plural(c.n))
		}
		out = append(out, f)
	}
	return out
}

// checkConntrack explains net.ipv4.vs.conntrack when NAT is used: needed
// only when netfilter also NATs or statefully filters IPVS traffic, which
// doctor cannot see; with it on, the conntrack table must have room.
func checkConntrack(in Input, svcs []service, h Host) []Finding {
	if v4, v6 := natCounts(svcs); v4+v6 == 0 {
		return nil
	}
	const path = "net/ipv4/vs/conntrack"
	f := Finding{Check: CheckConntrack, Object: Object{KindSysctl, sysctlName(path)}}
	v, err := sysctlInt(h, path)
	switch {
	case err != nil:
		f.Severity = Info
		f.Message = fmt.Sprintf("could not read it (%v): without it (a kernel built without CONFIG_IP_VS_NFCT) IPVS connections never enter netfilter's connection tracking, so SNAT/MASQUERADE rules and stateful filters cannot see them", err)
	case v == 0:
		f.Severity = Info
		f.Message = "is 0: NAT connections are not kept in netfilter's connection tracking, which is right for plain NAT; if this director also source-NATs IPVS traffic (SNAT/MASQUERADE, one-armed NAT) or filters it with stateful rules (ct state established), set it to 1"
		f.Action = in.ctl("sysctl set conntrack 1")
	default:
		f.Severity = OK
		f.Message = "is 1: NAT connections are kept in netfilter's connection tracking, as SNAT and stateful rules need; each costs a conntrack entry"
		count, err1 := sysctlInt(h, "net/netfilter/nf_conntrack_count")
		limit, err2 := sysctlInt(h, "net/netfilter/nf_conntrack_max")
		if err1 == nil && err2 == nil && limit > 0 {
			f.Message += fmt.Sprintf(" (%d of %d in use)", count, limit)
			if count*10 >= limit*9 {
				f.Severity = Warning
				f.Message = fmt.Sprintf("is 1, and the conntrack table is %d%% full (%d of %d): when it is full, new connections are dropped", count*100/limit, count, limit)
				f.Action = in.sh(fmt.Sprintf("sysctl -w net.netfilter.nf_conntrack_max=%d", limit*2))
			}
		}
	}
	return []Finding{f}
}

// checkRPFilter: strict reverse-path filtering (the effective value of an
// interface is the larger of "all" and its own) drops packets whose
// source is routed back through another interface, which asymmetric
// routing around a director produces.
func checkRPFilter(in Input, svcs []service, h Host) []Finding {
	if !slices.ContainsFunc(svcs, func(s service) bool { return s.vs.Service.Family == ipvs.AFInet }) {
		return nil
	}
	const allPath = "net/ipv4/conf/all/rp_filter"
	ifs, err := h.Interfaces()
	if err != nil {
		return []Finding{{Check: CheckRPFilter, Severity: Warning, Object: Object{KindSysctl, sysctlName(allPath)},
			Message: fmt.Sprintf("could not list the interfaces: %v", err)}}
	}
	all, err := sysctlInt(h, allPath)
	if err != nil {
		return []Finding{{Check: CheckRPFilter, Severity: Warning, Object: Object{KindSysctl, sysctlName(allPath)},
			Message: fmt.Sprintf("could not read it: %v", err)}}
	}
	var uplinks []Interface
	for _, ifc := range ifs {
		if ifc.Up && !ifc.Loopback {
			uplinks = append(uplinks, ifc)
		}
	}
	var out []Finding
	for _, ifc := range uplinks {
		path := "net/ipv4/conf/" + ifc.Name + "/rp_filter"
		v, err := sysctlInt(h, path)
		if err != nil {
			out = append(out, Finding{Check: CheckRPFilter, Severity: Warning, Object: Object{KindInterface, ifc.Name},
				Message: fmt.Sprintf("could not read %s: %v", sysctlName(path), err)})
			continue
		}
		if max(all, v) != 1 {
			continue
		}
		f := Finding{Check: CheckRPFilter, Severity: Info, Object: Object{KindInterface, ifc.Name},
			Action: in.sh("sysctl -w net.ipv4.conf.all.rp_filter=2 " + sysctlName(path) + "=2")}
		msg := fmt.Sprintf("filters reverse paths strictly (rp_filter: all=%d, %s=%d): a packet is dropped when the route back to its source leaves by another interface", all, ifc.Name, v)
		if len(uplinks) > 1 {
			f.Severity = Warning
			f.Message = msg + fmt.Sprintf("; with %d interfaces up, asymmetric routes (a second uplink, ECMP, NAT replies on another leg, DR/TUN clients arriving where they are not routed back) lose packets before IPVS sees them; loose mode (2) keeps the spoofing check", len(uplinks))
		} else {
			f.Message = msg + "; harmless with this single interface, but set loose mode (2) before adding a second uplink or ECMP"
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		out = append(out, Finding{Check: CheckRPFilter, Severity: OK, Object: Object{KindSysctl, sysctlName(allPath)},
			Message: fmt.Sprintf("no interface filters reverse paths strictly (all=%d; 0 and 2 let asymmetric routes through)", all)})
	}
	return out
}

// checkSchedulers tries, in a scratch namespace, the schedulers that the
// documents name and no live service uses (those are loaded already).
func checkSchedulers(in Input, probe ProbeFunc) []Finding {
	live := map[string]bool{}
	for _, vs := range in.Table {
		live[vs.Service.Scheduler] = true
	}
	var names []string
	wantedBy := map[string]string{}
	for _, d := range in.Documents {
		if d.Desired == nil {
			continue
		}
		for _, vs := range d.Desired.Services {
			s := vs.Service.Scheduler
			if s == "" || live[s] || wantedBy[s] != "" {
				continue
			}
			names = append(names, s)
			wantedBy[s] = d.Name
		}
	}
	if len(names) == 0 {
		return nil
	}
	if probe == nil {
		return []Finding{{Check: CheckScheduler, Severity: Warning, Object: Object{KindScheduler, strings.Join(names, ",")},
			Message: "could not try the documents' schedulers; apply will find out"}}
	}
	rep, err := probe(ipvsprobe.Request{Schedulers: names})
	if err != nil {
		return []Finding{{Check: CheckScheduler, Severity: Warning, Object: Object{KindScheduler, strings.Join(names, ",")},
			Message: fmt.Sprintf("could not try the documents' schedulers (%v); apply will find out", err)}}
	}
	var out []Finding
	for _, s := range names {
		f := Finding{Check: CheckScheduler, Object: Object{KindScheduler, s}}
		if slices.Contains(rep.MissingSchedulers, s) {
			f.Severity = Problem
			f.Message = fmt.Sprintf("%s asks for the %s scheduler, which this kernel (%s) lacks (no ip_vs_%s module): applying it will fail; choose another scheduler or run a kernel that has it", wantedBy[s], s, rep.Kernel, s)
			f.Action = "modprobe ip_vs_" + s
		} else {
			f.Severity = OK
			f.Message = fmt.Sprintf("%s asks for the %s scheduler, which this kernel has", wantedBy[s], s)
		}
		out = append(out, f)
	}
	return out
}

// checkSync: a sync daemon sends and receives on its interface by
// multicast, so the interface must exist, be up and be multicast-capable.
// The running daemons are checked, then those of the documents.
func checkSync(in Input, h Host) []Finding {
	type daemon struct {
		d   ipvs.Daemon
		doc string
	}
	var ds []daemon
	seen := map[[2]string]bool{}
	add := func(d ipvs.Daemon, doc string) {
		k := [2]string{d.State.String(), d.Interface}
		if !seen[k] {
			seen[k] = true
			ds = append(ds, daemon{d, doc})
		}
	}
	for _, d := range in.Daemons {
		add(d, "")
	}
	for _, doc := range in.Documents {
		if doc.Desired != nil {
			for _, d := range doc.Desired.Daemons {
				add(d, doc.Name)
			}
		}
	}
	if len(ds) == 0 {
		return nil
	}
	ifs, err := h.Interfaces()
	if err != nil {
		return []Finding{{Check: CheckSync, Severity: Warning, Object: Object{KindInterface, ds[0].d.Interface},
			Message: fmt.Sprintf("could not list the interfaces: %v", err)}}
	}
	var out []Finding
	for _, x := range ds {
		d := x.d
		who := "the " + d.State.String() + " sync daemon"
		if x.doc != "" {
			who += " of " + x.doc
		}
		f := Finding{Check: CheckSync, Object: Object{KindInterface, d.Interface}}
		i := slices.IndexFunc(ifs, func(ifc Interface) bool { return ifc.Name == d.Interface })
		switch {
		case i < 0:
			f.Severity = Problem
			f.Message = fmt.Sprintf("%s uses %s, which does not exist in this namespace: it sends or receives nothing", who, d.Interface)
			if x.doc == "" {
				f.Action = in.ctl(fmt.Sprintf("sync stop %s && %s", d.State, in.ctl(fmt.Sprintf("sync start %s --interface IFACE --syncid %d", d.State, d.SyncID))))
			} else {
				f.Action = in.sh("ip link show")
			}
		case !ifs[i].Up:
			f.Severity = Problem
			f.Message = fmt.Sprintf("%s uses %s, which is down: no connection state is sent or received", who, d.Interface)
			f.Action = in.sh("ip link set " + d.Interface + " up")
		case !ifs[i].Multicast && !ifs[i].Loopback:
			f.Severity = Problem
			f.Message = fmt.Sprintf("%s uses %s, which has no MULTICAST flag: the sync messages never leave", who, d.Interface)
			f.Action = in.sh("ip link set " + d.Interface + " multicast on")
		default:
			f.Severity = OK
			f.Message = fmt.Sprintf("%s uses %s, which is up and multicast-capable", who, d.Interface)
		}
		out = append(out, f)
	}
	return out
}

// checkConnReuse explains, for this kernel, what conn_reuse_mode and
// expire_nodest_conn trade: Linux 5.9 stopped the one-second stall of a
// reused port under conn_reuse_mode=1 (left only when netfilter holds a
// confirmed conntrack entry of the old connection) and made expire_nodest_conn=1 flush a
// deleted server's connections.
func checkConnReuse(in Input, h Host) []Finding {
	const modePath, expirePath = "net/ipv4/vs/conn_reuse_mode", "net/ipv4/vs/expire_nodest_conn"
	kernel := h.Kernel()
	fixed, known := kernelAtLeast(kernel, 5, 9)
	if !known {
		fixed = true
	}
	conntrack, _ := sysctlInt(h, "net/ipv4/vs/conntrack")
	var out []Finding

	f := Finding{Check: CheckConnReuse, Severity: Info, Object: Object{KindSysctl, sysctlName(modePath)}}
	switch mode, err := sysctlInt(h, modePath); {
	case err != nil:
		f.Severity = Warning
		f.Message = fmt.Sprintf("could not read it: %v", err)
	case mode&1 == 0:
		f.Message = fmt.Sprintf("is %d: a new connection from a client port that an old connection still holds goes to the old connection's server, even one drained to weight 0 or removed, until the old entry expires", mode)
		if fixed {
			f.Message += fmt.Sprintf("; kernels before 5.9 stalled such connections for a second with 1 (why kube-proxy set 0), this one (%s) does not, so 1 is the better choice", kernel)
			f.Action = in.ctl("sysctl set conn_reuse_mode 1")
		} else {
			f.Message += fmt.Sprintf("; on this kernel (%s, before 5.9) 1 would drop the first SYN of such a connection while conntrack=1, a one-second stall for the client", kernel)
		}
	default:
		states := "TIME_WAIT"
		if mode&2 != 0 {
			states += " or FIN_WAIT"
		}
		f.Message = fmt.Sprintf("is %d: a new connection from a reused client port (the old one in %s) is scheduled afresh, so it can leave a drained or removed server", mode, states)
		switch {
		case !fixed:
			f.Message += fmt.Sprintf("; on this kernel (%s, before 5.9) with conntrack=1 (it is %d) the client's first SYN is dropped and it retries after about a second; 0 avoids that but keeps clients on old servers", kernel, conntrack)
		default:
			f.Message += fmt.Sprintf("; on this kernel (%s, 5.9 or later) that stalls the client for a second only in the rare case that netfilter still holds a confirmed conntrack entry of the old connection", kernel)
		}
	}
	out = append(out, f)

	f = Finding{Check: CheckConnReuse, Severity: Info, Object: Object{KindSysctl, sysctlName(expirePath)}}
	flush := ""
	if fixed {
		flush = " and, on this kernel, are flushed as soon as the server is deleted"
	}
	switch v, err := sysctlInt(h, expirePath); {
	case err != nil:
		f.Severity = Warning
		f.Message = fmt.Sprintf("could not read it: %v", err)
	case v == 0:
		f.Message = "is 0: connections to a removed real server stay in the table, their packets dropped, until they time out (15 minutes for established TCP by default), so those clients hang instead of reconnecting; with 1 they end at their next packet" + flush + ", at the cost of the connections of a server deleted and added back (a reload that deletes instead of updating)"
		f.Action = in.ctl("sysctl set expire_nodest_conn 1")
	default:
		f.Message = "is 1: connections to a removed real server end at their next packet" + flush + ", so clients reconnect elsewhere; a server deleted and added back loses its connections (drain it with ipvsctl dest drain instead)"
	}
	return append(out, f)
}

// verbS is the "s" of a verb whose subject is n things: "1 server needs".
func verbS(n int) string {
	if n == 1 {
		return "s"
	}
	return ""
}

// plural is the "s" of a noun counted n times.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
