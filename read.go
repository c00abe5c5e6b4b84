package ipvs

// Reader reads a table the way the kernel lists it: all services in one
// dump, the destinations one service at a time. netlinkipvs.Client is one;
// so are the fakes over ipvsmodel.
type Reader interface {
	Services() ([]Service, error)
	Destinations(ServiceKey) ([]Destination, error)
}

// ReadTable reads the services that match (all if match is nil) with their
// destinations: one service dump, then one destination dump per matching
// service, in the kernel's order. The kernel offers no snapshot, so a table
// changed meanwhile by someone else may be seen part way through a change.
func ReadTable(r Reader, match func(ServiceKey) bool) ([]VirtualServer, error) {
	svcs, err := r.Services()
	if err != nil {
		return nil, err
	}
	out := make([]VirtualServer, 0, len(svcs))
	for _, s := range svcs {
		if match != nil && !match(s.Key()) {
			continue
		}
		ds, err := r.Destinations(s.Key())
		if err != nil {
			return nil, err
		}
		out = append(out, VirtualServer{Service: s, Destinations: ds})
	}
	return out, nil
}
