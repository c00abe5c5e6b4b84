// Package fakeipvs is ipvsctl's fake kernel for tests: the kernel model
// (ipvsmodel) behind backend.IPVS, which records every write request and
// can be told to fail a chosen request.
package fakeipvs

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/ipvsmodel"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
	"golang.org/x/sys/unix"
)

// Fake implements backend.IPVS over the kernel model, ipvsmodel.
type Fake struct {
	// OpWriter gives the write methods: each sends its one request.
	ipvs.OpWriter

	mu sync.Mutex
	m  *ipvsmodel.Model

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

// New returns an empty fake with the schedulers of Debian 12's 6.1 kernel:
// all of ipvs.Schedulers but twos.
func New() *Fake {
	f := &Fake{Schedulers: map[string]bool{}}
	f.OpWriter = f.write
	for _, s := range ipvs.Schedulers() {
		f.Schedulers[s] = s != "twos"
	}
	f.m = ipvsmodel.New(ipvsmodel.Kernel{
		Scheduler: func(n string) bool { return f.Schedulers[n] },
		Interface: func(n string) bool { return f.Interfaces == nil || f.Interfaces[n] },
	})
	return f
}

// read answers one read request with get on the model, under the lock:
// it counts the request and runs the OnRead hook first.
func read[T any](f *Fake, get func(*ipvsmodel.Model) T) T {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Reads++
	if f.OnRead != nil {
		hook := f.OnRead
		f.mu.Unlock()
		hook(f)
		f.mu.Lock()
	}
	return get(f.m)
}

// Info implements backend.IPVS.
func (f *Fake) Info() (ipvs.Info, error) {
	return ipvs.Info{Version: ipvs.Version{Major: 1, Minor: 2, Patch: 1}, ConnTableSize: 4096}, nil
}

// Services implements backend.IPVS.
func (f *Fake) Services() ([]ipvs.Service, error) {
	return read(f, (*ipvsmodel.Model).Services), nil
}

// Service implements backend.IPVS.
func (f *Fake) Service(k ipvs.ServiceKey) (ipvs.Service, error) {
	var ok bool
	s := read(f, func(m *ipvsmodel.Model) (s ipvs.Service) { s, ok = m.Service(k); return s })
	if !ok {
		return ipvs.Service{}, &ipvs.Error{Op: ipvs.CmdGetService, Err: unix.ESRCH}
	}
	return s, nil
}

// Destinations implements backend.IPVS.
func (f *Fake) Destinations(k ipvs.ServiceKey) ([]ipvs.Destination, error) {
	ds := read(f, func(m *ipvsmodel.Model) []ipvs.Destination { ds, _ := m.Destinations(k); return ds })
	if ds == nil {
		ds = []ipvs.Destination{}
	}
	return ds, nil
}

// Table implements backend.IPVS.
func (f *Fake) Table() ([]ipvs.VirtualServer, error) { return ipvs.ReadTable(f, nil) }

// Weights describes the table for a test's comparison: one line per
// service, "TCP 10.0.0.1:80 192.168.0.1:80=1 192.168.0.2:80=3", services
// and servers sorted.
func (f *Fake) Weights() (string, error) {
	tab, err := f.Table()
	if err != nil {
		return "", err
	}
	lines := make([]string, 0, len(tab))
	for _, vs := range tab {
		ds := make([]string, 0, len(vs.Destinations))
		for _, d := range vs.Destinations {
			ds = append(ds, fmt.Sprintf("%s=%d", d.Key(), d.Weight))
		}
		slices.Sort(ds)
		lines = append(lines, vs.Service.Key().String()+" "+strings.Join(ds, " "))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n"), nil
}

func (f *Fake) do(op ipvs.Op) error {
	f.Writes = append(f.Writes, op)
	if f.Fail != nil {
		if e := f.Fail(op); e != 0 {
			return &ipvs.Error{Op: op.Cmd, Err: e}
		}
	}
	return f.m.Apply(op)
}

func (f *Fake) write(op ipvs.Op) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.do(op)
}

// Timeouts implements backend.IPVS.
func (f *Fake) Timeouts() (ipvs.Timeouts, error) {
	return read(f, (*ipvsmodel.Model).Timeouts), nil
}

// Daemons implements backend.IPVS.
func (f *Fake) Daemons() ([]ipvs.Daemon, error) {
	return read(f, (*ipvsmodel.Model).Daemons), nil
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

// Requests implements backend.IPVS: the reads and the recorded writes.
func (f *Fake) Requests() netlinkipvs.Requests {
	f.mu.Lock()
	defer f.mu.Unlock()
	return netlinkipvs.Requests{Reads: int64(f.Reads), Writes: int64(len(f.Writes))}
}

// Close implements backend.IPVS.
func (f *Fake) Close() error { return nil }

// SetStats sets the counters of a service (dest nil) or destination.
func (f *Fake) SetStats(k ipvs.ServiceKey, dest *ipvs.DestKey, st ipvs.Stats) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m.SetCounters(k, func(s *ipvs.Service, ds []ipvs.Destination) {
		if dest == nil {
			s.Stats = st
			return
		}
		for i := range ds {
			if ds[i].Key() == *dest {
				ds[i].Stats = st
			}
		}
	})
}

// SetConns sets a destination's connection counters.
func (f *Fake) SetConns(k ipvs.ServiceKey, dest ipvs.DestKey, active, inactive uint32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m.SetCounters(k, func(_ *ipvs.Service, ds []ipvs.Destination) {
		for i := range ds {
			if ds[i].Key() == dest {
				ds[i].ActiveConns, ds[i].InactiveConns = active, inactive
			}
		}
	})
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
