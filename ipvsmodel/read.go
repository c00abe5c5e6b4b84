package ipvsmodel

import (
	"iter"
	"slices"

	"github.com/ipvs-tools/ipvs"
)

// newestFirst returns ds in the kernel's listing order: the kernel puts a
// new destination at the head of its service's list.
func newestFirst(ds []dest) []ipvs.Destination {
	out := make([]ipvs.Destination, len(ds))
	for i := range ds {
		out[len(ds)-1-i] = ds[i].full()
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

// All yields the table in the order its entries were created: services
// and destinations oldest first, which is the order to create them in to
// rebuild it (ipvsplan.AppendServiceChanges). The destination slice of a
// yielded service is reused for the next one; the model must not change
// during the iteration.
func (m *Model) All() iter.Seq[ipvs.VirtualServer] {
	return func(yield func(ipvs.VirtualServer) bool) {
		var buf []ipvs.Destination
		for _, s := range m.services {
			if s == nil {
				continue
			}
			buf = buf[:0]
			for i := range s.dests {
				buf = append(buf, s.dests[i].full())
			}
			if !yield(ipvs.VirtualServer{Service: s.svc, Destinations: buf}) {
				return
			}
		}
	}
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
		s := &service{svc: svc, dests: make([]dest, len(vs.Destinations))}
		for i, d := range vs.Destinations {
			d.Family = d.EffectiveFamily()
			s.dests[len(vs.Destinations)-1-i] = compact(d)
			s.dests[len(vs.Destinations)-1-i].setCounters(d)
		}
		m.services = append(m.services, s)
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
	full := make([]ipvs.Destination, len(s.dests))
	for i := range s.dests {
		full[i] = s.dests[i].full()
	}
	fn(&s.svc, full)
	for i := range s.dests {
		s.dests[i].setCounters(full[i])
	}
	return true
}
