package ipvsplan

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs"
)

func svc(addr string, port uint16, sched string) ipvs.Service {
	return ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP,
		Address: netip.MustParseAddr(addr), Port: port, Scheduler: sched, Netmask: 0xffffffff}
}

func dst(addr string, w uint32) ipvs.Destination {
	return ipvs.Destination{Address: netip.MustParseAddr(addr), Port: 80, Weight: w, ForwardMethod: ipvs.FwdMasq}
}

func vs(s ipvs.Service, ds ...ipvs.Destination) ipvs.VirtualServer {
	return ipvs.VirtualServer{Service: s, Destinations: ds}
}

func describe(p Plan) []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, c.String())
	}
	return out
}

func TestDiffNoChange(t *testing.T) {
	cur := []ipvs.VirtualServer{
		vs(svc("10.0.0.1", 80, "rr"), dst("192.168.0.1", 1), dst("192.168.0.2", 2)),
		vs(ipvs.Service{Family: ipvs.AFInet6, FWMark: 5, Scheduler: "wlc", Netmask: 128}),
	}
	// Same content in another order, as a dump may return it; kernel
	// replies carry HASHED and a family on destinations.
	want := []ipvs.VirtualServer{cur[1], vs(cur[0].Service, cur[0].Destinations[1], cur[0].Destinations[0])}
	cur[0].Service.Flags |= ipvs.SvcHashed
	cur[0].Destinations[0].Family = ipvs.AFInet
	p, err := Diff(cur, want, Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Empty() || len(p.Ops()) != 0 {
		t.Errorf("identical tables gave changes: %v", describe(p))
	}
}

func TestDiffOrderAndKinds(t *testing.T) {
	cur := []ipvs.VirtualServer{
		vs(svc("10.0.0.1", 80, "rr"), dst("192.168.0.1", 1), dst("192.168.0.2", 1)),
		vs(svc("10.0.0.2", 80, "rr"), dst("192.168.0.1", 1)),
		vs(svc("10.0.0.3", 80, "rr")),
	}
	want := []ipvs.VirtualServer{
		vs(svc("10.0.0.1", 80, "wlc"), dst("192.168.0.2", 5), dst("192.168.0.3", 1)),
		vs(svc("10.0.0.4", 443, "rr"), dst("192.168.0.9", 1)),
		vs(svc("10.0.0.3", 80, "rr")),
	}
	p, err := Diff(cur, want, Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	wantDesc := []string{
		"add service TCP 10.0.0.4:443",
		"add destination 192.168.0.9:80 to TCP 10.0.0.4:443",
		"update service TCP 10.0.0.1:80",
		"update destination 192.168.0.2:80 of TCP 10.0.0.1:80",
		"add destination 192.168.0.3:80 to TCP 10.0.0.1:80",
		"delete destination 192.168.0.1:80 from TCP 10.0.0.1:80",
		"delete service TCP 10.0.0.2:80",
	}
	if d := cmp.Diff(wantDesc, describe(p)); d != "" {
		t.Errorf("plan (-want +got):\n%s", d)
	}
	ops := p.Ops()
	wantCmds := []ipvs.Command{ipvs.CmdNewService, ipvs.CmdNewDest, ipvs.CmdSetService,
		ipvs.CmdSetDest, ipvs.CmdNewDest, ipvs.CmdDelDest, ipvs.CmdDelService}
	for i, op := range ops {
		if op.Cmd != wantCmds[i] {
			t.Errorf("op %d: %s, want %s", i, op.Cmd, wantCmds[i])
		}
	}
	if ops[2].Service.Scheduler != "wlc" || ops[3].Destination.Weight != 5 {
		t.Errorf("ops carry the wrong settings: %+v %+v", ops[2].Service, ops[3].Destination)
	}
	// Without prune, the undesired service stays.
	p2, _ := Diff(cur, want, Options{})
	for _, c := range p2.Changes {
		if c.Kind == DeleteService {
			t.Errorf("deleted without prune: %s", c)
		}
	}
}

func TestDiffScope(t *testing.T) {
	cur := []ipvs.VirtualServer{vs(svc("10.0.0.1", 80, "rr")), vs(svc("172.16.0.1", 80, "rr"))}
	scope := func(k ipvs.ServiceKey) bool { return strings.HasPrefix(k.Address.String(), "10.") }
	p, err := Diff(cur, nil, Options{Prune: true, Scope: scope})
	if err != nil {
		t.Fatal(err)
	}
	if got := describe(p); len(got) != 1 || got[0] != "delete service TCP 10.0.0.1:80" {
		t.Errorf("prune in scope: %v", got)
	}
	if _, err := Diff(nil, []ipvs.VirtualServer{vs(svc("172.16.0.2", 80, "rr"))}, Options{Scope: scope}); err == nil {
		t.Error("a desired service outside the scope was accepted")
	}
}

func TestDiffDuplicates(t *testing.T) {
	s := svc("10.0.0.1", 80, "rr")
	if _, err := Diff(nil, []ipvs.VirtualServer{vs(s), vs(s)}, Options{}); err == nil {
		t.Error("duplicate service accepted")
	}
	if _, err := Diff(nil, []ipvs.VirtualServer{vs(s, dst("192.168.0.1", 1), dst("192.168.0.1", 2))}, Options{}); err == nil {
		t.Error("duplicate destination accepted")
	}
}

// apply runs a plan against an in-memory table, the way the kernel would.
func apply(t *testing.T, table []ipvs.VirtualServer, p Plan) []ipvs.VirtualServer {
	t.Helper()
	m := map[ipvs.ServiceKey]*ipvs.VirtualServer{}
	var order []ipvs.ServiceKey
	for _, v := range table {
		v := v
		v.Destinations = append([]ipvs.Destination(nil), v.Destinations...)
		m[v.Service.Key()] = &v
		order = append(order, v.Service.Key())
	}
	for _, c := range p.Changes {
		v := m[c.Service]
		switch c.Kind {
		case AddService:
			if v != nil {
				t.Fatalf("%s: exists", c)
			}
			m[c.Service] = &ipvs.VirtualServer{Service: c.NewService}
			order = append(order, c.Service)
		case UpdateService:
			v.Service = c.NewService
		case DeleteService:
			delete(m, c.Service)
		case AddDest:
			v.Destinations = append(v.Destinations, c.NewDest)
		case UpdateDest, DeleteDest:
			for i, d := range v.Destinations {
				if d.Key() == c.OldDest.Key() {
					if c.Kind == UpdateDest {
						v.Destinations[i] = c.NewDest
					} else {
						v.Destinations = append(v.Destinations[:i], v.Destinations[i+1:]...)
					}
					break
				}
			}
		}
	}
	var out []ipvs.VirtualServer
	for _, k := range order {
		if v, ok := m[k]; ok {
			out = append(out, *v)
			delete(m, k)
		}
	}
	return out
}

func TestUndoRestoresPreImage(t *testing.T) {
	cur := []ipvs.VirtualServer{
		vs(svc("10.0.0.1", 80, "rr"), dst("192.168.0.1", 1), dst("192.168.0.2", 1)),
		vs(svc("10.0.0.2", 80, "rr"), dst("192.168.0.1", 1)),
	}
	want := []ipvs.VirtualServer{
		vs(svc("10.0.0.1", 80, "wlc"), dst("192.168.0.2", 5), dst("192.168.0.3", 1)),
		vs(svc("10.0.0.4", 443, "rr"), dst("192.168.0.9", 1)),
	}
	p, err := Diff(cur, want, Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	after := apply(t, cur, p)
	if p2, _ := Diff(after, want, Options{Prune: true}); !p2.Empty() {
		t.Fatalf("applying the plan does not reach the desired table: %v", describe(p2))
	}
	// Undo everything, and undo a prefix.
	for n := 0; n <= len(p.Changes); n++ {
		partial := apply(t, cur, Plan{Changes: p.Changes[:n]})
		back := apply(t, partial, p.Undo(n))
		if p3, _ := Diff(back, cur, Options{Prune: true}); !p3.Empty() {
			t.Errorf("undo of the first %d changes leaves: %v", n, describe(p3))
		}
	}
}

func BenchmarkDiff(b *testing.B) {
	var cur, want []ipvs.VirtualServer
	for i := 0; i < 10000; i++ {
		a := netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)})
		s := ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: a, Port: 80, Scheduler: "wlc", Netmask: 0xffffffff}
		var ds []ipvs.Destination
		for j := 0; j < 5; j++ {
			ds = append(ds, ipvs.Destination{Address: netip.AddrFrom4([4]byte{192, 168, byte(j), 1}), Port: 80, Weight: 1})
		}
		want = append(want, vs(s, ds...))
		if i%2 == 0 {
			cur = append(cur, vs(s, ds[:3]...))
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Diff(cur, want, Options{Prune: true}); err != nil {
			b.Fatal(err)
		}
	}
}
