// Package healthcheck probes real servers and decides when they are up:
// TCP connects, HTTP and HTTPS requests, UDP and DNS exchanges and commands
// ([Probe]), and a [Monitor] that runs one probe per distinct (target,
// check) whatever the number of services sharing it, spreads the probes
// over each interval, bounds those in flight and turns results into up and
// down transitions with rise, fall and a start-up grace. The transitions
// come on [Monitor.Changes]; [Monitor.Status] tells where every target
// stands.
//
// A probe's failure reads as an operator's words ("connection refused",
// "status 503 (want 200-399)", "killed after timeout 2s") and wraps its
// cause.
//
// The package knows nothing of IPVS: the agent in cmd/ipvsctl maps
// transitions to weights.
package healthcheck
