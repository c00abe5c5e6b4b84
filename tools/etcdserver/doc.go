// Command etcdserver is a single-member etcd server built from
// go.etcd.io/etcd/server/v3/embed: the store of the VM tests and
// benchmarks of ipvsctl's fleet (agent --etcd, ipvsctl fleet), which run
// in a guest without Debian's etcd-server. It is a developer tool, not
// part of the product; vmrun installs it in the guest's /usr/local/sbin.
//
// Usage:
//
//	etcdserver --data-dir DIR [--name NAME] [--listen-client-urls URLS]
//	    [--advertise-client-urls URLS] [--listen-peer-urls URLS] [--log-level LEVEL]
//
// URLS are comma-separated (http only). --advertise-client-urls defaults
// to --listen-client-urls; the peer URLs are also the member's advertised
// ones. A port 0 listens on a free port: the line it prints names the
// ports it got. A data directory that exists is reused, with its data: a
// server stopped and started again on it serves the same keys and
// revisions.
//
// Once the member serves clients it prints one line on standard error,
//
//	etcdserver: serving on http://127.0.0.1:2379
//
// (the client listeners, comma-separated). etcd's own log (zap, JSON
// lines, --log-level, default error) goes to standard error too. SIGTERM
// or SIGINT stops it cleanly (exit 0); a server that fails to start or
// fails while serving exits 1.
package main
