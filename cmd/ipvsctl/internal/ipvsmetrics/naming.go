package ipvsmetrics

import (
	"fmt"
	"strconv"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
)

// Names is a naming of the IPVS table's metrics: which families, with
// which labels, a Collector and Table produce.
type Names string

// The namings.
const (
	// IPVSCtl is ipvsctl's naming: ipvs_service_* and ipvs_destination_*
	// families, one series per service and per real server (counters,
	// connections, weight), labelled in ipvsctl's words (ServiceLabels,
	// DestinationLabels).
	IPVSCtl Names = "ipvsctl"
	// NodeExporter is node_exporter's naming: the node_ipvs_* families and
	// labels of its ipvs collector (TotalFamilies, BackendFamilies), so
	// that dashboards and alerts written for it work unchanged.
	NodeExporter Names = "node-exporter"
)

// AllNames are the namings, in the order help texts list them.
var AllNames = [...]Names{IPVSCtl, NodeExporter}

// ParseNames returns the naming called s.
func ParseNames(s string) (Names, error) {
	for _, n := range AllNames {
		if string(n) == s {
			return n, nil
		}
	}
	return "", fmt.Errorf("unknown metric names %q (want %s or %s)", s, IPVSCtl, NodeExporter)
}

// The label names of IPVSCtl's families.
const (
	// LabelService names the service as ipvsctl does: tcp:10.0.0.1:80,
	// udp:[2001:db8::1]:53, fwmark:7, fwmark:7:v6.
	LabelService = "service"
	// LabelFamily is the service's address family: inet or inet6.
	LabelFamily = "family"
	// LabelProtocol is tcp, udp or sctp; empty for firewall-mark services.
	LabelProtocol = "protocol"
	// LabelAddress is the service's address; empty for firewall-mark
	// services.
	LabelAddress = "address"
	// LabelPort is the service's port in decimal; empty for firewall-mark
	// services.
	LabelPort = "port"
	// LabelFWMark is the firewall mark in decimal; empty for other
	// services.
	LabelFWMark = "fwmark"
	// LabelServer names the real server as ADDR:PORT ([V6ADDR]:PORT).
	LabelServer = "server"
	// LabelServerAddress is the real server's address.
	LabelServerAddress = "server_address"
	// LabelServerPort is the real server's port in decimal.
	LabelServerPort = "server_port"
	// LabelForward is the forwarding method: masq, local, tunnel, route
	// or bypass.
	LabelForward = "forward"
	// LabelDirection is in (client to server) or out, for packets and
	// bytes.
	LabelDirection = "direction"
)

// ServiceLabels are the labels of IPVSCtl's service series, in the order
// of ServiceLabelValues.
var ServiceLabels = [...]string{LabelService, LabelFamily, LabelProtocol, LabelAddress, LabelPort, LabelFWMark}

// DestinationLabels are the labels IPVSCtl's real-server series add to
// ServiceLabels, in the order of DestinationLabelValues.
var DestinationLabels = [...]string{LabelServer, LabelServerAddress, LabelServerPort, LabelForward}

// ServiceLabelValues returns the values of ServiceLabels for s.
func ServiceLabelValues(s ipvs.Service) [len(ServiceLabels)]string {
	k := s.Key()
	if k.IsFWMark() {
		return [...]string{ipvsconfig.FormatServiceKey(k), s.Family.String(), "", "", "", strconv.FormatUint(uint64(k.FWMark), 10)}
	}
	return [...]string{ipvsconfig.FormatServiceKey(k), s.Family.String(), ipvsconfig.ProtocolName(k.Protocol),
		k.Address.String(), strconv.Itoa(int(k.Port)), ""}
}

// DestinationLabelValues returns the values of DestinationLabels for d.
func DestinationLabelValues(d ipvs.Destination) [len(DestinationLabels)]string {
	return [...]string{d.Key().String(), d.Address.String(), strconv.Itoa(int(d.Port)), ipvsconfig.ForwardName(d.ForwardMethod)}
}

// joinLabels joins lists of label names or values.
func joinLabels(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

var (
	svcLabels    = ServiceLabels[:]
	svcDirLabels = joinLabels(svcLabels, []string{LabelDirection})
	dstLabels    = joinLabels(svcLabels, DestinationLabels[:])
	dstDirLabels = joinLabels(dstLabels, []string{LabelDirection})
)

// IPVSCtl's families, in the order Table lists them.
var (
	ServiceConnections = Family{"ipvs_service_connections_total",
		"Connections scheduled by the virtual service.", "counter", svcLabels}
	ServicePackets = Family{"ipvs_service_packets_total",
		"Packets through the virtual service, by direction (in: client to server).", "counter", svcDirLabels}
	ServiceBytes = Family{"ipvs_service_bytes_total",
		"Bytes through the virtual service, by direction (in: client to server).", "counter", svcDirLabels}
	ServiceDestinations = Family{"ipvs_service_destinations",
		"Real servers of the virtual service.", "gauge", svcLabels}
	DestinationConnections = Family{"ipvs_destination_connections_total",
		"Connections scheduled to the real server.", "counter", dstLabels}
	DestinationPackets = Family{"ipvs_destination_packets_total",
		"Packets to and from the real server, by direction (in: client to server).", "counter", dstDirLabels}
	DestinationBytes = Family{"ipvs_destination_bytes_total",
		"Bytes to and from the real server, by direction (in: client to server).", "counter", dstDirLabels}
	DestinationActiveConnections = Family{"ipvs_destination_active_connections",
		"Active connections of the real server.", "gauge", dstLabels}
	DestinationInactiveConnections = Family{"ipvs_destination_inactive_connections",
		"Inactive connections of the real server.", "gauge", dstLabels}
	DestinationPersistentConnections = Family{"ipvs_destination_persistent_connections",
		"Persistence templates pointing at the real server.", "gauge", dstLabels}
	DestinationWeight = Family{"ipvs_destination_weight",
		"Scheduling weight of the real server (0: quiesced).", "gauge", dstLabels}
)

// IPVSCtlFamilies are IPVSCtl's families of the table, in the order Table
// lists them.
var IPVSCtlFamilies = [...]Family{ServiceConnections, ServicePackets, ServiceBytes, ServiceDestinations,
	DestinationConnections, DestinationPackets, DestinationBytes,
	DestinationActiveConnections, DestinationInactiveConnections, DestinationPersistentConnections, DestinationWeight}

// ScrapeSuccessIPVSCtl is the Collector's success gauge under IPVSCtl's
// naming: 1 when the last scrape read the table, 0 when it failed.
var ScrapeSuccessIPVSCtl = Family{"ipvs_scrape_success", "Whether the IPVS table was read (1) or not (0).", "gauge", nil}

// Families returns the families of the table under naming n, in the
// order Table lists them (without the success gauge, which only the
// Collector sends: ScrapeSuccessFamily).
func Families(n Names) []Family {
	if n == NodeExporter {
		return append(TotalFamilies[:len(TotalFamilies):len(TotalFamilies)], BackendFamilies[:]...)
	}
	return IPVSCtlFamilies[:]
}

// ScrapeSuccessFamily returns the Collector's success gauge under naming
// n: ScrapeSuccess (node_scrape_collector_success{collector="ipvs"}) for
// NodeExporter, ScrapeSuccessIPVSCtl for IPVSCtl.
func ScrapeSuccessFamily(n Names) Family {
	if n == NodeExporter {
		return ScrapeSuccess
	}
	return ScrapeSuccessIPVSCtl
}

// Sample is one series of a family: the values of its labels, in the
// order of Family.Labels, and its value.
type Sample struct {
	Labels []string
	Value  uint64
}

// Metrics is a family and its series.
type Metrics struct {
	Family
	Samples []Sample
}

// Table returns the metrics of the table vss under naming n: every family
// of Families(n), in its order, each with its series in the table's order
// (some with none).
//
// Under NodeExporter, totals are the values of TotalFamilies (nil: the
// sum of the services' counters, SumStats), and destinations whose labels
// coincide are summed (Backends). IPVSCtl has no totals.
func Table(n Names, vss []ipvs.VirtualServer, totals *ipvs.Stats) []Metrics {
	fams := Families(n)
	out := make([]Metrics, len(fams))
	for i, f := range fams {
		out[i].Family = f
	}
	if n == NodeExporter {
		st := SumStats(vss)
		if totals != nil {
			st = *totals
		}
		for i, v := range TotalValues(st) {
			out[i].Samples = []Sample{{Value: v}}
		}
		for _, b := range Backends(vss) {
			for i, v := range b.Values() {
				m := &out[len(TotalFamilies)+i]
				m.Samples = append(m.Samples, Sample{b.Labels[:], v})
			}
		}
		return out
	}
	add := func(i int, v uint64, labels ...[]string) {
		out[i].Samples = append(out[i].Samples, Sample{joinLabels(labels...), v})
	}
	in, outDir := []string{"in"}, []string{"out"}
	for _, vs := range vss {
		sl := ServiceLabelValues(vs.Service)
		s, st := sl[:], vs.Service.Stats
		add(0, st.Conns, s)
		add(1, st.InPkts, s, in)
		add(1, st.OutPkts, s, outDir)
		add(2, st.InBytes, s, in)
		add(2, st.OutBytes, s, outDir)
		add(3, uint64(len(vs.Destinations)), s)
		for _, d := range vs.Destinations {
			dl := DestinationLabelValues(d)
			l, dt := joinLabels(s, dl[:]), d.Stats
			add(4, dt.Conns, l)
			add(5, dt.InPkts, l, in)
			add(5, dt.OutPkts, l, outDir)
			add(6, dt.InBytes, l, in)
			add(6, dt.OutBytes, l, outDir)
			add(7, uint64(d.ActiveConns), l)
			add(8, uint64(d.InactiveConns), l)
			add(9, uint64(d.PersistConns), l)
			add(10, uint64(d.Weight), l)
		}
	}
	return out
}
