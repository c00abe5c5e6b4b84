package agent

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// waitFor polls cond for up to 20 s (a slow machine's bound, not a
// timing requirement).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stopWith sends the agent sig and waits for Run (done) to return
// without error, at most 20 s.
func stopWith(t *testing.T, sig os.Signal, sigs chan<- os.Signal, done <-chan error) {
	t.Helper()
	sigs <- sig
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the agent did not stop on %v", sig)
	}
}

func destWeight(k *fakeipvs.Fake, port uint16) (uint32, bool) {
	tab, _ := k.Table()
	for _, vs := range tab {
		for _, d := range vs.Destinations {
			if d.Port == port {
				return d.Weight, true
			}
		}
	}
	return 0, false
}

// TestAgentEndToEnd runs the command over the fake kernel with real HTTP
// probes against a local server: start, a failure, /status, /metrics, a
// refused reload, an accepted one, and SIGTERM leaving the table.
func TestAgentEndToEnd(t *testing.T) {
	var failing atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			http.Error(w, "no", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	}))
	defer srv.Close()
	_, portStr, _ := net.SplitHostPort(srv.Listener.Addr().String())
	var port uint16
	fmt.Sscan(portStr, &port)
	doc := func(weight int) string {
		return fmt.Sprintf(`apiVersion: ipvsctl/v1
services:
  - protocol: tcp
    address: 10.0.0.1
    port: 80
    healthCheck: {type: http, expectBody: ok, interval: 50ms, timeout: 40ms, rise: 1, fall: 1}
    destinations:
      - {address: 127.0.0.1, port: %d, forward: masq, weight: %d}
`, port, weight)
	}
	file := filepath.Join(t.TempDir(), "agent.yaml")
	if err := os.WriteFile(file, []byte(doc(2)), 0o644); err != nil {
		t.Fatal(err)
	}
	k := fakeipvs.New()
	ios, _, _, _ := iostreams.Test()
	logBuf := &testutil.SyncBuffer{}
	ios.ErrOut = logBuf
	f := factory.NewTest(ios, k)
	sigs := make(chan os.Signal, 1)
	opts := &Options{Common: f.Common(), File: file, Listen: "127.0.0.1:0", DriftInterval: time.Hour, MaxInFlight: 4, Signals: sigs,
		Totals: func() (ipvs.Stats, error) { return ipvs.Stats{Conns: 7}, nil }}
	done := make(chan error, 1)
	go func() { done <- Run(opts) }()

	waitFor(t, "the server up at weight 2", func() bool { w, ok := destWeight(k, port); return ok && w == 2 })
	addr := regexp.MustCompile(`on (127\.0\.0\.1:\d+)`).FindStringSubmatch(logBuf.String())
	if addr == nil {
		t.Fatalf("no listen address in the log:\n%s", logBuf)
	}
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr[1] + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	_, body := get("/status")
	var st StatusOutput
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("/status: %v\n%s", err, body)
	}
	if st.APIVersion != "ipvsctl/v1" || st.Kind != "AgentStatus" || st.Generation != 1 || len(st.Servers) != 1 || st.Servers[0].Health != "up" {
		t.Errorf("/status: %+v", st)
	}
	_, body = get("/metrics")
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, body)
	}
	for _, name := range []string{"node_ipvs_backend_weight", "ipvsctl_agent_probe_state", "ipvsctl_agent_probe_duration_seconds", "ipvsctl_agent_generation"} {
		if fams[name] == nil {
			t.Errorf("/metrics lacks %s", name)
		}
	}

	// The server fails: weight 0 (quiesce).
	failing.Store(true)
	waitFor(t, "the server quiesced", func() bool { w, ok := destWeight(k, port); return ok && w == 0 })

	// A bad document is refused with its line; the running one stays.
	if err := os.WriteFile(file, []byte(doc(2)+"    bogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sigs <- syscall.SIGHUP
	waitFor(t, "the refusal", func() bool { return strings.Contains(logBuf.String(), "reload refused") })
	if !strings.Contains(logBuf.String(), file+":9:") {
		t.Errorf("the refusal does not name FILE:LINE:\n%s", logBuf)
	}
	// A good one is applied: generation 2, the new weight once up again.
	failing.Store(false)
	if err := os.WriteFile(file, []byte(doc(5)), 0o644); err != nil {
		t.Fatal(err)
	}
	sigs <- syscall.SIGHUP
	waitFor(t, "weight 5", func() bool { w, ok := destWeight(k, port); return ok && w == 5 })
	_, body = get("/status")
	if err := json.Unmarshal([]byte(body), &st); err != nil || st.Generation != 2 {
		t.Errorf("generation after reload: %d (%v)", st.Generation, err)
	}

	stopWith(t, syscall.SIGTERM, sigs, done)
	if w, ok := destWeight(k, port); !ok || w != 5 {
		t.Errorf("SIGTERM changed the table: weight %d, present %v", w, ok)
	}
	if !strings.Contains(logBuf.String(), "SIGTERM: stopping") {
		t.Errorf("log:\n%s", logBuf)
	}
}

// TestAgentWithdraw: with --withdraw, SIGTERM deletes the document's
// services and no other.
func TestAgentWithdraw(t *testing.T) {
	file := filepath.Join(t.TempDir(), "agent.yaml")
	os.WriteFile(file, []byte("apiVersion: ipvsctl/v1\nservices:\n  - {protocol: tcp, address: 10.0.0.1, port: 80, destinations: [{address: 192.168.0.1}]}\n"), 0o644)
	k := fakeipvs.New()
	other := ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Port: 81, Scheduler: "wlc"}
	other.Address = netip.MustParseAddr("10.0.0.9")
	if err := k.NewService(other); err != nil {
		t.Fatal(err)
	}
	ios, _, _, _ := iostreams.Test()
	logBuf := &testutil.SyncBuffer{}
	ios.ErrOut = logBuf
	var b backend.IPVS = k
	sigs := make(chan os.Signal, 1)
	opts := &Options{Common: factory.NewTest(ios, b).Common(), File: file, Withdraw: true, Signals: sigs,
		Totals: func() (ipvs.Stats, error) { return ipvs.Stats{}, nil }}
	done := make(chan error, 1)
	go func() { done <- Run(opts) }()
	waitFor(t, "the service", func() bool { tab, _ := k.Table(); return len(tab) == 2 })
	stopWith(t, syscall.SIGINT, sigs, done)
	tab, _ := k.Table()
	if len(tab) != 1 || tab[0].Service.Port != 81 {
		t.Errorf("after withdraw: %+v", tab)
	}
}

func TestAgentFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "give the document with -f FILE"},
		{[]string{"-f", "-"}, "give a file, not -"},
		{[]string{"-f", "x.yaml", "--drift-interval", "-1s"}, "--drift-interval must not be negative"},
		{[]string{"-f", "x.yaml", "--max-in-flight", "0"}, "--max-in-flight must be at least 1"},
		{[]string{"-f", "x.yaml", "--batch-size", "-1"}, "--batch-size must not be negative"},
		{[]string{"-f", "x.yaml", "--etcd", "http://127.0.0.1:2379"}, "-f and --etcd exclude each other"},
		{[]string{"--etcd", "http://127.0.0.1:2379", "--name", "a/b"}, `--name: director name "a/b": use letters, digits and . _ -`},
		{[]string{"--etcd", "http://127.0.0.1:2379", "--name", "a", "--labels", "site"}, `--labels: label "site": want KEY=VALUE`},
		{[]string{"--etcd", "http://127.0.0.1:2379", "--name", "a", "--lease-ttl", "2s"}, "--lease-ttl must be at least 5s"},
		{[]string{"--etcd", "http://127.0.0.1:2379", "--name", "a", "--report-interval", "1ms"}, "--report-interval must be at least 100ms"},
		{[]string{"-f", "x.yaml", "--cache", "c.json"}, "--cache keeps the document from etcd: it needs --etcd"},
		{[]string{"-f", "x.yaml", "--metric-names", "node_exporter"}, "--metric-names node_exporter: want node-exporter or ipvsctl"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			cmd := NewCmdAgent(factory.NewTest(ios, fakeipvs.New()), func(*Options) error { return nil })
			cmd.SetArgs(tc.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestStatusUnreachable(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	err := RunStatus(&StatusOptions{IO: ios, Listen: "127.0.0.1:1", Timeout: 5 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "no agent answers on 127.0.0.1:1: connection refused") {
		t.Errorf("got %v", err)
	}
	if out.Len() != 0 {
		t.Errorf("printed %q", out)
	}
}
