package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs"
)

// procText renders the fake's table as the kernel prints /proc/net/ip_vs
// (ip_vs_info_seq_show). skip drops services from the file, dup repeats
// them, as a table changing between the two reads would.
func procText(f *fakeBackend, skip, dup map[int]bool) string {
	var b strings.Builder
	b.WriteString("IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n" +
		"  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n")
	addr := func(a netip.Addr) string {
		if a.Is4() {
			v := a.As4()
			return fmt.Sprintf("%02X%02X%02X%02X", v[0], v[1], v[2], v[3])
		}
		v := a.As16()
		var g []string
		for i := 0; i < 16; i += 2 {
			g = append(g, fmt.Sprintf("%02x%02x", v[i], v[i+1]))
		}
		return "[" + strings.Join(g, ":") + "]"
	}
	fwd := []string{"Masq", "Local", "Tunnel", "Route", "Masq", "Masq", "Masq", "Masq"}
	for i, s := range f.services() {
		if skip[i] {
			continue
		}
		for n := 0; n < 1 || (dup[i] && n < 2); n++ {
			if s.FWMark != 0 {
				fmt.Fprintf(&b, "FWM  %08X %s ", s.FWMark, s.Scheduler)
			} else {
				fmt.Fprintf(&b, "%s  %s:%04X %s ", map[ipvs.Protocol]string{6: "TCP", 17: "UDP", 132: "SCTP"}[s.Protocol], addr(s.Address), s.Port, s.Scheduler)
			}
			if s.Flags&1 != 0 {
				fmt.Fprintf(&b, "persistent %d %08X\n", s.Timeout*250, s.Netmask)
			} else {
				b.WriteString("\n")
			}
			for _, d := range f.dests(s.Key()) {
				fmt.Fprintf(&b, "  -> %s:%04X      %-7s %-6d %-10d %-10d\n", addr(d.Address), d.Port, fwd[d.ForwardMethod], int32(d.Weight), int32(d.ActiveConns), int32(d.InactiveConns))
			}
		}
	}
	return b.String()
}

// randomFake fills a fake with services in random (kernel) order: IPv4 and
// IPv6, fwmarks (some used by both families), tunnel destinations, mixed
// families, counters.
func randomFake(r *rand.Rand) *fakeBackend {
	f := newFake()
	n := 1 + r.IntN(30)
	for i := 0; i < n; i++ {
		s := ipvs.Service{Family: ipvs.AFInet, Scheduler: "wlc", Netmask: 0xffffffff}
		switch r.IntN(4) {
		case 0:
			s.FWMark = uint32(1 + r.IntN(4))
			if r.IntN(2) == 0 {
				s.Family, s.Netmask = ipvs.AFInet6, 128
			}
		case 1:
			s.Family, s.Netmask = ipvs.AFInet6, 128
			s.Protocol = ipvs.ProtoTCP
			s.Address = netip.AddrFrom16([16]byte{0x20, 1, 0xd, 0xb8, 15: byte(r.IntN(50))})
			s.Port = uint16(r.IntN(3))
		default:
			s.Protocol = ipvs.Protocol([]uint8{6, 17, 132}[r.IntN(3)])
			s.Address = netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(3)), byte(r.IntN(50))})
			s.Port = uint16(80 + r.IntN(3))
		}
		if r.IntN(4) == 0 {
			s.Flags, s.Timeout = 1, 300
		}
		if f.NewService(s) != nil {
			continue // a duplicate
		}
		for j := r.IntN(6); j > 0; j-- {
			d := ipvs.Destination{Family: s.Family, Port: uint16(8080 + r.IntN(2)), ForwardMethod: ipvs.ForwardMethod([]uint8{0, 1, 3}[r.IntN(3)]),
				Weight: uint32(r.IntN(3)), ActiveConns: uint32(r.IntN(1000)), InactiveConns: uint32(r.Uint32())}
			if s.Family == ipvs.AFInet6 {
				d.Address = netip.AddrFrom16([16]byte{0x20, 1, 0xd, 0xb8, 14: 1, 15: byte(r.IntN(200))})
			} else {
				d.Address = netip.AddrFrom4([4]byte{192, 168, byte(r.IntN(2)), byte(r.IntN(200))})
			}
			if r.IntN(6) == 0 {
				d.ForwardMethod = ipvs.FwdTunnel
				d.TunnelType, d.TunnelPort, d.TunnelFlags = ipvs.TunnelType(r.IntN(3)), 6080, ipvs.TunnelFlags(r.IntN(3))
				if r.IntN(2) == 0 {
					// A destination of the other family.
					if s.Family == ipvs.AFInet {
						d.Family, d.Address = ipvs.AFInet6, netip.AddrFrom16([16]byte{0x20, 1, 15: byte(r.IntN(200))})
					} else {
						d.Family, d.Address = ipvs.AFInet, netip.AddrFrom4([4]byte{172, 16, 0, byte(r.IntN(200))})
					}
				}
			}
			if f.NewDestination(s.Key(), d) != nil {
				continue
			}
			// Traffic: the model starts a destination's counters at 0.
			f.m.SetCounters(s.Key(), func(_ *ipvs.Service, ds []ipvs.Destination) {
				ds[len(ds)-1].ActiveConns, ds[len(ds)-1].InactiveConns = d.ActiveConns, d.InactiveConns
			})
		}
	}
	f.calls = nil
	return f
}

func countCalls(f *fakeBackend, name string) int {
	n := 0
	for _, c := range f.calls {
		if c == name {
			n++
		}
	}
	return n
}

// TestFastListingMatchesNetlink lists random tables with destinations from
// a /proc/net/ip_vs text and with one netlink dump per service: every
// listing that takes the fast path must print the same bytes, and the
// fast path must dump only the services the file cannot describe.
func TestFastListingMatchesNetlink(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	listings := [][]string{{"-Ln"}, {"-L"}, {"-Sn"}, {"-S"}, {"-Ln", "--nosort"}, {"-L", "--nosort"}, {}}
	fastDumps, slowDumps := 0, 0
	for iter := 0; iter < 300; iter++ {
		f := randomFake(r)
		skip, dup := map[int]bool{}, map[int]bool{}
		if iter%5 == 0 {
			skip[r.IntN(f.m.Len())] = true
		}
		if iter%7 == 0 {
			dup[r.IntN(f.m.Len())] = true
		}
		if iter%3 == 0 {
			f.repeat = map[int]int{r.IntN(f.m.Len()): 1 + r.IntN(2)}
		}
		text := procText(f, skip, dup)
		for _, args := range listings {
			f.calls = nil
			want := runFake(t, f, "", args...)
			slowDumps += countCalls(f, "dests")
			f.calls = nil
			got := runFakeProc(t, f, text, args...)
			fastDumps += countCalls(f, "dests")
			if got != want {
				t.Fatalf("ipvsadm %v on\n%s\ngot  %q\nwant %q", args, text, got.both, want.both)
			}
		}
	}
	if fastDumps*5 > slowDumps {
		t.Errorf("fast path made %d destination dumps, netlink path %d: want far fewer", fastDumps, slowDumps)
	}
	t.Logf("destination dumps: %d with /proc, %d without", fastDumps, slowDumps)
}

// runFakeProc is runFake with /proc/net/ip_vs reading text.
func runFakeProc(t *testing.T, f *fakeBackend, text string, args ...string) result {
	t.Helper()
	return runApp(t, func(a *app) {
		a.openProc = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(text)), nil }
	}, f, "", args...)
}

// TestFastListingFallbacks checks which services get a netlink dump.
func TestFastListingFallbacks(t *testing.T) {
	f := newFake()
	v4, v6 := ipvs.AFInet, ipvs.AFInet6
	add := func(s ipvs.Service, ds ...ipvs.Destination) {
		if s.Netmask == 0 {
			s.Netmask = 0xffffffff
		}
		s.Scheduler = "rr"
		f.NewService(s)
		for _, d := range ds {
			f.NewDestination(s.Key(), d)
		}
	}
	a4 := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	plain := ipvs.Destination{Family: v4, Address: a4("192.168.0.1"), Port: 80, Weight: 1}
	tun := ipvs.Destination{Family: v4, Address: a4("192.168.0.2"), Port: 80, Weight: 1, ForwardMethod: ipvs.FwdTunnel, TunnelType: 1, TunnelPort: 9}
	add(ipvs.Service{Family: v4, Protocol: 6, Address: a4("10.0.0.1"), Port: 80}, plain)
	add(ipvs.Service{Family: v4, Protocol: 6, Address: a4("10.0.0.2"), Port: 80}, plain, tun)
	add(ipvs.Service{Family: v4, FWMark: 7}, plain)
	add(ipvs.Service{Family: v6, FWMark: 7, Netmask: 128}, ipvs.Destination{Family: v6, Address: a4("2001:db8::5"), Weight: 1})
	add(ipvs.Service{Family: v6, FWMark: 8, Netmask: 128}, ipvs.Destination{Family: v6, Address: a4("2001:db8::6"), Weight: 1})
	add(ipvs.Service{Family: v4, Protocol: 17, Address: a4("10.0.0.3"), Port: 53}, plain)
	text := procText(f, map[int]bool{5: true}, nil)
	for _, c := range []struct {
		args  []string
		dumps int
	}{
		{[]string{"-Ln"}, 3}, // both fwmark 7 (v4 and v6) and UDP 10.0.0.3:53 (missing from the file)
		{[]string{"-Sn"}, 4}, // and the tunnel destination's service
	} {
		f.calls = nil
		want := runFake(t, f, "", c.args...)
		f.calls = nil
		got := runFakeProc(t, f, text, c.args...)
		if got != want {
			t.Errorf("%v: got %q, want %q", c.args, got.both, want.both)
		}
		if n := countCalls(f, "dests"); n != c.dumps {
			t.Errorf("%v: %d destination dumps, want %d", c.args, n, c.dumps)
		}
	}
	// Formats with netlink-only fields never read the file.
	for _, args := range [][]string{{"-Ln", "--stats"}, {"-Ln", "--rate"}, {"-Ln", "--thresholds"}, {"-Ln", "--persistent-conn"}, {"-Ln", "--tun-info"}} {
		f.calls = nil
		runApp(t, func(a *app) {
			a.openProc = func() (io.ReadCloser, error) { t.Errorf("%v read /proc/net/ip_vs", args); return nil, io.EOF }
		}, f, "", args...)
		if n := countCalls(f, "dests"); n != f.m.Len() {
			t.Errorf("%v: %d destination dumps, want %d", args, n, f.m.Len())
		}
	}
}
