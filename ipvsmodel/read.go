package ipvsmodel

import (
	"slices"

	"github.com/ipvs-tools/ipvs"
)

// newestFirst returns a copy of ds in the kernel's listing order: the
// kernel puts a new destination at the head of its service's list.
func newestFirst(ds []ipvs.Destination) []ipvs.Destination {
	out := make([]ipvs.Destination, len(ds))
	for i, d := range ds {
		out[len(ds)-1-i] = d
	}
	return out
}

// Len returns the number of services.
func (m *Model) Len() int { return len(m.index) }

// Services lists the services as a service dump would, in creation order.
func (m *Model) Services() []ipvs.Service {
	out := make([]ipvs.Service, 0, len(m.index))
	for _, s := range m.services {
		if s != nil {
			out = append(out, s.svc)
		}
	}
	return out
}

// Service returns one service as GET_SERVICE would; ok is false if there is
// none with key k (the kernel answers ESRCH).
func (m *Model) Service(k ipvs.ServiceKey) (svc ipvs.Service, ok bool) {
	s := m.find(k)
	if s == nil {
		return ipvs.Service{}, false
	}
	return s.svc, true
}

// Destinations lists a service's destinations as a destination dump would
// (newest first); ok is false if there is no such service.
func (m *Model) Destinations(k ipvs.ServiceKey) (ds []ipvs.Destination, ok bool) {
	s := m.find(k)
	if s == nil {
		return nil, false
	}
	return newestFirst(s.dests), true
}

// Table returns the table as a service dump followed by one destination
// dump per service would: services in creation order, destinations newest
// first. The result is the caller's.
func (m *Model) Table() []ipvs.VirtualServer {
	out := make([]ipvs.VirtualServer, 0, len(m.index))
	for _, s := range m.services {
		if s != nil {
			out = append(out, ipvs.VirtualServer{Service: s.svc, Destinations: newestFirst(s.dests)})
		}
	}
	return out
}

// Snapshot returns the table in the order its entries were created:
// services and destinations oldest first, which is the order to create them
// in to rebuild it (what ipvsplan.Diff is given as the wanted table). It
// copies nothing: the destination slices are shared with the model, which
// copies a service's destinations before it next changes them, so a
// snapshot stays as it was.
func (m *Model) Snapshot() []ipvs.VirtualServer {
	out := make([]ipvs.VirtualServer, 0, len(m.index))
	for _, s := range m.services {
		if s != nil {
			s.shared = true
			out = append(out, ipvs.VirtualServer{Service: s.svc, Destinations: s.dests})
		}
	}
	return out
}

// Timeouts returns the TCP, TCP FIN and UDP timeouts.
func (m *Model) Timeouts() ipvs.Timeouts { return m.timeouts }

// Daemons lists the running sync daemons, master first.
func (m *Model) Daemons() []ipvs.Daemon {
	out := slices.Clone(m.daemons)
	if out == nil {
		out = []ipvs.Daemon{}
	}
	return out
}

// Load replaces the table with t, without the kernel's checks (a test's
// starting point, or a table read from a kernel); t's destinations are
// taken oldest last, as the kernel lists them. Timeouts and daemons stay.
func (m *Model) Load(t []ipvs.VirtualServer) {
	m.Apply(ipvs.Op{Cmd: ipvs.CmdFlush})
	for _, vs := range t {
		svc := stored(vs.Service)
		m.index[svc.Key()] = len(m.services)
		m.services = append(m.services, &service{svc: svc, dests: newestFirst(vs.Destinations)})
	}
}

// SetCounters lets traffic happen: it calls fn with the service with key
// k and its destinations (oldest first) to change their counters and
// statistics. Changes to anything else are the caller's mistake. It
// reports whether the service exists.
func (m *Model) SetCounters(k ipvs.ServiceKey, fn func(svc *ipvs.Service, dests []ipvs.Destination)) bool {
	s := m.find(k)
	if s == nil {
		return false
	}
	s.own()
	fn(&s.svc, s.dests)
	return true
}
