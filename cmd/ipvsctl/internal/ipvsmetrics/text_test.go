package ipvsmetrics

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// textTable has an IPv4, an IPv6 and a firewall-mark service with one
// real server each, and a service without real servers.
func textTable() []ipvs.VirtualServer {
	d := func(addr string, port uint16, fwd ipvs.ForwardMethod, weight, active, inactive, persist uint32, st ipvs.Stats) ipvs.Destination {
		x := dest(addr, port, weight, active, inactive)
		x.ForwardMethod, x.PersistConns, x.Stats = fwd, persist, st
		return x
	}
	withStats := func(s ipvs.Service, st ipvs.Stats) ipvs.Service { s.Stats = st; return s }
	return []ipvs.VirtualServer{
		{Service: withStats(svc(ipvs.ProtoTCP, "10.0.0.1", 80), ipvs.Stats{Conns: 10, InPkts: 100, OutPkts: 90, InBytes: 1000, OutBytes: 9000000000}),
			Destinations: []ipvs.Destination{d("192.168.0.1", 8080, ipvs.FwdMasq, 3, 4, 5, 1,
				ipvs.Stats{Conns: 7, InPkts: 70, OutPkts: 60, InBytes: 700, OutBytes: 600})}},
		{Service: withStats(svc(ipvs.ProtoUDP, "2001:db8::1", 53), ipvs.Stats{Conns: 2, InPkts: 4, OutPkts: 4, InBytes: 400, OutBytes: 800}),
			Destinations: []ipvs.Destination{d("2001:db8::10", 53, ipvs.FwdRoute, 1, 0, 2, 0,
				ipvs.Stats{Conns: 2, InPkts: 4, OutPkts: 4, InBytes: 400, OutBytes: 800})}},
		{Service: withStats(fwm(ipvs.AFInet, 7), ipvs.Stats{Conns: 3, InPkts: 6, OutPkts: 5, InBytes: 60, OutBytes: 50}),
			Destinations: []ipvs.Destination{d("10.1.1.1", 0, ipvs.FwdTunnel, 2, 1, 0, 0,
				ipvs.Stats{Conns: 3, InPkts: 6, OutPkts: 5, InBytes: 60, OutBytes: 50})}},
		{Service: svc(ipvs.ProtoTCP, "10.0.0.2", 443)},
	}
}

// parsedFamily is a family as expfmt's text parser reads it: its type
// and its series, each "labels value" with the labels sorted by name
// (the series sorted too, since the registry sorts them and WriteText
// does not).
type parsedFamily struct {
	Type   string
	Series []string
}

// parseText parses text with expfmt, as Prometheus and node_exporter's
// textfile collector do, and fails the test if it does not parse.
func parseText(t *testing.T, text string) map[string]parsedFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("expfmt does not parse the exposition: %v\n%s", err, text)
	}
	out := map[string]parsedFamily{}
	for name, mf := range mfs {
		f := parsedFamily{Type: mf.GetType().String()}
		for _, m := range mf.GetMetric() {
			var l []string
			for _, lp := range m.GetLabel() {
				l = append(l, fmt.Sprintf("%s=%q", lp.GetName(), lp.GetValue()))
			}
			slices.Sort(l)
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue()
			f.Series = append(f.Series, strings.Join(l, ",")+" "+model.SampleValue(v).String())
		}
		slices.Sort(f.Series)
		out[name] = f
	}
	return out
}

// labels writes name/value pairs as parseText does.
func labels(kv ...string) string {
	var l []string
	for i := 0; i+1 < len(kv); i += 2 {
		l = append(l, fmt.Sprintf("%s=%q", kv[i], kv[i+1]))
	}
	slices.Sort(l)
	return strings.Join(l, ",")
}

// families sorts each family's series in want.
func families(want map[string]parsedFamily) map[string]parsedFamily {
	for k, f := range want {
		slices.Sort(f.Series)
		want[k] = f
	}
	return want
}

// wantText is what textTable gives under each naming, as parsed.
func wantText() map[Names]map[string]parsedFamily {
	tcp := []string{"service", "tcp:10.0.0.1:80", "family", "inet", "protocol", "tcp", "address", "10.0.0.1", "port", "80", "fwmark", ""}
	udp := []string{"service", "udp:[2001:db8::1]:53", "family", "inet6", "protocol", "udp", "address", "2001:db8::1", "port", "53", "fwmark", ""}
	mark := []string{"service", "fwmark:7", "family", "inet", "protocol", "", "address", "", "port", "", "fwmark", "7"}
	empty := []string{"service", "tcp:10.0.0.2:443", "family", "inet", "protocol", "tcp", "address", "10.0.0.2", "port", "443", "fwmark", ""}
	tcpD := append(slices.Clone(tcp), "server", "192.168.0.1:8080", "server_address", "192.168.0.1", "server_port", "8080", "forward", "masq")
	udpD := append(slices.Clone(udp), "server", "[2001:db8::10]:53", "server_address", "2001:db8::10", "server_port", "53", "forward", "route")
	markD := append(slices.Clone(mark), "server", "10.1.1.1:0", "server_address", "10.1.1.1", "server_port", "0", "forward", "tunnel")
	row := func(l []string, v string) string { return labels(l...) + " " + v }
	dir := func(l []string, d, v string) string {
		return labels(append(slices.Clone(l), "direction", d)...) + " " + v
	}

	tcpB := labels("local_address", "10.0.0.1", "local_port", "80", "remote_address", "192.168.0.1", "remote_port", "8080", "proto", "TCP", "local_mark", "")
	udpB := labels("local_address", "2001:db8::1", "local_port", "53", "remote_address", "2001:db8::10", "remote_port", "53", "proto", "UDP", "local_mark", "")
	markB := labels("local_address", "", "local_port", "0", "remote_address", "10.1.1.1", "remote_port", "0", "proto", "FWM", "local_mark", "00000007")
	return map[Names]map[string]parsedFamily{
		IPVSCtl: families(map[string]parsedFamily{
			"ipvs_service_connections_total": {"COUNTER", []string{row(tcp, "10"), row(udp, "2"), row(mark, "3"), row(empty, "0")}},
			"ipvs_service_packets_total": {"COUNTER", []string{dir(tcp, "in", "100"), dir(tcp, "out", "90"), dir(udp, "in", "4"), dir(udp, "out", "4"),
				dir(mark, "in", "6"), dir(mark, "out", "5"), dir(empty, "in", "0"), dir(empty, "out", "0")}},
			"ipvs_service_bytes_total": {"COUNTER", []string{dir(tcp, "in", "1000"), dir(tcp, "out", "9000000000"), dir(udp, "in", "400"), dir(udp, "out", "800"),
				dir(mark, "in", "60"), dir(mark, "out", "50"), dir(empty, "in", "0"), dir(empty, "out", "0")}},
			"ipvs_service_destinations":          {"GAUGE", []string{row(tcp, "1"), row(udp, "1"), row(mark, "1"), row(empty, "0")}},
			"ipvs_destination_connections_total": {"COUNTER", []string{row(tcpD, "7"), row(udpD, "2"), row(markD, "3")}},
			"ipvs_destination_packets_total": {"COUNTER", []string{dir(tcpD, "in", "70"), dir(tcpD, "out", "60"), dir(udpD, "in", "4"), dir(udpD, "out", "4"),
				dir(markD, "in", "6"), dir(markD, "out", "5")}},
			"ipvs_destination_bytes_total": {"COUNTER", []string{dir(tcpD, "in", "700"), dir(tcpD, "out", "600"), dir(udpD, "in", "400"), dir(udpD, "out", "800"),
				dir(markD, "in", "60"), dir(markD, "out", "50")}},
			"ipvs_destination_active_connections":     {"GAUGE", []string{row(tcpD, "4"), row(udpD, "0"), row(markD, "1")}},
			"ipvs_destination_inactive_connections":   {"GAUGE", []string{row(tcpD, "5"), row(udpD, "2"), row(markD, "0")}},
			"ipvs_destination_persistent_connections": {"GAUGE", []string{row(tcpD, "1"), row(udpD, "0"), row(markD, "0")}},
			"ipvs_destination_weight":                 {"GAUGE", []string{row(tcpD, "3"), row(udpD, "1"), row(markD, "2")}},
		}),
		NodeExporter: families(map[string]parsedFamily{
			"node_ipvs_connections_total":            {"COUNTER", []string{" 15"}},
			"node_ipvs_incoming_packets_total":       {"COUNTER", []string{" 110"}},
			"node_ipvs_outgoing_packets_total":       {"COUNTER", []string{" 99"}},
			"node_ipvs_incoming_bytes_total":         {"COUNTER", []string{" 1460"}},
			"node_ipvs_outgoing_bytes_total":         {"COUNTER", []string{" 9000000850"}},
			"node_ipvs_backend_connections_active":   {"GAUGE", []string{tcpB + " 4", udpB + " 0", markB + " 1"}},
			"node_ipvs_backend_connections_inactive": {"GAUGE", []string{tcpB + " 5", udpB + " 2", markB + " 0"}},
			"node_ipvs_backend_weight":               {"GAUGE", []string{tcpB + " 3", udpB + " 1", markB + " 2"}},
		}),
	}
}

// TestTextParses: the textfile of each naming parses with expfmt into the
// families, types, labels and values expected; the Collector of the same
// naming serves the same (and its success gauge); promlint finds nothing.
func TestTextParses(t *testing.T) {
	want := wantText()
	for _, n := range AllNames {
		t.Run(string(n), func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteText(&buf, Table(n, textTable(), nil)); err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, "ipvsmetrics-"+string(n)+".prom", buf.Bytes())
			if d := cmp.Diff(want[n], parseText(t, buf.String())); d != "" {
				t.Errorf("textfile (-want +got):\n%s", d)
			}
			problems, err := promlint.New(bytes.NewReader(buf.Bytes())).Lint()
			if err != nil || len(problems) != 0 {
				t.Errorf("promlint: %v %v", problems, err)
			}

			served, err := gather(t, NewCollector(func() ([]ipvs.VirtualServer, error) { return textTable(), nil }, WithNames(n)))
			if err != nil {
				t.Fatal(err)
			}
			got := parseText(t, served)
			success := ScrapeSuccessFamily(n)
			wantSuccess := parsedFamily{"GAUGE", []string{" 1"}}
			if n == NodeExporter {
				wantSuccess.Series = []string{labels("collector", "ipvs") + " 1"}
			}
			if d := cmp.Diff(wantSuccess, got[success.Name]); d != "" {
				t.Errorf("%s (-want +got):\n%s", success.Name, d)
			}
			delete(got, success.Name)
			if d := cmp.Diff(want[n], got); d != "" {
				t.Errorf("/metrics (-want +got):\n%s", d)
			}
		})
	}
}

// TestFamilies: each naming's families, with their label names, as the
// text shows them; node-exporter's are exactly node_exporter's
// (collector/ipvs_linux.go), written out here rather than taken from the
// package's variables.
func TestFamilies(t *testing.T) {
	backend := []string{"local_address", "local_port", "remote_address", "remote_port", "proto", "local_mark"}
	svcL := []string{"service", "family", "protocol", "address", "port", "fwmark"}
	dstL := append(slices.Clone(svcL), "server", "server_address", "server_port", "forward")
	dir := func(l []string) []string { return append(slices.Clone(l), "direction") }
	for _, tt := range []struct {
		names Names
		want  []Family
	}{
		{NodeExporter, []Family{
			{"node_ipvs_connections_total", "The total number of connections made.", "counter", nil},
			{"node_ipvs_incoming_packets_total", "The total number of incoming packets.", "counter", nil},
			{"node_ipvs_outgoing_packets_total", "The total number of outgoing packets.", "counter", nil},
			{"node_ipvs_incoming_bytes_total", "The total amount of incoming data.", "counter", nil},
			{"node_ipvs_outgoing_bytes_total", "The total amount of outgoing data.", "counter", nil},
			{"node_ipvs_backend_connections_active", "The current active connections by local and remote address.", "gauge", backend},
			{"node_ipvs_backend_connections_inactive", "The current inactive connections by local and remote address.", "gauge", backend},
			{"node_ipvs_backend_weight", "The current backend weight by local and remote address.", "gauge", backend},
		}},
		{IPVSCtl, []Family{
			{"ipvs_service_connections_total", "Connections scheduled by the virtual service.", "counter", svcL},
			{"ipvs_service_packets_total", "Packets through the virtual service, by direction (in: client to server).", "counter", dir(svcL)},
			{"ipvs_service_bytes_total", "Bytes through the virtual service, by direction (in: client to server).", "counter", dir(svcL)},
			{"ipvs_service_destinations", "Real servers of the virtual service.", "gauge", svcL},
			{"ipvs_destination_connections_total", "Connections scheduled to the real server.", "counter", dstL},
			{"ipvs_destination_packets_total", "Packets to and from the real server, by direction (in: client to server).", "counter", dir(dstL)},
			{"ipvs_destination_bytes_total", "Bytes to and from the real server, by direction (in: client to server).", "counter", dir(dstL)},
			{"ipvs_destination_active_connections", "Active connections of the real server.", "gauge", dstL},
			{"ipvs_destination_inactive_connections", "Inactive connections of the real server.", "gauge", dstL},
			{"ipvs_destination_persistent_connections", "Persistence templates pointing at the real server.", "gauge", dstL},
			{"ipvs_destination_weight", "Scheduling weight of the real server (0: quiesced).", "gauge", dstL},
		}},
	} {
		t.Run(string(tt.names), func(t *testing.T) {
			if d := cmp.Diff(tt.want, Families(tt.names)); d != "" {
				t.Errorf("Families (-want +got):\n%s", d)
			}
			// The text of the table carries these label names, no others.
			var buf bytes.Buffer
			if err := WriteText(&buf, Table(tt.names, textTable(), nil)); err != nil {
				t.Fatal(err)
			}
			p := expfmt.NewTextParser(model.UTF8Validation)
			mfs, err := p.TextToMetricFamilies(&buf)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range tt.want {
				mf := mfs[f.Name]
				if mf == nil {
					t.Errorf("%s: not in the text", f.Name)
					continue
				}
				if got, want := mf.GetHelp(), f.Help; got != want {
					t.Errorf("%s: HELP %q, want %q", f.Name, got, want)
				}
				for _, m := range mf.GetMetric() {
					var names []string
					for _, lp := range m.GetLabel() {
						names = append(names, lp.GetName())
					}
					if d := cmp.Diff(slices.Sorted(slices.Values(f.Labels)), slices.Sorted(slices.Values(names))); d != "" {
						t.Errorf("%s: label names (-want +got):\n%s", f.Name, d)
					}
				}
			}
			if len(mfs) != len(tt.want) {
				t.Errorf("%d families in the text, want %d: %v", len(mfs), len(tt.want), slices.Sorted(maps.Keys(mfs)))
			}
		})
	}
}

// TestWriteTextEscapes: label values and HELP texts with the characters
// the format escapes read back as written; a family without series is
// left out; values are exact integers.
func TestWriteTextEscapes(t *testing.T) {
	for _, tt := range []struct {
		name  string
		value string
	}{
		{"plain", "tcp:10.0.0.1:80"},
		{"empty", ""},
		{"quote", `say "hi"`},
		{"backslash", `C:\ipvs\`},
		{"newline", "two\nlines"},
		{"all", "\\\"\n\\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ms := []Metrics{
				{Family{"x_total", "Help with \\ and\na newline.", "counter", []string{"v"}}, []Sample{{[]string{tt.value}, 1<<63 + 1}}},
				{Family{"y", "No series.", "gauge", []string{"v"}}, nil},
			}
			var buf bytes.Buffer
			if err := WriteText(&buf, ms); err != nil {
				t.Fatal(err)
			}
			p := expfmt.NewTextParser(model.UTF8Validation)
			mfs, err := p.TextToMetricFamilies(strings.NewReader(buf.String()))
			if err != nil {
				t.Fatalf("%v\n%s", err, buf.String())
			}
			if d := cmp.Diff([]string{"x_total"}, slices.Sorted(maps.Keys(mfs))); d != "" {
				t.Errorf("families (-want +got):\n%s", d)
			}
			mf := mfs["x_total"]
			if got := mf.GetHelp(); got != ms[0].Help {
				t.Errorf("HELP %q, want %q", got, ms[0].Help)
			}
			if got := mf.GetMetric()[0].GetLabel()[0].GetValue(); got != tt.value {
				t.Errorf("label value %q, want %q\n%s", got, tt.value, buf.String())
			}
			if !strings.Contains(buf.String(), "} 9223372036854775809\n") {
				t.Errorf("the value is not written as an exact integer:\n%s", buf.String())
			}
		})
	}
}
