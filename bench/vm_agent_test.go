package bench

// ipvsctl agent beside Debian's keepalived 2.2.7 in one boot: the same
// servers, the same checks (our document is ipvsctl convert's reading of
// keepalived's configuration), one tool at a time on the same table.

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
	"github.com/ipvs-tools/ipvs/internal/vm/vmtest/lvslab"
	"github.com/ipvs-tools/ipvs/ipvsproc"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
)

const ctlPath = "/usr/local/sbin/ipvsctl"

// sbsSize is the size of a side-by-side run.
type sbsSize struct {
	// Window is the failover run per tool: a server is killed at a third
	// and started again at two thirds of it.
	Window time.Duration
	// Services × PerService from Pool servers for the scale run, measured
	// over ScaleWindow once the table is complete.
	Services, PerService, Pool int
	ScaleWindow                time.Duration
}

// sbsNS is the director's namespace: its IPVS table and connections are
// the benchmark's alone.
const sbsNS = "sbd"

// tool is keepalived or ipvsctl agent, started on a keepalived.conf in
// the director's namespace.
type tool struct {
	name  string
	start func(tb testing.TB, conf string) (pid int, stop func())
}

var tools = []tool{
	{"keepalived", func(tb testing.TB, conf string) (int, func()) {
		k := lvslab.StartKeepalivedIn(tb, &lvslab.Netns{Name: sbsNS}, conf)
		return k.PID(), func() { k.Stop(tb) }
	}},
	{"ipvsctl", func(tb testing.TB, conf string) (int, func()) {
		dir := tb.TempDir()
		kc := filepath.Join(dir, "keepalived.conf")
		doc := filepath.Join(dir, "agent.yaml")
		if err := os.WriteFile(kc, []byte(conf), 0o644); err != nil {
			tb.Fatal(err)
		}
		out, err := exec.Command(ctlPath, "convert", kc).Output()
		if err != nil {
			tb.Fatalf("ipvsctl convert: %v", err)
		}
		if err := os.WriteFile(doc, out, 0o644); err != nil {
			tb.Fatal(err)
		}
		logPath := filepath.Join(dir, "agent.log")
		log, _ := os.Create(logPath)
		tb.Cleanup(func() {
			if tb.Failed() {
				b, _ := os.ReadFile(logPath)
				if len(b) > 8000 {
					b = b[len(b)-8000:]
				}
				tb.Logf("ipvsctl agent's log (end):\n%s", b)
			}
		})
		cmd := exec.Command(ctlPath, "--netns", sbsNS, "agent", "-f", doc)
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			tb.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); log.Close(); close(done) }()
		stop := func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		}
		tb.Cleanup(stop)
		return cmd.Process.Pid, stop
	}},
}

// sbsResult is one tool's measurements.
type sbsResult struct {
	Detect, Recover             time.Duration
	Requests, Failed, FailedAft int
	CPU                         time.Duration // over the failover window
	ScaleStart                  time.Duration // to the complete table
	ScaleProbesPerSec           float64
	ScaleCPU                    time.Duration // per second of the scale window
	ScaleRSS                    int64
}

// tableWeights counts the destinations and those of each weight, from
// one read of /proc/net/ip_vs (a netlink read of 1,000 services is 1,001
// dumps, which would hold the IPVS lock and the one CPU from the tool
// measured).
func tableWeights(tb testing.TB) (dests int, byWeight map[uint32]int) {
	tb.Helper()
	tab, err := ipvsproc.ReadServices(ipvsproc.WithNetNS(sbsNS))
	if err != nil {
		tb.Fatal(err)
	}
	byWeight = map[uint32]int{}
	for _, vs := range tab.Services {
		for _, d := range vs.Dests {
			dests++
			byWeight[d.Weight]++
		}
	}
	return dests, byWeight
}

// waitDest polls the weight of rs in vip (-1: absent) until want(w).
func waitDest(tb testing.TB, nl *netlinkipvs.Client, vip netip.AddrPort, rs netip.AddrPort, what string, want func(w int) bool) time.Time {
	tb.Helper()
	key := ipvs.ServiceKey{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: vip.Addr(), Port: vip.Port()}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		w := -1
		ds, err := nl.Destinations(key)
		if err == nil {
			for _, d := range ds {
				if d.Address == rs.Addr() && d.Port == rs.Port() {
					w = int(d.Weight)
				}
			}
		}
		if want(w) {
			return time.Now()
		}
		if time.Now().After(deadline) {
			tb.Fatalf("waiting for %s: weight %d (%v)", what, w, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func usage(tb testing.TB, pid int) lvslab.Usage {
	tb.Helper()
	us, err := lvslab.TreeUsage(pid)
	if err != nil {
		tb.Fatal(err)
	}
	return lvslab.Sum(us)
}

// sideBySide runs the failover and the scale run for each tool and
// returns their measurements.
func sideBySide(tb testing.TB, size sbsSize) map[string]*sbsResult {
	lvslab.RequireKeepalived(tb)
	director := lvslab.NewNetns(tb, sbsNS)
	director.Forwarding(tb)
	flush := func() {
		if r := vmtest.Run(tb, vmtest.IPFull, "ip", "", "netns", "exec", sbsNS, vmtest.RefPath, "-C"); r.Code != 0 {
			tb.Fatalf("ipvsadm -C: %s", r)
		}
	}
	nl, err := netlinkipvs.New(netlinkipvs.WithNetNS(sbsNS))
	if err != nil {
		tb.Fatal(err)
	}
	defer nl.Close()
	res := map[string]*sbsResult{}

	// Failover: two busybox httpd servers behind 10.40.0.1:80, HTTP_GET
	// every second, inhibit_on_failure (quiesce), a client loop.
	client := lvslab.NewNetns(tb, "sbc")
	lvslab.Link(tb, director, client, "sbc0", "sbc1", netip.MustParsePrefix("10.40.0.1/24"), netip.MustParsePrefix("10.40.0.2/24"))
	var servers []*lvslab.HTTPServer
	for i := 1; i <= 2; i++ {
		ns := lvslab.NewNetns(tb, fmt.Sprintf("sbs%d", i))
		lvslab.Link(tb, director, ns, fmt.Sprintf("sbs%d0", i), fmt.Sprintf("sbs%d1", i),
			netip.MustParsePrefix(fmt.Sprintf("10.4%d.0.1/24", i)), netip.MustParsePrefix(fmt.Sprintf("10.4%d.0.2/24", i)))
		servers = append(servers, lvslab.ServeHTTP(tb, ns, netip.MustParseAddrPort(fmt.Sprintf("10.4%d.0.2:80", i))))
	}
	vip := netip.MustParseAddrPort("10.40.0.1:80")
	check := lvslab.Check{Kind: lvslab.HTTPGet, Path: "/", StatusCode: 200, ConnectTimeout: 1, Retry: 1}
	conf := lvslab.Config{VirtualServers: []lvslab.VirtualServer{{Addr: vip, LBAlgo: "rr", LBKind: "NAT", DelayLoop: 1,
		RealServers: []lvslab.RealServer{
			{Addr: servers[0].Addr, Weight: 1, InhibitOnFailure: true, Check: check},
			{Addr: servers[1].Addr, Weight: 1, InhibitOnFailure: true, Check: check},
		}}}}.Text()
	for _, tl := range tools {
		r := &sbsResult{}
		res[tl.name] = r
		flush()
		pid, stop := tl.start(tb, conf)
		for _, s := range servers {
			waitDest(tb, nl, vip, s.Addr, tl.name+": both servers up", func(w int) bool { return w == 1 })
		}
		stopClient := lvslab.ClientLoop(client, "http://"+vip.String()+"/")
		u0, t0 := usage(tb, pid), time.Now()
		time.Sleep(size.Window / 3)
		tKill := time.Now()
		servers[0].Stop(tb)
		tDetect := waitDest(tb, nl, vip, servers[0].Addr, tl.name+": server 1 quiesced", func(w int) bool { return w == 0 })
		time.Sleep(time.Until(t0.Add(2 * size.Window / 3)))
		tStart := time.Now()
		servers[0].Start(tb)
		tBack := waitDest(tb, nl, vip, servers[0].Addr, tl.name+": server 1 back", func(w int) bool { return w == 1 })
		time.Sleep(time.Until(t0.Add(size.Window)))
		u1, el := usage(tb, pid), time.Since(t0)
		rs := stopClient()
		r.Detect, r.Recover = tDetect.Sub(tKill), tBack.Sub(tStart)
		r.Requests = len(rs)
		r.Failed, _ = lvslab.FailuresAfter(rs, time.Time{})
		var first error
		r.FailedAft, first = lvslab.FailuresAfter(rs, tDetect)
		r.CPU = lvslab.TicksDuration(u1.Ticks() - u0.Ticks())
		tb.Logf("%s failover over %v: detection %v, recovery %v, %d requests, %d failed, %d after detection (%v), cpu %v",
			tl.name, el.Round(time.Millisecond), r.Detect.Round(time.Millisecond), r.Recover.Round(time.Millisecond),
			r.Requests, r.Failed, r.FailedAft, first, r.CPU)
		stop()
	}

	// Scale: Services × PerService from Pool servers, TCP_CHECK every
	// second; the pool's addresses are all on one namespace, whose TCP
	// counters count the probes.
	spec := lvslab.ScaleSpec{Services: size.Services, PerService: size.PerService, Pool: size.Pool,
		FirstVIP: netip.MustParseAddr("10.60.0.1"), VIPPort: 80, FirstServer: netip.MustParseAddr("10.50.0.2"), ServerPort: 80,
		DelayLoop: 1, InhibitOnFailure: true, Check: lvslab.Check{Kind: lvslab.TCPCheck, ConnectTimeout: 1, Retry: 1}}
	pool := lvslab.NewNetns(tb, "sbp")
	lvslab.Link(tb, director, pool, "sbp0", "sbp1", netip.MustParsePrefix("10.50.0.1/16"), netip.MustParsePrefix("10.50.0.2/16"))
	var addrs []string
	for _, s := range spec.Servers()[1:] {
		addrs = append(addrs, fmt.Sprintf("addr add %s/16 dev sbp1", s.Addr()))
	}
	lvslab.IPBatch(tb, pool, addrs...)
	pool.ServeTCP(tb, netip.MustParseAddrPort("0.0.0.0:80"))
	sc, err := lvslab.Scale(spec)
	if err != nil {
		tb.Fatal(err)
	}
	total := size.Services * size.PerService
	for _, tl := range tools {
		r := res[tl.name]
		flush()
		t0 := time.Now()
		pid, stop := tl.start(tb, sc.Text())
		deadline := t0.Add(5 * time.Minute)
		for {
			n, w := tableWeights(tb)
			if n == total && w[1] == total {
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("%s: the table has %d destinations (%d at weight 1), want %d", tl.name, n, w[1], total)
			}
			time.Sleep(500 * time.Millisecond)
		}
		r.ScaleStart = time.Since(t0)
		time.Sleep(3 * time.Second) // past the start-up burst
		c0, u0, t1 := pool.TCPCounters(tb), usage(tb, pid), time.Now()
		time.Sleep(size.ScaleWindow)
		c1, u1, el := pool.TCPCounters(tb), usage(tb, pid), time.Since(t1)
		r.ScaleProbesPerSec = float64(c1.Sub(c0).PassiveOpens) / el.Seconds()
		r.ScaleCPU = time.Duration(float64(lvslab.TicksDuration(u1.Ticks()-u0.Ticks())) / el.Seconds())
		r.ScaleRSS = u1.RSS
		tb.Logf("%s scale %d×%d from %d: complete table after %v; %.1f probes/s; cpu %v per second; rss %.1f MiB",
			tl.name, size.Services, size.PerService, size.Pool, r.ScaleStart.Round(time.Millisecond), r.ScaleProbesPerSec,
			r.ScaleCPU.Round(time.Microsecond), float64(r.ScaleRSS)/(1<<20))
		stop()
	}
	return res
}

// TestVMAgentBesideKeepalived is the side-by-side run at a small size:
// both tools detect the failure and bring the server back; ours fails no
// request after detection and probes each of the pool's servers once a
// second, whatever the number of services sharing it.
//
//vmtest:budget 2m
func TestVMAgentBesideKeepalived(t *testing.T) {
	res := sideBySide(t, sbsSize{Window: 9 * time.Second, Services: 20, PerService: 4, Pool: 8, ScaleWindow: 3 * time.Second})
	ours := res["ipvsctl"]
	if ours.FailedAft != 0 {
		t.Errorf("%d requests failed after detection", ours.FailedAft)
	}
	if max := 8*1.5 + 2; ours.ScaleProbesPerSec > max || ours.ScaleProbesPerSec == 0 {
		t.Errorf("%.1f probes a second for a pool of 8 servers checked every second (want about 8, at most %.0f)", ours.ScaleProbesPerSec, max)
	}
}

// BenchmarkVMAgentBesideKeepalived is the side-by-side run at full size:
// the failover over 60 s, and 1,000 services × 10 servers from 200, and
// the ratios keepalived/ours (above 1: ours does better).
//
//vmtest:budget 20m
func BenchmarkVMAgentBesideKeepalived(b *testing.B) {
	var res map[string]*sbsResult
	for range b.N {
		res = sideBySide(b, sbsSize{Window: 60 * time.Second, Services: 1000, PerService: 10, Pool: 200, ScaleWindow: 20 * time.Second})
	}
	ka, ours := res["keepalived"], res["ipvsctl"]
	ratio := func(a, o float64) float64 {
		if o == 0 {
			return 0
		}
		return a / o
	}
	b.ReportMetric(ours.Detect.Seconds(), "ours-detect-s")
	b.ReportMetric(ka.Detect.Seconds(), "ka-detect-s")
	b.ReportMetric(float64(ours.FailedAft), "ours-failed-after")
	b.ReportMetric(float64(ka.FailedAft), "ka-failed-after")
	b.ReportMetric(ratio(float64(ka.CPU), float64(ours.CPU)), "cpu-ka/ours")
	b.ReportMetric(ours.ScaleProbesPerSec, "ours-probes/s")
	b.ReportMetric(ka.ScaleProbesPerSec, "ka-probes/s")
	b.ReportMetric(ratio(ka.ScaleProbesPerSec, ours.ScaleProbesPerSec), "probes-ka/ours")
	b.ReportMetric(ratio(float64(ka.ScaleCPU), float64(ours.ScaleCPU)), "scale-cpu-ka/ours")
	b.ReportMetric(float64(ours.ScaleRSS)/(1<<20), "ours-rss-MiB")
	b.ReportMetric(float64(ka.ScaleRSS)/(1<<20), "ka-rss-MiB")
	b.ReportMetric(ratio(float64(ka.ScaleStart), float64(ours.ScaleStart)), "start-ka/ours")
}
