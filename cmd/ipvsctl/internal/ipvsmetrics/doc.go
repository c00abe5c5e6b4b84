// Package ipvsmetrics exports the IPVS table to Prometheus under
// node_exporter's names, for the /metrics endpoint of ipvsctl agent:
// dashboards and alerts written for node_exporter's ipvs collector work
// unchanged.
//
// The names, HELP texts, types, label names and label value formats are
// those of node_exporter's collector/ipvs_linux.go (checked against
// prometheus/node_exporter at a7dcc3a, with procfs v0.21's parser of
// /proc/net/ip_vs). They are plain data and functions (Family,
// BackendLabels, BackendLabelValues, Backends, SumStats) that a
// text-format writer can use as well as a collector:
//
//   - node_ipvs_{connections,incoming_packets,outgoing_packets,
//     incoming_bytes,outgoing_bytes}_total: counters without labels.
//     node_exporter reads them from /proc/net/ip_vs_stats, the kernel's
//     totals (ipvsproc.ReadStats). SumStats sums the services' counters,
//     which is the same number except after services are deleted or
//     zeroed one by one (then the sum drops, which Prometheus takes for a
//     counter reset).
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
// Nothing in this package prints or exits.
package ipvsmetrics
