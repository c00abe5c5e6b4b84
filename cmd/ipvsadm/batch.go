package main

import (
	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/ipvsadmargs"
)

// Batcher is implemented by backends that send many write requests in one
// system call (netlinkipvs.Client.Batch): errs[i] is the kernel's answer
// to ops[i]; the kernel executes them in order and does not stop at a
// failure, exactly as one request per line would.
type Batcher interface {
	Batch(ops []ipvs.Op) ([]error, error)
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
	ops  []ipvs.Op
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
func opOf(cmd *ipvsadmargs.Command) ipvs.Op {
	svc := cmd.Service
	id := svc.Key().Service()
	switch cmd.Kind {
	case ipvsadmargs.KindAdd:
		return ipvs.Op{Cmd: ipvs.CmdNewService, Service: svc}
	case ipvsadmargs.KindEdit:
		return ipvs.Op{Cmd: ipvs.CmdSetService, Service: svc}
	case ipvsadmargs.KindDelete:
		return ipvs.Op{Cmd: ipvs.CmdDelService, Service: id}
	case ipvsadmargs.KindFlush:
		return ipvs.Op{Cmd: ipvs.CmdFlush}
	case ipvsadmargs.KindZero:
		if cmd.ZeroAll() {
			return ipvs.Op{Cmd: ipvs.CmdZero, AllServices: true}
		}
		return ipvs.Op{Cmd: ipvs.CmdZero, Service: id}
	case ipvsadmargs.KindAddDest:
		return ipvs.Op{Cmd: ipvs.CmdNewDest, Service: id, Destination: cmd.Destination}
	case ipvsadmargs.KindEditDest:
		return ipvs.Op{Cmd: ipvs.CmdSetDest, Service: id, Destination: cmd.Destination}
	case ipvsadmargs.KindDeleteDest:
		return ipvs.Op{Cmd: ipvs.CmdDelDest, Service: id, Destination: cmd.Destination.Key().Destination()}
	case ipvsadmargs.KindSetTimeout:
		return ipvs.Op{Cmd: ipvs.CmdSetConfig, Timeouts: cmd.Timeouts}
	case ipvsadmargs.KindStartDaemon:
		return ipvs.Op{Cmd: ipvs.CmdNewDaemon, Daemon: cmd.Daemon}
	case ipvsadmargs.KindStopDaemon:
		return ipvs.Op{Cmd: ipvs.CmdDelDaemon, Daemon: ipvs.Daemon{State: cmd.Daemon.State}}
	}
	panic("ipvsadm: not a write command: " + cmd.Kind.String())
}
