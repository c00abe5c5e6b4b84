package main

import (
	"github.com/ipvs-tools/ipvs/ipvsadmargs"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
)

// Batcher is implemented by backends that send many write requests in one
// system call (netlinkipvs.Client.Batch): errs[i] is the kernel's answer
// to ops[i]; the kernel executes them in order and does not stop at a
// failure, exactly as one request per line would.
type Batcher interface {
	Batch(ops []netlinkipvs.Op) ([]error, error)
}

// maxPending bounds how many commands a batchExecutor holds before it
// sends them, which bounds its memory on long inputs; the client splits
// each batch further into sendmsg windows.
const maxPending = 4096

// batchExecutor accumulates consecutive write commands and sends them with
// one Batch call when flushed (by the runner, before anything is read from
// the kernel, printed or aborted) or when maxPending are pending. The
// callbacks run in command order, so each line's kernel error message is
// printed where ipvsadm would print it in the output stream.
type batchExecutor struct {
	b    Batcher
	ops  []netlinkipvs.Op
	done []func(error)
}

func (e *batchExecutor) Apply(cmd *ipvsadmargs.Command, done func(error)) {
	e.ops = append(e.ops, opOf(cmd))
	e.done = append(e.done, done)
	if len(e.ops) >= maxPending {
		e.Flush()
	}
}

func (e *batchExecutor) Flush() {
	if len(e.ops) == 0 {
		return
	}
	errs, err := e.b.Batch(e.ops)
	for i, done := range e.done {
		var opErr error
		switch {
		case i < len(errs):
			opErr = errs[i]
		default:
			// No answer at all: the outcome is unknown.
			opErr = err
		}
		done(opErr)
	}
	clear(e.ops)
	e.ops = e.ops[:0]
	clear(e.done)
	e.done = e.done[:0]
}

// opOf returns the request a write command sends: the same attributes as
// the Backend call apply makes for it.
func opOf(cmd *ipvsadmargs.Command) netlinkipvs.Op {
	svc := cmd.Service
	id := netlinkipvs.Service{Family: svc.Family, Protocol: svc.Protocol, Address: svc.Address, Port: svc.Port, FWMark: svc.FWMark}
	switch cmd.Kind {
	case ipvsadmargs.KindAdd:
		return netlinkipvs.Op{Cmd: netlinkipvs.CmdNewService, Service: svc}
	case ipvsadmargs.KindEdit:
		return netlinkipvs.Op{Cmd: netlinkipvs.CmdSetService, Service: svc}
	case ipvsadmargs.KindDelete:
		return netlinkipvs.Op{Cmd: netlinkipvs.CmdDelService, Service: id}
	case ipvsadmargs.KindFlush:
		return netlinkipvs.Op{Cmd: netlinkipvs.CmdFlush}
	case ipvsadmargs.KindZero:
		if cmd.ZeroAll() {
			return netlinkipvs.Op{Cmd: netlinkipvs.CmdZero, AllServices: true}
		}
		return netlinkipvs.Op{Cmd: netlinkipvs.CmdZero, Service: id}
	case ipvsadmargs.KindAddDest:
		return netlinkipvs.Op{Cmd: netlinkipvs.CmdNewDest, Service: id, Destination: cmd.Destination}
	case ipvsadmargs.KindEditDest:
		return netlinkipvs.Op{Cmd: netlinkipvs.CmdSetDest, Service: id, Destination: cmd.Destination}
	case ipvsadmargs.KindDeleteDest:
		k := cmd.Destination.Key()
		return netlinkipvs.Op{Cmd: netlinkipvs.CmdDelDest, Service: id,
			Destination: netlinkipvs.Destination{Family: k.Family, Address: k.Address, Port: k.Port}}
	case ipvsadmargs.KindSetTimeout:
		return netlinkipvs.Op{Cmd: netlinkipvs.CmdSetConfig, Timeouts: cmd.Timeouts}
	case ipvsadmargs.KindStartDaemon:
		return netlinkipvs.Op{Cmd: netlinkipvs.CmdNewDaemon, Daemon: cmd.Daemon}
	case ipvsadmargs.KindStopDaemon:
		return netlinkipvs.Op{Cmd: netlinkipvs.CmdDelDaemon, Daemon: netlinkipvs.Daemon{State: cmd.Daemon.State}}
	}
	panic("ipvsadm: not a write command: " + cmd.Kind.String())
}
