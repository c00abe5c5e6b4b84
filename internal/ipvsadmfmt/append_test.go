package ipvsadmfmt

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs"
)

// randomEntry returns a service with destinations drawn from the corners
// of every field: families, fwmarks (also >= 2^31), long IPv6 names,
// flags, persistence, PE, tunnels, forwarding methods 0..7, large counters.
func randomEntry(r *rand.Rand) ServiceEntry {
	pick := func(xs ...uint64) uint64 { return xs[r.IntN(len(xs))] }
	addr := func(v6 bool) netip.Addr {
		if v6 {
			var b [16]byte
			b[0], b[1] = 0x20, 0x01
			for i := 2; i < 16; i++ {
				if r.IntN(3) > 0 {
					b[i] = byte(r.Uint32())
				}
			}
			return netip.AddrFrom16(b)
		}
		return netip.AddrFrom4([4]byte{byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())})
	}
	big := func() uint64 {
		return pick(0, 7, 99999999, 100000000, 999999999, 1e9, 99999999999, 1e11, 1e14, 1<<40|5, 1<<63)
	}
	stats := func() ipvs.Stats {
		return ipvs.Stats{Conns: big(), InPkts: big(), OutPkts: big(), InBytes: big(), OutBytes: big(),
			CPS: big(), InPPS: big(), OutPPS: big(), InBPS: big(), OutBPS: big()}
	}
	v6 := r.IntN(3) == 0
	s := ipvs.Service{Family: ipvs.AFInet, Scheduler: []string{"wlc", "rr", "sh", "mh", "none", "verylongschedxx"}[r.IntN(6)],
		Flags: ipvs.ServiceFlags(r.IntN(64) &^ 2), Timeout: uint32(pick(0, 1, 360, 2678400)), Stats: stats()}
	if v6 {
		s.Family = ipvs.AFInet6
		s.Netmask = uint32(pick(128, 64, 1))
	} else {
		s.Netmask = uint32(pick(0xffffffff, 0xffffff00, 16, 0))
	}
	if r.IntN(4) == 0 {
		s.FWMark = uint32(pick(1, 7, 2147483647, 2147483648, 2882430849, 4294967295))
	} else {
		s.Protocol = ipvs.Protocol(pick(6, 17, 132, 0, 50))
		s.Address = addr(v6)
		s.Port = uint16(pick(0, 80, 65535))
	}
	if r.IntN(3) == 0 {
		s.PEName = "sip"
	}
	e := ServiceEntry{Service: s}
	for i := r.IntN(6); i > 0; i-- {
		dv6 := v6
		if r.IntN(5) == 0 {
			dv6 = !dv6
		}
		d := ipvs.Destination{Family: ipvs.AFInet, Address: addr(dv6), Port: uint16(pick(0, 8080, 65535)),
			ForwardMethod: ipvs.ForwardMethod(r.IntN(8)), Weight: uint32(pick(0, 1, 2147483647, 4294967295)),
			UpperThreshold: uint32(pick(0, 10, 4294967295)), LowerThreshold: uint32(pick(0, 5)),
			TunnelType: ipvs.TunnelType(r.IntN(4)), TunnelPort: uint16(pick(0, 6080)), TunnelFlags: ipvs.TunnelFlags(r.IntN(4)),
			ActiveConns: uint32(big()), InactiveConns: uint32(big()), PersistConns: uint32(big()), Stats: stats()}
		if dv6 {
			d.Family = ipvs.AFInet6
		}
		e.Dests = append(e.Dests, d)
	}
	return e
}

type nameTable struct{}

func (nameTable) HostByAddr(a netip.Addr) (string, bool) {
	if a.As16()[15]%3 == 0 {
		return "host-" + strings.Repeat("x", int(a.As16()[14]%70)), true
	}
	return "", false
}

func (nameTable) ServByPort(port uint16, proto string) (string, bool) {
	if port == 80 {
		return "http", true
	}
	return "", false
}

// TestAppendServiceMatchesOriginal compares the allocation-free formatter
// with the original string-building one on random entries in every format.
func TestAppendServiceMatchesOriginal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	formats := []Format{{}, {Numeric: true}, {Rule: true}, {Rule: true, Numeric: true}, {Stats: true, Numeric: true},
		{Stats: true, Exact: true}, {Rate: true}, {Rate: true, Exact: true, Numeric: true}, {Thresholds: true},
		{PersistentConn: true, Numeric: true}, {TunInfo: true, Numeric: true}, {NoSort: true, Numeric: true}, {NoSort: true}}
	var sc Scratch
	for i := 0; i < 3000; i++ {
		e := randomEntry(r)
		for _, f := range formats {
			for _, res := range []Resolver{nil, nameTable{}} {
				var want strings.Builder
				originalWriteService(&want, e, f, res)
				got := string(AppendService(nil, &e, f, res, &sc))
				if got != want.String() {
					t.Fatalf("entry %+v format %+v:\n got %q\nwant %q", e, f, got, want.String())
				}
			}
		}
	}
}

func TestAppendServiceAllocations(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	e := randomEntry(r)
	for len(e.Dests) < 5 {
		e = randomEntry(r)
	}
	e.Service.Family, e.Service.FWMark, e.Service.Address = ipvs.AFInet, 0, netip.MustParseAddr("10.0.0.1")
	for i := range e.Dests {
		e.Dests[i].Family, e.Dests[i].Address = ipvs.AFInet, netip.AddrFrom4([4]byte{192, 168, 0, byte(i)})
	}
	var sc Scratch
	buf := make([]byte, 0, 4096)
	f := Format{Numeric: true}
	AppendService(buf, &e, f, nil, &sc)
	n := testing.AllocsPerRun(100, func() { AppendService(buf[:0], &e, f, nil, &sc) })
	if n > 0 {
		t.Errorf("AppendService -Ln allocates %.1f times per service, want 0", n)
	}
}

func TestSortedOrderMatchesSortServices(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := 0; n < 200; n++ {
		var svcs []ipvs.Service
		for i := r.IntN(40); i > 0; i-- {
			svcs = append(svcs, randomEntry(r).Service)
		}
		order := SortedOrder(svcs)
		sorted := append([]ipvs.Service(nil), svcs...)
		SortServices(sorted)
		for i, j := range order {
			if svcs[j].Key() != sorted[i].Key() {
				t.Fatalf("position %d: %v, want %v", i, svcs[j].Key(), sorted[i].Key())
			}
		}
	}
}
