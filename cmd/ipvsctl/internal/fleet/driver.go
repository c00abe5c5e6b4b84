package fleet

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/agent"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/reconcile"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
)

// Driver hands documents from the store to an agent: the first one starts
// the agent's loop (agent.Run), the next ones are reloads. Its Apply is
// MemberOptions.Apply.
type Driver struct {
	agent   *agent.Agent
	ctx     context.Context
	ready   func()
	running atomic.Bool
	done    chan error
}

// NewDriver returns a driver of a; the loop it starts runs until ctx is
// done, and calls ready after its first sync.
func NewDriver(ctx context.Context, a *agent.Agent, ready func()) *Driver {
	if ready == nil {
		ready = func() {}
	}
	return &Driver{agent: a, ctx: ctx, ready: ready, done: make(chan error, 1)}
}

// Apply starts the agent with doc and waits for its first sync, or
// reloads it.
func (d *Driver) Apply(ctx context.Context, doc *agent.Document) error {
	if d.running.Load() {
		return d.agent.Reload(ctx, doc)
	}
	select {
	case <-d.Start(doc):
	case <-ctx.Done():
	}
	return nil
}

// Start starts the agent's loop with doc and returns at once; the channel
// is closed after the first sync. Call it once, before any Apply.
func (d *Driver) Start(doc *agent.Document) <-chan struct{} {
	d.running.Store(true)
	synced := make(chan struct{})
	go func() {
		d.done <- d.agent.Run(d.ctx, doc, func() {
			close(synced)
			d.ready()
		})
	}()
	return synced
}

// Running reports whether the agent's loop was started.
func (d *Driver) Running() bool { return d.running.Load() }

// Done delivers Run's result once the loop has ended (never if it was
// not started: check Running).
func (d *Driver) Done() <-chan error { return d.done }

// ApplyDaemons makes the kernel's sync daemons those want's daemons
// section lists (MemberOptions.ApplyDaemons): it reads the running ones
// and stops and starts only those that differ, through the plan that
// ipvsctl apply uses, rolled back if the kernel refuses a step.
func ApplyDaemons(b backend.IPVS, want *ipvsconfig.Desired) error {
	only := &ipvsconfig.Desired{ManageDaemons: true, Daemons: want.Daemons}
	cur, err := reconcile.Read(b, nil, only, reconcile.Options{})
	if err != nil {
		return err
	}
	p, err := reconcile.Compute(cur, only, reconcile.Options{})
	if err != nil {
		return err
	}
	if r := reconcile.Apply(b, nil, p, reconcile.Options{}); !r.OK() {
		f := r.Failed[0]
		return fmt.Errorf("%s: %v", f.Change.Description, f.Err)
	}
	return nil
}
