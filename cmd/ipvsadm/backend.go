package main

import (
	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/ipvsadmargs"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
)

// Backend is the part of *netlinkipvs.Client that ipvsadm uses; tests
// supply a fake.
type Backend interface {
	Info() (ipvs.Info, error)
	Services() ([]ipvs.Service, error)
	Service(ipvs.ServiceKey) (ipvs.Service, error)
	Destinations(ipvs.ServiceKey) ([]ipvs.Destination, error)
	NewService(ipvs.Service) error
	UpdateService(ipvs.Service) error
	DeleteService(ipvs.ServiceKey) error
	NewDestination(ipvs.ServiceKey, ipvs.Destination) error
	UpdateDestination(ipvs.ServiceKey, ipvs.Destination) error
	DeleteDestination(ipvs.ServiceKey, ipvs.DestKey) error
	Flush() error
	ZeroAll() error
	ZeroService(ipvs.ServiceKey) error
	Timeouts() (ipvs.Timeouts, error)
	SetTimeouts(ipvs.Timeouts) error
	Daemons() ([]ipvs.Daemon, error)
	NewDaemon(ipvs.Daemon) error
	DeleteDaemon(ipvs.DaemonState) error
	Close() error
}

var _ Backend = (*netlinkipvs.Client)(nil)

// Executor applies write commands (everything but listings, help and
// restore). Every kernel write goes through it, so that a batching
// executor can replace the direct one: done is called with the result of
// each command in command order, at the latest from Flush. The runner
// calls Flush before it reads from the kernel, prints, or aborts.
type Executor interface {
	Apply(cmd *ipvsadmargs.Command, done func(error))
	Flush()
}

// directExecutor sends each command at once.
type directExecutor struct {
	b Backend
}

func (e directExecutor) Apply(cmd *ipvsadmargs.Command, done func(error)) {
	done(apply(e.b, cmd))
}

func (directExecutor) Flush() {}

// apply performs one write command on b.
func apply(b Backend, cmd *ipvsadmargs.Command) error {
	key := cmd.ServiceKey()
	switch cmd.Kind {
	case ipvsadmargs.KindAdd:
		return b.NewService(cmd.Service)
	case ipvsadmargs.KindEdit:
		return b.UpdateService(cmd.Service)
	case ipvsadmargs.KindDelete:
		return b.DeleteService(key)
	case ipvsadmargs.KindFlush:
		return b.Flush()
	case ipvsadmargs.KindZero:
		if cmd.ZeroAll() {
			return b.ZeroAll()
		}
		return b.ZeroService(key)
	case ipvsadmargs.KindAddDest:
		return b.NewDestination(key, cmd.Destination)
	case ipvsadmargs.KindEditDest:
		return b.UpdateDestination(key, cmd.Destination)
	case ipvsadmargs.KindDeleteDest:
		return b.DeleteDestination(key, cmd.Destination.Key())
	case ipvsadmargs.KindSetTimeout:
		return b.SetTimeouts(cmd.Timeouts)
	case ipvsadmargs.KindStartDaemon:
		return b.NewDaemon(cmd.Daemon)
	case ipvsadmargs.KindStopDaemon:
		return b.DeleteDaemon(cmd.Daemon.State)
	}
	return nil
}

// writeFuncs are the libipvs functions of the write commands (ipvs_func
// after one ran); FLUSH, which leaves ipvs_func alone, has none.
var writeFuncs = map[ipvsadmargs.Kind]ipvsadmargs.Func{
	ipvsadmargs.KindAdd:         ipvsadmargs.FuncAddService,
	ipvsadmargs.KindEdit:        ipvsadmargs.FuncUpdateService,
	ipvsadmargs.KindDelete:      ipvsadmargs.FuncDelService,
	ipvsadmargs.KindZero:        ipvsadmargs.FuncZeroService,
	ipvsadmargs.KindAddDest:     ipvsadmargs.FuncAddDest,
	ipvsadmargs.KindEditDest:    ipvsadmargs.FuncUpdateDest,
	ipvsadmargs.KindDeleteDest:  ipvsadmargs.FuncDelDest,
	ipvsadmargs.KindSetTimeout:  ipvsadmargs.FuncSetTimeout,
	ipvsadmargs.KindStartDaemon: ipvsadmargs.FuncStartDaemon,
	ipvsadmargs.KindStopDaemon:  ipvsadmargs.FuncStopDaemon,
}
