package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/agent"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fleet"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"github.com/ipvs-tools/ipvs/internal/etcdtest"
)

// TestAgentOnEtcd runs the command with --etcd against a real etcd: it
// waits for a document, applies it, reports under its lease, serves the
// report in /status, ignores SIGHUP and, on SIGTERM, drops its status and
// leaves the table.
func TestAgentOnEtcd(t *testing.T) {
	srv := etcdtest.Start(t)
	c := srv.Client(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)

	k := fakeipvs.New()
	ios, _, _, _ := iostreams.Test()
	logBuf := &testutil.SyncBuffer{}
	ios.ErrOut = logBuf
	f := factory.NewTest(ios, k)
	sigs := make(chan os.Signal, 1)
	opts := &Options{Common: f.Common(), Listen: "127.0.0.1:0", DriftInterval: time.Hour, MaxInFlight: 4, Signals: sigs,
		Name: "lb1", Labels: "site=par", ReportInterval: 100 * time.Millisecond, LeaseTTL: 5 * time.Second, Version: "test",
		Totals: func() (ipvs.Stats, error) { return ipvs.Stats{}, nil }}
	opts.Store.Endpoints, opts.Store.Prefix = srv.Endpoint(), "/lb/"
	done := make(chan error, 1)
	go func() { done <- Run(opts) }()

	waitFor(t, "the listen address", func() bool { return strings.Contains(logBuf.String(), "serving /metrics") })
	addr := regexp.MustCompile(`on (127\.0\.0\.1:\d+)`).FindStringSubmatch(logBuf.String())[1]
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status := func() StatusOutput {
		code, body := get("/status")
		var st StatusOutput
		if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil {
			t.Fatalf("/status: %d %v\n%s", code, err, body)
		}
		return st
	}
	waitFor(t, "no document reported", func() bool {
		st := status()
		return st.Fleet != nil && st.Fleet.State == fleet.StateNoDocument && st.Fleet.Problem != ""
	})
	if code, _ := get("/healthz"); code != http.StatusServiceUnavailable {
		t.Errorf("/healthz before any document: %d, want 503", code)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	doc := fmt.Sprintf("apiVersion: ipvsctl/v1\nservices:\n  - {protocol: tcp, address: 10.0.0.1, port: 80, healthCheck: {type: tcp, interval: 50ms, timeout: 40ms, rise: 1, fall: 1}, destinations: [{address: 127.0.0.1, port: %d, weight: 3}]}\n", port)
	r, err := c.Put(ctx, "/lb/documents/selector/site=par", doc)
	if err != nil {
		t.Fatal(err)
	}
	rev := r.Header.Revision
	waitFor(t, "the server up at weight 3", func() bool { w, ok := destWeight(k, port); return ok && w == 3 })
	waitFor(t, "in-sync in /status", func() bool {
		st := status()
		return st.Fleet.State == fleet.StateInSync && st.Fleet.Revision == rev && st.Generation == rev &&
			st.Fleet.Document == "documents/selector/site=par"
	})
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz after the document: %d", code)
	}
	g, err := c.Get(ctx, "/lb/status/lb1")
	if err != nil || len(g.Kvs) != 1 || g.Kvs[0].Lease == 0 {
		t.Fatalf("status key: %v %+v", err, g)
	}

	sigs <- syscall.SIGHUP
	waitFor(t, "SIGHUP answered", func() bool { return strings.Contains(logBuf.String(), "the documents come from etcd") })

	stopWith(t, syscall.SIGTERM, sigs, done)
	if w, ok := destWeight(k, port); !ok || w != 3 {
		t.Errorf("SIGTERM changed the table: weight %d, present %v", w, ok)
	}
	if g, err := c.Get(ctx, "/lb/status/lb1"); err != nil || len(g.Kvs) != 0 {
		t.Errorf("the status outlived a clean stop: %v %v", err, g.Kvs)
	}
}

// TestStatusPrintsFleet: agent status prints the director's fleet line
// before its servers.
func TestStatusPrintsFleet(t *testing.T) {
	at := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	st := StatusOutput{Status: agent.Status{Document: "/lb/documents/default", Generation: 57, LoadedAt: at, Servers: []agent.ServerStatus{}}}
	st.APIVersion, st.Kind = "ipvsctl/v1", "AgentStatus"
	st.Fleet = &fleet.DirectorStatus{Name: "lb1", Labels: map[string]string{"site": "par", "group": "main"}, State: fleet.StateError,
		Document: "documents/default", Revision: 57, WantDocument: "documents/default", WantRevision: 60, ReportedAt: at,
		Rejected:   &fleet.Rejected{Document: "documents/default", Revision: 60, Error: "/lb/documents/default@60:5: one\n/lb/documents/default@60:9: two"},
		Reconnects: 2, LastOutage: &fleet.Outage{From: at.Add(-time.Minute), To: at.Add(-50 * time.Second), Seconds: 10}}
	body, _ := json.Marshal(st)
	ios, _, out, _ := iostreams.Test()
	err := RunStatus(&StatusOptions{IO: ios, Listen: "x", Timeout: time.Second, Output: "table",
		Get: func(ctx context.Context, url string) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(string(body)))}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	want := `Fleet member lb1 (group=main,site=par): error, documents/default revision 57 (wants documents/default revision 60), last report 2026-12-03T18:00:00Z
Refused documents/default revision 60:
  /lb/documents/default@60:5: one
  /lb/documents/default@60:9: two
etcd lost 2 times, last for 10.0s until 2026-12-03T17:59:10Z
Document /lb/documents/default, generation 57, applied 2026-12-03T18:00:00Z
`
	if got := out.String(); !strings.HasPrefix(got, want) {
		t.Errorf("got:\n%s\nwant it to start with:\n%s", got, want)
	}
}
