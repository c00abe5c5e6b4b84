// Package ipvsmetrics exports the IPVS table to Prometheus, for the
// /metrics endpoint of ipvsctl agent (Collector) and the textfiles of
// ipvsctl stats (Table, WriteText), under one of two namings (Names):
//
//   - NodeExporter, node_exporter's names: dashboards and alerts written
//     for node_exporter's ipvs collector work unchanged. The agent's
//     default.
//   - IPVSCtl, ipvsctl's own: ipvs_service_* and ipvs_destination_*
//     (IPVSCtlFamilies), one series per service and per real server,
//     with per-real-server packets and bytes that node_exporter lacks,
//     labelled in ipvsctl's words: service="tcp:10.0.0.1:80",
//     server="192.168.0.1:8080", forward="masq" and the parts of each
//     (ServiceLabels, DestinationLabels). The default of stats, whose
//     textfiles have always had these names. The Collector's success
//     gauge is ipvs_scrape_success.
//
// Both namings come from Table, so a textfile and /metrics of the same
// naming carry the same families, labels and values.
//
// Under NodeExporter, the names, HELP texts, types, label names and label
// value formats are those of node_exporter's collector/ipvs_linux.go
// (checked against prometheus/node_exporter at a7dcc3a, with procfs
// v0.21's parser of /proc/net/ip_vs). They are plain data and functions
// (Family, BackendLabels, BackendLabelValues, Backends, SumStats):
//
//   - node_ipvs_{connections,incoming_packets,outgoing_packets,
//     incoming_bytes,outgoing_bytes}_total: counters without labels.
//     node_exporter reads them from /proc/net/ip_vs_stats, the kernel's
//     totals (ipvsproc.ReadStats). By default the Collector sums the
//     services' counters (SumStats), as Table does for textfiles, which
//     is the same number except after services are deleted or zeroed
//     one by one (then the sum drops, which Prometheus takes for a
//     counter reset); WithTotals takes the kernel's totals instead.
//   - node_ipvs_backend_{connections_active,connections_inactive,weight}:
//     gauges per destination, labelled local_address, local_port,
//     remote_address, remote_port, proto and local_mark. node_exporter
//     sums the values of destinations whose labels coincide (so does
//     Backends).
//
// One difference is deliberate: procfs skips the SCTP service lines of
// /proc/net/ip_vs, so node_exporter files the destinations of an SCTP
// service under the service listed before it; here they carry their own
// service and proto="SCTP". node_exporter's --collector.ipvs.backend-labels
// (a subset of the labels) has no counterpart.
//
// A failed scrape does not fail the whole /metrics request. In
// node_exporter the collector returns its error (after sending the
// totals, when only /proc/net/ip_vs fails) and its wrapper logs it and
// sends node_scrape_collector_success{collector="ipvs"} 0. The Collector
// does the same: it sends what it had read, then that gauge (1 on
// success, 0 on failure), and hands the error to the function of
// WithErrorFunc for the caller's log. It does not send
// prometheus.NewInvalidMetric, which would fail the whole request under
// promhttp's default HTTPErrorOnError. It leaves out node_exporter's
// node_scrape_collector_duration_seconds; and since a registry takes each
// Desc from one collector only, no other collector of the same registry
// can describe node_scrape_collector_success.
//
// Nothing in this package prints or exits.
package ipvsmetrics
