package lvslab

import (
	"context"
	"net/netip"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
)

// The lab of TestVMKeepalived: the root namespace is the director, the
// namespace lvsrs one real server on the other end of a veth pair.
var (
	labVIP    = netip.MustParseAddrPort("10.0.0.1:80")
	labRoot   = netip.MustParsePrefix("192.168.50.1/24")
	labServer = netip.MustParsePrefix("192.168.50.2/24")
)

// labConfig is one virtual server with the lab's real server, checked by
// HTTP_GET every second.
func labConfig(inhibit bool) Config {
	return Config{VirtualServers: []VirtualServer{{
		Addr: labVIP, LBAlgo: "wrr", LBKind: "NAT", Protocol: "TCP", DelayLoop: 1,
		RealServers: []RealServer{{
			Addr: netip.AddrPortFrom(labServer.Addr(), 80), Weight: 1, InhibitOnFailure: inhibit,
			Check: Check{Kind: HTTPGet, Path: "/", StatusCode: 200, ConnectTimeout: 1, Retry: 1},
		}},
	}}}
}

// TestVMKeepalived runs Debian's keepalived (its health checker only)
// against the guest's IPVS with one busybox httpd real server: keepalived
// adds the server with weight 1, removes it (or, with
// inhibit_on_failure, sets its weight to 0) when httpd is killed and adds
// it back when httpd returns. It logs how long keepalived took to notice
// each change, its CPU time and memory, the checks the server saw, and
// the files its checker mapped (no library beyond ldd's list, so nothing
// is dlopen()ed). No timing is asserted: TCG and a busy host make times
// vary. It takes about 25 s here.
//
//vmtest:budget 2m
func TestVMKeepalived(t *testing.T) {
	RequireKeepalived(t)
	vmtest.Reset(t)
	ns := NewNetns(t, "lvsrs")
	LinkRoot(t, ns, "lvs0", "lvs1", labRoot, labServer)
	srv := ServeHTTP(t, ns, netip.AddrPortFrom(labServer.Addr(), 80))
	if r := CheckConfig(t, labConfig(false).Text()); r.Code != 0 {
		t.Fatalf("keepalived --config-test:\n%s", r)
	}

	for _, inhibit := range []bool{false, true} {
		name := "remove"
		if inhibit {
			name = "inhibit"
		}
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			ka := StartKeepalived(t, labConfig(inhibit).Text())
			t.Logf("keepalived: parent %d, checker %d, started in %v", ka.PID(), ka.CheckerPID(), time.Since(start))
			WaitDest(t, labVIP, srv.Addr, "weight 1", DestWeight(1), time.Minute)
			ka.WaitLog(t, "succeed on service", 1, time.Minute)
			t.Logf("first successful check %v after start", time.Since(start))

			// Steady state: one server up, checked every second. A few
			// checks show it; bench/ measures keepalived's cost at length.
			u0, tcp0, t0 := ka.Usage(t), ns.TCPCounters(t), time.Now()
			time.Sleep(3 * time.Second)
			u1, tcp1, el := ka.Usage(t), ns.TCPCounters(t), time.Since(t0)
			conns := tcp1.Sub(tcp0).PassiveOpens
			cpu := Sum(u1).Ticks() - Sum(u0).Ticks()
			t.Logf("steady state over %v: %d connections to the server (%.2f/s), keepalived cpu %v (%.1f ms/s)",
				el.Round(time.Millisecond), conns, float64(conns)/el.Seconds(), TicksDuration(cpu),
				float64(TicksDuration(cpu).Milliseconds())/el.Seconds())
			if conns == 0 {
				t.Errorf("no connections to the server in %v of checks every second", el)
			}

			srv.Stop(t)
			down := DestDown
			what := "removed"
			if inhibit {
				down = func(d IPVSDest, ok bool) bool { return ok && d.Weight == 0 }
				what = "present with weight 0"
			}
			took := WaitDest(t, labVIP, srv.Addr, what, down, time.Minute)
			t.Logf("httpd killed: %v -> %v %s after %v", labVIP, srv.Addr, what, took.Round(time.Millisecond))
			if svc, ok := ListIPVSService(t, labVIP); !ok {
				t.Errorf("the virtual service %v went away with its server", labVIP)
			} else {
				t.Logf("ipvsadm -Ln -t %v: %+v", labVIP, svc)
			}

			srv.Start(t)
			back := WaitDest(t, labVIP, srv.Addr, "weight 1", DestWeight(1), time.Minute)
			t.Logf("httpd restarted: back with weight 1 after %v", back.Round(time.Millisecond))

			us := ka.Usage(t)
			for _, u := range us {
				t.Logf("keepalived %s", u)
			}
			t.Logf("keepalived total: cpu %v, rss %.1f MiB (%d processes) over %v",
				Sum(us).CPU(), float64(Sum(us).RSS)/(1<<20), len(us), time.Since(start).Round(time.Millisecond))
			if !slices.ContainsFunc(us, func(u Usage) bool { return u.PID == ka.CheckerPID() }) {
				t.Errorf("the checker %d is not among keepalived's processes %v", ka.CheckerPID(), us)
			}

			files, err := MappedFiles(ka.CheckerPID())
			if err != nil {
				t.Fatal(err)
			}
			var libs []string
			for _, f := range files {
				if strings.Contains(path.Base(f), ".so") {
					libs = append(libs, path.Base(f))
				}
			}
			t.Logf("the checker mapped %d libraries: %s", len(libs), strings.Join(libs, " "))
			if !slices.Contains(libs, "libnl-genl-3.so.200") {
				t.Errorf("the checker has not mapped libnl-genl-3.so.200, through which it talks to IPVS")
			}

			ka.Stop(t)
			WaitIPVS(t, "empty once keepalived has stopped", func(s []IPVSService) bool { return len(s) == 0 }, 0)
			t.Logf("log:\n%s", ka.Log())
		})
	}
}

// TestVMKeepalivedScaleConfig has keepalived --config-test read the scale
// run's configurations: 1,000 services x 10 real servers from 200, with
// TCP_CHECK and with HTTP_GET (about 3 s each here).
func TestVMKeepalivedScaleConfig(t *testing.T) {
	RequireKeepalived(t)
	for _, kind := range []CheckKind{TCPCheck, HTTPGet} {
		c, err := Scale(ScaleSpec{
			Services: 1000, PerService: 10, Pool: 200,
			FirstVIP: netip.MustParseAddr("10.0.0.1"), VIPPort: 80,
			FirstServer: netip.MustParseAddr("192.168.50.2"), ServerPort: 80,
			DelayLoop: 1, Check: Check{Kind: kind, ConnectTimeout: 1, Retry: 1},
		})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		r := CheckConfig(t, c.Text())
		t.Logf("%s: keepalived --config-test took %v", kind, time.Since(start).Round(time.Millisecond))
		if r.Code != 0 || strings.TrimSpace(r.Stdout+r.Stderr) != "" {
			t.Errorf("%s: keepalived --config-test:\n%s", kind, r)
		}
	}
}

// TestVMEtcd runs tools/etcdserver in a namespace: a key put through
// Client is there after Stop and Start on the same data directory, at the
// same revision, and the server ends cleanly on SIGTERM.
//
//vmtest:budget 1m
func TestVMEtcd(t *testing.T) {
	vmtest.Require(t)
	ns := NewNetns(t, "lvsetcd")
	IPBatch(t, ns, "addr add 10.77.0.1/24 dev lo")
	e := StartEtcd(t, ns, netip.MustParseAddrPort("10.77.0.1:2379"), path.Join(t.TempDir(), "etcd"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := e.Client(t)
	put, err := c.Put(ctx, "/lab/key", "value")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	e.Stop(t)
	if e.Running() {
		t.Fatal("running after Stop")
	}
	t1 := time.Now()
	e.Start(t)
	t.Logf("stop %v, start %v", t1.Sub(t0).Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
	got, err := c.Get(ctx, "/lab/key")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "value" || got.Kvs[0].ModRevision != put.Header.Revision {
		t.Errorf("after the restart: %+v, want value at revision %d", got.Kvs, put.Header.Revision)
	}
	if n := strings.Count(e.Log(), "etcdserver: serving on "+e.URL); n != 2 {
		t.Errorf("%d serving lines in the log:\n%s", n, e.Log())
	}
}
