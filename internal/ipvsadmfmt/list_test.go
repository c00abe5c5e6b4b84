package ipvsadmfmt

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs"
)

// referenceSnapshot is the kernel state of §8.14 of the ipvsadm reference,
// in the kernel order given there.
func referenceSnapshot() Snapshot {
	a := netip.MustParseAddr
	v4 := ipvs.AFInet
	v6 := ipvs.AFInet6
	return Snapshot{
		Info: ipvs.Info{Version: ipvs.Version{Major: 1, Minor: 2, Patch: 1}, ConnTableSize: 4096},
		Services: []ServiceEntry{
			{
				Service: ipvs.Service{Family: v4, Protocol: 6, Address: a("10.0.0.1"), Port: 80, Scheduler: "wlc", Netmask: 0xffffffff,
					Stats: ipvs.Stats{Conns: 1234, InPkts: 56789, OutPkts: 45678, InBytes: 123456789, OutBytes: 9876543210,
						CPS: 5, InPPS: 100, OutPPS: 90, InBPS: 12000, OutBPS: 900000}},
				Dests: []ipvs.Destination{
					{Family: v4, Address: a("192.168.0.2"), Port: 80, ForwardMethod: 0, Weight: 1, ActiveConns: 3, InactiveConns: 10,
						Stats: ipvs.Stats{Conns: 600, InPkts: 30000, OutPkts: 20000, InBytes: 60000000, OutBytes: 5000000000}},
					{Family: v4, Address: a("192.168.0.1"), Port: 8080, ForwardMethod: 0, Weight: 2, ActiveConns: 7, InactiveConns: 2,
						UpperThreshold: 100, LowerThreshold: 10, PersistConns: 1,
						Stats: ipvs.Stats{Conns: 634, InPkts: 26789, OutPkts: 25678, InBytes: 63456789, OutBytes: 4876543210}},
				},
			},
			{
				Service: ipvs.Service{Family: v4, Protocol: 17, Address: a("10.0.0.1"), Port: 53, Scheduler: "sh", Netmask: 0xffffffff,
					Flags: 0x4 | 0x8 | 0x10},
				Dests: []ipvs.Destination{{Family: v4, Address: a("192.168.0.3"), Port: 53, ForwardMethod: 3, Weight: 1}},
			},
			{
				Service: ipvs.Service{Family: v4, Protocol: 6, Address: a("10.0.0.1"), Port: 443, Scheduler: "rr",
					Flags: 1, Timeout: 360, Netmask: 0xffffff00, PEName: "sip"},
				Dests: []ipvs.Destination{
					{Family: v4, Address: a("192.168.0.4"), Port: 443, ForwardMethod: 2, Weight: 100, TunnelType: 1, TunnelPort: 6080, TunnelFlags: 1},
					{Family: v4, Address: a("192.168.0.5"), Port: 443, ForwardMethod: 2, Weight: 100, TunnelType: 2, TunnelFlags: 0},
					{Family: v4, Address: a("192.168.0.6"), Port: 443, ForwardMethod: 2, Weight: 100, TunnelType: 0},
					{Family: v4, Address: a("192.168.0.7"), Port: 443, ForwardMethod: 1, Weight: 5},
				},
			},
			{
				Service: ipvs.Service{Family: v4, FWMark: 2882430849, Scheduler: "wlc", Flags: 1, Timeout: 300, Netmask: 0xffffffff},
				Dests:   []ipvs.Destination{{Family: v4, Address: a("192.168.0.9"), Port: 0, ForwardMethod: 0, Weight: 1}},
			},
			{
				Service: ipvs.Service{Family: v6, FWMark: 7, Scheduler: "mh", Flags: 0x8 | 0x10, Timeout: 1800, Netmask: 64},
				Dests:   []ipvs.Destination{{Family: v6, Address: a("2001:db8::10"), Port: 0, ForwardMethod: 0, Weight: 1}},
			},
			{
				Service: ipvs.Service{Family: v6, Protocol: 6, Address: a("2001:db8::1"), Port: 443, Scheduler: "wlc", Flags: 1, Timeout: 600, Netmask: 96},
				Dests: []ipvs.Destination{
					{Family: v6, Address: a("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff"), Port: 8443, ForwardMethod: 0, Weight: 3, ActiveConns: 1, InactiveConns: 1},
					{Family: v4, Address: a("10.9.9.9"), Port: 443, ForwardMethod: 2, Weight: 1},
				},
			},
			{Service: ipvs.Service{Family: v4, Protocol: 132, Address: a("10.0.0.2"), Port: 3868, Scheduler: "rr", Netmask: 0xffffffff}},
			{Service: ipvs.Service{Family: v4, Protocol: 6, Address: a("10.0.0.1"), Port: 0, Scheduler: "lc", Flags: 1, Timeout: 100, Netmask: 0xffffffff}},
			{Service: ipvs.Service{Family: v4, Protocol: 6, Address: a("9.0.0.1"), Port: 21, Scheduler: "wrr", Netmask: 0xffffffff}},
		},
	}
}

// dollars turns the reference's "$" line ends into newlines.
func dollars(s string) string {
	return strings.ReplaceAll(strings.TrimPrefix(s, "\n"), "$\n", "\n")
}

func listing(f Format, r Resolver) string {
	var b strings.Builder
	WriteListing(&b, referenceSnapshot(), f, r)
	return b.String()
}

func TestReferenceListNumeric(t *testing.T) {
	want := dollars(`
IP Virtual Server version 1.2.1 (size=4096)$
Prot LocalAddress:Port Scheduler Flags$
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn$
FWM  -1412536447 wlc persistent 300$
  -> 192.168.0.9:0                Masq    1      0          0         $
TCP  9.0.0.1:21 wrr$
TCP  10.0.0.1:0 lc persistent 100$
TCP  10.0.0.1:80 wlc$
  -> 192.168.0.1:8080             Masq    2      7          2         $
  -> 192.168.0.2:80               Masq    1      3          10        $
TCP  10.0.0.1:443 rr persistent 360 mask 255.255.255.0 pe sip$
  -> 192.168.0.4:443              Tunnel  100    0          0         $
  -> 192.168.0.5:443              Tunnel  100    0          0         $
  -> 192.168.0.6:443              Tunnel  100    0          0         $
  -> 192.168.0.7:443              Local   5      0          0         $
UDP  10.0.0.1:53 sh (sh-fallback,sh-port) ops$
  -> 192.168.0.3:53               Route   1      0          0         $
SCTP 10.0.0.2:3868 rr$
TCP  [2001:db8::1]:443 wlc persistent 600 mask 96$
  -> 10.9.9.9:443                 Tunnel  1      0          0         $
  -> [2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff]:8443 Masq    3      1          1         $
FWM  7 IPv6 mh (mh-fallback,mh-port)$
  -> [2001:db8::10]:0             Masq    1      0          0         $
`)
	if got := listing(Format{Numeric: true}, nil); got != want {
		t.Errorf("-L -n:\n%s\nwant:\n%s", got, want)
	}
}

func TestReferenceStats(t *testing.T) {
	got := listing(Format{Numeric: true, Stats: true}, nil)
	wantPrefix := dollars(`
IP Virtual Server version 1.2.1 (size=4096)$
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes$
  -> RemoteAddress:Port$
FWM  -1412536447                         0        0        0        0        0$
  -> 192.168.0.9:0                       0        0        0        0        0$
TCP  9.0.0.1:21                          0        0        0        0        0$
TCP  10.0.0.1:0                          0        0        0        0        0$
TCP  10.0.0.1:80                      1234    56789    45678  123456K    9876M$
  -> 192.168.0.1:8080                  634    26789    25678 63456789    4876M$
  -> 192.168.0.2:80                    600    30000    20000 60000000    5000M$
`)
	if !strings.HasPrefix(got, wantPrefix) {
		t.Errorf("--stats:\n%s\nwant prefix:\n%s", got, wantPrefix)
	}
	wantSuffix := dollars(`
  -> [2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff]:8443        0        0        0        0        0$
FWM  7 IPv6                              0        0        0        0        0$
  -> [2001:db8::10]:0                    0        0        0        0        0$
`)
	if !strings.HasSuffix(got, wantSuffix) {
		t.Errorf("--stats:\n%s\nwant suffix:\n%s", got, wantSuffix)
	}
	exact := listing(Format{Numeric: true, Stats: true, Exact: true}, nil)
	row := "TCP  10.0.0.1:80                      1234    56789    45678 123456789 9876543210\n"
	if !strings.Contains(exact, row) {
		t.Errorf("--stats --exact: no row %q in\n%s", row, exact)
	}
}

func TestReferenceRate(t *testing.T) {
	got := listing(Format{Numeric: true, Rate: true}, nil)
	for _, line := range []string{
		"Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n",
		"TCP  10.0.0.1:80                         5      100       90    12000   900000\n",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("--rate: no line %q in\n%s", line, got)
		}
	}
}

func TestReferenceThresholdsPersistentTunInfo(t *testing.T) {
	cases := []struct {
		f     Format
		lines string
	}{
		{Format{Numeric: true, Thresholds: true}, dollars(`
Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn $
  -> RemoteAddress:Port$
`)},
		{Format{Numeric: true, Thresholds: true}, dollars(`
TCP  10.0.0.1:80 wlc$
  -> 192.168.0.1:8080             100        10         7          2         $
`)},
		{Format{Numeric: true, PersistentConn: true}, dollars(`
Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn $
  -> RemoteAddress:Port$
`)},
		{Format{Numeric: true, PersistentConn: true}, dollars(`
  -> 192.168.0.1:8080             2         1           7          2         $
`)},
		{Format{Numeric: true, TunInfo: true}, dollars(`
  -> 192.168.0.4:443              Tunnel  gue:6080:+c   100    0          0         $
  -> 192.168.0.5:443              Tunnel  gre:-c        100    0          0         $
  -> 192.168.0.6:443              Tunnel  ipip          100    0          0         $
  -> 192.168.0.7:443              Local   n/a           5      0          0         $
`)},
	}
	for _, c := range cases {
		got := listing(c.f, nil)
		if !strings.Contains(got, c.lines) {
			t.Errorf("format %+v: missing\n%s\nin\n%s", c.f, c.lines, got)
		}
	}
}

func TestReferenceSaveNumeric(t *testing.T) {
	want := `-A -f -1412536447 -s wlc -p 300
-a -f -1412536447 -r 192.168.0.9:0 -m -w 1
-A -t 9.0.0.1:21 -s wrr
-A -t 10.0.0.1:0 -s lc -p 100
-A -t 10.0.0.1:80 -s wlc
-a -t 10.0.0.1:80 -r 192.168.0.1:8080 -m -w 2
-a -t 10.0.0.1:80 -r 192.168.0.2:80 -m -w 1
-A -t 10.0.0.1:443 -s rr -p 360 -M 255.255.255.0 --pe sip
-a -t 10.0.0.1:443 -r 192.168.0.4:443 -i -w 100 --tun-type gue --tun-port 6080 --tun-csum
-a -t 10.0.0.1:443 -r 192.168.0.5:443 -i -w 100 --tun-type gre --tun-nocsum
-a -t 10.0.0.1:443 -r 192.168.0.6:443 -i -w 100 --tun-type ipip
-a -t 10.0.0.1:443 -r 192.168.0.7:443 -g -w 5
-A -u 10.0.0.1:53 -s sh -o -b sh-fallback,sh-port
-a -u 10.0.0.1:53 -r 192.168.0.3:53 -g -w 1
-A --sctp-service 10.0.0.2:3868 -s rr
-A -t [2001:db8::1]:443 -s wlc -p 600 -M 96
-a -t [2001:db8::1]:443 -r 10.9.9.9:443 -i -w 1 --tun-type ipip
-a -t [2001:db8::1]:443 -r [2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff]:8443 -m -w 3
-A -f 7 -6 -s mh -b mh-fallback,mh-port
-a -f 7 -6 -r [2001:db8::10]:0 -m -w 1
`
	if got := listing(Format{Numeric: true, Rule: true}, nil); got != want {
		t.Errorf("-S -n:\n%s\nwant:\n%s", got, want)
	}
}

// debianServices resolves the ports of Debian 12's /etc/services that the
// reference example uses.
type debianServices struct{}

func (debianServices) HostByAddr(netip.Addr) (string, bool) { return "", false }
func (debianServices) ServByPort(port uint16, proto string) (string, bool) {
	names := map[uint16]string{21: "ftp", 80: "http", 8080: "http-alt", 443: "https", 53: "domain"}
	n, ok := names[port]
	if proto == "sctp" {
		return "", false
	}
	return n, ok
}

func TestReferenceSaveNames(t *testing.T) {
	numeric := listing(Format{Numeric: true, Rule: true}, nil)
	named := listing(Format{Rule: true}, debianServices{})
	r := strings.NewReplacer(":21 ", ":ftp ", ":21\n", ":ftp\n", ":80 ", ":http ", ":80\n", ":http\n",
		":8080 ", ":http-alt ", ":443 ", ":https ", ":443\n", ":https\n", ":53 ", ":domain ", ":53\n", ":domain\n")
	if want := r.Replace(numeric); named != want {
		t.Errorf("-S:\n%s\nwant:\n%s", named, want)
	}
}

func TestLargeNumbers(t *testing.T) {
	f := Format{}
	cases := map[uint64]string{
		0:               "        0",
		99999999:        " 99999999",
		100000000:       "  100000K",
		999999999:       "  999999K",
		1000000000:      "    1000M",
		5000000000:      "    5000M",
		99999999999:     "   99999M",
		100000000000:    "     100G",
		99999999999999:  "   99999G",
		100000000000000: "     100T",
		1 << 63:         " 9223372T",
	}
	for v, want := range cases {
		if got := largenum(v, f); got != want {
			t.Errorf("largenum(%d) = %q, want %q", v, got, want)
		}
	}
	if got := largenum(123456789, Format{Exact: true}); got != " 123456789" {
		t.Errorf("exact: %q", got)
	}
	if got := largenum(12, Format{Exact: true}); got != "       12" {
		t.Errorf("exact: %q", got)
	}
}

func TestDestStatsTruncation(t *testing.T) {
	snap := Snapshot{Info: referenceSnapshot().Info, Services: []ServiceEntry{{
		Service: ipvs.Service{Family: 2, Protocol: 6, Address: netip.MustParseAddr("10.0.0.1"), Port: 80, Scheduler: "wlc",
			Stats: ipvs.Stats{Conns: 5000000000}, Stats64: true},
		Dests: []ipvs.Destination{{Family: 2, Address: netip.MustParseAddr("10.0.0.2"), Port: 80, Weight: 1,
			Stats: ipvs.Stats{Conns: 5000000000, CPS: 1215752192 + 1<<32}, Stats64: true}},
	}}}
	var b strings.Builder
	WriteListing(&b, snap, Format{Numeric: true, Stats: true}, nil)
	if !strings.Contains(b.String(), "TCP  10.0.0.1:80                     5000M") ||
		!strings.Contains(b.String(), "  -> 10.0.0.2:80                   705032K") {
		t.Errorf("stats:\n%s", b.String())
	}
	b.Reset()
	WriteListing(&b, snap, Format{Numeric: true, Rate: true}, nil)
	if !strings.Contains(b.String(), "  -> 10.0.0.2:80                  1215752192        0        0        0        0\n") {
		t.Errorf("rate:\n%s", b.String())
	}
}

func TestSortQuirks(t *testing.T) {
	mk := func(addrs ...string) []ipvs.Service {
		var s []ipvs.Service
		for _, a := range addrs {
			s = append(s, ipvs.Service{Family: 2, Protocol: 6, Address: netip.MustParseAddr(a), Port: 80})
		}
		return s
	}
	cases := []struct{ in, want []string }{
		{[]string{"1.0.0.1", "200.0.0.1", "100.0.0.1"}, []string{"1.0.0.1", "100.0.0.1", "200.0.0.1"}},
		{[]string{"200.0.0.1", "100.0.0.1", "1.0.0.1"}, []string{"200.0.0.1", "1.0.0.1", "100.0.0.1"}},
		{[]string{"100.0.0.1", "1.0.0.1", "200.0.0.1"}, []string{"100.0.0.1", "200.0.0.1", "1.0.0.1"}},
	}
	for _, c := range cases {
		s := mk(c.in...)
		SortServices(s)
		var got []string
		for _, x := range s {
			got = append(got, x.Address.String())
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("sort %v = %v, want %v", c.in, got, c.want)
		}
	}
	// fwmark >= 2^31 sorts before everything else.
	s := []ipvs.Service{
		{Family: 2, Protocol: 6, Address: netip.MustParseAddr("10.0.0.1"), Port: 80},
		{Family: 2, FWMark: 2882430849},
		{Family: 2, FWMark: 5},
	}
	SortServices(s)
	if s[0].FWMark != 2882430849 || s[1].FWMark != 0 || s[2].FWMark != 5 {
		t.Errorf("fwmark order: %+v", s)
	}
	// Destinations are sorted the same way.
	d := []ipvs.Destination{
		{Family: 2, Address: netip.MustParseAddr("200.0.0.1")},
		{Family: 2, Address: netip.MustParseAddr("100.0.0.1")},
		{Family: 2, Address: netip.MustParseAddr("1.0.0.1")},
	}
	SortDests(d)
	if d[0].Address.String() != "200.0.0.1" || d[1].Address.String() != "1.0.0.1" {
		t.Errorf("dest order: %+v", d)
	}
}

func TestNames(t *testing.T) {
	long := "vip-frontend-number-one.example.com"
	r := hostsResolver{"10.0.0.1": long}
	snap := Snapshot{Info: referenceSnapshot().Info, Services: []ServiceEntry{{
		Service: ipvs.Service{Family: 2, Protocol: 6, Address: netip.MustParseAddr("10.0.0.1"), Port: 80, Scheduler: "wlc"},
		Dests:   []ipvs.Destination{{Family: 2, Address: netip.MustParseAddr("10.0.0.1"), Port: 80, Weight: 1, ForwardMethod: 3}},
	}}}
	var b strings.Builder
	WriteListing(&b, snap, Format{}, r)
	want := "IP Virtual Server version 1.2.1 (size=4096)\n" +
		"Prot LocalAddress:Port Scheduler Flags\n" +
		"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n" +
		"TCP  vip-frontend-number-one.exam wlc\n" +
		"  -> vip-frontend-number-one.exam Route   1      0          0         \n"
	if b.String() != want {
		t.Errorf("names:\n%q\nwant\n%q", b.String(), want)
	}
}

type hostsResolver map[string]string

func (h hostsResolver) HostByAddr(a netip.Addr) (string, bool) {
	n, ok := h[a.String()]
	return n, ok
}
func (hostsResolver) ServByPort(uint16, string) (string, bool) { return "", false }

func TestInetNtop6(t *testing.T) {
	cases := map[string]string{
		"::":                   "::",
		"::1":                  "::1",
		"::1.2.3.4":            "::1.2.3.4",
		"::ffff:1.2.3.4":       "::ffff:1.2.3.4",
		"::2":                  "::2",
		"2001:db8::1":          "2001:db8::1",
		"2001:db8:0:0:1:0:0:1": "2001:db8::1:0:0:1",
		"1:0:0:2:0:0:0:3":      "1:0:0:2::3",
		"1:2:3:4:5:6:7:0":      "1:2:3:4:5:6:7:0",
		"1:0:3:4:5:6:7:8":      "1:0:3:4:5:6:7:8",
		"fe80::":               "fe80::",
		"ff02::1:2":            "ff02::1:2",
	}
	for in, want := range cases {
		if got := inetNtop6(netip.MustParseAddr(in).As16()); got != want {
			t.Errorf("inet_ntop(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestTimeoutsDaemons(t *testing.T) {
	var b strings.Builder
	WriteTimeouts(&b, ipvs.Timeouts{TCP: 900, TCPFin: 120, UDP: 300})
	if b.String() != "Timeout (tcp tcpfin udp): 900 120 300\n" {
		t.Errorf("timeouts: %q", b.String())
	}
	b.Reset()
	WriteDaemons(&b, []ipvs.Daemon{
		{State: 1, Interface: "eth0", SyncID: 0},
		{State: 2, Interface: "eth1", SyncID: 7, SyncMaxLen: 1400, Group: netip.MustParseAddr("239.1.2.3"), Port: 9000, TTL: 3},
	})
	want := "master sync daemon (mcast=eth0, syncid=0)\n" +
		"backup sync daemon (mcast=eth1, syncid=7, maxlen=1400, group=239.1.2.3, port=9000, ttl=3)\n"
	if b.String() != want {
		t.Errorf("daemons: %q", b.String())
	}
	b.Reset()
	WriteDaemons(&b, []ipvs.Daemon{{State: 1, Interface: "eth0", Group: netip.MustParseAddr("ff02::1:2")}})
	if b.String() != "master sync daemon (mcast=eth0, syncid=0, group=ff02::1:2)\n" {
		t.Errorf("daemons v6: %q", b.String())
	}
}

func TestHelp(t *testing.T) {
	var b strings.Builder
	WriteHelp(&b, "/usr/sbin/ipvsadm")
	s := b.String()
	if !strings.HasPrefix(s, "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\nUsage:\n  /usr/sbin/ipvsadm -A|E") ||
		!strings.HasSuffix(s, "  --mcast-ttl ttl                     Multicast TTL (default=1)\n") ||
		strings.Count(s, "/usr/sbin/ipvsadm") != 13 || strings.Contains(s, " \n") {
		t.Errorf("help:\n%s", s)
	}
	if !strings.Contains(s, "(comma-separated)\nDaemon Options:\n") {
		t.Errorf("help lacks the missing blank line before Daemon Options")
	}
}
