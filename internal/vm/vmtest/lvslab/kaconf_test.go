package lvslab

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", p, d)
	}
}

// TestConfigText writes each option once: the single service of
// TestVMKeepalived and a second one with every field set.
func TestConfigText(t *testing.T) {
	c := Config{
		GlobalDefs: []string{"checker_log_all_failures"},
		VirtualServers: []VirtualServer{
			{
				Addr: netip.MustParseAddrPort("10.0.0.1:80"),
				RealServers: []RealServer{{
					Addr:  netip.MustParseAddrPort("192.168.50.2:80"),
					Check: Check{Kind: HTTPGet, ConnectTimeout: 1, Retry: 1},
				}},
			},
			{
				Addr: netip.MustParseAddrPort("10.0.0.2:53"), Protocol: "TCP", LBAlgo: "rr", LBKind: "DR",
				DelayLoop: 3, Alpha: true,
				RealServers: []RealServer{
					{Addr: netip.MustParseAddrPort("192.168.50.3:53"), Weight: 5, InhibitOnFailure: true,
						Check: Check{Kind: TCPCheck, ConnectTimeout: 2, Retry: 3, DelayBeforeRetry: 4}},
					{Addr: netip.MustParseAddrPort("192.168.50.4:8080"),
						Check: Check{Kind: HTTPGet, Path: "/health", StatusCode: 204}},
				},
			},
		},
		RouterID: "test",
	}
	golden(t, "config.golden", c.Text())
}

func TestScale(t *testing.T) {
	s := ScaleSpec{
		Services: 5, PerService: 3, Pool: 4,
		FirstVIP: netip.MustParseAddr("10.0.0.254"), VIPPort: 80,
		FirstServer: netip.MustParseAddr("192.168.50.2"), ServerPort: 80,
		DelayLoop: 1, InhibitOnFailure: true,
		Check: Check{Kind: TCPCheck, ConnectTimeout: 1, Retry: 1},
	}
	c, err := Scale(s)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "scale.golden", c.Text())
}

// TestScaleFull checks the scale run's size: 1,000 services x 10 real
// servers from 200, every service with 10 distinct servers, every server
// in 50 services.
func TestScaleFull(t *testing.T) {
	for _, kind := range []CheckKind{TCPCheck, HTTPGet} {
		s := ScaleSpec{
			Services: 1000, PerService: 10, Pool: 200,
			FirstVIP: netip.MustParseAddr("10.0.0.1"), VIPPort: 80,
			FirstServer: netip.MustParseAddr("192.168.50.2"), ServerPort: 80,
			DelayLoop: 1, Check: Check{Kind: kind, ConnectTimeout: 1, Retry: 1},
		}
		c, err := Scale(s)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.VirtualServers) != 1000 {
			t.Fatalf("%d services", len(c.VirtualServers))
		}
		if got, want := c.VirtualServers[999].Addr, netip.MustParseAddrPort("10.0.3.232:80"); got != want {
			t.Errorf("last VIP %v, want %v", got, want)
		}
		uses := map[netip.AddrPort]int{}
		for _, vs := range c.VirtualServers {
			seen := map[netip.AddrPort]bool{}
			for _, rs := range vs.RealServers {
				if seen[rs.Addr] {
					t.Fatalf("service %v has %v twice", vs.Addr, rs.Addr)
				}
				seen[rs.Addr] = true
				uses[rs.Addr]++
			}
			if len(seen) != 10 {
				t.Fatalf("service %v has %d real servers", vs.Addr, len(seen))
			}
		}
		if len(uses) != 200 {
			t.Errorf("%d distinct servers, want 200", len(uses))
		}
		for a, n := range uses {
			if n != 50 {
				t.Errorf("server %v in %d services, want 50", a, n)
			}
		}
		if _, ok := uses[netip.MustParseAddrPort("192.168.50.201:80")]; !ok {
			t.Errorf("the pool should end at 192.168.50.201: %v", s.Servers()[199])
		}
		text := c.Text()
		if n := strings.Count(text, "virtual_server "); n != 1000 {
			t.Errorf("%d virtual_server blocks", n)
		}
		if n := strings.Count(text, string(kind)+" {"); n != 10000 {
			t.Errorf("%d %s blocks", n, kind)
		}
	}
}

func TestScaleErrors(t *testing.T) {
	ok := ScaleSpec{
		Services: 2, PerService: 2, Pool: 2,
		FirstVIP: netip.MustParseAddr("10.0.0.1"), FirstServer: netip.MustParseAddr("192.168.50.2"),
		Check: Check{Kind: TCPCheck},
	}
	if _, err := Scale(ok); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*ScaleSpec){
		"no services":         func(s *ScaleSpec) { s.Services = 0 },
		"more than the pool":  func(s *ScaleSpec) { s.PerService = 3 },
		"no VIP":              func(s *ScaleSpec) { s.FirstVIP = netip.Addr{} },
		"no check":            func(s *ScaleSpec) { s.Check.Kind = "" },
		"address space ends":  func(s *ScaleSpec) { s.FirstVIP = netip.MustParseAddr("255.255.255.255") },
		"no servers":          func(s *ScaleSpec) { s.Pool = 0 },
		"no server addresses": func(s *ScaleSpec) { s.FirstServer = netip.Addr{} },
	} {
		s := ok
		change(&s)
		if _, err := Scale(s); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
