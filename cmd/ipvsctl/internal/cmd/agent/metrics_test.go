package agent

import (
	"io"
	"maps"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/ipvsmetrics"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"github.com/ipvs-tools/ipvs/healthcheck"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Two checks of one type against one target (two services probing
// 192.168.0.1:80 with different paths, or different intervals) give
// ipvsctl_agent_probe_state the same check and target: the probe label
// tells them apart, so the gather does not fail.
func TestMetricsTwoChecksOneTarget(t *testing.T) {
	m := newMetrics(fakeipvs.New(), func() (ipvs.Stats, error) { return ipvs.Stats{}, nil }, ipvsmetrics.NodeExporter)
	mon := healthcheck.NewMonitor(healthcheck.MonitorOptions{})
	addr := netip.MustParseAddrPort("192.168.0.1:80")
	mon.Set([]healthcheck.Target{
		{Check: &healthcheck.Check{Type: healthcheck.HTTP, Path: "/a", Interval: time.Second}, Addr: addr},
		{Check: &healthcheck.Check{Type: healthcheck.HTTP, Path: "/b", Interval: time.Second}, Addr: addr},
	})
	m.monitor = mon
	if _, err := m.reg.Gather(); err != nil {
		t.Errorf("gather: %v", err)
	}
}

// TestMetricsNames: --metric-names chooses the families of the table on
// /metrics (node-exporter by default), and only those of the naming are
// served (the checks' and the agent's own need a running agent: see
// TestAgentEndToEnd). The body is read by expfmt's parser.
func TestMetricsNames(t *testing.T) {
	names := func(n ipvsmetrics.Names) []string {
		var out []string
		for _, f := range append(ipvsmetrics.Families(n), ipvsmetrics.ScrapeSuccessFamily(n)) {
			out = append(out, f.Name)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		args []string
		want ipvsmetrics.Names
	}{
		{"default", nil, ipvsmetrics.NodeExporter},
		{"node-exporter", []string{"--metric-names", "node-exporter"}, ipvsmetrics.NodeExporter},
		{"ipvsctl", []string{"--metric-names", "ipvsctl"}, ipvsmetrics.IPVSCtl},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			var opts *Options
			cmd := NewCmdAgent(factory.NewTest(ios, fakeipvs.New()), func(o *Options) error { opts = o; return nil })
			if err := testutil.Execute(cmd, append([]string{"-f", "x.yaml"}, tt.args...)...); err != nil {
				t.Fatal(err)
			}
			if opts.MetricNames != tt.want {
				t.Fatalf("MetricNames %q, want %q", opts.MetricNames, tt.want)
			}

			m := newMetrics(testutil.Sample(), func() (ipvs.Stats, error) { return ipvs.Stats{Conns: 7}, nil }, opts.MetricNames)
			rec := httptest.NewRecorder()
			m.handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
			body, _ := io.ReadAll(rec.Body)
			p := expfmt.NewTextParser(model.UTF8Validation)
			fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
			if err != nil {
				t.Fatalf("/metrics does not parse: %v\n%s", err, body)
			}
			want := names(tt.want)
			if got := slices.Sorted(maps.Keys(fams)); !cmp.Equal(slices.Sorted(slices.Values(want)), got) {
				t.Errorf("/metrics families %v, want %v", got, want)
			}
		})
	}
}
