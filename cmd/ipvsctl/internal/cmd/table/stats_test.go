package table

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
)

func TestPrometheusGoldenAndTextfile(t *testing.T) {
	fake := testutil.Sample()
	vss, _ := fake.Table()
	cmdutil.SortTable(vss)
	var buf bytes.Buffer
	if err := WritePrometheus(&buf, vss); err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, "stats.prom", buf.Bytes())

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

func TestTopParse(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		count   int
		sort    string
		wantErr bool
	}{
		{[]string{}, 0, "cps", false},
		{[]string{"--once"}, 1, "cps", false},
		{[]string{"-n", "5", "--sort", "conns"}, 5, "conns", false},
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
	if err := testutil.Execute(NewCmdTop(f, nil), "-n", "2", "--sort", "conns", "-o", "json"); err != nil {
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
