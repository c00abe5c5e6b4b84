// Package fakeipvs is an in-memory IPVS for tests: it keeps a table with
// the kernel's semantics and errnos, records every write request, and can
// be told to fail a chosen request.
package fakeipvs

import (
	"slices"
	"sync"

	"github.com/ipvs-tools/ipvs/netlinkipvs"
	"golang.org/x/sys/unix"
)

// Fake implements backend.IPVS.
type Fake struct {
	mu       sync.Mutex
	services []*svc
	timeouts netlinkipvs.Timeouts
	daemons  []netlinkipvs.Daemon

	// Schedulers are the loaded schedulers (others fail with ENOENT).
	Schedulers map[string]bool
	// Interfaces are the existing interfaces (for daemons; nil: any).
	Interfaces map[string]bool
	// Fail, if set, is asked before each write request; a non-nil errno
	// fails that request.
	Fail func(op netlinkipvs.Op) unix.Errno
	// OnRead, if set, runs before each read (tests change counters).
	OnRead func(f *Fake)

	// Writes are all write requests received, in order.
	Writes []netlinkipvs.Op
	// Batches counts Batch calls.
	Batches int
	// Reads counts read requests (dumps and gets).
	Reads int
}

type svc struct {
	s     netlinkipvs.Service
	dests []netlinkipvs.Destination // newest first, as the kernel lists
}

// New returns an empty fake with the standard schedulers.
func New() *Fake {
	f := &Fake{timeouts: netlinkipvs.Timeouts{TCP: 900, TCPFin: 120, UDP: 300}, Schedulers: map[string]bool{}}
	for _, s := range []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"} {
		f.Schedulers[s] = true
	}
	return f
}

func kerr(cmd netlinkipvs.Command, e unix.Errno) error {
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

func (f *Fake) find(k netlinkipvs.ServiceKey) *svc {
	for _, s := range f.services {
		if s.s.Key() == k {
			return s
		}
	}
	return nil
}

// Info implements backend.IPVS.
func (f *Fake) Info() (netlinkipvs.Info, error) {
	return netlinkipvs.Info{Version: netlinkipvs.Version{Major: 1, Minor: 2, Patch: 1}, ConnTableSize: 4096}, nil
}

// Services implements backend.IPVS.
func (f *Fake) Services() ([]netlinkipvs.Service, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.read()
	out := make([]netlinkipvs.Service, len(f.services))
	for i, s := range f.services {
		out[i] = s.s
		out[i].Flags |= netlinkipvs.SvcHashed
	}
	return out, nil
}

// Service implements backend.IPVS.
func (f *Fake) Service(k netlinkipvs.ServiceKey) (netlinkipvs.Service, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.read()
	s := f.find(k)
	if s == nil {
		return netlinkipvs.Service{}, kerr(netlinkipvs.CmdGetService, unix.ESRCH)
	}
	out := s.s
	out.Flags |= netlinkipvs.SvcHashed
	return out, nil
}

// Destinations implements backend.IPVS.
func (f *Fake) Destinations(k netlinkipvs.ServiceKey) ([]netlinkipvs.Destination, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.read()
	s := f.find(k)
	if s == nil {
		return []netlinkipvs.Destination{}, nil
	}
	return slices.Clone(s.dests), nil
}

// Table implements backend.IPVS.
func (f *Fake) Table() ([]netlinkipvs.VirtualServer, error) {
	svcs, _ := f.Services()
	out := make([]netlinkipvs.VirtualServer, len(svcs))
	for i, s := range svcs {
		ds, _ := f.Destinations(s.Key())
		out[i] = netlinkipvs.VirtualServer{Service: s, Destinations: ds}
	}
	return out, nil
}

func (f *Fake) do(op netlinkipvs.Op) error {
	f.Writes = append(f.Writes, op)
	if f.Fail != nil {
		if e := f.Fail(op); e != 0 {
			return kerr(op.Cmd, e)
		}
	}
	switch op.Cmd {
	case netlinkipvs.CmdNewService, netlinkipvs.CmdSetService:
		s := op.Service
		s.Flags &^= netlinkipvs.SvcHashed
		cur := f.find(s.Key())
		if op.Cmd == netlinkipvs.CmdNewService && cur != nil {
			return kerr(op.Cmd, unix.EEXIST)
		}
		if op.Cmd == netlinkipvs.CmdSetService && cur == nil {
			return kerr(op.Cmd, unix.ESRCH)
		}
		if !f.Schedulers[s.Scheduler] || (s.PEName != "" && s.PEName != "sip") {
			return kerr(op.Cmd, unix.ENOENT)
		}
		if s.Family == netlinkipvs.AFInet6 && (s.Netmask < 1 || s.Netmask > 128) {
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
	case netlinkipvs.CmdDelService:
		for i, s := range f.services {
			if s.s.Key() == op.Service.Key() {
				f.services = slices.Delete(f.services, i, i+1)
				return nil
			}
		}
		return kerr(op.Cmd, unix.ESRCH)
	case netlinkipvs.CmdNewDest, netlinkipvs.CmdSetDest, netlinkipvs.CmdDelDest:
		s := f.find(op.Service.Key())
		if s == nil {
			return kerr(op.Cmd, unix.ESRCH)
		}
		d := op.Destination
		if d.Family == netlinkipvs.AFUnspec {
			d.Family = d.Key().Family
		}
		idx := slices.IndexFunc(s.dests, func(x netlinkipvs.Destination) bool { return x.Key() == d.Key() })
		if op.Cmd == netlinkipvs.CmdDelDest {
			if idx < 0 {
				return kerr(op.Cmd, unix.ENOENT)
			}
			s.dests = slices.Delete(s.dests, idx, idx+1)
			return nil
		}
		if d.Family != s.s.Family && d.ForwardMethod != netlinkipvs.FwdTunnel {
			return kerr(op.Cmd, unix.EINVAL)
		}
		if d.Family != s.s.Family && len(f.daemons) > 0 {
			return kerr(op.Cmd, unix.EINVAL)
		}
		if d.Weight > 1<<31-1 || d.LowerThreshold > d.UpperThreshold {
			return kerr(op.Cmd, unix.ERANGE)
		}
		if d.TunnelType == netlinkipvs.TunnelGUE && d.TunnelPort == 0 && d.ForwardMethod == netlinkipvs.FwdTunnel {
			return kerr(op.Cmd, unix.EINVAL)
		}
		if op.Cmd == netlinkipvs.CmdNewDest {
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
	case netlinkipvs.CmdFlush:
		f.services = nil
	case netlinkipvs.CmdZero:
		for _, s := range f.services {
			if op.AllServices || s.s.Key() == op.Service.Key() {
				s.s.Stats = netlinkipvs.Stats{}
				for i := range s.dests {
					s.dests[i].Stats = netlinkipvs.Stats{}
				}
				if !op.AllServices {
					return nil
				}
			}
		}
		if !op.AllServices {
			return kerr(op.Cmd, unix.ESRCH)
		}
	case netlinkipvs.CmdSetConfig:
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
	case netlinkipvs.CmdNewDaemon:
		d := op.Daemon
		if d.State != netlinkipvs.DaemonMaster && d.State != netlinkipvs.DaemonBackup {
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
		slices.SortFunc(f.daemons, func(a, b netlinkipvs.Daemon) int { return int(a.State) - int(b.State) })
	case netlinkipvs.CmdDelDaemon:
		i := slices.IndexFunc(f.daemons, func(x netlinkipvs.Daemon) bool { return x.State == op.Daemon.State })
		if i < 0 {
			return kerr(op.Cmd, unix.ESRCH)
		}
		f.daemons = slices.Delete(f.daemons, i, i+1)
	}
	return nil
}

func (f *Fake) write(op netlinkipvs.Op) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.do(op)
}

// NewService implements backend.IPVS.
func (f *Fake) NewService(s netlinkipvs.Service) error {
	return f.write(netlinkipvs.Op{Cmd: netlinkipvs.CmdNewService, Service: s})
}

// UpdateService implements backend.IPVS.
func (f *Fake) UpdateService(s netlinkipvs.Service) error {
	return f.write(netlinkipvs.Op{Cmd: netlinkipvs.CmdSetService, Service: s})
}

// DeleteService implements backend.IPVS.
func (f *Fake) DeleteService(k netlinkipvs.ServiceKey) error {
	return f.write(netlinkipvs.Op{Cmd: netlinkipvs.CmdDelService, Service: svcOf(k)})
}

// NewDestination implements backend.IPVS.
func (f *Fake) NewDestination(k netlinkipvs.ServiceKey, d netlinkipvs.Destination) error {
	return f.write(netlinkipvs.Op{Cmd: netlinkipvs.CmdNewDest, Service: svcOf(k), Destination: d})
}

// UpdateDestination implements backend.IPVS.
func (f *Fake) UpdateDestination(k netlinkipvs.ServiceKey, d netlinkipvs.Destination) error {
	return f.write(netlinkipvs.Op{Cmd: netlinkipvs.CmdSetDest, Service: svcOf(k), Destination: d})
}

// DeleteDestination implements backend.IPVS.
func (f *Fake) DeleteDestination(k netlinkipvs.ServiceKey, d netlinkipvs.DestKey) error {
	return f.write(netlinkipvs.Op{Cmd: netlinkipvs.CmdDelDest, Service: svcOf(k),
		Destination: netlinkipvs.Destination{Family: d.Family, Address: d.Address, Port: d.Port}})
}

// Flush implements backend.IPVS.
func (f *Fake) Flush() error { return f.write(netlinkipvs.Op{Cmd: netlinkipvs.CmdFlush}) }

// ZeroAll implements backend.IPVS.
func (f *Fake) ZeroAll() error {
	return f.write(netlinkipvs.Op{Cmd: netlinkipvs.CmdZero, AllServices: true})
}

// ZeroService implements backend.IPVS.
func (f *Fake) ZeroService(k netlinkipvs.ServiceKey) error {
	return f.write(netlinkipvs.Op{Cmd: netlinkipvs.CmdZero, Service: svcOf(k)})
}

// Timeouts implements backend.IPVS.
func (f *Fake) Timeouts() (netlinkipvs.Timeouts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.read()
	return f.timeouts, nil
}

// SetTimeouts implements backend.IPVS.
func (f *Fake) SetTimeouts(t netlinkipvs.Timeouts) error {
	return f.write(netlinkipvs.Op{Cmd: netlinkipvs.CmdSetConfig, Timeouts: t})
}

// Daemons implements backend.IPVS.
func (f *Fake) Daemons() ([]netlinkipvs.Daemon, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.read()
	out := slices.Clone(f.daemons)
	if out == nil {
		out = []netlinkipvs.Daemon{}
	}
	return out, nil
}

// NewDaemon implements backend.IPVS.
func (f *Fake) NewDaemon(d netlinkipvs.Daemon) error {
	return f.write(netlinkipvs.Op{Cmd: netlinkipvs.CmdNewDaemon, Daemon: d})
}

// DeleteDaemon implements backend.IPVS.
func (f *Fake) DeleteDaemon(s netlinkipvs.DaemonState) error {
	return f.write(netlinkipvs.Op{Cmd: netlinkipvs.CmdDelDaemon, Daemon: netlinkipvs.Daemon{State: s}})
}

// Batch implements backend.IPVS: ops run in order, a failure does not
// stop the later ones.
func (f *Fake) Batch(ops []netlinkipvs.Op) ([]error, error) {
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
func (f *Fake) SetStats(k netlinkipvs.ServiceKey, dest *netlinkipvs.DestKey, st netlinkipvs.Stats) {
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
func (f *Fake) SetConns(k netlinkipvs.ServiceKey, dest netlinkipvs.DestKey, active, inactive uint32) {
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
func (f *Fake) WriteCmds() []netlinkipvs.Command {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]netlinkipvs.Command, len(f.Writes))
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

func svcOf(k netlinkipvs.ServiceKey) netlinkipvs.Service {
	return netlinkipvs.Service{Family: k.Family, Protocol: k.Protocol, Address: k.Address, Port: k.Port, FWMark: k.FWMark}
}
