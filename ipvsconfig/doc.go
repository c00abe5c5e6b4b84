// Package ipvsconfig is the document model of ipvsctl: a whole IPVS
// configuration (services with destinations, connection timeouts, sync
// daemons, sysctls) or a listing of the live table with its counters, as
// versioned JSON or YAML.
//
// The schema is versioned by the apiVersion field (APIVersion), described
// field by field in docs/ipvsctl-json.md and as a JSON Schema in
// schema/ipvsctl-v1.schema.json. All values are numeric (addresses and
// ports are never names).
//
// Parse reads a document and remembers where each value came from, so
// that Document.Desired, which validates the whole document and fills in
// the defaults (scheduler wlc, netmask /32 or /128, weight 1, direct
// routing, ...), can report every problem as "FILE:LINE: path: message".
// FromKernel goes the other way, writing every setting explicitly, so
// that a saved table reads back to the same kernel objects.
//
// The package also holds the service syntax of the command line
// (ParseServiceKey: tcp:10.0.0.1:80, udp:[2001:db8::1]:53, fwmark:7:v6) and
// scopes (ParseScope: vip=CIDR,port=N,fwmark=A-B) that keep ipvsctl away
// from rules other managers own.
package ipvsconfig
