package lvslab

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseIpvsadmList(t *testing.T) {
	out := `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.0.0.1:80 wrr
  -> 192.168.50.2:80              Masq    1      0          3         
  -> 192.168.50.3:80              Masq    0      2          0         
TCP  [2001:db8::1]:443 sh persistent 300 mask 255.255.255.0
UDP  10.0.0.2:53 rr ops
  -> 192.168.50.4:53              Route   5      0          0         
FWM  7 rr
`
	got, err := ParseIpvsadmList(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []IPVSService{
		{Proto: "TCP", Addr: netip.MustParseAddrPort("10.0.0.1:80"), Sched: "wrr", Dests: []IPVSDest{
			{Addr: netip.MustParseAddrPort("192.168.50.2:80"), Forward: "Masq", Weight: 1, InActConn: 3},
			{Addr: netip.MustParseAddrPort("192.168.50.3:80"), Forward: "Masq", Weight: 0, ActiveConn: 2},
		}},
		{Proto: "TCP", Addr: netip.MustParseAddrPort("[2001:db8::1]:443"), Sched: "sh", Flags: "persistent 300 mask 255.255.255.0"},
		{Proto: "UDP", Addr: netip.MustParseAddrPort("10.0.0.2:53"), Sched: "rr", Flags: "ops", Dests: []IPVSDest{
			{Addr: netip.MustParseAddrPort("192.168.50.4:53"), Forward: "Route", Weight: 5},
		}},
		{Proto: "FWM", FWMark: 7, Sched: "rr"},
	}
	if d := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); d != "" {
		t.Errorf("-want +got:\n%s", d)
	}
	d, ok := got[0].Dest(netip.MustParseAddrPort("192.168.50.3:80"))
	if !ok || !DestDown(d, ok) || DestWeight(1)(d, ok) || !DestWeight(1)(got[0].Dests[0], true) {
		t.Errorf("Dest/DestDown/DestWeight on %+v", d)
	}
	if _, ok := got[0].Dest(netip.MustParseAddrPort("192.168.50.9:80")); ok || !DestDown(IPVSDest{}, false) {
		t.Error("a missing destination")
	}
	// ipvsadm -Ln -t VIP: no version line.
	one, err := ParseIpvsadmList(strings.Join(strings.Split(out, "\n")[1:6], "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want[:1], one, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); d != "" {
		t.Errorf("one service: -want +got:\n%s", d)
	}
	for _, bad := range []string{
		"  -> 192.168.50.2:80 Masq 1 0 0\n",
		"TCP 10.0.0.1 wrr\n",
		"TCP 10.0.0.1:80 wrr\n  -> 192.168.50.2:80 Masq one 0 0\n",
		"TCP 10.0.0.1:80\n",
	} {
		if _, err := ParseIpvsadmList(bad); err == nil {
			t.Errorf("ParseIpvsadmList(%q): no error", bad)
		}
	}
}

func TestParseSNMPTCP(t *testing.T) {
	snmp := `Ip: Forwarding DefaultTTL
Ip: 1 64
Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors
Tcp: 1 200 120000 -1 12 345 6 7 2 1000 900 0 0 33 0
Udp: InDatagrams
Udp: 0
`
	c, err := parseSNMPTCP(snmp)
	if err != nil {
		t.Fatal(err)
	}
	want := TCPCounters{ActiveOpens: 12, PassiveOpens: 345, AttemptFails: 6, EstabResets: 7, CurrEstab: 2, InSegs: 1000, OutSegs: 900, OutRsts: 33}
	if c != want {
		t.Errorf("parseSNMPTCP = %+v, want %+v", c, want)
	}
	if d := c.Sub(TCPCounters{PassiveOpens: 300, CurrEstab: 9}); d.PassiveOpens != 45 || d.CurrEstab != 2 {
		t.Errorf("Sub = %+v", d)
	}
	if _, err := parseSNMPTCP("Tcp: ActiveOpens\nTcp: x\n"); err == nil {
		t.Error("a bad value: no error")
	}
	if _, err := parseSNMPTCP("Ip: 1\n"); err == nil {
		t.Error("no Tcp lines: no error")
	}
}
