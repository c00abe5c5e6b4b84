package ipvsmodel

import (
	"net/netip"

	"github.com/ipvs-tools/ipvs"
)

// dest is a destination as the model keeps it: its identity and settings
// in about a third of an ipvs.Destination (a restore simulates hundreds of
// thousands), and the counters only once traffic (SetCounters) set them.
type dest struct {
	addr     netip.Addr
	port     uint16
	family   ipvs.AddressFamily
	fwd      ipvs.ForwardMethod
	tunType  ipvs.TunnelType
	tunFlags ipvs.TunnelFlags
	tunPort  uint16
	weight   uint32
	upper    uint32
	lower    uint32
	counters *counters
}

// counters are what traffic changes.
type counters struct {
	active, inactive, persist uint32
	stats                     ipvs.Stats
}

func compact(d ipvs.Destination) dest {
	return dest{addr: d.Address, port: d.Port, family: d.Family, fwd: d.ForwardMethod,
		tunType: d.TunnelType, tunFlags: d.TunnelFlags, tunPort: d.TunnelPort,
		weight: d.Weight, upper: d.UpperThreshold, lower: d.LowerThreshold}
}

// full is d as the kernel lists it.
func (d *dest) full() ipvs.Destination {
	out := ipvs.Destination{Family: d.family, Address: d.addr, Port: d.port, ForwardMethod: d.fwd,
		Weight: d.weight, UpperThreshold: d.upper, LowerThreshold: d.lower,
		TunnelType: d.tunType, TunnelPort: d.tunPort, TunnelFlags: d.tunFlags, Stats64: true}
	if c := d.counters; c != nil {
		out.ActiveConns, out.InactiveConns, out.PersistConns, out.Stats = c.active, c.inactive, c.persist, c.stats
	}
	return out
}

// setCounters keeps the counters of full.
func (d *dest) setCounters(full ipvs.Destination) {
	c := counters{active: full.ActiveConns, inactive: full.InactiveConns, persist: full.PersistConns, stats: full.Stats}
	if c == (counters{}) {
		d.counters = nil
		return
	}
	d.counters = &c
}

func (d *dest) key() ipvs.DestKey {
	return ipvs.DestKey{Family: d.family, Address: d.addr, Port: d.port}
}
