package ipvsmetrics

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/ipvsproc"
)

// Family is one of node_exporter's metric families: its name, HELP text,
// TYPE and label names, as collector/ipvs_linux.go declares them.
type Family struct {
	Name   string
	Help   string
	Type   string   // "counter" or "gauge", as a TYPE line writes it
	Labels []string // label names; nil for the totals
}

// The label names of the backend families (node_exporter's
// ipvsLabel* constants).
const (
	LabelLocalAddress  = "local_address"
	LabelLocalPort     = "local_port"
	LabelRemoteAddress = "remote_address"
	LabelRemotePort    = "remote_port"
	LabelProto         = "proto"
	LabelLocalMark     = "local_mark"
)

// BackendLabels are the label names of the backend families:
// node_exporter's default --collector.ipvs.backend-labels, in its order,
// which is the order of Backend.Labels.
var BackendLabels = [...]string{
	LabelLocalAddress, LabelLocalPort, LabelRemoteAddress, LabelRemotePort, LabelProto, LabelLocalMark,
}

// node_exporter's IPVS metric families.
var (
	Connections     = Family{"node_ipvs_connections_total", "The total number of connections made.", "counter", nil}
	IncomingPackets = Family{"node_ipvs_incoming_packets_total", "The total number of incoming packets.", "counter", nil}
	OutgoingPackets = Family{"node_ipvs_outgoing_packets_total", "The total number of outgoing packets.", "counter", nil}
	IncomingBytes   = Family{"node_ipvs_incoming_bytes_total", "The total amount of incoming data.", "counter", nil}
	OutgoingBytes   = Family{"node_ipvs_outgoing_bytes_total", "The total amount of outgoing data.", "counter", nil}

	BackendConnectionsActive = Family{"node_ipvs_backend_connections_active",
		"The current active connections by local and remote address.", "gauge", BackendLabels[:]}
	BackendConnectionsInactive = Family{"node_ipvs_backend_connections_inactive",
		"The current inactive connections by local and remote address.", "gauge", BackendLabels[:]}
	BackendWeight = Family{"node_ipvs_backend_weight",
		"The current backend weight by local and remote address.", "gauge", BackendLabels[:]}
)

// ScrapeSuccess is node_exporter's per-collector success gauge
// (collector/collector.go), 1 or 0, with the label collector set to
// ScrapeCollector.
var ScrapeSuccess = Family{"node_scrape_collector_success", "node_exporter: Whether a collector succeeded.", "gauge", []string{"collector"}}

// ScrapeCollector is the value of ScrapeSuccess's collector label, the
// name of node_exporter's IPVS collector.
const ScrapeCollector = "ipvs"

// TotalFamilies are the totals, in the order of TotalValues.
var TotalFamilies = [...]Family{Connections, IncomingPackets, OutgoingPackets, IncomingBytes, OutgoingBytes}

// TotalValues returns the values of TotalFamilies taken from st.
func TotalValues(st ipvs.Stats) [len(TotalFamilies)]uint64 {
	return [...]uint64{st.Conns, st.InPkts, st.OutPkts, st.InBytes, st.OutBytes}
}

// BackendFamilies are the per-backend gauges, in the order of
// Backend.Values.
var BackendFamilies = [...]Family{BackendConnectionsActive, BackendConnectionsInactive, BackendWeight}

// Backend is one backend series: a destination of a service, or the sum
// of the destinations whose labels coincide.
type Backend struct {
	// Labels are the values of BackendLabels (BackendLabelValues).
	Labels        [len(BackendLabels)]string
	ActiveConns   uint64
	InactiveConns uint64
	Weight        uint64
}

// Values returns the values of BackendFamilies.
func (b Backend) Values() [len(BackendFamilies)]uint64 {
	return [...]uint64{b.ActiveConns, b.InactiveConns, b.Weight}
}

// Backends returns the backends of the table in its order. Destinations
// whose label values coincide are summed into the first of them, all three
// values, as node_exporter sums them; that happens only for a firewall
// mark used by both an IPv4 and an IPv6 service with the same
// destination, since the labels carry no family.
func Backends(vss []ipvs.VirtualServer) []Backend {
	var out []Backend
	index := map[[len(BackendLabels)]string]int{}
	for _, vs := range vss {
		for _, d := range vs.Destinations {
			l := BackendLabelValues(vs.Service, d)
			i, ok := index[l]
			if !ok {
				i = len(out)
				index[l] = i
				out = append(out, Backend{Labels: l})
			}
			out[i].ActiveConns += uint64(d.ActiveConns)
			out[i].InactiveConns += uint64(d.InactiveConns)
			out[i].Weight += uint64(d.Weight)
		}
	}
	return out
}

// BackendLabelValues returns the values of BackendLabels for destination d
// of service s, written as node_exporter writes what procfs parses out of
// /proc/net/ip_vs:
//
//   - local_address: the service address as Go's net.IP prints it (an
//     IPv4-mapped IPv6 address as IPv4); empty for firewall-mark services.
//   - local_port: the service port in decimal; "0" for firewall-mark
//     services.
//   - remote_address, remote_port: the destination's, likewise.
//   - proto: the protocol as the kernel names it ("TCP", "UDP", "SCTP"),
//     "FWM" for firewall-mark services.
//   - local_mark: the firewall mark as the kernel prints it, 8 upper-case
//     hex digits ("0000000A" for mark 10); empty for other services.
func BackendLabelValues(s ipvs.Service, d ipvs.Destination) [len(BackendLabels)]string {
	k := s.Key()
	l := [len(BackendLabels)]string{
		formatAddr(k.Address), strconv.Itoa(int(k.Port)),
		formatAddr(d.Address), strconv.Itoa(int(d.Port)),
		ipvsproc.Protocol(k.Protocol).String(), "",
	}
	if k.IsFWMark() {
		l[4], l[5] = "FWM", fmt.Sprintf("%08X", k.FWMark)
	}
	return l
}

// formatAddr writes a as net.IP.String does; the zero Addr (of a
// firewall-mark service) as "" (node_exporter turns net.IP's "<nil>"
// into "").
func formatAddr(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.Unmap().String()
}

// SumStats returns the sum of the services' counters and rates: the
// kernel's totals (/proc/net/ip_vs_stats), except for the traffic of
// services since deleted and of services zeroed one by one.
func SumStats(vss []ipvs.VirtualServer) ipvs.Stats {
	var t ipvs.Stats
	for _, vs := range vss {
		s := vs.Service.Stats
		t.Conns += s.Conns
		t.InPkts += s.InPkts
		t.OutPkts += s.OutPkts
		t.InBytes += s.InBytes
		t.OutBytes += s.OutBytes
		t.CPS += s.CPS
		t.InPPS += s.InPPS
		t.OutPPS += s.OutPPS
		t.InBPS += s.InBPS
		t.OutBPS += s.OutBPS
	}
	return t
}
