// Package fakeipvs is an in-memory IPVS for tests: it keeps a table with
// the kernel's semantics and errnos, records every write request, and can
// be told to fail a chosen request.
package fakeipvs

import (
	"slices"
	"sync"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
	"golang.org/x/sys/unix"
)

// Fake implements backend.IPVS.
type Fake struct {
	mu       sync.Mutex
	services []*svc
	timeouts ipvs.Timeouts
	daemons  []ipvs.Daemon

	// Schedulers are the loaded schedulers (others fail with ENOENT).
	Schedulers map[string]bool
	// Interfaces are the existing interfaces (for daemons; nil: any).
	Interfaces map[string]bool
	// Fail, if set, is asked before each write request; a non-nil errno
	// fails that request.
	Fail func(op ipvs.Op) unix.Errno
	// OnRead, if set, runs before each read (tests change counters).
	OnRead func(f *Fake)

	// Writes are all write requests received, in order.
	Writes []ipvs.Op
	// Batches counts Batch calls.
	Batches int
	// Reads counts read requests (dumps and gets).
	Reads int
}

type svc struct {
	s     ipvs.Service
	dests []ipvs.Destination // newest first, as the kernel lists
}

// New returns an empty fake with the schedulers of Debian 12's 6.1 kernel:
// all of ipvs.Schedulers but twos.
func New() *Fake {
	f := &Fake{timeouts: ipvs.Timeouts{TCP: 900, TCPFin: 120, UDP: 300}, Schedulers: map[string]bool{}}
	for _, s := range ipvs.Schedulers() {
		f.Schedulers[s] = s != "twos"
	}
	return f
}

func kerr(cmd ipvs.Command, e unix.Errno) error {
	return &netlinkipvs.Error{Op: cmd, Err: e}
}

func (f *Fake) read() {
	f.Reads++
	if f.OnRead != nil {
		hook := f.OnRead
		f.mu.Unlock()
		hook(f)
		f.mu.Lock()
	}
}

func (f *Fake) find(k ipvs.ServiceKey) *svc {
	for _, s := range f.services {
		if s.s.Key() == k {
			return s
		}
	}
	return nil
}

// Info implements backend.IPVS.
func (f *Fake) Info() (ipvs.Info, error) {
	return ipvs.Info{Version: ipvs.Version{Major: 1, Minor: 2, Patch: 1}, ConnTableSize: 4096}, nil
}

// Services implements backend.IPVS.
func (f *Fake) Services() ([]ipvs.Service, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.read()
	out := make([]ipvs.Service, len(f.services))
	for i, s := range f.services {
		out[i] = s.s
		out[i].Flags |= ipvs.SvcHashed
	}
	return out, nil
}

// Service implements backend.IPVS.
func (f *Fake) Service(k ipvs.ServiceKey) (ipvs.Service, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.read()
	s := f.find(k)
	if s == nil {
		return ipvs.Service{}, kerr(ipvs.CmdGetService, unix.ESRCH)
	}
	out := s.s
	out.Flags |= ipvs.SvcHashed
	return out, nil
}

// Destinations implements backend.IPVS.
func (f *Fake) Destinations(k ipvs.ServiceKey) ([]ipvs.Destination, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.read()
	s := f.find(k)
	if s == nil {
		return []ipvs.Destination{}, nil
	}
	return slices.Clone(s.dests), nil
}

// Table implements backend.IPVS.
func (f *Fake) Table() ([]ipvs.VirtualServer, error) {
	svcs, _ := f.Services()
	out := make([]ipvs.VirtualServer, len(svcs))
	for i, s := range svcs {
		ds, _ := f.Destinations(s.Key())
		out[i] = ipvs.VirtualServer{Service: s, Destinations: ds}
	}
	return out, nil
}

func (f *Fake) do(op ipvs.Op) error {
	f.Writes = append(f.Writes, op)
	if f.Fail != nil {
		if e := f.Fail(op); e != 0 {
			return kerr(op.Cmd, e)
		}
	}
	switch op.Cmd {
	case ipvs.CmdNewService, ipvs.CmdSetService:
		s := op.Service
		s.Flags &^= ipvs.SvcHashed
		cur := f.find(s.Key())
		if op.Cmd == ipvs.CmdNewService && cur != nil {
			return kerr(op.Cmd, unix.EEXIST)
		}
		if op.Cmd == ipvs.CmdSetService && cur == nil {
			return kerr(op.Cmd, unix.ESRCH)
		}
		if !f.Schedulers[s.Scheduler] || (s.PEName != "" && s.PEName != "sip") {
			return kerr(op.Cmd, unix.ENOENT)
		}
		if s.Family == ipvs.AFInet6 && (s.Netmask < 1 || s.Netmask > 128) {
			return kerr(op.Cmd, unix.EINVAL)
		}
		if s.FWMark != 0 {
			s.Protocol, s.Address, s.Port = 0, netipZero, 0
		}
		if cur != nil {
			stats := cur.s.Stats
			cur.s = s
			cur.s.Stats = stats
			return nil
		}
		s.Stats64 = true
		f.services = append(f.services, &svc{s: s})
	case ipvs.CmdDelService:
		for i, s := range f.services {
			if s.s.Key() == op.Service.Key() {
				f.services = slices.Delete(f.services, i, i+1)
				return nil
			}
		}
		return kerr(op.Cmd, unix.ESRCH)
	case ipvs.CmdNewDest, ipvs.CmdSetDest, ipvs.CmdDelDest:
		s := f.find(op.Service.Key())
		if s == nil {
			return kerr(op.Cmd, unix.ESRCH)
		}
		d := op.Destination
		if d.Family == ipvs.AFUnspec {
			d.Family = d.Key().Family
		}
		idx := slices.IndexFunc(s.dests, func(x ipvs.Destination) bool { return x.Key() == d.Key() })
		if op.Cmd == ipvs.CmdDelDest {
			if idx < 0 {
				return kerr(op.Cmd, unix.ENOENT)
			}
			s.dests = slices.Delete(s.dests, idx, idx+1)
			return nil
		}
		if d.Family != s.s.Family && d.ForwardMethod != ipvs.FwdTunnel {
			return kerr(op.Cmd, unix.EINVAL)
		}
		if d.Family != s.s.Family && len(f.daemons) > 0 {
			return kerr(op.Cmd, unix.EINVAL)
		}
		if d.Weight > 1<<31-1 || d.LowerThreshold > d.UpperThreshold {
			return kerr(op.Cmd, unix.ERANGE)
		}
		if d.TunnelType == ipvs.TunnelGUE && d.TunnelPort == 0 && d.ForwardMethod == ipvs.FwdTunnel {
			return kerr(op.Cmd, unix.EINVAL)
		}
		if op.Cmd == ipvs.CmdNewDest {
			if idx >= 0 {
				return kerr(op.Cmd, unix.EEXIST)
			}
			d.Stats64 = true
			s.dests = slices.Insert(s.dests, 0, d)
			return nil
		}
		if idx < 0 {
			return kerr(op.Cmd, unix.ENOENT)
		}
		old := s.dests[idx]
		d.ActiveConns, d.InactiveConns, d.PersistConns, d.Stats, d.Stats64 = old.ActiveConns, old.InactiveConns, old.PersistConns, old.Stats, old.Stats64
		s.dests[idx] = d
	case ipvs.CmdFlush:
		f.services = nil
	case ipvs.CmdZero:
		for _, s := range f.services {
			if op.AllServices || s.s.Key() == op.Service.Key() {
				s.s.Stats = ipvs.Stats{}
				for i := range s.dests {
					s.dests[i].Stats = ipvs.Stats{}
				}
				if !op.AllServices {
					return nil
				}
			}
		}
		if !op.AllServices {
			return kerr(op.Cmd, unix.ESRCH)
		}
	case ipvs.CmdSetConfig:
		t := op.Timeouts
		for _, v := range []uint32{t.TCP, t.TCPFin, t.UDP} {
			if v > 1<<31/250 {
				return kerr(op.Cmd, unix.EINVAL)
			}
		}
		if t.TCP != 0 {
			f.timeouts.TCP = t.TCP
		}
		if t.TCPFin != 0 {
			f.timeouts.TCPFin = t.TCPFin
		}
		if t.UDP != 0 {
			f.timeouts.UDP = t.UDP
		}
	case ipvs.CmdNewDaemon:
		d := op.Daemon
		if d.State != ipvs.DaemonMaster && d.State != ipvs.DaemonBackup {
			return kerr(op.Cmd, unix.EINVAL)
		}
		if f.Interfaces != nil && !f.Interfaces[d.Interface] {
			return kerr(op.Cmd, unix.ENODEV)
		}
		for _, x := range f.daemons {
			if x.State == d.State {
				return kerr(op.Cmd, unix.EEXIST)
			}
		}
		for _, s := range f.services {
			for _, ds := range s.dests {
				if ds.Family != s.s.Family {
					return kerr(op.Cmd, unix.EINVAL)
				}
			}
		}
		// The kernel fills in its defaults.
		if d.SyncMaxLen == 0 {
			d.SyncMaxLen = 1472
		}
		if !d.Group.IsValid() {
			d.Group = defaultGroup
		}
		if d.Port == 0 {
			d.Port = 8848
		}
		if d.TTL == 0 {
			d.TTL = 1
		}
		f.daemons = append(f.daemons, d)
		slices.SortFunc(f.daemons, func(a, b ipvs.Daemon) int { return int(a.State) - int(b.State) })
	case ipvs.CmdDelDaemon:
		i := slices.IndexFunc(f.daemons, func(x ipvs.Daemon) bool { return x.State == op.Daemon.State })
		if i < 0 {
			return kerr(op.Cmd, unix.ESRCH)
		}
		f.daemons = slices.Delete(f.daemons, i, i+1)
	}
	return nil
}

func (f *Fake) write(op ipvs.Op) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.do(op)
}

// NewService implements backend.IPVS.
func (f *Fake) NewService(s ipvs.Service) error {
	return f.write(ipvs.Op{Cmd: ipvs.CmdNewService, Service: s})
}

// UpdateService implements backend.IPVS.
func (f *Fake) UpdateService(s ipvs.Service) error {
	return f.write(ipvs.Op{Cmd: ipvs.CmdSetService, Service: s})
}

// DeleteService implements backend.IPVS.
func (f *Fake) DeleteService(k ipvs.ServiceKey) error {
	return f.write(ipvs.Op{Cmd: ipvs.CmdDelService, Service: svcOf(k)})
}

// NewDestination implements backend.IPVS.
func (f *Fake) NewDestination(k ipvs.ServiceKey, d ipvs.Destination) error {
	return f.write(ipvs.Op{Cmd: ipvs.CmdNewDest, Service: svcOf(k), Destination: d})
}

// UpdateDestination implements backend.IPVS.
func (f *Fake) UpdateDestination(k ipvs.ServiceKey, d ipvs.Destination) error {
	return f.write(ipvs.Op{Cmd: ipvs.CmdSetDest, Service: svcOf(k), Destination: d})
}

// DeleteDestination implements backend.IPVS.
func (f *Fake) DeleteDestination(k ipvs.ServiceKey, d ipvs.DestKey) error {
	return f.write(ipvs.Op{Cmd: ipvs.CmdDelDest, Service: svcOf(k),
		Destination: ipvs.Destination{Family: d.Family, Address: d.Address, Port: d.Port}})
}

// Flush implements backend.IPVS.
func (f *Fake) Flush() error { return f.write(ipvs.Op{Cmd: ipvs.CmdFlush}) }

// ZeroAll implements backend.IPVS.
func (f *Fake) ZeroAll() error {
	return f.write(ipvs.Op{Cmd: ipvs.CmdZero, AllServices: true})
}

// ZeroService implements backend.IPVS.
func (f *Fake) ZeroService(k ipvs.ServiceKey) error {
	return f.write(ipvs.Op{Cmd: ipvs.CmdZero, Service: svcOf(k)})
}

// Timeouts implements backend.IPVS.
func (f *Fake) Timeouts() (ipvs.Timeouts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.read()
	return f.timeouts, nil
}

// SetTimeouts implements backend.IPVS.
func (f *Fake) SetTimeouts(t ipvs.Timeouts) error {
	return f.write(ipvs.Op{Cmd: ipvs.CmdSetConfig, Timeouts: t})
}

// Daemons implements backend.IPVS.
func (f *Fake) Daemons() ([]ipvs.Daemon, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.read()
	out := slices.Clone(f.daemons)
	if out == nil {
		out = []ipvs.Daemon{}
	}
	return out, nil
}

// NewDaemon implements backend.IPVS.
func (f *Fake) NewDaemon(d ipvs.Daemon) error {
	return f.write(ipvs.Op{Cmd: ipvs.CmdNewDaemon, Daemon: d})
}

// DeleteDaemon implements backend.IPVS.
func (f *Fake) DeleteDaemon(s ipvs.DaemonState) error {
	return f.write(ipvs.Op{Cmd: ipvs.CmdDelDaemon, Daemon: ipvs.Daemon{State: s}})
}

// Batch implements backend.IPVS: ops run in order, a failure does not
// stop the later ones.
func (f *Fake) Batch(ops []ipvs.Op) ([]error, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Batches++
	errs := make([]error, len(ops))
	for i, op := range ops {
		errs[i] = f.do(op)
	}
	return errs, nil
}

// Close implements backend.IPVS.
func (f *Fake) Close() error { return nil }

// SetStats sets the counters of a service (dest nil) or destination.
func (f *Fake) SetStats(k ipvs.ServiceKey, dest *ipvs.DestKey, st ipvs.Stats) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.find(k)
	if s == nil {
		return
	}
	if dest == nil {
		s.s.Stats = st
		return
	}
	for i := range s.dests {
		if s.dests[i].Key() == *dest {
			s.dests[i].Stats = st
		}
	}
}

// SetConns sets a destination's connection counters.
func (f *Fake) SetConns(k ipvs.ServiceKey, dest ipvs.DestKey, active, inactive uint32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.find(k); s != nil {
		for i := range s.dests {
			if s.dests[i].Key() == dest {
				s.dests[i].ActiveConns, s.dests[i].InactiveConns = active, inactive
			}
		}
	}
}

// WriteCmds returns the commands of the recorded writes.
func (f *Fake) WriteCmds() []ipvs.Command {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]ipvs.Command, len(f.Writes))
	for i, w := range f.Writes {
		out[i] = w.Cmd
	}
	return out
}

// ResetWrites forgets the recorded writes.
func (f *Fake) ResetWrites() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Writes, f.Batches = nil, 0
}

func svcOf(k ipvs.ServiceKey) ipvs.Service {
	return ipvs.Service{Family: k.Family, Protocol: k.Protocol, Address: k.Address, Port: k.Port, FWMark: k.FWMark}
}
