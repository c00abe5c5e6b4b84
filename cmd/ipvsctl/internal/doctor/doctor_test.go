package doctor

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/ipvs-tools/ipvs/ipvsprobe"
)

// fakeHost is a director described by maps; a missing sysctl is an error.
type fakeHost struct {
	kernel  string
	sysctls map[string]string
	ifs     []Interface
	ifErr   error
	local   map[string]bool
}

func (h *fakeHost) Kernel() string { return h.kernel }

func (h *fakeHost) Sysctl(path string) (string, error) {
	v, ok := h.sysctls[path]
	if !ok {
		return "", errors.New("no such file")
	}
	return v, nil
}

func (h *fakeHost) Interfaces() ([]Interface, error) { return h.ifs, h.ifErr }

func (h *fakeHost) IsLocal(a netip.Addr) (bool, error) {
	if a.String() == "10.9.9.9" {
		return false, errors.New("permission denied")
	}
	return h.local[a.String()], nil
}

// director returns a healthy single-homed NAT director whose VIP is
// 10.0.0.1.
func director() *fakeHost {
	return &fakeHost{
		kernel: "6.1.0-18-amd64",
		sysctls: map[string]string{
			"net/ipv4/ip_forward": "1", "net/ipv6/conf/all/forwarding": "0",
			"net/ipv4/vs/conntrack": "0", "net/ipv4/vs/conn_reuse_mode": "1", "net/ipv4/vs/expire_nodest_conn": "0",
			"net/ipv4/conf/all/rp_filter": "0", "net/ipv4/conf/eth0/rp_filter": "0", "net/ipv4/conf/eth1.100/rp_filter": "1",
		},
		ifs: []Interface{
			{Name: "lo", Up: true, Loopback: true, Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}},
			{Name: "eth0", Up: true, Multicast: true, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.1")}},
		},
		local: map[string]bool{"10.0.0.1": true, "127.0.0.1": true},
	}
}

func svc(spec string, dests ...ipvs.Destination) ipvs.VirtualServer {
	k, err := ipvsconfig.ParseServiceKey(spec)
	if err != nil {
		panic(err)
	}
	s := ipvs.Service{Family: k.Family, Protocol: k.Protocol, Address: k.Address, Port: k.Port, FWMark: k.FWMark, Scheduler: "rr"}
	return ipvs.VirtualServer{Service: s, Destinations: dests}
}

func dest(addr string, fwd ipvs.ForwardMethod) ipvs.Destination {
	return ipvs.Destination{Address: netip.MustParseAddr(addr), Port: 80, ForwardMethod: fwd, Weight: 1}
}

// brief is a finding without its message, and the message's key words.
type brief struct {
	Check    string
	Severity Severity
	Object   string
	Action   string
}

func briefs(fs []Finding) []brief {
	var out []brief
	for _, f := range fs {
		out = append(out, brief{f.Check, f.Severity, f.Object.String(), f.Action})
	}
	return out
}

func TestChecks(t *testing.T) {
	nat := svc("tcp:10.0.0.1:80", dest("192.168.0.2", ipvs.FwdMasq))
	tests := []struct {
		name  string
		check func(Input, []service, *fakeHost) []Finding
		in    Input
		host  func(*fakeHost)
		want  []brief
		// words must appear in the messages, in order of the findings.
		words []string
	}{
		{
			name:  "vip local",
			check: func(in Input, s []service, h *fakeHost) []Finding { return checkVIPs(in, s, h) },
			in:    Input{Table: []ipvs.VirtualServer{nat}},
			want:  []brief{{CheckVIP, OK, "service tcp:10.0.0.1:80", ""}},
		},
		{
			name:  "vip not local, fwmark, unknown, and a document's service",
			check: func(in Input, s []service, h *fakeHost) []Finding { return checkVIPs(in, s, h) },
			in: Input{NetNS: "lb", Table: []ipvs.VirtualServer{svc("udp:[2001:db8::5]:53", dest("2001:db8::10", ipvs.FwdRoute)), svc("fwmark:7"), svc("tcp:10.9.9.9:80")},
				Documents: []Document{{Name: "lb.yaml", Desired: &ipvsconfig.Desired{Services: []ipvs.VirtualServer{nat, svc("tcp:10.0.0.2:443")}}}}},
			want: []brief{
				{CheckVIP, Info, "service fwmark:7", ""},
				{CheckVIP, Warning, "service tcp:10.9.9.9:80", ""},
				{CheckVIP, Problem, "service udp:[2001:db8::5]:53", "ip netns exec lb ip addr add 2001:db8::5/128 dev lo"},
				{CheckVIP, OK, "service tcp:10.0.0.1:80", ""},
				{CheckVIP, Problem, "service tcp:10.0.0.2:443", "ip netns exec lb ip addr add 10.0.0.2/32 dev lo"},
			},
			words: []string{"firewall", "permission denied", "it, and its direct routing real servers get nothing;", "in lb.yaml", "for it (in lb.yaml"},
		},
		{
			name:  "ip_forward off with NAT, v6 NAT too",
			check: func(in Input, s []service, h *fakeHost) []Finding { return checkForwarding(in, s, h) },
			in:    Input{Table: []ipvs.VirtualServer{nat, svc("tcp:[2001:db8::5]:80", dest("2001:db8::10", ipvs.FwdMasq), dest("2001:db8::11", ipvs.FwdMasq))}},
			host:  func(h *fakeHost) { h.sysctls["net/ipv4/ip_forward"] = "0" },
			want: []brief{
				{CheckForward, Problem, "sysctl net.ipv4.ip_forward", "sysctl -w net.ipv4.ip_forward=1"},
				{CheckForward, Problem, "sysctl net.ipv6.conf.all.forwarding", "sysctl -w net.ipv6.conf.all.forwarding=1"},
			},
			words: []string{"1 NAT (masq) real server needs", "2 NAT (masq) real servers need"},
		},
		{
			name:  "ip_forward on; DR needs none",
			check: func(in Input, s []service, h *fakeHost) []Finding { return checkForwarding(in, s, h) },
			in:    Input{Table: []ipvs.VirtualServer{nat, svc("tcp:10.0.0.1:443", dest("192.168.0.3", ipvs.FwdRoute))}},
			want:  []brief{{CheckForward, OK, "sysctl net.ipv4.ip_forward", ""}},
		},
		{
			name:  "no NAT, no forwarding check",
			check: func(in Input, s []service, h *fakeHost) []Finding { return checkForwarding(in, s, h) },
			in:    Input{Table: []ipvs.VirtualServer{svc("tcp:10.0.0.1:443", dest("192.168.0.3", ipvs.FwdTunnel))}},
		},
		{
			name:  "conntrack off with NAT is explained",
			check: func(in Input, s []service, h *fakeHost) []Finding { return checkConntrack(in, s, h) },
			in:    Input{Table: []ipvs.VirtualServer{nat}},
			want:  []brief{{CheckConntrack, Info, "sysctl net.ipv4.vs.conntrack", "ipvsctl sysctl set conntrack 1"}},
			words: []string{"SNAT/MASQUERADE"},
		},
		{
			name:  "conntrack on, table nearly full",
			check: func(in Input, s []service, h *fakeHost) []Finding { return checkConntrack(in, s, h) },
			in:    Input{Table: []ipvs.VirtualServer{nat}},
			host: func(h *fakeHost) {
				h.sysctls["net/ipv4/vs/conntrack"] = "1"
				h.sysctls["net/netfilter/nf_conntrack_count"] = "950"
				h.sysctls["net/netfilter/nf_conntrack_max"] = "1000"
			},
			want:  []brief{{CheckConntrack, Warning, "sysctl net.ipv4.vs.conntrack", "sysctl -w net.netfilter.nf_conntrack_max=2000"}},
			words: []string{"95% full"},
		},
		{
			name:  "conntrack on with room",
			check: func(in Input, s []service, h *fakeHost) []Finding { return checkConntrack(in, s, h) },
			in:    Input{Table: []ipvs.VirtualServer{nat}},
			host: func(h *fakeHost) {
				h.sysctls["net/ipv4/vs/conntrack"] = "1"
				h.sysctls["net/netfilter/nf_conntrack_count"] = "5"
				h.sysctls["net/netfilter/nf_conntrack_max"] = "1000"
			},
			want:  []brief{{CheckConntrack, OK, "sysctl net.ipv4.vs.conntrack", ""}},
			words: []string{"5 of 1000"},
		},
		{
			name:  "no strict rp_filter",
			check: func(in Input, s []service, h *fakeHost) []Finding { return checkRPFilter(in, s, h) },
			in:    Input{Table: []ipvs.VirtualServer{nat}},
			want:  []brief{{CheckRPFilter, OK, "sysctl net.ipv4.conf.all.rp_filter", ""}},
		},
		{
			name:  "strict rp_filter, one uplink",
			check: func(in Input, s []service, h *fakeHost) []Finding { return checkRPFilter(in, s, h) },
			in:    Input{Table: []ipvs.VirtualServer{nat}},
			host:  func(h *fakeHost) { h.sysctls["net/ipv4/conf/all/rp_filter"] = "1" },
			want:  []brief{{CheckRPFilter, Info, "interface eth0", "sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.eth0.rp_filter=2"}},
			words: []string{"single interface"},
		},
		{
			name:  "strict rp_filter on a VLAN of a two-legged director",
			check: func(in Input, s []service, h *fakeHost) []Finding { return checkRPFilter(in, s, h) },
			in:    Input{Table: []ipvs.VirtualServer{nat}},
			host:  func(h *fakeHost) { h.ifs = append(h.ifs, Interface{Name: "eth1.100", Up: true, Multicast: true}) },
			want:  []brief{{CheckRPFilter, Warning, "interface eth1.100", "sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.eth1/100.rp_filter=2"}},
			words: []string{"asymmetric routes"},
		},
		{
			name:  "rp_filter is IPv4 only",
			check: func(in Input, s []service, h *fakeHost) []Finding { return checkRPFilter(in, s, h) },
			in:    Input{Table: []ipvs.VirtualServer{svc("tcp:[2001:db8::5]:80")}},
		},
		{
			name:  "sync daemons: down, missing, not multicast, fine",
			check: func(in Input, s []service, h *fakeHost) []Finding { return checkSync(in, h) },
			in: Input{Daemons: []ipvs.Daemon{{State: ipvs.DaemonMaster, Interface: "sync0", SyncID: 3}, {State: ipvs.DaemonBackup, Interface: "eth9"}},
				Documents: []Document{{Name: "lb.yaml", Desired: &ipvsconfig.Desired{Daemons: []ipvs.Daemon{
					{State: ipvs.DaemonMaster, Interface: "sync0"}, {State: ipvs.DaemonBackup, Interface: "dummy0"}, {State: ipvs.DaemonMaster, Interface: "eth0"}}}}}},
			host: func(h *fakeHost) {
				h.ifs = append(h.ifs, Interface{Name: "sync0", Multicast: true}, Interface{Name: "dummy0", Up: true})
			},
			want: []brief{
				{CheckSync, Problem, "interface sync0", "ip link set sync0 up"},
				{CheckSync, Problem, "interface eth9", "ipvsctl sync stop backup && ipvsctl sync start backup --interface IFACE --syncid 0"},
				{CheckSync, Problem, "interface dummy0", "ip link set dummy0 multicast on"},
				{CheckSync, OK, "interface eth0", ""},
			},
			words: []string{"the master sync daemon uses sync0, which is down", "does not exist", "the backup sync daemon of lb.yaml", "multicast-capable"},
		},
		{
			name:  "sync: interfaces unreadable",
			check: func(in Input, s []service, h *fakeHost) []Finding { return checkSync(in, h) },
			in:    Input{Daemons: []ipvs.Daemon{{State: ipvs.DaemonMaster, Interface: "eth0"}}},
			host:  func(h *fakeHost) { h.ifErr = errors.New("netlink: permission denied") },
			want:  []brief{{CheckSync, Warning, "interface eth0", ""}},
		},
		{
			name:  "conn reuse on 6.1, defaults",
			check: func(in Input, s []service, h *fakeHost) []Finding { return checkConnReuse(in, h) },
			want: []brief{
				{CheckConnReuse, Info, "sysctl net.ipv4.vs.conn_reuse_mode", ""},
				{CheckConnReuse, Info, "sysctl net.ipv4.vs.expire_nodest_conn", "ipvsctl sysctl set expire_nodest_conn 1"},
			},
			words: []string{"6.1.0-18-amd64, 5.9 or later", "flushed as soon as the server is deleted"},
		},
		{
			name:  "conn reuse 0 on 5.10: 1 is better",
			check: func(in Input, s []service, h *fakeHost) []Finding { return checkConnReuse(in, h) },
			in:    Input{NetNS: "/proc/7/ns/net"},
			host: func(h *fakeHost) {
				h.kernel = "5.10.0-28-amd64"
				h.sysctls["net/ipv4/vs/conn_reuse_mode"] = "0"
				h.sysctls["net/ipv4/vs/expire_nodest_conn"] = "1"
			},
			want: []brief{
				{CheckConnReuse, Info, "sysctl net.ipv4.vs.conn_reuse_mode", "ipvsctl --netns /proc/7/ns/net sysctl set conn_reuse_mode 1"},
				{CheckConnReuse, Info, "sysctl net.ipv4.vs.expire_nodest_conn", ""},
			},
			words: []string{"1 is the better choice", "ipvsctl dest drain"},
		},
		{
			name:  "conn reuse 3 before 5.9 with conntrack",
			check: func(in Input, s []service, h *fakeHost) []Finding { return checkConnReuse(in, h) },
			host: func(h *fakeHost) {
				h.kernel = "4.19.0-26-amd64"
				h.sysctls["net/ipv4/vs/conn_reuse_mode"] = "3"
				h.sysctls["net/ipv4/vs/conntrack"] = "1"
			},
			want: []brief{
				{CheckConnReuse, Info, "sysctl net.ipv4.vs.conn_reuse_mode", ""},
				{CheckConnReuse, Info, "sysctl net.ipv4.vs.expire_nodest_conn", "ipvsctl sysctl set expire_nodest_conn 1"},
			},
			words: []string{"TIME_WAIT or FIN_WAIT", "before 5.9) with conntrack=1 (it is 1)"},
		},
		{
			name:  "conn reuse without IPVS sysctls",
			check: func(in Input, s []service, h *fakeHost) []Finding { return checkConnReuse(in, h) },
			host:  func(h *fakeHost) { h.sysctls = map[string]string{} },
			want: []brief{
				{CheckConnReuse, Warning, "sysctl net.ipv4.vs.conn_reuse_mode", ""},
				{CheckConnReuse, Warning, "sysctl net.ipv4.vs.expire_nodest_conn", ""},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := director()
			if tc.host != nil {
				tc.host(h)
			}
			got := tc.check(tc.in, merge(tc.in), h)
			if d := cmp.Diff(tc.want, briefs(got)); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
			var msgs []string
			for _, f := range got {
				if f.Message == "" {
					t.Errorf("%s: no message", f.Object)
				}
				msgs = append(msgs, f.Message)
			}
			all := strings.Join(msgs, "\n")
			for _, w := range tc.words {
				i := strings.Index(all, w)
				if i < 0 {
					t.Errorf("messages lack %q:\n%s", w, all)
					continue
				}
				all = all[i+len(w):]
			}
		})
	}
}

func TestSchedulers(t *testing.T) {
	doc := func(scheds ...string) Document {
		d := &ipvsconfig.Desired{}
		for _, s := range scheds {
			vs := svc("tcp:10.0.0.1:80")
			vs.Service.Scheduler = s
			d.Services = append(d.Services, vs)
		}
		return Document{Name: "lb.yaml", Desired: d}
	}
	kernel := func(missing ...string) ProbeFunc {
		return func(req ipvsprobe.Request) (*ipvsprobe.Report, error) {
			rep := &ipvsprobe.Report{Kernel: "5.10.0-28-amd64"}
			for _, s := range req.Schedulers {
				if strings.Contains(strings.Join(missing, ","), s) {
					rep.MissingSchedulers = append(rep.MissingSchedulers, s)
				} else {
					rep.Schedulers = append(rep.Schedulers, s)
				}
			}
			return rep, nil
		}
	}
	var asked []string
	recorder := func(req ipvsprobe.Request) (*ipvsprobe.Report, error) {
		asked = append(asked, req.Schedulers...)
		return kernel()(req)
	}
	tests := []struct {
		name  string
		in    Input
		probe ProbeFunc
		want  []brief
	}{
		{name: "no document", probe: kernel("twos")},
		{name: "missing and present", in: Input{Documents: []Document{doc("twos", "mh", "twos")}}, probe: kernel("twos"),
			want: []brief{{CheckScheduler, Problem, "scheduler twos", "modprobe ip_vs_twos"}, {CheckScheduler, OK, "scheduler mh", ""}}},
		{name: "live schedulers are not tried", in: Input{Table: []ipvs.VirtualServer{svc("tcp:10.0.0.1:80")}, Documents: []Document{doc("rr", "sh")}}, probe: recorder,
			want: []brief{{CheckScheduler, OK, "scheduler sh", ""}}},
		{name: "probe fails", in: Input{Documents: []Document{doc("sh", "mh")}},
			probe: func(ipvsprobe.Request) (*ipvsprobe.Report, error) { return nil, errors.New("operation not permitted") },
			want:  []brief{{CheckScheduler, Warning, "scheduler sh,mh", ""}}},
		{name: "no probe", in: Input{Documents: []Document{doc("sh")}},
			want: []brief{{CheckScheduler, Warning, "scheduler sh", ""}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, briefs(checkSchedulers(tc.in, tc.probe))); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
	if d := cmp.Diff([]string{"sh"}, asked); d != "" {
		t.Errorf("schedulers tried (-want +got):\n%s", d)
	}
}

func TestRunAndCount(t *testing.T) {
	h := director()
	h.sysctls["net/ipv4/ip_forward"] = "0"
	in := Input{Table: []ipvs.VirtualServer{svc("tcp:10.0.0.7:80", dest("192.168.0.2", ipvs.FwdMasq))},
		Daemons: []ipvs.Daemon{{State: ipvs.DaemonMaster, Interface: "eth0"}}}
	fs := Run(in, h, nil)
	var checks []string
	for _, f := range fs {
		checks = append(checks, f.Check)
	}
	want := []string{CheckVIP, CheckForward, CheckConntrack, CheckRPFilter, CheckSync, CheckConnReuse, CheckConnReuse}
	if d := cmp.Diff(want, checks); d != "" {
		t.Errorf("checks (-want +got):\n%s", d)
	}
	got := map[Severity]int{}
	for _, s := range []Severity{OK, Info, Warning, Problem} {
		got[s] = Count(fs, s)
	}
	if d := cmp.Diff(map[Severity]int{OK: 2, Info: 3, Warning: 0, Problem: 2}, got); d != "" {
		t.Errorf("counts (-want +got):\n%s", d)
	}
}

func TestHelpers(t *testing.T) {
	for _, tc := range []struct {
		release      string
		atLeast, ok  bool
		major, minor int
	}{
		{"6.1.0-18-amd64", true, true, 5, 9},
		{"5.10.0-28-amd64", true, true, 5, 9},
		{"5.4.0", false, true, 5, 9},
		{"4.19", false, true, 5, 9},
		{"unknown", false, false, 5, 9},
	} {
		t.Run(tc.release, func(t *testing.T) {
			a, ok := kernelAtLeast(tc.release, tc.major, tc.minor)
			if a != tc.atLeast || ok != tc.ok {
				t.Errorf("kernelAtLeast(%q, %d, %d) = %v, %v", tc.release, tc.major, tc.minor, a, ok)
			}
		})
	}
	for path, want := range map[string]string{"net/ipv4/ip_forward": "net.ipv4.ip_forward", "net/ipv4/conf/eth0.100/rp_filter": "net.ipv4.conf.eth0/100.rp_filter"} {
		t.Run(path, func(t *testing.T) {
			if got := sysctlName(path); got != want {
				t.Errorf("sysctlName(%q) = %q, want %q", path, got, want)
			}
		})
	}
}
