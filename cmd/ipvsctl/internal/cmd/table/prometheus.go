package table

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
)

// WritePrometheus writes the counters of every service and destination in
// the Prometheus text exposition format, for node_exporter's textfile
// collector. Metric names start with ipvs_ (node_exporter's own ipvs
// collector uses node_ipvs_ and has no per-destination bytes or packets).
//
// Service series carry the labels service (tcp:ADDR:PORT, fwmark:N[:v6]),
// protocol, address, port, fwmark and family; destination series add
// server (ADDR:PORT), server_address, server_port and forward.
func WritePrometheus(w io.Writer, vss []ipvs.VirtualServer) error {
	type series struct {
		labels string
		value  uint64
	}
	type metric struct {
		name, help, typ string
		rows            []series
	}
	var metrics []*metric
	byName := map[string]*metric{}
	add := func(name, typ, help, labels string, v uint64) {
		m := byName[name]
		if m == nil {
			m = &metric{name: name, help: help, typ: typ}
			byName[name] = m
			metrics = append(metrics, m)
		}
		m.rows = append(m.rows, series{labels, v})
	}
	// counters adds the counters of a service or a real server (kind);
	// traffic says where packets and bytes go.
	counters := func(kind, l string, st ipvs.Stats, connsHelp, traffic string) {
		add("ipvs_"+kind+"_connections_total", "counter", connsHelp, l, st.Conns)
		add("ipvs_"+kind+"_packets_total", "counter", "Packets "+traffic+", by direction (in: client to server).", l+`,direction="in"`, st.InPkts)
		add("ipvs_"+kind+"_packets_total", "counter", "", l+`,direction="out"`, st.OutPkts)
		add("ipvs_"+kind+"_bytes_total", "counter", "Bytes "+traffic+", by direction (in: client to server).", l+`,direction="in"`, st.InBytes)
		add("ipvs_"+kind+"_bytes_total", "counter", "", l+`,direction="out"`, st.OutBytes)
	}
	for _, vs := range vss {
		s := vs.Service
		k := s.Key()
		sl := []string{"service", ipvsconfig.FormatServiceKey(k), "family", s.Family.String()}
		if k.IsFWMark() {
			sl = append(sl, "protocol", "", "address", "", "port", "", "fwmark", strconv.FormatUint(uint64(k.FWMark), 10))
		} else {
			sl = append(sl, "protocol", ipvsconfig.ProtocolName(k.Protocol), "address", k.Address.String(),
				"port", strconv.Itoa(int(k.Port)), "fwmark", "")
		}
		l := labels(sl...)
		counters("service", l, s.Stats, "Connections scheduled by the virtual service.", "through the virtual service")
		add("ipvs_service_destinations", "gauge", "Real servers of the virtual service.", l, uint64(len(vs.Destinations)))
		for _, d := range vs.Destinations {
			dl := l + "," + labels("server", destName(d), "server_address", d.Address.String(),
				"server_port", strconv.Itoa(int(d.Port)), "forward", ipvsconfig.ForwardName(d.ForwardMethod))
			counters("destination", dl, d.Stats, "Connections scheduled to the real server.", "to and from the real server")
			add("ipvs_destination_active_connections", "gauge", "Active connections of the real server.", dl, uint64(d.ActiveConns))
			add("ipvs_destination_inactive_connections", "gauge", "Inactive connections of the real server.", dl, uint64(d.InactiveConns))
			add("ipvs_destination_persistent_connections", "gauge", "Persistence templates pointing at the real server.", dl, uint64(d.PersistConns))
			add("ipvs_destination_weight", "gauge", "Scheduling weight of the real server (0: quiesced).", dl, uint64(d.Weight))
		}
	}
	var b strings.Builder
	for _, m := range metrics {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", m.name, m.help, m.name, m.typ)
		for _, r := range m.rows {
			fmt.Fprintf(&b, "%s{%s} %d\n", m.name, r.labels, r.value)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func destName(d ipvs.Destination) string { return d.Key().String() }

// labels formats name/value pairs as Prometheus labels.
func labels(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv[i])
		b.WriteString(`="`)
		b.WriteString(escape(kv[i+1]))
		b.WriteByte('"')
	}
	return b.String()
}

func escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// WriteFileAtomic writes data to path through a temporary file in the
// same directory and a rename, so a reader (node_exporter) never sees a
// partial file.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
