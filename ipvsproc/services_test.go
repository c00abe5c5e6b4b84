package ipvsproc

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// The services captured in the 6.1 VM (testdata/ip_vs-6.1-mixed.txt; the
// reference ipvsadm -Ln of the same table is beside it).
var servicesWant = []Service{
	{Family: FamilyInet, Protocol: ProtoUDP, Address: ap("10.1.0.1:53"), Scheduler: "rr", OnePacket: true,
		Dests: []Dest{{Address: ap("10.2.0.2:53"), Forward: FwdMasq, Weight: 3}}},
	{Family: FamilyInet6, Protocol: ProtoTCP, Address: ap("[fd00:1::1]:82"), Scheduler: "sh",
		Persistent: true, TimeoutJiffies: 75000, RawNetmask: 0x40000000,
		Dests: []Dest{{Address: ap("[fd00:2::2]:82"), Forward: FwdRoute, Weight: 0}}},
	{Family: FamilyInet, Protocol: ProtoTCP, Address: ap("10.1.0.1:82"), Scheduler: "wlc",
		Persistent: true, TimeoutJiffies: 15000, RawNetmask: 0xFFFFFF00,
		Dests: []Dest{{Address: ap("10.2.0.2:81"), Forward: FwdMasq, Weight: 1, InactiveConns: 1}}},
	{Family: FamilyInet6, Protocol: ProtoTCP, Address: ap("[fd00:1::1]:80"), Scheduler: "rr",
		Dests: []Dest{{Address: ap("[fd00:2::2]:80"), Forward: FwdMasq, Weight: 1, InactiveConns: 1}}},
	{Family: FamilyInet6, Protocol: ProtoTCP, Address: ap("[fd00:1::1]:81"), Scheduler: "rr",
		Dests: []Dest{{Address: ap("10.2.0.2:81"), Forward: FwdTunnel, Weight: 1, ActiveConns: 1}}},
	{Family: FamilyInet, Protocol: ProtoTCP, Address: ap("10.1.0.1:80"), Scheduler: "rr",
		Dests: []Dest{{Address: ap("10.2.0.2:80"), Forward: FwdMasq, Weight: 1, InactiveConns: 1}}},
	{FWMark: 7, Scheduler: "rr", Persistent: true, TimeoutJiffies: 30000, RawNetmask: 0xFFFFFFFF,
		Dests: []Dest{{Address: ap("10.2.0.2:0"), Forward: FwdRoute, Weight: 1}}},
	{FWMark: 8, Scheduler: "rr", Persistent: true, TimeoutJiffies: 30000, RawNetmask: 0x80000000,
		Dests: []Dest{
			{Address: ap("10.2.0.3:0"), Forward: FwdTunnel, Weight: 1},
			{Address: ap("[fd00:2::2]:0"), Forward: FwdRoute, Weight: 1},
		}},
	{FWMark: 9, Scheduler: "rr", OnePacket: true},
}

func TestServicesReal(t *testing.T) {
	tab := mustServices(t, openTestdata(t, "ip_vs-6.1-mixed.txt"))
	if tab.Version != "1.2.1" || tab.ConnTableSize != 4096 {
		t.Fatalf("header = %+v", tab.ServicesHeader)
	}
	if !reflect.DeepEqual(tab.Services, servicesWant) {
		t.Fatalf("got\n%+v\nwant\n%+v", tab.Services, servicesWant)
	}
	// Debian's HZ is 250: -p 300 and -p 60 printed as 75000 and 15000.
	if got := tab.Services[1].Timeout(250); got != 300 {
		t.Errorf("Timeout(250) = %d", got)
	}
	if m, ok := tab.Services[1].Netmask(); !ok || m != 64 {
		t.Errorf("IPv6 Netmask() = %d, %v; want 64 (the prefix length)", m, ok)
	}
	if m, ok := tab.Services[2].Netmask(); !ok || m != 0xFFFFFF00 {
		t.Errorf("IPv4 Netmask() = %#x, %v", m, ok)
	}
	if _, ok := tab.Services[6].Netmask(); ok {
		t.Error("fwmark Netmask() claims to know the family")
	}
}

func TestServicesRealFwmark(t *testing.T) {
	tab := mustServices(t, openTestdata(t, "ip_vs-6.1-fwmark.txt"))
	if len(tab.Services) != 6 {
		t.Fatalf("%d services", len(tab.Services))
	}
	v6fwm := tab.Services[5]
	if v6fwm.FWMark != 8 || v6fwm.RawNetmask != 0x80000000 || v6fwm.Timeout(250) != 60 ||
		len(v6fwm.Dests) != 1 || v6fwm.Dests[0].Address != ap("[fd12::2]:0") || v6fwm.Dests[0].InactiveConns != 1 {
		t.Fatalf("IPv6 fwmark service %+v", v6fwm)
	}
	mixed := tab.Services[0]
	if mixed.Family != FamilyInet6 || mixed.Dests[0].Address != ap("10.11.0.2:82") || mixed.Dests[0].Forward != FwdTunnel {
		t.Fatalf("IPv6 service with an IPv4 tunnel destination: %+v", mixed)
	}
}

func TestScanServicesReusesAndStops(t *testing.T) {
	stop := errors.New("stop")
	var names []string
	_, err := ScanServices(openTestdata(t, "ip_vs-6.1-mixed.txt"), func(s *Service) error {
		names = append(names, s.Address.String())
		if len(names) == 3 {
			return stop
		}
		return nil
	})
	if err != stop || len(names) != 3 {
		t.Fatalf("err=%v names=%q", err, names)
	}
}

func TestServicesEmptyAndMalformed(t *testing.T) {
	const head = "IP Virtual Server version 1.2.1 (size=4096)\n" +
		"Prot LocalAddress:Port Scheduler Flags\n" +
		"  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n"
	tab, err := ParseServices(strings.NewReader(head))
	if err != nil || len(tab.Services) != 0 || tab.ConnTableSize != 4096 {
		t.Fatalf("empty table: %+v, %v", tab, err)
	}
	cases := []struct {
		name, in string
		line     int
		field    string
	}{
		{"empty", "", 1, "header"},
		{"bad version", "IP Virtual Server version 1.2.1\n", 1, "header"},
		{"short header", head[:60], 3, "header"},
		{"dest first", head + "  -> 0A020002:0035      Masq    3      0          0\n", 4, "destination"},
		{"bad proto", head + "XXX  0A010001:0035 rr\n", 4, "protocol"},
		{"bad addr", head + "TCP  0A01001:0035 rr\n", 4, "address"},
		{"bad v6", head + "TCP  [0A010001]:0035 rr\n", 4, "address"},
		{"bad mark", head + "FWM  1234567890 rr\n", 4, "fwmark"},
		{"bad persistent", head + "TCP  0A010001:0035 rr persistent 5\n", 4, "persistent"},
		{"bad mask", head + "TCP  0A010001:0035 rr persistent 5 XYZ\n", 4, "persistent netmask"},
		{"trailing word", head + "TCP  0A010001:0035 rr foo\n", 4, ""},
		{"bad fwd", head + "TCP  0A010001:0035 rr\n  -> 0A020002:0035      NAT    3      0          0\n", 5, "forward"},
		{"bad weight", head + "TCP  0A010001:0035 rr\n  -> 0A020002:0035      Masq    x      0          0\n", 5, "weight"},
		{"short dest", head + "TCP  0A010001:0035 rr\n  -> 0A020002:0035      Masq    3\n", 5, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseServices(strings.NewReader(c.in))
			wantParseError(t, err, c.line, c.field)
		})
	}
}

func TestServicesNegativeAndSigned(t *testing.T) {
	in := "IP Virtual Server version 1.2.1 (size=1048576)\n" +
		"Prot LocalAddress:Port Scheduler Flags\n" +
		"  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n" +
		"SCTP 0A010001:0035 mh persistent 2147483647 FFFFFFFF\n" +
		"  -> 0A020002:0035      Local   2147483647 -1         0         \n"
	tab := mustServices(t, strings.NewReader(in))
	s := tab.Services[0]
	if s.Protocol != ProtoSCTP || s.Scheduler != "mh" || s.TimeoutJiffies != 2147483647 || tab.ConnTableSize != 1<<20 {
		t.Fatalf("service %+v", s)
	}
	d := s.Dests[0]
	if d.Forward != FwdLocal || d.Weight != 2147483647 || d.ActiveConns != 0xFFFFFFFF {
		t.Fatalf("dest %+v", d)
	}
}

func TestStatsReal(t *testing.T) {
	st, err := ParseStats(openTestdata(t, "ip_vs_stats-6.1.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{Conns: 4, InPkts: 0x17, OutPkts: 0xF, InBytes: 0x669, OutBytes: 0x5FE,
		CPS: 0, InPPS: 2, OutPPS: 2, InBPS: 0xAA, OutBPS: 0x9F}
	if st != want {
		t.Fatalf("got %+v\nwant %+v", st, want)
	}
	cpus, total, err := ParseStatsPerCPU(openTestdata(t, "ip_vs_stats_percpu-6.1.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if total != want {
		t.Fatalf("per-CPU total %+v\nwant %+v", total, want)
	}
	if len(cpus) != 1 || cpus[0] != (CPUStats{CPU: 0, Conns: 4, InPkts: 0x17, OutPkts: 0xF, InBytes: 0x669, OutBytes: 0x5FE}) {
		t.Fatalf("cpus %+v", cpus)
	}
}

func TestStatsMalformed(t *testing.T) {
	for _, in := range []string{
		"",
		"   Total Incoming\n   Conns  Packets\n       4       17        F\n",
		"   Total\n   Conns\n       4       17        F              669              5FE\n",
		"   Total\n   Conns\n       4       17        F              669              5FE\n\n Conns/s\n       0        2        2               AA               9G\n",
	} {
		if _, err := ParseStats(strings.NewReader(in)); err == nil {
			t.Errorf("ParseStats(%q) succeeded", in)
		}
		if _, _, err := ParseStatsPerCPU(strings.NewReader(in)); err == nil {
			t.Errorf("ParseStatsPerCPU(%q) succeeded", in)
		}
	}
}
