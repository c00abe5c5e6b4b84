package ipvsmodel_test

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/ipvsmodel"
)

var cmpAddr = cmpopts.EquateComparable(netip.Addr{})

func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var ke *ipvs.Error
	if !errors.As(err, &ke) {
		return syscall.Errno(1 << 16) // not a kernel error: never equal
	}
	e, _ := ipvs.Errno(err)
	return e
}

var (
	web   = ipvs.Service{Family: v4, Protocol: ipvs.ProtoTCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80, Scheduler: "wlc", Netmask: 0xffffffff}
	web6  = ipvs.Service{Family: v6, Protocol: ipvs.ProtoTCP, Address: netip.MustParseAddr("2001:db8::1"), Port: 80, Scheduler: "rr", Netmask: 128}
	mark  = ipvs.Service{Family: v4, FWMark: 7, Scheduler: "rr", Netmask: 0xffffffff}
	real1 = ipvs.Destination{Address: netip.MustParseAddr("192.168.0.1"), Port: 80, Weight: 1}
	real2 = ipvs.Destination{Address: netip.MustParseAddr("192.168.0.2"), Port: 80, Weight: 2}
	real6 = ipvs.Destination{Address: netip.MustParseAddr("2001:db8:1::1"), Port: 80, Weight: 1}
)

func with[T any](v T, f func(*T)) T { f(&v); return v }

// TestApplyAnswers: each request on a table holding web (real1) gets the
// kernel's answer.
func TestApplyAnswers(t *testing.T) {
	id := ipvs.Service{Family: web.Family, Protocol: web.Protocol, Address: web.Address, Port: web.Port}
	for _, c := range []struct {
		name string
		op   ipvs.Op
		want syscall.Errno
	}{
		{"add existing service", ipvs.Op{Cmd: ipvs.CmdNewService, Service: web}, syscall.EEXIST},
		{"add service, unknown scheduler", ipvs.Op{Cmd: ipvs.CmdNewService, Service: with(web6, func(s *ipvs.Service) { s.Scheduler = "nosuch" })}, syscall.ENOENT},
		{"add service, scheduler none", ipvs.Op{Cmd: ipvs.CmdNewService, Service: with(web6, func(s *ipvs.Service) { s.Scheduler = "none" })}, 0},
		{"add service, unknown engine", ipvs.Op{Cmd: ipvs.CmdNewService, Service: with(web6, func(s *ipvs.Service) { s.PEName = "nosuch" })}, syscall.ENOENT},
		{"add service, IPv6 prefix 0", ipvs.Op{Cmd: ipvs.CmdNewService, Service: with(web6, func(s *ipvs.Service) { s.Netmask = 0 })}, syscall.EINVAL},
		{"add service, IPv6 prefix 129", ipvs.Op{Cmd: ipvs.CmdNewService, Service: with(web6, func(s *ipvs.Service) { s.Netmask = 129 })}, syscall.EINVAL},
		{"edit missing service", ipvs.Op{Cmd: ipvs.CmdSetService, Service: web6}, syscall.ESRCH},
		{"edit service, unknown scheduler", ipvs.Op{Cmd: ipvs.CmdSetService, Service: with(web, func(s *ipvs.Service) { s.Scheduler = "nosuch" })}, syscall.ENOENT},
		{"delete missing service", ipvs.Op{Cmd: ipvs.CmdDelService, Service: web6}, syscall.ESRCH},
		{"zero missing service", ipvs.Op{Cmd: ipvs.CmdZero, Service: web6}, syscall.ESRCH},
		{"zero all", ipvs.Op{Cmd: ipvs.CmdZero, AllServices: true}, 0},
		{"add dest to missing service", ipvs.Op{Cmd: ipvs.CmdNewDest, Service: web6, Destination: real6}, syscall.ESRCH},
		{"add existing dest", ipvs.Op{Cmd: ipvs.CmdNewDest, Service: id, Destination: real1}, syscall.EEXIST},
		{"add dest, weight past INT_MAX", ipvs.Op{Cmd: ipvs.CmdNewDest, Service: id, Destination: with(real2, func(d *ipvs.Destination) { d.Weight = 1 << 31 })}, syscall.ERANGE},
		{"add dest, lower threshold above upper", ipvs.Op{Cmd: ipvs.CmdNewDest, Service: id, Destination: with(real2, func(d *ipvs.Destination) { d.LowerThreshold = 5 })}, syscall.ERANGE},
		{"add dest, GUE without port", ipvs.Op{Cmd: ipvs.CmdNewDest, Service: id, Destination: with(real2, func(d *ipvs.Destination) { d.ForwardMethod, d.TunnelType = ipvs.FwdTunnel, ipvs.TunnelGUE })}, syscall.EINVAL},
		{"add dest of other family, not tunnel", ipvs.Op{Cmd: ipvs.CmdNewDest, Service: id, Destination: real6}, syscall.EINVAL},
		{"add dest of other family, tunnel", ipvs.Op{Cmd: ipvs.CmdNewDest, Service: id, Destination: with(real6, func(d *ipvs.Destination) { d.ForwardMethod = ipvs.FwdTunnel })}, 0},
		{"add dest 0.0.0.0", ipvs.Op{Cmd: ipvs.CmdNewDest, Service: id, Destination: with(real2, func(d *ipvs.Destination) { d.Address = netip.MustParseAddr("0.0.0.0") })}, syscall.EINVAL},
		{"add dest multicast", ipvs.Op{Cmd: ipvs.CmdNewDest, Service: id, Destination: with(real2, func(d *ipvs.Destination) { d.Address = netip.MustParseAddr("224.0.0.1") })}, syscall.EINVAL},
		{"add dest 0.1.2.3 (unicast to Linux)", ipvs.Op{Cmd: ipvs.CmdNewDest, Service: id, Destination: with(real2, func(d *ipvs.Destination) { d.Address = netip.MustParseAddr("0.1.2.3") })}, 0},
		{"edit missing dest", ipvs.Op{Cmd: ipvs.CmdSetDest, Service: id, Destination: real2}, syscall.ENOENT},
		{"edit dest, thresholds first", ipvs.Op{Cmd: ipvs.CmdSetDest, Service: id, Destination: with(real2, func(d *ipvs.Destination) { d.LowerThreshold = 5 })}, syscall.ERANGE},
		{"delete missing dest", ipvs.Op{Cmd: ipvs.CmdDelDest, Service: id, Destination: real2}, syscall.ENOENT},
		{"delete dest of other family", ipvs.Op{Cmd: ipvs.CmdDelDest, Service: id, Destination: real6}, syscall.ENOENT},
		{"timeouts past INT_MAX/HZ", ipvs.Op{Cmd: ipvs.CmdSetConfig, Timeouts: ipvs.Timeouts{UDP: 8589935}}, syscall.EINVAL},
		{"timeouts at INT_MAX/HZ", ipvs.Op{Cmd: ipvs.CmdSetConfig, Timeouts: ipvs.Timeouts{UDP: 8589934}}, 0},
		{"stop missing daemon", ipvs.Op{Cmd: ipvs.CmdDelDaemon, Daemon: ipvs.Daemon{State: ipvs.DaemonMaster}}, syscall.ESRCH},
		{"start daemon, bad state", ipvs.Op{Cmd: ipvs.CmdNewDaemon, Daemon: ipvs.Daemon{State: 4, Interface: "eth0"}}, syscall.EINVAL},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := ipvsmodel.New(ipvsmodel.Kernel{})
			must(t, m.Apply(ipvs.Op{Cmd: ipvs.CmdNewService, Service: web}))
			must(t, m.Apply(ipvs.Op{Cmd: ipvs.CmdNewDest, Service: id, Destination: real1}))
			before := m.Table()
			err := m.Apply(c.op)
			if got := errnoOf(err); got != c.want {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if err != nil {
				var ke *ipvs.Error
				if errors.As(err, &ke); ke.Op != c.op.Cmd {
					t.Errorf("error names %s, want %s", ke.Op, c.op.Cmd)
				}
				if diff := cmp.Diff(before, m.Table(), cmpAddr); diff != "" {
					t.Errorf("a refused request changed the table (-before +after):\n%s", diff)
				}
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestListing: services in creation order, destinations newest first,
// firewall marks without protocol or address, counters kept by edits.
func TestListing(t *testing.T) {
	m := ipvsmodel.New(ipvsmodel.Kernel{})
	markIn := with(mark, func(s *ipvs.Service) {
		s.Protocol, s.Address, s.Port = ipvs.ProtoTCP, netip.MustParseAddr("10.9.9.9"), 1
	})
	for _, op := range []ipvs.Op{
		{Cmd: ipvs.CmdNewService, Service: web},
		{Cmd: ipvs.CmdNewService, Service: markIn},
		{Cmd: ipvs.CmdNewDest, Service: web, Destination: real1},
		{Cmd: ipvs.CmdNewDest, Service: web, Destination: real2},
		{Cmd: ipvs.CmdNewDest, Service: mark, Destination: real1},
	} {
		must(t, m.Apply(op))
	}
	m.SetCounters(web.Key(), func(s *ipvs.Service, ds []ipvs.Destination) {
		s.Stats.Conns = 5
		ds[0].ActiveConns = 3
	})
	must(t, m.Apply(ipvs.Op{Cmd: ipvs.CmdSetDest, Service: web, Destination: with(real1, func(d *ipvs.Destination) { d.Weight = 9 })}))
	must(t, m.Apply(ipvs.Op{Cmd: ipvs.CmdSetService, Service: with(web, func(s *ipvs.Service) { s.Scheduler = "rr" })}))

	dest := func(d ipvs.Destination, weight, active uint32) ipvs.Destination {
		d.Family, d.Weight, d.ActiveConns, d.Stats64 = v4, weight, active, true
		return d
	}
	want := []ipvs.VirtualServer{
		{Service: with(web, func(s *ipvs.Service) { s.Scheduler, s.Stats.Conns, s.Stats64 = "rr", 5, true }),
			Destinations: []ipvs.Destination{dest(real2, 2, 0), dest(real1, 9, 3)}},
		{Service: with(mark, func(s *ipvs.Service) { s.Stats64 = true }),
			Destinations: []ipvs.Destination{dest(real1, 1, 0)}},
	}
	if diff := cmp.Diff(want, m.Table(), cmpAddr); diff != "" {
		t.Errorf("Table (-want +got):\n%s", diff)
	}
	// All: creation order, oldest destination first.
	var order []string
	for vs := range m.All() {
		for _, d := range vs.Destinations {
			order = append(order, vs.Service.Key().String()+" "+d.Key().String())
		}
	}
	wantOrder := []string{"TCP 10.0.0.1:80 192.168.0.1:80", "TCP 10.0.0.1:80 192.168.0.2:80", "FWM 7 192.168.0.1:80"}
	if diff := cmp.Diff(wantOrder, order); diff != "" {
		t.Errorf("All (-want +got):\n%s", diff)
	}
}

// TestDaemons: defaults filled in, one per state, mixed families refused
// both ways.
func TestDaemons(t *testing.T) {
	m := ipvsmodel.New(ipvsmodel.Kernel{Interface: func(n string) bool { return n == "eth0" }})
	must(t, m.Apply(ipvs.Op{Cmd: ipvs.CmdNewService, Service: web}))
	if err := m.Apply(ipvs.Op{Cmd: ipvs.CmdNewDaemon, Daemon: ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "eth9"}}); errnoOf(err) != syscall.ENODEV {
		t.Errorf("missing interface: %v", err)
	}
	must(t, m.Apply(ipvs.Op{Cmd: ipvs.CmdNewDaemon, Daemon: ipvs.Daemon{State: ipvs.DaemonBackup, Interface: "eth0", SyncID: 3}}))
	if err := m.Apply(ipvs.Op{Cmd: ipvs.CmdNewDaemon, Daemon: ipvs.Daemon{State: ipvs.DaemonBackup, Interface: "eth0"}}); errnoOf(err) != syscall.EEXIST {
		t.Errorf("second backup: %v", err)
	}
	want := []ipvs.Daemon{{State: ipvs.DaemonBackup, Interface: "eth0", SyncID: 3, SyncMaxLen: 1472, Group: netip.MustParseAddr("224.0.0.81"), Port: 8848, TTL: 1}}
	if diff := cmp.Diff(want, m.Daemons(), cmpAddr); diff != "" {
		t.Errorf("Daemons (-want +got):\n%s", diff)
	}
	tun6 := with(real6, func(d *ipvs.Destination) { d.ForwardMethod = ipvs.FwdTunnel })
	if err := m.Apply(ipvs.Op{Cmd: ipvs.CmdNewDest, Service: web, Destination: tun6}); errnoOf(err) != syscall.EINVAL {
		t.Errorf("mixed family while a daemon runs: %v", err)
	}
	must(t, m.Apply(ipvs.Op{Cmd: ipvs.CmdDelDaemon, Daemon: ipvs.Daemon{State: ipvs.DaemonBackup}}))
	must(t, m.Apply(ipvs.Op{Cmd: ipvs.CmdNewDest, Service: web, Destination: tun6}))
	if err := m.Apply(ipvs.Op{Cmd: ipvs.CmdNewDaemon, Daemon: ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "eth0"}}); errnoOf(err) != syscall.EINVAL {
		t.Errorf("daemon with a mixed-family destination: %v", err)
	}
}

// TestRandomSequences: the model survives long random sequences with its
// index consistent (every listed service found by its key, deleted ones
// not), including through the compaction of deleted services.
func TestRandomSequences(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	m := ipvsmodel.New(ipvsmodel.Kernel{})
	for i := 0; i < 20000; i++ {
		m.Apply(randomOp(r))
		if i%97 == 0 {
			tab := m.Table()
			if len(tab) != m.Len() {
				t.Fatalf("op %d: %d services listed, Len %d", i, len(tab), m.Len())
			}
			for _, k := range serviceKeys {
				_, ok := m.Service(k)
				found := false
				for _, vs := range tab {
					found = found || vs.Service.Key() == k
				}
				if ok != found {
					t.Fatalf("op %d: %s: Service says %v, Table %v", i, k, ok, found)
				}
			}
		}
	}
}

// TestCompaction: many deletions keep the order and the index right.
func TestCompaction(t *testing.T) {
	m := ipvsmodel.New(ipvsmodel.Kernel{})
	svc := func(i int) ipvs.Service {
		return with(web, func(s *ipvs.Service) { s.Port = uint16(i) })
	}
	for i := 1; i <= 300; i++ {
		must(t, m.Apply(ipvs.Op{Cmd: ipvs.CmdNewService, Service: svc(i)}))
	}
	for i := 1; i <= 300; i++ {
		if i%3 != 0 {
			must(t, m.Apply(ipvs.Op{Cmd: ipvs.CmdDelService, Service: svc(i)}))
		}
	}
	var got []uint16
	for _, s := range m.Services() {
		got = append(got, s.Port)
	}
	var want []uint16
	for i := 3; i <= 300; i += 3 {
		want = append(want, uint16(i))
		if _, ok := m.Service(svc(i).Key()); !ok {
			t.Errorf("service %d lost", i)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}
