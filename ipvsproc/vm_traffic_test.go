package ipvsproc

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
	"golang.org/x/sys/unix"
)

// trafficTopology builds the real-traffic test bed: the root namespace is
// the director, "tc" the client, "ts1" and "ts2" two real servers running
// busybox httpd, each namespace on its own veth pair, IPv4 and IPv6.
func trafficTopology(t *testing.T) {
	t.Helper()
	for _, ns := range []string{"tc", "ts1", "ts2"} {
		addNetns(t, ns)
	}
	link(t, "", "pt-c", "10.10.0.1/24 fd10::1/64", "tc", "eth0", "10.10.0.2/24 fd10::2/64")
	link(t, "", "pt-s1", "10.11.0.1/24 fd11::1/64", "ts1", "eth0", "10.11.0.2/24 fd11::2/64")
	link(t, "", "pt-s2", "10.12.0.1/24 fd12::1/64", "ts2", "eth0", "10.12.0.2/24 fd12::2/64")
	sh(t, `echo 1 > /proc/sys/net/ipv4/ip_forward
echo 1 > /proc/sys/net/ipv6/conf/all/forwarding
`+ipFull+` link set lo up
`+ipFull+` -n tc route add default via 10.10.0.1
`+ipFull+` -n tc -6 route add default via fd10::1
`+ipFull+` -n ts1 route add default via 10.11.0.1
`+ipFull+` -n ts1 -6 route add default via fd11::1
`+ipFull+` -n ts2 route add default via 10.12.0.1
`+ipFull+` -n ts2 -6 route add default via fd12::1
`)
	httpd(t, "ts1", "server1")
	httpd(t, "ts2", "server2")
	waitListening(t, "ts1", "127.0.0.1")
	waitListening(t, "ts2", "127.0.0.1")
}

// TestVMTraffic sends real HTTP requests through VS/NAT round-robin
// services set up with the reference ipvsadm, then checks that the replies
// alternate between the servers, that the parser reads the same
// connection table as ipvsadm -Lcn, that /proc/net/ip_vs matches ipvsadm
// -Ln, and that the netlinkipvs client's counters equal ipvsadm -Ln
// --stats --exact.
func TestVMTraffic(t *testing.T) {
	vmtest.Require(t)
	vmtest.Reset(t)
	trafficTopology(t)
	statsBefore, err := ReadStats()
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-A", "-t", "10.10.0.1:80", "-s", "rr"},
		{"-a", "-t", "10.10.0.1:80", "-r", "10.11.0.2:80", "-m"},
		{"-a", "-t", "10.10.0.1:80", "-r", "10.12.0.2:80", "-m"},
		{"-A", "-t", "[fd10::1]:80", "-s", "rr"},
		{"-a", "-t", "[fd10::1]:80", "-r", "[fd11::2]:80", "-m"},
		{"-a", "-t", "[fd10::1]:80", "-r", "[fd12::2]:80", "-m", "-w", "2"},
		// persistence: a template with client port 0
		{"-A", "-t", "10.10.0.1:81", "-s", "wlc", "-p", "60", "-M", "255.255.255.0"},
		{"-a", "-t", "10.10.0.1:81", "-r", "10.12.0.2:80", "-m"},
		// an IPv6 service with an IPv4 tunnel destination: mixed-family
		// entries (the tunnel is not decapsulated, so they stay SYN_RECV)
		{"-A", "-t", "[fd10::1]:82", "-s", "rr"},
		{"-a", "-t", "[fd10::1]:82", "-r", "10.11.0.2:82", "-i"},
		// firewall-mark services, reached by a local client with SO_MARK
		{"-A", "-f", "7", "-s", "rr", "-p", "60"},
		{"-a", "-f", "7", "-r", "10.11.0.2", "-m"},
		{"-A", "-f", "8", "-6", "-s", "rr", "-p", "60"},
		{"-a", "-f", "8", "-6", "-r", "fd12::2", "-m"},
	} {
		mustRef(t, "", args...)
	}

	// Round robin: the replies alternate.
	var replies []string
	for i := 0; i < 6; i++ {
		replies = append(replies, wget(t, "tc", "http://10.10.0.1/"))
	}
	for i := 0; i < 4; i++ {
		replies = append(replies, wget(t, "tc", "http://[fd10::1]/"))
	}
	t.Logf("replies: %q", replies)
	for i := 1; i < 6; i++ {
		if replies[i] == replies[i-1] || (replies[i] != "server1" && replies[i] != "server2") {
			t.Fatalf("IPv4 replies do not alternate between server1 and server2: %q", replies[:6])
		}
	}
	// IPv6 is weighted 1:2, so both servers answer.
	if v6 := strings.Join(replies[6:], " "); !strings.Contains(v6, "server1") || !strings.Contains(v6, "server2") {
		t.Fatalf("IPv6 replies: %q", replies[6:])
	}
	if got := wget(t, "tc", "http://10.10.0.1:81/"); got != "server2" {
		t.Fatalf("persistent service answered %q", got)
	}
	// The mixed-family service gets no answer; the attempt leaves an entry.
	inNetns("tc", "/bin/busybox", "timeout", "2", "/bin/busybox", "wget", "-q", "-O", "-", "http://[fd10::1]:82/").Run()
	fwmarkClient(t, "10.10.0.1:80", 7)
	fwmarkClient(t, "[fd10::1]:80", 8)

	conns := compareConnsWithRef(t, "")
	for _, name := range []string{ConnFile, ServicesFile} {
		f, err := Open(name)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(f)
		f.Close()
		t.Logf("raw %s:\n%s", name, raw)
	}
	var v4, v6, mixed, templates, fwm int
	for _, c := range conns {
		switch {
		case c.IsTemplate():
			templates++
			if m, ok := c.FWMark(); ok {
				fwm++
				t.Logf("fwmark template: %s (mark %d)", c.String(), m)
			}
		case c.Client.Addr().Is4():
			v4++
		case c.Dest.Addr().Is4():
			mixed++
		default:
			v6++
		}
	}
	t.Logf("%d entries: %d IPv4, %d IPv6, %d mixed-family, %d templates (%d of fwmark services)", len(conns), v4, v6, mixed, templates, fwm)
	if v4 < 7 || v6 < 4 || mixed < 1 || templates < 1 {
		t.Fatalf("want at least 7 IPv4, 4 IPv6, 1 mixed-family entry and 1 template")
	}

	// The sync view lists the same entries, all LOCAL.
	sync, err := AllSyncConns()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range sync {
		if c.Origin != OriginLocal {
			t.Fatalf("sync view entry %s: origin %v", c.String(), c.Origin)
		}
	}
	if len(sync) < len(conns)-2 || len(sync) > len(conns)+2 {
		t.Fatalf("ip_vs_conn_sync has %d entries, ip_vs_conn %d", len(sync), len(conns))
	}

	compareServicesWithRef(t, "")
	compareStatsWithRef(t, "")

	statsAfter, err := ReadStats()
	if err != nil {
		t.Fatal(err)
	}
	if d := statsAfter.Conns - statsBefore.Conns; d < 11 {
		t.Fatalf("global connection counter grew by %d, want at least 11", d)
	}
	if statsAfter.InPkts <= statsBefore.InPkts || statsAfter.OutBytes <= statsBefore.OutBytes {
		t.Fatalf("global counters did not grow: %+v -> %+v", statsBefore, statsAfter)
	}
}

// fwmarkClient connects from the root namespace with SO_MARK mark to addr
// and fetches "/". The director's LOCAL_OUT hook schedules such local
// clients, so this creates entries of the firewall-mark service. A failed
// request is only logged: what matters is that parser and ipvsadm agree
// about whatever entries it left.
func fwmarkClient(t *testing.T, addr string, mark int) {
	t.Helper()
	d := net.Dialer{Timeout: 3 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK, mark) })
		if err != nil {
			return err
		}
		return serr
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Logf("fwmark %d client to %s: %v", mark, addr, err)
		return
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.0\r\n\r\n")
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	t.Logf("fwmark %d client to %s: read %d bytes, %v", mark, addr, n, err)
}

// compareServicesWithRef checks ReadServices against "ipvsadm -Ln
// --nosort": the same services and destinations with the same forwarding
// methods, weights and connection counts.
func compareServicesWithRef(t *testing.T, ns string) {
	t.Helper()
	retryCompare(t, 500*time.Millisecond, fmt.Sprintf("netns %q: /proc/net/ip_vs and ipvsadm -Ln disagree", ns), func() string {
		tab, err := ReadServices(nsOptions(ns)...)
		if err != nil {
			t.Fatal(err)
		}
		out := mustRef(t, ns, "-Ln", "--nosort")
		var got []string
		for _, s := range tab.Services {
			got = append(got, lnServiceLine(&s))
			for _, d := range s.Dests {
				got = append(got, fmt.Sprintf("  -> %-28s %-7s %-6d %-10d %-10d", lnAddrPort(d.Address), d.Forward,
					int32(d.Weight), d.ActiveConns, d.InactiveConns))
			}
		}
		want := strings.Split(strings.TrimRight(out, "\n"), "\n")[3:]
		g, w := strings.Join(got, "\n"), strings.Join(want, "\n")
		if g == w {
			return ""
		}
		return "parser:\n" + g + "\nipvsadm -Ln --nosort:\n" + w
	})
}

// lnServiceLine formats a service the way ipvsadm -Ln prints it, from what
// /proc/net/ip_vs says (HZ 250 for the persistence timeout; the IPv6
// family of firewall-mark services is guessed from the mask byte order,
// which is what the kernel's ntohl leaves).
func lnServiceLine(s *Service) string {
	var b strings.Builder
	if s.FWMark != 0 {
		fmt.Fprintf(&b, "FWM  %d", s.FWMark)
		if s.Persistent && s.RawNetmask == 0x80000000 {
			b.WriteString(" IPv6")
		}
	} else {
		fmt.Fprintf(&b, "%-4s %s", s.Protocol, lnAddrPort(s.Address))
	}
	fmt.Fprintf(&b, " %s", s.Scheduler)
	if s.Persistent {
		fmt.Fprintf(&b, " persistent %d", s.Timeout(250))
		if m, ok := s.Netmask(); ok {
			if s.Family == FamilyInet && m != 0xffffffff {
				fmt.Fprintf(&b, " mask %d.%d.%d.%d", byte(m>>24), byte(m>>16), byte(m>>8), byte(m))
			} else if s.Family == FamilyInet6 && m != 128 {
				fmt.Fprintf(&b, " mask %d", m)
			}
		}
	}
	if s.OnePacket {
		b.WriteString(" ops")
	}
	return b.String()
}

func lnAddrPort(ap netip.AddrPort) string {
	if ap.Addr().Is4() {
		return ap.String()
	}
	return "[" + ap.Addr().String() + "]:" + fmt.Sprint(ap.Port())
}

// compareStatsWithRef checks the netlinkipvs client's Stats of every
// service and destination against "ipvsadm -Ln --stats --exact".
func compareStatsWithRef(t *testing.T, ns string) {
	t.Helper()
	c := newClient(t, ns)
	retryCompare(t, time.Second, fmt.Sprintf("netns %q: stats differ", ns), func() string {
		want := refStats(t, mustRef(t, ns, "-Ln", "--stats", "--exact"))
		got := map[string][5]uint64{}
		svcs, err := c.Services()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range svcs {
			key := statsKey(s)
			got[key] = statNums(s.Stats)
			dests, err := c.Destinations(s.Key())
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range dests {
				got[key+" -> "+lnAddrPort(netip.AddrPortFrom(d.Address, d.Port))] = statNums(d.Stats)
			}
		}
		diff := ""
		for k, w := range want {
			if got[k] != w {
				diff += fmt.Sprintf("  %s: netlinkipvs %v, ipvsadm %v\n", k, got[k], w)
			}
		}
		if len(got) != len(want) {
			diff += fmt.Sprintf("  %d entries from netlinkipvs, %d from ipvsadm\n", len(got), len(want))
		}
		if diff == "" {
			t.Logf("stats of %d services and destinations agree with ipvsadm -Ln --stats --exact", len(want))
			for k, v := range want {
				if !strings.Contains(k, "->") {
					t.Logf("  %s: conns %d inpkts %d outpkts %d inbytes %d outbytes %d", k, v[0], v[1], v[2], v[3], v[4])
				}
			}
		}
		return diff
	})
}
