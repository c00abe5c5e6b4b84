package main

import (
	"golang.org/x/sys/unix"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/ipvsmodel"
)

// fakeBackend is the kernel model (ipvsmodel) behind Backend, recording
// every call by name; fail makes a named call return an errno.
type fakeBackend struct {
	ipvs.OpWriter // the write methods, through write
	m             *ipvsmodel.Model
	info          ipvs.Info
	infoErr       error
	calls         []string
	// repeat[i] makes ScanServices pass service i that many more times.
	repeat map[int]int
	// batches counts Batch calls (their ops are recorded in calls as
	// the individual requests).
	batches int
	// fail makes the named call return this errno.
	fail map[string]unix.Errno
}

func newFake() *fakeBackend {
	f := &fakeBackend{
		m:    ipvsmodel.New(ipvsmodel.Kernel{}),
		info: ipvs.Info{Version: ipvs.Version{Major: 1, Minor: 2, Patch: 1}, ConnTableSize: 4096},
		fail: map[string]unix.Errno{},
	}
	f.OpWriter = f.write
	return f
}

// callNames names the recorded call of each write command.
var callNames = map[ipvs.Command]string{
	ipvs.CmdNewService: "new-service", ipvs.CmdSetService: "set-service", ipvs.CmdDelService: "del-service",
	ipvs.CmdNewDest: "new-dest", ipvs.CmdSetDest: "set-dest", ipvs.CmdDelDest: "del-dest",
	ipvs.CmdFlush: "flush", ipvs.CmdSetConfig: "set-timeouts",
	ipvs.CmdNewDaemon: "new-daemon", ipvs.CmdDelDaemon: "del-daemon",
}

func (f *fakeBackend) call(name string, op ipvs.Command) error {
	f.calls = append(f.calls, name)
	if e, ok := f.fail[name]; ok {
		return &ipvs.Error{Op: op, Err: e}
	}
	return nil
}

// write records op and applies it to the model.
func (f *fakeBackend) write(op ipvs.Op) error {
	name := callNames[op.Cmd]
	if op.Cmd == ipvs.CmdZero {
		name = "zero"
		if op.AllServices {
			name = "zero-all"
		}
	}
	if err := f.call(name, op.Cmd); err != nil {
		return err
	}
	return f.m.Apply(op)
}

// services returns the model's services (a dump without a call).
func (f *fakeBackend) services() []ipvs.Service { return f.m.Services() }

// dests returns the destinations of service k (a dump without a call).
func (f *fakeBackend) dests(k ipvs.ServiceKey) []ipvs.Destination {
	ds, _ := f.m.Destinations(k)
	return ds
}

// seed adds a service and its destinations (newest first, with their
// counters) to the table without the kernel's checks.
func (f *fakeBackend) seed(s ipvs.Service, ds ...ipvs.Destination) {
	f.m.Load(append(f.m.Table(), ipvs.VirtualServer{Service: s, Destinations: ds}))
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
	return f.m.Services(), nil
}

func (f *fakeBackend) Service(k ipvs.ServiceKey) (ipvs.Service, error) {
	if err := f.call("service", ipvs.CmdGetService); err != nil {
		return ipvs.Service{}, err
	}
	s, ok := f.m.Service(k)
	if !ok {
		return ipvs.Service{}, &ipvs.Error{Op: ipvs.CmdGetService, Err: unix.ESRCH}
	}
	return s, nil
}

func (f *fakeBackend) Destinations(k ipvs.ServiceKey) ([]ipvs.Destination, error) {
	if err := f.call("dests", ipvs.CmdGetDest); err != nil {
		return nil, err
	}
	return f.dests(k), nil
}

func (f *fakeBackend) Timeouts() (ipvs.Timeouts, error) {
	if err := f.call("timeouts", ipvs.CmdGetConfig); err != nil {
		return ipvs.Timeouts{}, err
	}
	return f.m.Timeouts(), nil
}

func (f *fakeBackend) Daemons() ([]ipvs.Daemon, error) {
	if err := f.call("daemons", ipvs.CmdGetDaemon); err != nil {
		return nil, err
	}
	return f.m.Daemons(), nil
}

func (f *fakeBackend) Close() error { return nil }

// Batch applies ops one by one, as the kernel does with a batch, and
// records one "batch" call.
func (f *fakeBackend) Batch(ops []ipvs.Op) ([]error, error) {
	f.batches++
	errs := make([]error, len(ops))
	for i, op := range ops {
		errs[i] = f.write(op)
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
	for i, s := range f.m.Services() {
		for n := 0; n < 1+f.repeat[i]; n++ {
			if err := fn(&s); err != nil {
				return err
			}
		}
	}
	return nil
}
