package main

import (
	"bytes"
	"net/netip"
	"slices"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/ipvsadmfmt"
)

// svcList holds the services of a dump in a compact, pointer-free form
// (44 bytes a service instead of ipvs.Service's 176 and the slice
// growth and repeat-dropping map of Client.Services), for the full
// listings and ipvsadm-restore. Statistics are not kept: the formats that
// print them fetch services with Services.
type svcList struct {
	svcs  blockList[compactSvc]
	names []string // interned scheduler and PE names; names[0] is ""
	index map[string]uint16
}

// len returns the number of services.
func (l *svcList) len() int { return l.svcs.len() }

// at returns service i.
func (l *svcList) at(i int) *compactSvc { return l.svcs.at(i) }

type compactSvc struct {
	addr    [16]byte // as ipvsadm holds it: IPv4 in the first 4 bytes
	mark    uint32
	flags   uint32
	timeout uint32
	netmask uint32
	port    uint16
	sched   uint16
	pe      uint16
	af      uint8
	proto   uint8
}

// serviceScanner is implemented by netlinkipvs.Client.
type serviceScanner interface {
	ScanServices(start func(), fn func(*ipvs.Service) error) error
}

func (l *svcList) intern(s string) uint16 {
	if s == "" {
		return 0
	}
	if i, ok := l.index[s]; ok {
		return i
	}
	if l.index == nil {
		l.index = map[string]uint16{}
		l.names = []string{""}
	}
	if len(l.names) >= 1<<16 {
		panic("ipvsadm: more than 65535 scheduler and PE names")
	}
	i := uint16(len(l.names))
	l.names = append(l.names, s)
	l.index[s] = i
	return i
}

func (l *svcList) add(s *ipvs.Service) {
	c := compactSvc{mark: s.FWMark, flags: uint32(s.Flags), timeout: s.Timeout, netmask: s.Netmask,
		sched: l.intern(s.Scheduler), pe: l.intern(s.PEName), af: uint8(s.Family)}
	if s.FWMark == 0 {
		c.port, c.proto = s.Port, uint8(s.Protocol)
		if s.Address.Is4() {
			a := s.Address.As4()
			copy(c.addr[:], a[:])
		} else if s.Address.IsValid() {
			c.addr = s.Address.As16()
		}
	}
	l.svcs.add(c)
}

// service returns service i (without statistics).
func (l *svcList) service(i int) ipvs.Service {
	c := l.at(i)
	s := ipvs.Service{Family: ipvs.AddressFamily(c.af), FWMark: c.mark, Flags: ipvs.ServiceFlags(c.flags),
		Timeout: c.timeout, Netmask: c.netmask, Scheduler: l.names0(c.sched), PEName: l.names0(c.pe)}
	if c.mark == 0 {
		s.Protocol, s.Port = ipvs.Protocol(c.proto), c.port
		if s.Family == ipvs.AFInet6 {
			s.Address = netip.AddrFrom16(c.addr)
		} else {
			s.Address = netip.AddrFrom4([4]byte(c.addr[:4]))
		}
	}
	return s
}

func (l *svcList) names0(i uint16) string {
	if i == 0 {
		return ""
	}
	return l.names[i]
}

// key is the service's identity for the join with /proc/net/ip_vs.
func (l *svcList) key(i int) procKey {
	c := l.at(i)
	if c.mark != 0 {
		return procKey{mark: c.mark}
	}
	return procKey{addr: c.addr, port: c.port, proto: c.proto, af: c.af}
}

// identity orders services by their full identity (for dropping repeats).
func (l *svcList) identity(a, b int32) int {
	x, y := l.at(int(a)), l.at(int(b))
	switch {
	case x.mark != y.mark:
		return int(int64(x.mark) - int64(y.mark))
	case x.af != y.af:
		return int(x.af) - int(y.af)
	case x.mark != 0:
		return 0
	case x.proto != y.proto:
		return int(x.proto) - int(y.proto)
	case x.port != y.port:
		return int(x.port) - int(y.port)
	}
	return bytes.Compare(x.addr[:], y.addr[:])
}

// dropRepeats removes services met a second time (a dump of a changing
// table can repeat entries), keeping the first, as Client.Services does.
func (l *svcList) dropRepeats() {
	if l.len() < 2 {
		return
	}
	idx := make([]int32, l.len())
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, l.identity)
	var drop []bool
	for i := 1; i < len(idx); i++ {
		if l.identity(idx[i-1], idx[i]) == 0 {
			if drop == nil {
				drop = make([]bool, l.len())
			}
			drop[idx[i]] = true // the later one: the sort is stable
		}
	}
	if drop == nil {
		return
	}
	n := 0
	for i := range l.len() {
		if !drop[i] {
			*l.at(n) = *l.at(i)
			n++
		}
	}
	l.svcs.truncate(n)
}

// sortedOrder is ipvsadmfmt.SortedOrder on the compact form.
func (l *svcList) sortedOrder() []int32 {
	idx := make([]int32, l.len())
	for i := range idx {
		idx[i] = int32(i)
	}
	fields := func(c *compactSvc) ipvsadmfmt.ServiceFields {
		return ipvsadmfmt.ServiceFields{FWMark: c.mark, Family: ipvs.AddressFamily(c.af), Protocol: ipvs.Protocol(c.proto), Addr: &c.addr, Port: c.port}
	}
	ipvsadmfmt.SortIndexes(idx, func(a, b int32) int32 {
		return ipvsadmfmt.CompareServiceFields(fields(l.at(int(a))), fields(l.at(int(b))))
	})
	return idx
}

// fetchServices is the service dump into a svcList: streamed when the
// backend can, else through Services.
func (a *app) fetchServices() (*svcList, error) {
	l := &svcList{}
	if sc, ok := a.backend.(serviceScanner); ok {
		err := sc.ScanServices(func() { l.svcs.truncate(0) }, func(s *ipvs.Service) error {
			l.add(s)
			return nil
		})
		if err != nil {
			return nil, err
		}
		l.dropRepeats()
		return l, nil
	}
	svcs, err := a.backend.Services()
	if err != nil {
		return nil, err
	}
	for i := range svcs {
		l.add(&svcs[i])
	}
	return l, nil
}
