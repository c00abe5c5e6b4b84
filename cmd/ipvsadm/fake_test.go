package main

import (
	"sync"

	"golang.org/x/sys/unix"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
)

// fakeBackend is an in-memory IPVS with the kernel's errnos for the
// common cases, recording every call.
type fakeBackend struct {
	mu       sync.Mutex
	info     ipvs.Info
	infoErr  error
	svcs     []ipvs.Service
	dests    map[ipvs.ServiceKey][]ipvs.Destination
	timeouts ipvs.Timeouts
	daemons  []ipvs.Daemon
	calls    []string
	// repeat[i] makes ScanServices pass service i that many more times.
	repeat map[int]int
	// batches counts Batch calls (their ops are recorded in calls as
	// the individual requests).
	batches int
	// fail makes the named call return this errno.
	fail map[string]unix.Errno
}

func newFake() *fakeBackend {
	return &fakeBackend{
		info:     ipvs.Info{Version: ipvs.Version{Major: 1, Minor: 2, Patch: 1}, ConnTableSize: 4096},
		dests:    map[ipvs.ServiceKey][]ipvs.Destination{},
		timeouts: ipvs.Timeouts{TCP: 900, TCPFin: 120, UDP: 300},
		fail:     map[string]unix.Errno{},
	}
}

func kerr(op ipvs.Command, e unix.Errno) error { return &netlinkipvs.Error{Op: op, Err: e} }

func (f *fakeBackend) call(name string, op ipvs.Command) error {
	f.calls = append(f.calls, name)
	if e, ok := f.fail[name]; ok {
		return kerr(op, e)
	}
	return nil
}

func (f *fakeBackend) find(k ipvs.ServiceKey) int {
	for i, s := range f.svcs {
		if s.Key() == k {
			return i
		}
	}
	return -1
}

func (f *fakeBackend) Info() (ipvs.Info, error) {
	if err := f.call("info", ipvs.CmdGetInfo); err != nil {
		return ipvs.Info{}, err
	}
	return f.info, f.infoErr
}

func (f *fakeBackend) Services() ([]ipvs.Service, error) {
	if err := f.call("services", ipvs.CmdGetService); err != nil {
		return nil, err
	}
	return append([]ipvs.Service(nil), f.svcs...), nil
}

func (f *fakeBackend) Service(k ipvs.ServiceKey) (ipvs.Service, error) {
	if err := f.call("service", ipvs.CmdGetService); err != nil {
		return ipvs.Service{}, err
	}
	i := f.find(k)
	if i < 0 {
		return ipvs.Service{}, kerr(ipvs.CmdGetService, unix.ESRCH)
	}
	return f.svcs[i], nil
}

func (f *fakeBackend) Destinations(k ipvs.ServiceKey) ([]ipvs.Destination, error) {
	if err := f.call("dests", ipvs.CmdGetDest); err != nil {
		return nil, err
	}
	return append([]ipvs.Destination(nil), f.dests[k]...), nil
}

func (f *fakeBackend) NewService(s ipvs.Service) error {
	if err := f.call("new-service", ipvs.CmdNewService); err != nil {
		return err
	}
	if f.find(s.Key()) >= 0 {
		return kerr(ipvs.CmdNewService, unix.EEXIST)
	}
	f.svcs = append(f.svcs, s)
	return nil
}

func (f *fakeBackend) UpdateService(s ipvs.Service) error {
	if err := f.call("set-service", ipvs.CmdSetService); err != nil {
		return err
	}
	i := f.find(s.Key())
	if i < 0 {
		return kerr(ipvs.CmdSetService, unix.ESRCH)
	}
	f.svcs[i] = s
	return nil
}

func (f *fakeBackend) DeleteService(k ipvs.ServiceKey) error {
	if err := f.call("del-service", ipvs.CmdDelService); err != nil {
		return err
	}
	i := f.find(k)
	if i < 0 {
		return kerr(ipvs.CmdDelService, unix.ESRCH)
	}
	f.svcs = append(f.svcs[:i], f.svcs[i+1:]...)
	delete(f.dests, k)
	return nil
}

func (f *fakeBackend) NewDestination(k ipvs.ServiceKey, d ipvs.Destination) error {
	if err := f.call("new-dest", ipvs.CmdNewDest); err != nil {
		return err
	}
	if f.find(k) < 0 {
		return kerr(ipvs.CmdNewDest, unix.ESRCH)
	}
	for _, x := range f.dests[k] {
		if x.Key() == d.Key() {
			return kerr(ipvs.CmdNewDest, unix.EEXIST)
		}
	}
	f.dests[k] = append([]ipvs.Destination{d}, f.dests[k]...)
	return nil
}

func (f *fakeBackend) UpdateDestination(k ipvs.ServiceKey, d ipvs.Destination) error {
	if err := f.call("set-dest", ipvs.CmdSetDest); err != nil {
		return err
	}
	if f.find(k) < 0 {
		return kerr(ipvs.CmdSetDest, unix.ESRCH)
	}
	for i, x := range f.dests[k] {
		if x.Key() == d.Key() {
			f.dests[k][i] = d
			return nil
		}
	}
	return kerr(ipvs.CmdSetDest, unix.ENOENT)
}

func (f *fakeBackend) DeleteDestination(k ipvs.ServiceKey, dk ipvs.DestKey) error {
	if err := f.call("del-dest", ipvs.CmdDelDest); err != nil {
		return err
	}
	if f.find(k) < 0 {
		return kerr(ipvs.CmdDelDest, unix.ESRCH)
	}
	for i, x := range f.dests[k] {
		if x.Key() == dk {
			f.dests[k] = append(f.dests[k][:i], f.dests[k][i+1:]...)
			return nil
		}
	}
	return kerr(ipvs.CmdDelDest, unix.ENOENT)
}

func (f *fakeBackend) Flush() error {
	if err := f.call("flush", ipvs.CmdFlush); err != nil {
		return err
	}
	f.svcs = nil
	f.dests = map[ipvs.ServiceKey][]ipvs.Destination{}
	return nil
}

func (f *fakeBackend) ZeroAll() error { return f.call("zero-all", ipvs.CmdZero) }

func (f *fakeBackend) ZeroService(k ipvs.ServiceKey) error {
	if err := f.call("zero", ipvs.CmdZero); err != nil {
		return err
	}
	if f.find(k) < 0 {
		return kerr(ipvs.CmdZero, unix.ESRCH)
	}
	return nil
}

func (f *fakeBackend) Timeouts() (ipvs.Timeouts, error) {
	if err := f.call("timeouts", ipvs.CmdGetConfig); err != nil {
		return ipvs.Timeouts{}, err
	}
	return f.timeouts, nil
}

func (f *fakeBackend) SetTimeouts(t ipvs.Timeouts) error {
	if err := f.call("set-timeouts", ipvs.CmdSetConfig); err != nil {
		return err
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
	return nil
}

func (f *fakeBackend) Daemons() ([]ipvs.Daemon, error) {
	if err := f.call("daemons", ipvs.CmdGetDaemon); err != nil {
		return nil, err
	}
	return f.daemons, nil
}

func (f *fakeBackend) NewDaemon(d ipvs.Daemon) error {
	if err := f.call("new-daemon", ipvs.CmdNewDaemon); err != nil {
		return err
	}
	for _, x := range f.daemons {
		if x.State == d.State {
			return kerr(ipvs.CmdNewDaemon, unix.EEXIST)
		}
	}
	f.daemons = append(f.daemons, d)
	return nil
}

func (f *fakeBackend) DeleteDaemon(st ipvs.DaemonState) error {
	if err := f.call("del-daemon", ipvs.CmdDelDaemon); err != nil {
		return err
	}
	for i, x := range f.daemons {
		if x.State == st {
			f.daemons = append(f.daemons[:i], f.daemons[i+1:]...)
			return nil
		}
	}
	return kerr(ipvs.CmdDelDaemon, unix.ESRCH)
}

func (f *fakeBackend) Close() error { return nil }

// Batch applies ops one by one, as the kernel does with a batch, and
// records one "batch" call.
func (f *fakeBackend) Batch(ops []ipvs.Op) ([]error, error) {
	f.batches++
	errs := make([]error, len(ops))
	for i, op := range ops {
		svc := op.Service.Key()
		switch op.Cmd {
		case ipvs.CmdNewService:
			errs[i] = f.NewService(op.Service)
		case ipvs.CmdSetService:
			errs[i] = f.UpdateService(op.Service)
		case ipvs.CmdDelService:
			errs[i] = f.DeleteService(svc)
		case ipvs.CmdNewDest:
			errs[i] = f.NewDestination(svc, op.Destination)
		case ipvs.CmdSetDest:
			errs[i] = f.UpdateDestination(svc, op.Destination)
		case ipvs.CmdDelDest:
			errs[i] = f.DeleteDestination(svc, op.Destination.Key())
		case ipvs.CmdFlush:
			errs[i] = f.Flush()
		case ipvs.CmdZero:
			if op.AllServices {
				errs[i] = f.ZeroAll()
			} else {
				errs[i] = f.ZeroService(svc)
			}
		case ipvs.CmdSetConfig:
			errs[i] = f.SetTimeouts(op.Timeouts)
		case ipvs.CmdNewDaemon:
			errs[i] = f.NewDaemon(op.Daemon)
		case ipvs.CmdDelDaemon:
			errs[i] = f.DeleteDaemon(op.Daemon.State)
		default:
			panic("fake Batch: unexpected " + op.Cmd.String())
		}
	}
	return errs, nil
}

// unbatched hides the fake's Batch method, so the runner sends one request
// per command.
type unbatched struct{ Backend }

// ScanServices streams the services, repeating those listed in
// f.repeat as a changing table's dump may.
func (f *fakeBackend) ScanServices(start func(), fn func(*ipvs.Service) error) error {
	if err := f.call("services", ipvs.CmdGetService); err != nil {
		return err
	}
	if start != nil {
		start()
	}
	for i := range f.svcs {
		s := f.svcs[i]
		if s.FWMark != 0 {
			s.Protocol = 0 // the kernel reports none
		}
		for n := 0; n < 1+f.repeat[i]; n++ {
			if err := fn(&s); err != nil {
				return err
			}
		}
	}
	return nil
}
