package ipvsmetrics

import (
	"bytes"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// table is a fixed table: IPv4, IPv6 and SCTP services, IPv4 and IPv6
// firewall-mark services sharing a mark and a destination (node_exporter
// sums those), an IPv6 service with an IPv4 tunnel destination.
func table() []ipvs.VirtualServer {
	withStats := func(s ipvs.Service, st ipvs.Stats) ipvs.Service { s.Stats = st; return s }
	return []ipvs.VirtualServer{
		{Service: withStats(svc(ipvs.ProtoTCP, "10.0.0.1", 80), ipvs.Stats{Conns: 1234, InPkts: 56789, OutPkts: 45678, InBytes: 123456789, OutBytes: 9876543210}),
			Destinations: []ipvs.Destination{dest("192.168.0.1", 8080, 1, 7, 3), dest("192.168.0.2", 8080, 2, 0, 1), dest("192.168.0.3", 8080, 0, 0, 0)}},
		{Service: withStats(svc(ipvs.ProtoUDP, "2001:db8::1", 53), ipvs.Stats{Conns: 10, InPkts: 20, OutPkts: 20, InBytes: 1500, OutBytes: 3000}),
			Destinations: []ipvs.Destination{dest("2001:db8::10", 53, 1, 0, 4), dest("10.2.0.2", 53, 1, 0, 2)}},
		{Service: svc(ipvs.ProtoSCTP, "10.0.0.2", 2905),
			Destinations: []ipvs.Destination{dest("10.0.1.1", 2905, 3, 1, 0)}},
		{Service: withStats(fwm(ipvs.AFInet, 7), ipvs.Stats{Conns: 1, InPkts: 2, OutPkts: 3, InBytes: 4, OutBytes: 5}),
			Destinations: []ipvs.Destination{dest("10.1.1.1", 0, 5, 2, 0), dest("10.1.1.2", 0, 1, 1, 1)}},
		{Service: fwm(ipvs.AFInet6, 7),
			Destinations: []ipvs.Destination{dest("10.1.1.2", 0, 1, 1, 1), dest("fd00:2::2", 0, 1, 0, 0)}},
		{Service: fwm(ipvs.AFInet, 0x10001000)},
	}
}

// gather registers c in a pedantic registry, gathers, and returns the text
// exposition (and the gathering error).
func gather(t *testing.T, c prometheus.Collector) (string, error) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	mfs, gerr := reg.Gather()
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String(), gerr
}

// parse parses a text exposition with expfmt and returns, per family, its
// type and its series as "labels value" lines.
func parse(t *testing.T, text string) map[string][]string {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v\n%s", err, text)
	}
	out := map[string][]string{}
	for name, mf := range mfs {
		rows := []string{mf.GetType().String()}
		for _, m := range mf.GetMetric() {
			var l []string
			for _, lp := range m.GetLabel() {
				l = append(l, lp.GetName()+"="+lp.GetValue())
			}
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			rows = append(rows, strings.Join(l, ",")+" "+model.SampleValue(v).String())
		}
		out[name] = rows
	}
	return out
}

func TestCollectorGolden(t *testing.T) {
	text, err := gather(t, NewCollector(func() ([]ipvs.VirtualServer, error) { return table(), nil }))
	if err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, "ipvsmetrics.prom", []byte(text))

	got := parse(t, text)
	var names []string
	for _, f := range append(append(TotalFamilies[:], BackendFamilies[:]...), ScrapeSuccess) {
		names = append(names, f.Name)
		if want := strings.ToUpper(f.Type); got[f.Name] == nil || got[f.Name][0] != want {
			t.Errorf("%s: type %v, want %s", f.Name, got[f.Name], want)
		}
	}
	slices.Sort(names)
	if d := cmp.Diff(names, slices.Sorted(maps.Keys(got))); d != "" {
		t.Errorf("families (-want +got):\n%s", d)
	}
	// The IPv4 and IPv6 services of mark 7 share 10.1.1.2: one series, summed.
	if d := cmp.Diff([]string{"GAUGE",
		"local_address=,local_mark=00000007,local_port=0,proto=FWM,remote_address=10.1.1.1,remote_port=0 5",
		"local_address=,local_mark=00000007,local_port=0,proto=FWM,remote_address=10.1.1.2,remote_port=0 2",
		"local_address=,local_mark=00000007,local_port=0,proto=FWM,remote_address=fd00:2::2,remote_port=0 1",
	}, filter(got[BackendWeight.Name], "proto=FWM")); d != "" {
		t.Errorf("fwmark weights (-want +got):\n%s", d)
	}
}

// filter keeps the type line and the rows that contain s.
func filter(rows []string, s string) []string {
	if len(rows) == 0 {
		return nil
	}
	out := rows[:1:1]
	for _, r := range rows[1:] {
		if strings.Contains(r, s) {
			out = append(out, r)
		}
	}
	return out
}

// TestCollectorSources: where the totals come from, and what a failed
// read leaves in the exposition.
func TestCollectorSources(t *testing.T) {
	errTable, errTotals := errors.New("netlink: no such family"), errors.New("open ip_vs_stats: no such file")
	goodTable := func() ([]ipvs.VirtualServer, error) { return table(), nil }
	badTable := func() ([]ipvs.VirtualServer, error) { return nil, errTable }
	kernel := func() (ipvs.Stats, error) {
		return ipvs.Stats{Conns: 99999, InPkts: 1, OutPkts: 2, InBytes: 3, OutBytes: 4}, nil
	}
	badTotals := func() (ipvs.Stats, error) { return ipvs.Stats{}, errTotals }
	noTable := func() ([]ipvs.VirtualServer, error) {
		t.Error("the table was read after the totals failed")
		return nil, nil
	}
	for _, tt := range []struct {
		name     string
		read     func() ([]ipvs.VirtualServer, error)
		opts     []Option
		conns    []string // the rows of node_ipvs_connections_total
		backends int      // the rows of node_ipvs_backend_weight
		success  string
		err      error
	}{
		{"sum of the services", goodTable, nil, []string{"COUNTER", " 1245"}, 9, "1", nil},
		{"empty table", func() ([]ipvs.VirtualServer, error) { return nil, nil }, nil, []string{"COUNTER", " 0"}, 0, "1", nil},
		{"kernel totals", goodTable, []Option{WithTotals(kernel)}, []string{"COUNTER", " 99999"}, 9, "1", nil},
		{"table fails", badTable, nil, nil, 0, "0", errTable},
		{"table fails after the totals", badTable, []Option{WithTotals(kernel)}, []string{"COUNTER", " 99999"}, 0, "0", errTable},
		{"totals fail", noTable, []Option{WithTotals(badTotals)}, nil, 0, "0", errTotals},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var errs []error
			opts := append(tt.opts, WithErrorFunc(func(err error) { errs = append(errs, err) }))
			text, err := gather(t, NewCollector(tt.read, opts...))
			if err != nil {
				t.Fatalf("Gather: %v (a failed read must not fail the gathering)", err)
			}
			got := parse(t, text)
			if d := cmp.Diff(tt.conns, got[Connections.Name]); d != "" {
				t.Errorf("%s (-want +got):\n%s", Connections.Name, d)
			}
			if n := max(len(got[BackendWeight.Name])-1, 0); n != tt.backends {
				t.Errorf("%d backends, want %d", n, tt.backends)
			}
			if d := cmp.Diff([]string{"GAUGE", "collector=ipvs " + tt.success}, got[ScrapeSuccess.Name]); d != "" {
				t.Errorf("%s (-want +got):\n%s", ScrapeSuccess.Name, d)
			}
			if tt.err == nil && len(errs) != 0 || tt.err != nil && (len(errs) != 1 || !errors.Is(errs[0], tt.err)) {
				t.Errorf("errors %v, want %v", errs, tt.err)
			}
		})
	}
}
