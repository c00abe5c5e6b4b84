package table

import (
	"bytes"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/ipvsmetrics"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestPrometheusGoldenAndTextfile(t *testing.T) {
	fake := testutil.Sample()
	vss, _ := fake.Table()
	cmdutil.SortTable(vss)
	var buf bytes.Buffer
	if err := WritePrometheus(&buf, ipvsmetrics.IPVSCtl, vss); err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, "stats.prom", buf.Bytes())
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("stats.prom does not parse: %v", err)
	}
	var want []string
	for _, fam := range ipvsmetrics.Families(ipvsmetrics.IPVSCtl) {
		want = append(want, fam.Name)
	}
	slices.Sort(want)
	if d := cmp.Diff(want, slices.Sorted(maps.Keys(mfs))); d != "" {
		t.Errorf("families of stats.prom (-want +got):\n%s", d)
	}

	f, out := testutil.NewFactory(fake)
	path := filepath.Join(t.TempDir(), "ipvs.prom")
	cmd := NewCmdStats(f, nil, nil)
	if err := testutil.Execute(cmd, "--textfile", path); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != buf.String() || out.Len() != 0 {
		t.Errorf("textfile content differs or stdout used (%d bytes)", out.Len())
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}
}

func TestStatsParse(t *testing.T) {
	f, _ := testutil.NewFactory(fakeipvs.New())
	var got *StatsOptions
	var top *TopOptions
	run := func(args ...string) error {
		got, top = nil, nil
		cmd := NewCmdStats(f, func(o *StatsOptions) error { got = o; return nil }, func(o *TopOptions) error { top = o; return nil })
		return testutil.Execute(cmd, args...)
	}
	if err := run("-o", "prometheus"); err != nil || got.Output != "prometheus" {
		t.Errorf("-o prometheus: %v %+v", err, got)
	}
	if err := run("--textfile", "/x"); err != nil || got.Output != "prometheus" || got.Textfile != "/x" {
		t.Errorf("--textfile: %v %+v", err, got)
	}
	if err := run("--textfile", "/x", "-o", "json"); err == nil {
		t.Errorf("--textfile with -o json should fail")
	}
	if err := run("--watch", "--sort", "bps", "--interval", "1s"); err != nil || top == nil || top.Sort != "bps" || top.Interval != time.Second {
		t.Errorf("--watch: %v %+v", err, top)
	}
	if err := run("--watch", "-o", "json"); err != nil || top == nil || top.Output != "json" {
		t.Errorf("--watch -o json: %v %+v", err, top)
	}
	if err := run("--watch", "-o", "yaml"); err == nil || err.Error() != "-o yaml: --watch prints table or json" {
		t.Errorf("--watch -o yaml: %v", err)
	}
	if err := run("-o", "xml"); err == nil || err.Error() != "-o xml: stats prints table, json, yaml or prometheus" {
		t.Errorf("-o xml: %v", err)
	}
}

// TestStatsMetricNames: --metric-names chooses the naming of -o
// prometheus and --textfile (ipvsctl unless given), and is refused where
// nothing is written in Prometheus's format.
func TestStatsMetricNames(t *testing.T) {
	f, _ := testutil.NewFactory(fakeipvs.New())
	for _, tt := range []struct {
		name string
		args []string
		want ipvsmetrics.Names
		err  string
	}{
		{"default", []string{"-o", "prometheus"}, ipvsmetrics.IPVSCtl, ""},
		{"ipvsctl", []string{"-o", "prometheus", "--metric-names", "ipvsctl"}, ipvsmetrics.IPVSCtl, ""},
		{"node-exporter", []string{"-o", "prometheus", "--metric-names", "node-exporter"}, ipvsmetrics.NodeExporter, ""},
		{"textfile", []string{"--textfile", "/x", "--metric-names=node-exporter"}, ipvsmetrics.NodeExporter, ""},
		{"unknown", []string{"-o", "prometheus", "--metric-names", "node_exporter"}, "",
			"--metric-names node_exporter: want ipvsctl or node-exporter"},
		{"table", []string{"--metric-names", "node-exporter"}, "",
			"--metric-names names the metrics of -o prometheus and --textfile, not of -o table"},
		{"json", []string{"-o", "json", "--metric-names", "ipvsctl"}, "",
			"--metric-names names the metrics of -o prometheus and --textfile, not of -o json"},
		{"watch", []string{"--watch", "--metric-names", "ipvsctl"}, "",
			"--metric-names names the metrics of -o prometheus and --textfile, not of --watch"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got *StatsOptions
			cmd := NewCmdStats(f, func(o *StatsOptions) error { got = o; return nil }, func(*TopOptions) error { return nil })
			err := testutil.Execute(cmd, tt.args...)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Errorf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got.MetricNames); d != "" {
				t.Errorf("MetricNames (-want +got):\n%s", d)
			}
		})
	}
}

// TestStatsTextfileNodeExporter: the textfile under node_exporter's names
// parses with expfmt and holds node_exporter's families only.
func TestStatsTextfileNodeExporter(t *testing.T) {
	f, out := testutil.NewFactory(testutil.Sample())
	path := filepath.Join(t.TempDir(), "ipvs.prom")
	if err := testutil.Execute(NewCmdStats(f, nil, nil), "--textfile", path, "--metric-names", "node-exporter"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the textfile does not parse: %v\n%s", err, b)
	}
	var want []string
	for _, fam := range ipvsmetrics.Families(ipvsmetrics.NodeExporter) {
		want = append(want, fam.Name)
	}
	slices.Sort(want)
	if d := cmp.Diff(want, slices.Sorted(maps.Keys(mfs))); d != "" {
		t.Errorf("families (-want +got):\n%s", d)
	}
	if got := mfs["node_ipvs_connections_total"].GetMetric()[0].GetCounter().GetValue(); got != 1234 {
		t.Errorf("node_ipvs_connections_total %v, want 1234 (the sum of the services)", got)
	}
	if out.Len() != 0 {
		t.Errorf("stdout used: %q", out)
	}
}

func TestTopParse(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		count   int
		sort    string
		wantErr bool
	}{
		{[]string{}, 0, "cps", false},
		{[]string{"--once"}, 1, "cps", false},
		{[]string{"-c", "5", "--sort", "conns"}, 5, "conns", false},
		{[]string{"--sort", "nope"}, 0, "", true},
		{[]string{"-d", "0s"}, 0, "", true},
	} {
		got, err := testutil.Parse(NewCmdTop, tt.args...)
		if (err != nil) != tt.wantErr {
			t.Errorf("%v: error %v", tt.args, err)
			continue
		}
		if err == nil && (got.Count != tt.count || got.Sort != tt.sort) {
			t.Errorf("%v: count %d sort %s", tt.args, got.Count, got.Sort)
		}
	}
}

// TestTopRatesFromDeltas: rates come from counter differences over the
// measured interval, not from the kernel's estimator fields.
func TestTopRatesFromDeltas(t *testing.T) {
	fake := testutil.Sample()
	k := testutil.Key(ipvs.AFInet, ipvs.ProtoTCP, "10.0.0.1", 80)
	d1 := ipvs.DestKey{Family: ipvs.AFInet, Address: netip.MustParseAddr("192.168.0.1"), Port: 8080}
	d2 := ipvs.DestKey{Family: ipvs.AFInet, Address: netip.MustParseAddr("192.168.0.2"), Port: 8080}
	fake.SetStats(k, nil, ipvs.Stats{Conns: 100, InPkts: 1000, OutPkts: 2000, InBytes: 10000, OutBytes: 20000, CPS: 999})
	fake.SetStats(k, &d1, ipvs.Stats{Conns: 50})
	fake.SetStats(k, &d2, ipvs.Stats{Conns: 50})
	f, out := testutil.NewFactory(fake)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Now = func() time.Time { return now }
	f.Sleep = func(d time.Duration) {
		now = now.Add(d)
		// During the interval: 20 connections (15 to .2), 400 packets in.
		fake.SetStats(k, nil, ipvs.Stats{Conns: 120, InPkts: 1400, OutPkts: 2000, InBytes: 14000, OutBytes: 20000, CPS: 999})
		fake.SetStats(k, &d1, ipvs.Stats{Conns: 55})
		fake.SetStats(k, &d2, ipvs.Stats{Conns: 65})
	}
	f.Options.Numeric = true
	testutil.GoldenRun(t, "top.txt", out, NewCmdTop(f, nil), "--once", "--interval", "2s", "--limit", "1")
	if !regexp.MustCompile(`tcp:10\.0\.0\.1:80 +10\.0 +200\.0 +0\.0 +2000\.0 `).Match(out.Bytes()) {
		t.Errorf("top output lacks the rates from the counter deltas:\n%s", out)
	}
	// JSON: one object per sample.
	out.Reset()
	if err := testutil.Execute(NewCmdTop(f, nil), "-c", "2", "--sort", "conns", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != 2 {
		t.Errorf("want 2 NDJSON lines, got %d:\n%s", n, out)
	}
}

func TestSortRates(t *testing.T) {
	rs := []ServiceRates{{Service: "a", Rates: Rates{CPS: 1, InBPS: 100}, Active: 9}, {Service: "b", Rates: Rates{CPS: 5, InBPS: 1}, Active: 1}}
	for key, want := range map[string][]string{"cps": {"b", "a"}, "bps": {"a", "b"}, "conns": {"a", "b"}} {
		SortRates(rs, key)
		got := []string{rs[0].Service, rs[1].Service}
		if !cmp.Equal(got, want) {
			t.Errorf("sort %s: %v", key, got)
		}
	}
	// A zeroed counter gives 0, not a huge number.
	r := rates(ipvs.Stats{Conns: 1}, ipvs.Stats{Conns: 10}, 1)
	if r.CPS != 0 {
		t.Errorf("rate after zero: %v", r.CPS)
	}
}
