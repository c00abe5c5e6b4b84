package main

// ipvsctl agent against the real kernel, with real packets: busybox httpd
// real servers in their own namespaces, a client namespace sending
// requests through the virtual service, the root namespace as director.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs"
	agentcmd "github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/agent"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
	"github.com/ipvs-tools/ipvs/internal/vm/vmtest/lvslab"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
)

// agentLab is the test bed. The director is the namespace agd (the agent
// runs with --netns agd: its table, its connections and its probes are
// there, and no other test sees them); the client namespace reaches the
// VIP 10.30.0.1, the director's address on the client's link; three real
// servers, each a busybox httpd in its own namespace, answer with their
// address.
type agentLab struct {
	director   *lvslab.Netns
	client     *lvslab.Netns
	s1, s2, s9 *lvslab.HTTPServer
	nl         *netlinkipvs.Client
}

const agentNS = "agd"

func newAgentLab(t *testing.T) *agentLab {
	t.Helper()
	l := &agentLab{director: lvslab.NewNetns(t, agentNS), client: lvslab.NewNetns(t, "agc")}
	lvslab.Link(t, l.director, l.client, "agc0", "agc1", netip.MustParsePrefix("10.30.0.1/24"), netip.MustParsePrefix("10.30.0.2/24"))
	srv := func(name string, n int) *lvslab.HTTPServer {
		ns := lvslab.NewNetns(t, name)
		lvslab.Link(t, l.director, ns, name+"0", name+"1", netip.MustParsePrefix(fmt.Sprintf("10.3%d.0.1/24", n)), netip.MustParsePrefix(fmt.Sprintf("10.3%d.0.2/24", n)))
		return lvslab.ServeHTTP(t, ns, netip.MustParseAddrPort(fmt.Sprintf("10.3%d.0.2:80", n)))
	}
	l.s1, l.s2, l.s9 = srv("ags1", 1), srv("ags2", 2), srv("ags9", 9)
	l.director.Forwarding(t)
	nl, err := netlinkipvs.New(netlinkipvs.WithNetNS(agentNS))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nl.Close() })
	l.nl = nl
	return l
}

// ipvsadmIn runs the reference ipvsadm in the director's namespace.
func ipvsadmIn(t testing.TB, args ...string) {
	t.Helper()
	if r := vmtest.Run(t, vmtest.IPFull, "ip", "", append([]string{"netns", "exec", agentNS, vmtest.RefPath}, args...)...); r.Code != 0 {
		t.Fatalf("ipvsadm %s: %s", strings.Join(args, " "), r)
	}
}

// weights returns "PORT SERVER=WEIGHT ..." for every service, sorted.
func (l *agentLab) weights(t testing.TB) string {
	t.Helper()
	tab, err := ipvs.ReadTable(l.nl, nil)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, vs := range tab {
		var ds []string
		for _, d := range vs.Destinations {
			ds = append(ds, fmt.Sprintf("%s=%d", d.Address, d.Weight))
		}
		slices.Sort(ds)
		lines = append(lines, fmt.Sprintf("%d %s", vs.Service.Port, strings.Join(ds, " ")))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// waitTable polls the table (every 10 ms, in-process) until cond holds
// and returns when it first did. The 60 s limit is a hang guard, not a
// timing requirement.
func (l *agentLab) waitTable(t testing.TB, what string, cond func(string) bool) time.Time {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		w := l.weights(t)
		if cond(w) {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s; table:\n%s", what, w)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func has(s string) func(string) bool {
	return func(w string) bool { return strings.Contains(w+"\n", s+"\n") }
}

// agentProc is a running ipvsctl agent.
type agentProc struct {
	cmd  *exec.Cmd
	log  *testutil.SyncBuffer
	addr string
	done chan struct{}
}

var agentPort = 9440

// startAgent starts ipvsctl agent on file and waits for /healthz.
func startAgent(t *testing.T, file string, args ...string) *agentProc {
	t.Helper()
	agentPort++
	a := &agentProc{log: &testutil.SyncBuffer{}, addr: fmt.Sprintf("127.0.0.1:%d", agentPort), done: make(chan struct{})}
	a.cmd = exec.Command(ctlPath, append([]string{"--netns", agentNS, "agent", "-f", file, "--listen", a.addr}, args...)...)
	a.cmd.Stdout, a.cmd.Stderr = a.log, a.log
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.cmd.Wait(); close(a.done) }()
	t.Cleanup(func() {
		a.cmd.Process.Kill()
		<-a.done
		if t.Failed() {
			t.Logf("agent log:\n%s", a.log)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + a.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return a
			}
		}
		select {
		case <-a.done:
			t.Fatalf("the agent ended: %v\n%s", a.cmd.ProcessState, a.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent is not ready: %v\n%s", err, a.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (a *agentProc) status(t testing.TB) agentcmd.StatusOutput {
	t.Helper()
	resp, err := http.Get("http://" + a.addr + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st agentcmd.StatusOutput
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func (a *agentProc) signal(t testing.TB, s syscall.Signal) {
	t.Helper()
	if err := a.cmd.Process.Signal(s); err != nil {
		t.Fatal(err)
	}
}

// waitLog waits until the agent's log has n lines containing s.
func (a *agentProc) waitLog(t testing.TB, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for strings.Count(a.log.String(), s) < n {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the agent's log:\n%s", s, a.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func writeDoc(t *testing.T, dir, name, doc string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("apiVersion: ipvsctl/v1\nservices:\n"+doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestVMAgent runs ipvsctl agent with real servers and a client:
// failover and recovery with 0 failed requests after detection, SIGTERM
// leaving the table, one probe per shared server, a reload sending only
// the difference and a bad one refused, kill -9 and restart without a
// weight change, and remove mode with a sorry server and a quorum. Times
// are measured and logged, not asserted (TCG).
//
//vmtest:kernels all
//vmtest:budget 90s
func TestVMAgent(t *testing.T) {
	vmtest.Require(t)
	vmtest.Reset(t)
	l := newAgentLab(t)
	dir := t.TempDir()
	const check = "{type: http, expectBody: '10\\.3', interval: 500ms, timeout: 300ms, rise: 2, fall: 2}"

	t.Run("failover", func(t *testing.T) {
		file := writeDoc(t, dir, "failover.yaml", `  - protocol: tcp
    address: 10.30.0.1
    port: 80
    scheduler: rr
    healthCheck: `+check+`
    destinations:
      - {address: 10.31.0.2, forward: masq}
      - {address: 10.32.0.2, forward: masq}
`)
		a := startAgent(t, file)
		l.waitTable(t, "both servers up", has("80 10.31.0.2=1 10.32.0.2=1"))
		stop := lvslab.ClientLoop(l.client, "http://10.30.0.1:80/")
		time.Sleep(time.Second)
		t0 := time.Now()
		l.s1.Stop(t)
		tDetect := l.waitTable(t, "server 1 quiesced", has("80 10.31.0.2=0 10.32.0.2=1"))
		time.Sleep(2 * time.Second)
		t1 := time.Now()
		l.s1.Start(t)
		tBack := l.waitTable(t, "server 1 back", has("80 10.31.0.2=1 10.32.0.2=1"))
		time.Sleep(time.Second)
		rs := stop()
		bound := 2*500*time.Millisecond + 300*time.Millisecond
		t.Logf("detection %v after the kill (bound fall×interval+timeout = %v), recovery %v after the start (rise×interval = 1s)",
			tDetect.Sub(t0).Round(time.Millisecond), bound, tBack.Sub(t1).Round(time.Millisecond))
		before, _ := lvslab.FailuresAfter(rs, time.Time{})
		after, first := lvslab.FailuresAfter(rs, tDetect)
		t.Logf("%d requests, %d failed in all, %d after detection", len(rs), before, after)
		if after != 0 {
			t.Errorf("%d requests failed after the failure was detected; first: %v", after, first)
		}
		var s1, s2 int
		for _, r := range rs {
			switch r.Body {
			case "10.31.0.2:80":
				s1++
			case "10.32.0.2:80":
				s2++
			}
		}
		if s1 == 0 || s2 == 0 {
			t.Errorf("answers: %d from server 1, %d from server 2", s1, s2)
		}
		st := a.status(t)
		if len(st.Servers) != 2 || st.Servers[0].Health != "up" || st.Servers[0].Flips != 2 {
			t.Errorf("status servers: %+v", st.Servers)
		}
		// SIGTERM leaves the table as it is.
		before2 := l.weights(t)
		a.signal(t, syscall.SIGTERM)
		<-a.done
		if got := l.weights(t); got != before2 {
			t.Errorf("SIGTERM changed the table:\n%s\nwant\n%s", got, before2)
		}
		if !strings.Contains(a.log.String(), "the table is left as it is") {
			t.Errorf("log:\n%s", a.log)
		}
	})

	// Twenty services share the two servers: one TCP probe per server
	// per interval, counted at the server.
	var b strings.Builder
	for i := range 20 {
		fmt.Fprintf(&b, "  - {protocol: tcp, address: 10.30.0.1, port: %d, scheduler: rr, healthCheck: {type: tcp, interval: 1s, rise: 1, fall: 1}, destinations: [{address: 10.31.0.2, port: 80, forward: masq}, {address: 10.32.0.2, port: 80, forward: masq, weight: 2}]}\n", 8001+i)
	}
	shared := b.String()
	file := writeDoc(t, dir, "agent.yaml", shared)
	ipvsadmIn(t, "-C")
	// This agent outlives the subtests below: started on the parent test.
	a := startAgent(t, file, "--drift-interval", "2s")
	t.Run("shared server", func(t *testing.T) {
		l.waitTable(t, "20 services up", func(w string) bool { return strings.Count(w, "10.31.0.2=1 10.32.0.2=2") == 20 })
		c0, t0 := l.s1.NS.TCPCounters(t), time.Now()
		time.Sleep(5 * time.Second)
		opens, el := l.s1.NS.TCPCounters(t).Sub(c0).PassiveOpens, time.Since(t0)
		t.Logf("server 1 saw %d connections in %v for 20 services checked every 1s", opens, el.Round(time.Millisecond))
		if max := uint64(el.Seconds()) + 2; opens == 0 || opens > max {
			t.Errorf("%d probes of a server shared by 20 services in %v: want 1 a second (at most %d)", opens, el, max)
		}
	})

	t.Run("drift", func(t *testing.T) {
		ipvsadmIn(t, "-e", "-t", "10.30.0.1:8005", "-r", "10.32.0.2:80", "-m", "-w", "9")
		l.waitTable(t, "the drift repaired", func(w string) bool { return strings.Count(w, "10.31.0.2=1 10.32.0.2=2") == 20 })
		a.waitLog(t, "drift check: update destination 10.32.0.2:80 of TCP 10.30.0.1:8005: weight 9 -> 2", 1)
	})

	t.Run("reload", func(t *testing.T) {
		st0 := a.status(t)
		stop := lvslab.ClientLoop(l.client, "http://10.30.0.1:8001/")
		time.Sleep(500 * time.Millisecond)
		changed := strings.Replace(shared, "port: 8001, scheduler: rr, healthCheck: {type: tcp, interval: 1s, rise: 1, fall: 1}, destinations: [{address: 10.31.0.2, port: 80, forward: masq}, {address: 10.32.0.2, port: 80, forward: masq, weight: 2}]",
			"port: 8001, scheduler: rr, healthCheck: {type: tcp, interval: 1s, rise: 1, fall: 1}, destinations: [{address: 10.31.0.2, port: 80, forward: masq}, {address: 10.32.0.2, port: 80, forward: masq, weight: 5}]", 1)
		if changed == shared {
			t.Fatal("test bug: the document did not change")
		}
		writeDoc(t, dir, "agent.yaml", changed)
		a.signal(t, syscall.SIGHUP)
		a.waitLog(t, "generation 2 applied", 1)
		l.waitTable(t, "the new weight", has("8001 10.31.0.2=1 10.32.0.2=5"))
		time.Sleep(500 * time.Millisecond)
		rs := stop()
		st1 := a.status(t)
		if n := st1.Requests - st0.Requests; n != 1 || st1.Generation != 2 {
			t.Errorf("reload: %d requests, generation %d; want 1 request, generation 2", n, st1.Generation)
		}
		if n, first := lvslab.FailuresAfter(rs, time.Time{}); n != 0 {
			t.Errorf("%d of %d requests failed across the reload; first: %v", n, len(rs), first)
		}
		// A bad document is refused; nothing changes.
		before := l.weights(t)
		os.WriteFile(file, []byte("apiVersion: ipvsctl/v1\nservices:\n  - {protocol: tcp, address: 10.30.0.1, port: 8001, scheduler: nosuch_sched_name_too_long}\n"), 0o644)
		a.signal(t, syscall.SIGHUP)
		a.waitLog(t, "reload refused", 1)
		if !strings.Contains(a.log.String(), file+":3: services[0].scheduler") {
			t.Errorf("the refusal does not name FILE:LINE:\n%s", a.log)
		}
		if got := l.weights(t); got != before {
			t.Errorf("a refused reload changed the table")
		}
		if st := a.status(t); st.Generation != 2 || st.Requests != st1.Requests {
			t.Errorf("after the refused reload: generation %d, %d requests (want 2, %d)", st.Generation, st.Requests, st1.Requests)
		}
		writeDoc(t, dir, "agent.yaml", changed)
	})

	parent := t
	t.Run("kill -9 and restart", func(t *testing.T) {
		before := l.weights(t)
		a.cmd.Process.Kill()
		<-a.done
		// Watch the table while a new agent starts and gets its first
		// results: it must not change.
		stopWatch := make(chan struct{})
		changed := make(chan string, 1)
		go func() {
			for {
				select {
				case <-stopWatch:
					return
				default:
				}
				if w := l.weights(t); w != before {
					changed <- w
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
		a = startAgent(parent, file)
		deadline := time.Now().Add(60 * time.Second)
		for {
			st := a.status(t)
			known := 0
			for _, s := range st.Servers {
				if s.LastProbe != nil {
					known++
				}
			}
			if known == len(st.Servers) && known > 0 {
				if st.Requests != 0 {
					t.Errorf("the restarted agent sent %d requests", st.Requests)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no results after restart: %+v", st.Servers)
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(time.Second)
		close(stopWatch)
		select {
		case w := <-changed:
			t.Errorf("the table changed during the restart:\n%s\nwas\n%s", w, before)
		default:
		}
	})
	a.signal(t, syscall.SIGTERM)
	<-a.done

	t.Run("remove, sorry server, quorum", func(t *testing.T) {
		ipvsadmIn(t, "-C")
		file := writeDoc(t, dir, "sorry.yaml", `  - protocol: tcp
    address: 10.30.0.1
    port: 81
    scheduler: rr
    onFailure: remove
    quorum: 2
    sorryServer: {address: 10.39.0.2, port: 80, forward: masq}
    healthCheck: {type: http, interval: 500ms, timeout: 300ms, rise: 1, fall: 1}
    destinations:
      - {address: 10.31.0.2, port: 80, forward: masq}
      - {address: 10.32.0.2, port: 80, forward: masq}
`)
		a := startAgent(t, file)
		l.waitTable(t, "both servers in", has("81 10.31.0.2=1 10.32.0.2=1"))
		l.s2.Stop(t)
		l.waitTable(t, "the sorry server alone (quorum 2 lost)", has("81 10.39.0.2=1"))
		stop := lvslab.ClientLoop(l.client, "http://10.30.0.1:81/")
		time.Sleep(time.Second)
		rs := stop()
		for _, r := range rs {
			if r.Err != nil || r.Body != "10.39.0.2:80" {
				t.Errorf("below quorum, a request got %q, %v; want the sorry server's page", r.Body, r.Err)
				break
			}
		}
		l.s2.Start(t)
		l.waitTable(t, "the pool back", has("81 10.31.0.2=1 10.32.0.2=1"))
		a.waitLog(t, "sorry server 10.39.0.2:80 out", 1)
	})
}
