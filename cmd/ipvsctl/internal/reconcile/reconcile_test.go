package reconcile

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/ipvs-tools/ipvs/ipvsplan"
	"github.com/ipvs-tools/ipvs/ipvsprobe"
	"github.com/ipvs-tools/ipvs/ipvssysctl"
	"golang.org/x/sys/unix"
)

type sysctls struct {
	m    map[string]string
	fail string
}

func (s *sysctls) List() ([]ipvssysctl.Sysctl, error)   { return nil, nil }
func (s *sysctls) Defense() (ipvssysctl.Defense, error) { return ipvssysctl.Defense{}, nil }
func (s *sysctls) SetDefense(ipvssysctl.Defense) error  { return nil }
func (s *sysctls) Get(n string) (string, error)         { return s.m[n], nil }
func (s *sysctls) Set(n, v string) error {
	if n == s.fail {
		return errors.New("read-only file system")
	}
	s.m[n] = v
	return nil
}

func TestDaemonMatches(t *testing.T) {
	running := ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "eth0", SyncID: 3, SyncMaxLen: 1472,
		Group: netip.MustParseAddr("224.0.0.81"), Port: 8848, TTL: 1}
	for _, tt := range []struct {
		want ipvs.Daemon
		ok   bool
	}{
		{ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "eth0", SyncID: 3}, true},
		{ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "eth0", SyncID: 3, Port: 8848, TTL: 1}, true},
		{ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "eth0", SyncID: 4}, false},
		{ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "eth1", SyncID: 3}, false},
		{ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "eth0", SyncID: 3, TTL: 2}, false},
		{ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "eth0", SyncID: 3, Group: netip.MustParseAddr("239.0.0.1")}, false},
	} {
		if got := DaemonMatches(running, tt.want); got != tt.ok {
			t.Errorf("%+v: %v", tt.want, got)
		}
	}
}

// TestApplyAllSectionsAndRollback: a failing sysctl write at the end
// rolls back the daemons, timeouts and services applied before it.
func TestApplyAllSectionsAndRollback(t *testing.T) {
	fake := testutil.Sample()
	fake.NewDaemon(ipvs.Daemon{State: ipvs.DaemonBackup, Interface: "eth0", SyncID: 1})
	fake.ResetWrites()
	before, _ := fake.Table()
	sys := &sysctls{m: map[string]string{"drop_entry": "0", "conntrack": "0"}, fail: "drop_entry"}
	sysF := func() (backend.Sysctls, error) { return sys, nil }
	want := &ipvsconfig.Desired{
		Services:      append([]ipvs.VirtualServer{}, before...),
		Timeouts:      &ipvs.Timeouts{TCP: 60},
		ManageDaemons: true,
		Daemons:       []ipvs.Daemon{{State: ipvs.DaemonMaster, Interface: "eth1", SyncID: 2}},
		Sysctls:       map[string]string{"conntrack": "1", "drop_entry": "1"},
	}
	want.Services = append(want.Services, ipvs.VirtualServer{Service: ipvs.Service{Family: ipvs.AFInet, FWMark: 99, Scheduler: "rr", Netmask: 0xffffffff}})
	cur, err := Read(fake, sysF, want, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compute(cur, want, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var desc []string
	for _, c := range p.Changes() {
		desc = append(desc, c.Description)
	}
	wantDesc := []string{
		"stop backup sync daemon (interface eth0, syncid 1, maxlen 1472, group 224.0.0.81, port 8848, ttl 1)",
		"add service fwmark:99 (scheduler rr, persistence off)",
		"set timeouts: tcp 900 → 60",
		"start master sync daemon (interface eth1, syncid 2)",
		"set sysctl conntrack: 0 → 1",
		"set sysctl drop_entry: 0 → 1",
	}
	if d := cmp.Diff(wantDesc, desc); d != "" {
		t.Fatalf("plan (-want +got):\n%s", d)
	}
	if p.Requests() != 4 || p.Len() != 6 {
		t.Errorf("requests %d len %d", p.Requests(), p.Len())
	}
	r := Apply(fake, sysF, p, Options{})
	if r.OK() || !r.RolledBack || len(r.RollbackFailed) != 0 || r.Applied != 5 {
		t.Fatalf("result %+v", r)
	}
	if r.Failed[0].Change.Name != "drop_entry" {
		t.Errorf("failed %+v", r.Failed)
	}
	after, _ := fake.Table()
	if len(after) != len(before) {
		t.Errorf("service not rolled back")
	}
	tm, _ := fake.Timeouts()
	ds, _ := fake.Daemons()
	if tm.TCP != 900 || len(ds) != 1 || ds[0].State != ipvs.DaemonBackup || sys.m["conntrack"] != "0" {
		t.Errorf("not rolled back: timeouts %+v daemons %+v sysctls %v", tm, ds, sys.m)
	}
}

func TestApplyBatchesStopAtFirstFailingBatch(t *testing.T) {
	fake := testutil.Sample()
	var want ipvsconfig.Desired
	for i := range 10 {
		want.Services = append(want.Services, ipvs.VirtualServer{Service: ipvs.Service{Family: ipvs.AFInet, FWMark: uint32(100 + i), Scheduler: "rr", Netmask: 0xffffffff}})
	}
	fake.Fail = func(op ipvs.Op) unix.Errno {
		if op.Cmd == ipvs.CmdNewService && op.Service.FWMark == 103 {
			return unix.ENOMEM
		}
		return 0
	}
	cur, _ := Read(fake, nil, &want, Options{})
	p, _ := Compute(cur, &want, Options{})
	r := Apply(fake, nil, p, Options{BatchSize: 3})
	// Batches [100-102] [103-105]: the second fails; 104 and 105 were
	// applied by the kernel anyway and are rolled back with the rest; the
	// later batches are never sent. 2 batches applied, 2 undone.
	if r.Applied != 5 || !r.RolledBack || r.RollbackRequests != 5 || fake.Batches != 4 {
		t.Errorf("applied %d, rollback requests %d, batches %d", r.Applied, r.RollbackRequests, fake.Batches)
	}
	svcs, _ := fake.Services()
	if len(svcs) != 3 {
		t.Errorf("%d services left, want the 3 of the sample", len(svcs))
	}
}

func TestDefenseModesOneAndTwoAreTheSame(t *testing.T) {
	cur := &State{Sysctls: map[string]string{"drop_entry": "2", "conntrack": "0", "sync_threshold": "3\t50"}}
	want := &ipvsconfig.Desired{Sysctls: map[string]string{"drop_entry": "1", "conntrack": "0", "sync_threshold": "3 50"}}
	p, err := Compute(cur, want, Options{})
	if err != nil || !p.Empty() {
		t.Errorf("auto mode 2 vs 1 or whitespace counted as a change: %v %+v", err, p.Sysctls)
	}
	want.Sysctls["drop_entry"] = "3"
	if p, _ := Compute(cur, want, Options{}); len(p.Sysctls) != 1 {
		t.Errorf("2 -> 3 not a change")
	}
}

// TestReadDumpsOnlyWhatMatters: destinations are dumped only for listed
// services and, when pruning, for in-scope ones.
func TestReadDumpsOnlyWhatMatters(t *testing.T) {
	fake := testutil.Sample() // tcp:10.0.0.1:80, udp:[2001:db8::1]:53, fwmark:7
	want := &ipvsconfig.Desired{Services: []ipvs.VirtualServer{{Service: ipvs.Service{Family: ipvs.AFInet, FWMark: 7}}}}
	for _, tt := range []struct {
		opts  Options
		reads int // 1 service dump + destination dumps
		svcs  int
	}{
		{Options{}, 2, 1},
		{Options{Prune: true}, 4, 3},
		{Options{Prune: true, Scope: mustScope(t, "fwmark=1-10,port=80")}, 3, 2},
	} {
		fake.Reads = 0
		st, err := Read(fake, nil, want, tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if fake.Reads != tt.reads || len(st.Services) != tt.svcs {
			t.Errorf("%+v: %d reads, %d services; want %d, %d", tt.opts, fake.Reads, len(st.Services), tt.reads, tt.svcs)
		}
	}
}

func mustScope(t *testing.T, s string) *ipvsconfig.Scope {
	sc, err := ipvsconfig.ParseScope(s)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestKernelNeeds(t *testing.T) {
	svc := func(sched string) ipvs.Service {
		return ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP,
			Address: netip.MustParseAddr("10.0.0.1"), Port: 80, Scheduler: sched, Netmask: 0xffffffff}
	}
	dest := func(addr string, fwd ipvs.ForwardMethod, tun ipvs.TunnelType) ipvs.Destination {
		return ipvs.Destination{Address: netip.MustParseAddr(addr), Port: 80, ForwardMethod: fwd, TunnelType: tun, Weight: 1}
	}
	withPE := func(s ipvs.Service, pe string) ipvs.Service { s.PEName = pe; return s }
	k := svc("rr").Key()
	plan := &Plan{Services: ipvsplan.Plan{Changes: []ipvsplan.Change{
		{Kind: ipvsplan.AddService, Service: k, NewService: svc("twos")},
		{Kind: ipvsplan.UpdateService, Service: k, OldService: svc("rr"), NewService: svc("mh")},
		{Kind: ipvsplan.UpdateService, Service: k, OldService: svc("sh"), NewService: svc("sh")}, // flags only
		{Kind: ipvsplan.UpdateService, Service: k, OldService: svc("sh"), NewService: withPE(svc("sh"), "sip")},
		{Kind: ipvsplan.DeleteService, Service: k, OldService: svc("ovf")},
		{Kind: ipvsplan.AddDest, Service: k, NewDest: dest("10.1.1.1", ipvs.FwdTunnel, ipvs.TunnelGRE)},
		{Kind: ipvsplan.AddDest, Service: k, NewDest: dest("10.1.1.2", ipvs.FwdTunnel, ipvs.TunnelIPIP)},
		{Kind: ipvsplan.AddDest, Service: k, NewDest: dest("10.1.1.3", ipvs.FwdMasq, ipvs.TunnelGUE)}, // not a tunnel
		{Kind: ipvsplan.UpdateDest, Service: k, OldDest: dest("10.1.1.4", ipvs.FwdTunnel, ipvs.TunnelGUE),
			NewDest: dest("10.1.1.4", ipvs.FwdTunnel, ipvs.TunnelGUE)}, // weight only
		{Kind: ipvsplan.UpdateDest, Service: k, OldDest: dest("10.1.1.5", ipvs.FwdTunnel, ipvs.TunnelIPIP),
			NewDest: dest("10.1.1.5", ipvs.FwdTunnel, ipvs.TunnelGUE)},
	}}}
	want := ipvsprobe.Request{Schedulers: []string{"twos", "mh"}, PEs: []string{"sip"},
		Tunnels: []ipvs.TunnelType{ipvs.TunnelGRE, ipvs.TunnelGUE}}
	if d := cmp.Diff(want, plan.KernelNeeds()); d != "" {
		t.Errorf("KernelNeeds (-want +got):\n%s", d)
	}
}
