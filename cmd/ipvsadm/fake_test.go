package main

import (
	"sync"

	"golang.org/x/sys/unix"

	"github.com/ipvs-tools/ipvs/netlinkipvs"
)

// fakeBackend is an in-memory IPVS with the kernel's errnos for the
// common cases, recording every call.
type fakeBackend struct {
	mu       sync.Mutex
	info     netlinkipvs.Info
	infoErr  error
	svcs     []netlinkipvs.Service
	dests    map[netlinkipvs.ServiceKey][]netlinkipvs.Destination
	timeouts netlinkipvs.Timeouts
	daemons  []netlinkipvs.Daemon
	calls    []string
	// fail makes the named call return this errno.
	fail map[string]unix.Errno
}

func newFake() *fakeBackend {
	return &fakeBackend{
		info:     netlinkipvs.Info{Version: netlinkipvs.Version{Major: 1, Minor: 2, Patch: 1}, ConnTableSize: 4096},
		dests:    map[netlinkipvs.ServiceKey][]netlinkipvs.Destination{},
		timeouts: netlinkipvs.Timeouts{TCP: 900, TCPFin: 120, UDP: 300},
		fail:     map[string]unix.Errno{},
	}
}

func kerr(op netlinkipvs.Command, e unix.Errno) error { return &netlinkipvs.Error{Op: op, Err: e} }

func (f *fakeBackend) call(name string, op netlinkipvs.Command) error {
	f.calls = append(f.calls, name)
	if e, ok := f.fail[name]; ok {
		return kerr(op, e)
	}
	return nil
}

func (f *fakeBackend) find(k netlinkipvs.ServiceKey) int {
	for i, s := range f.svcs {
		if s.Key() == k {
			return i
		}
	}
	return -1
}

func (f *fakeBackend) Info() (netlinkipvs.Info, error) {
	if err := f.call("info", netlinkipvs.CmdGetInfo); err != nil {
		return netlinkipvs.Info{}, err
	}
	return f.info, f.infoErr
}

func (f *fakeBackend) Services() ([]netlinkipvs.Service, error) {
	if err := f.call("services", netlinkipvs.CmdGetService); err != nil {
		return nil, err
	}
	return append([]netlinkipvs.Service(nil), f.svcs...), nil
}

func (f *fakeBackend) Service(k netlinkipvs.ServiceKey) (netlinkipvs.Service, error) {
	if err := f.call("service", netlinkipvs.CmdGetService); err != nil {
		return netlinkipvs.Service{}, err
	}
	i := f.find(k)
	if i < 0 {
		return netlinkipvs.Service{}, kerr(netlinkipvs.CmdGetService, unix.ESRCH)
	}
	return f.svcs[i], nil
}

func (f *fakeBackend) Destinations(k netlinkipvs.ServiceKey) ([]netlinkipvs.Destination, error) {
	if err := f.call("dests", netlinkipvs.CmdGetDest); err != nil {
		return nil, err
	}
	return append([]netlinkipvs.Destination(nil), f.dests[k]...), nil
}

func (f *fakeBackend) NewService(s netlinkipvs.Service) error {
	if err := f.call("new-service", netlinkipvs.CmdNewService); err != nil {
		return err
	}
	if f.find(s.Key()) >= 0 {
		return kerr(netlinkipvs.CmdNewService, unix.EEXIST)
	}
	f.svcs = append(f.svcs, s)
	return nil
}

func (f *fakeBackend) UpdateService(s netlinkipvs.Service) error {
	if err := f.call("set-service", netlinkipvs.CmdSetService); err != nil {
		return err
	}
	i := f.find(s.Key())
	if i < 0 {
		return kerr(netlinkipvs.CmdSetService, unix.ESRCH)
	}
	f.svcs[i] = s
	return nil
}

func (f *fakeBackend) DeleteService(k netlinkipvs.ServiceKey) error {
	if err := f.call("del-service", netlinkipvs.CmdDelService); err != nil {
		return err
	}
	i := f.find(k)
	if i < 0 {
		return kerr(netlinkipvs.CmdDelService, unix.ESRCH)
	}
	f.svcs = append(f.svcs[:i], f.svcs[i+1:]...)
	delete(f.dests, k)
	return nil
}

func (f *fakeBackend) NewDestination(k netlinkipvs.ServiceKey, d netlinkipvs.Destination) error {
	if err := f.call("new-dest", netlinkipvs.CmdNewDest); err != nil {
		return err
	}
	if f.find(k) < 0 {
		return kerr(netlinkipvs.CmdNewDest, unix.ESRCH)
	}
	for _, x := range f.dests[k] {
		if x.Key() == d.Key() {
			return kerr(netlinkipvs.CmdNewDest, unix.EEXIST)
		}
	}
	f.dests[k] = append([]netlinkipvs.Destination{d}, f.dests[k]...)
	return nil
}

func (f *fakeBackend) UpdateDestination(k netlinkipvs.ServiceKey, d netlinkipvs.Destination) error {
	if err := f.call("set-dest", netlinkipvs.CmdSetDest); err != nil {
		return err
	}
	if f.find(k) < 0 {
		return kerr(netlinkipvs.CmdSetDest, unix.ESRCH)
	}
	for i, x := range f.dests[k] {
		if x.Key() == d.Key() {
			f.dests[k][i] = d
			return nil
		}
	}
	return kerr(netlinkipvs.CmdSetDest, unix.ENOENT)
}

func (f *fakeBackend) DeleteDestination(k netlinkipvs.ServiceKey, dk netlinkipvs.DestKey) error {
	if err := f.call("del-dest", netlinkipvs.CmdDelDest); err != nil {
		return err
	}
	if f.find(k) < 0 {
		return kerr(netlinkipvs.CmdDelDest, unix.ESRCH)
	}
	for i, x := range f.dests[k] {
		if x.Key() == dk {
			f.dests[k] = append(f.dests[k][:i], f.dests[k][i+1:]...)
			return nil
		}
	}
	return kerr(netlinkipvs.CmdDelDest, unix.ENOENT)
}

func (f *fakeBackend) Flush() error {
	if err := f.call("flush", netlinkipvs.CmdFlush); err != nil {
		return err
	}
	f.svcs = nil
	f.dests = map[netlinkipvs.ServiceKey][]netlinkipvs.Destination{}
	return nil
}

func (f *fakeBackend) ZeroAll() error { return f.call("zero-all", netlinkipvs.CmdZero) }

func (f *fakeBackend) ZeroService(k netlinkipvs.ServiceKey) error {
	if err := f.call("zero", netlinkipvs.CmdZero); err != nil {
		return err
	}
	if f.find(k) < 0 {
		return kerr(netlinkipvs.CmdZero, unix.ESRCH)
	}
	return nil
}

func (f *fakeBackend) Timeouts() (netlinkipvs.Timeouts, error) {
	if err := f.call("timeouts", netlinkipvs.CmdGetConfig); err != nil {
		return netlinkipvs.Timeouts{}, err
	}
	return f.timeouts, nil
}

func (f *fakeBackend) SetTimeouts(t netlinkipvs.Timeouts) error {
	if err := f.call("set-timeouts", netlinkipvs.CmdSetConfig); err != nil {
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

func (f *fakeBackend) Daemons() ([]netlinkipvs.Daemon, error) {
	if err := f.call("daemons", netlinkipvs.CmdGetDaemon); err != nil {
		return nil, err
	}
	return f.daemons, nil
}

func (f *fakeBackend) NewDaemon(d netlinkipvs.Daemon) error {
	if err := f.call("new-daemon", netlinkipvs.CmdNewDaemon); err != nil {
		return err
	}
	for _, x := range f.daemons {
		if x.State == d.State {
			return kerr(netlinkipvs.CmdNewDaemon, unix.EEXIST)
		}
	}
	f.daemons = append(f.daemons, d)
	return nil
}

func (f *fakeBackend) DeleteDaemon(st netlinkipvs.DaemonState) error {
	if err := f.call("del-daemon", netlinkipvs.CmdDelDaemon); err != nil {
		return err
	}
	for i, x := range f.daemons {
		if x.State == st {
			f.daemons = append(f.daemons[:i], f.daemons[i+1:]...)
			return nil
		}
	}
	return kerr(netlinkipvs.CmdDelDaemon, unix.ESRCH)
}

func (f *fakeBackend) Close() error { return nil }
