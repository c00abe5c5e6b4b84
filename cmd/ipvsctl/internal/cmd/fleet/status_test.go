package fleet

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fleet"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
)

// statusFleet fills a store with directors in every state, for the
// clock now: d1 in sync, d2 stale, d3 refused a document and has three
// unhealthy servers, d4 registered without a status, d5 behind (in sync
// with an older revision than the store's), d6 with two unhealthy
// servers and a kernel error.
func statusFleet(e *env, now time.Time) {
	rev := e.put("documents/default", docV1)
	old := e.put("documents/selector/site=ams", docV1)
	cur := e.put("documents/selector/site=ams", docV2)
	at := func(ago time.Duration) time.Time { return now.Add(-ago).UTC() }
	since := at(10 * time.Minute)
	e.report("d1", map[string]string{"site": "par"}, &fleet.DirectorStatus{State: fleet.StateInSync, Document: "documents/default", Revision: rev,
		WantDocument: "documents/default", WantRevision: rev, Services: 1, Servers: 2, ReportedAt: at(2 * time.Second)})
	e.report("d2", map[string]string{"site": "par"}, &fleet.DirectorStatus{State: fleet.StateInSync, Document: "documents/default", Revision: rev,
		WantDocument: "documents/default", WantRevision: rev, ReportedAt: at(130 * time.Second)})
	e.report("d3", map[string]string{"site": "ams", "rack": "b2"}, &fleet.DirectorStatus{State: fleet.StateError,
		Document: "documents/selector/site=ams", Revision: old, WantDocument: "documents/selector/site=ams", WantRevision: cur,
		Rejected: &fleet.Rejected{Document: "documents/selector/site=ams", Revision: cur, Error: "documents/selector/site=ams@9:5: 99999: want a number in 0..65535"},
		Unhealthy: []fleet.Unhealthy{
			{Service: "tcp 10.0.0.9:80", Server: "192.168.0.1:80", Error: "connection refused", Since: &since},
			{Service: "tcp 10.0.0.9:80", Server: "192.168.0.2:80", Error: "connection refused", Since: &since},
			{Service: "udp 10.0.0.9:53", Server: "192.168.0.3:53", Error: "no answer in 1s", Since: &since},
		},
		ReportedAt: at(4 * time.Second)})
	e.report("d4", nil, nil)
	e.report("d5", map[string]string{"site": "ams"}, &fleet.DirectorStatus{State: fleet.StateInSync, Document: "documents/selector/site=ams", Revision: old,
		WantDocument: "documents/selector/site=ams", WantRevision: old, ReportedAt: at(1 * time.Second)})
	e.report("d6", map[string]string{"site": "par"}, &fleet.DirectorStatus{State: fleet.StateError, Document: "documents/default", Revision: rev,
		WantDocument: "documents/default", WantRevision: rev, LastError: "add destination 192.168.0.2:80 to tcp 10.0.0.9:80: no such service (ESRCH)",
		Unhealthy: []fleet.Unhealthy{
			{Service: "tcp 10.0.0.9:80", Server: "192.168.0.1:80", Error: "connection refused"},
			{Service: "tcp 10.0.0.9:80", Server: "192.168.0.2:80", Error: "HTTP 503"},
		},
		ReportedAt: at(3 * time.Second)})
}

// TestStatusGolden pins fleet status's table, JSON and YAML on a fixed
// clock.
func TestStatusGolden(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	e := newEnv(t)
	e.now = func() time.Time { return now }
	statusFleet(e, now)
	for _, tt := range []struct {
		golden string
		args   []string
	}{
		{"fleet-status.txt", []string{"status"}},
		{"fleet-status.json", []string{"status", "-o", "json"}},
		{"fleet-status.yaml", []string{"status", "-o", "yaml"}},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			e.t = t
			r := e.mustRun(0, tt.args...)
			testutil.Golden(t, tt.golden, []byte(r.out))
		})
	}
}

// TestStatusJSON reads the JSON back: every director with its state.
func TestStatusJSON(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	e := newEnv(t)
	e.now = func() time.Time { return now }
	statusFleet(e, now)
	var st fleet.FleetStatus
	if err := json.Unmarshal([]byte(e.mustRun(0, "status", "-o", "json").out), &st); err != nil {
		t.Fatal(err)
	}
	type row struct {
		Name, State string
		InSync      bool
		Unhealthy   int
	}
	var got []row
	for _, d := range st.Directors {
		got = append(got, row{d.Name, d.State, d.InSync, len(d.Unhealthy)})
	}
	want := []row{
		{"d1", "in-sync", true, 0}, {"d2", "stale", false, 0}, {"d3", "error", false, 3},
		{"d4", "stale", false, 0}, {"d5", "in-sync", false, 0}, {"d6", "error", false, 2},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("directors (-want +got):\n%s", d)
	}
	if st.APIVersion != "ipvsctl/v1" || st.Kind != "FleetStatus" {
		t.Errorf("apiVersion %q kind %q", st.APIVersion, st.Kind)
	}
}

// TestStatusUnreachable: etcd down is exit 1 with the endpoint and what
// to check; an empty store says how to start.
func TestStatusUnreachable(t *testing.T) {
	e := newEnv(t)
	r := e.mustRun(0, "status")
	if want := "No director has registered under /ipvsctl/ yet"; !strings.Contains(r.out, want) {
		t.Errorf("empty store: %q, want %q", r.out, want)
	}
	e.srv.Stop(t)
	r = e.run("status", "--etcd-timeout", "1s")
	if r.code != 1 || !strings.Contains(r.err, e.srv.Endpoint()) || !strings.Contains(r.err, "is etcd running? check --etcd") {
		t.Errorf("etcd stopped: exit %d, stderr %q", r.code, r.err)
	}
}
