package reconcile

import (
	"fmt"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/ipvsplan"
)

// DefaultBatchSize is the number of requests handed to one Batch call.
const DefaultBatchSize = ipvsplan.DefaultBatchSize

// Failure is a change the kernel refused.
type Failure struct {
	Change Change
	Err    error
}

// Result is the outcome of Apply.
type Result struct {
	// Applied counts the changes that were carried out (and, after a
	// rollback, undone again).
	Applied int
	// Failed lists the refused changes. Apply stops after the batch
	// holding the first failure unless Options.NoRollback.
	Failed []Failure
	// RolledBack is set when a rollback ran; RollbackRequests counts the
	// requests it sent and RollbackFailed the ones that failed.
	RolledBack       bool
	RollbackRequests int
	RollbackFailed   []Failure
	// Interrupted is set when Options.Stop ended Apply before the plan's
	// end; Unsent counts the changes it did not send.
	Interrupted bool
	Unsent      int
	// Done lists the changes carried out, in order.
	Done []Change
}

// OK reports whether everything was applied.
func (r *Result) OK() bool { return len(r.Failed) == 0 && !r.Interrupted }

// unit is a group of applied changes and how to undo them.
type unit struct {
	n    int
	undo func(r *Result)
}

// Apply carries out p. Daemons to stop go first (a mixed-family tunnel
// server cannot be added while a daemon runs), then the service changes
// in batches, the timeouts, the daemons to start and the sysctls. When the
// kernel refuses a request, Apply stops after that batch and, unless
// opts.NoRollback, undoes every change that was applied, newest first,
// from the pre-image the plan was computed from.
func Apply(b backend.IPVS, sys func() (backend.Sysctls, error), p *Plan, opts Options) *Result {
	r := &Result{}
	var done []unit
	ci := 0
	next := func() int { c := ci; ci++; return c }
	// single runs one non-batched change; it reports whether to stop.
	single := func(i int, do func() error, undo func() error) bool {
		if stopped(opts.Stop) {
			r.Interrupted = true
			return true
		}
		if err := do(); err != nil {
			r.Failed = append(r.Failed, Failure{Change: p.Change(i), Err: err})
			return !opts.NoRollback
		}
		r.Done = append(r.Done, p.Change(i))
		done = append(done, unit{n: 1, undo: func(r *Result) {
			r.RollbackRequests++
			if err := undo(); err != nil {
				r.RollbackFailed = append(r.RollbackFailed, Failure{Change: p.Change(i), Err: err})
			}
		}})
		return false
	}

	stop := false
	for _, d := range p.DaemonStops {
		if stop = single(next(), func() error { return b.DeleteDaemon(d.State) }, func() error { return b.NewDaemon(d) }); stop {
			break
		}
	}
	if !stop {
		ci = len(p.DaemonStops) + len(p.Services.Changes)
		stop = applyServices(b, p.Services, opts, r, &done)
	}

	if !stop && p.NewTimeouts != nil {
		nt, ot := *p.NewTimeouts, *p.OldTimeouts
		stop = single(next(), func() error { return b.SetTimeouts(nt) }, func() error { return b.SetTimeouts(ot) })
	}
	if !stop {
		for _, d := range p.DaemonStarts {
			if stop = single(next(), func() error { return b.NewDaemon(d) }, func() error { return b.DeleteDaemon(d.State) }); stop {
				break
			}
		}
	}
	if !stop && len(p.Sysctls) > 0 {
		s, serr := sys()
		for _, sc := range p.Sysctls {
			c := next()
			sc := sc
			do := func() error {
				if serr != nil {
					return serr
				}
				if err := s.Set(sc.Name, sc.New); err != nil {
					return fmt.Errorf("sysctl %s: %w", sc.Name, err)
				}
				return nil
			}
			if stop = single(c, do, func() error { return s.Set(sc.Name, sc.Old) }); stop {
				break
			}
		}
	}
	for _, u := range done {
		r.Applied += u.n
	}
	if r.Interrupted {
		r.Unsent = p.Len() - len(r.Done) - len(r.Failed)
	}
	rollback := len(r.Failed) > 0 && !opts.NoRollback || r.Interrupted && opts.RollbackOnStop
	if rollback && len(done) > 0 {
		r.RolledBack = true
		for i := len(done) - 1; i >= 0; i-- {
			done[i].undo(r)
		}
	}
	return r
}

// applyServices carries out the service changes (ipvsplan.Apply); it
// reports whether to stop.
func applyServices(b backend.IPVS, plan ipvsplan.Plan, opts Options, r *Result, done *[]unit) bool {
	res := ipvsplan.Apply(b, plan.All(), ipvsplan.ApplyOptions{
		BatchSize: opts.BatchSize, KeepGoing: opts.NoRollback, Record: true,
		Stop: opts.Stop, Progress: opts.Progress})
	for _, f := range res.Failed {
		r.Failed = append(r.Failed, Failure{Change: serviceChange(f.Change), Err: f.Err})
	}
	for _, c := range res.Applied {
		r.Done = append(r.Done, serviceChange(c))
	}
	r.Interrupted = res.Stopped
	if res.Done > 0 {
		*done = append(*done, unit{n: res.Done, undo: func(r *Result) {
			n, failed := ipvsplan.Revert(b, res.Applied, opts.BatchSize)
			r.RollbackRequests += n
			for _, f := range failed {
				r.RollbackFailed = append(r.RollbackFailed, Failure{Change: serviceChange(f.Change), Err: f.Err})
			}
		}})
	}
	return res.Stopped || !res.OK() && !opts.NoRollback
}

// stopped reports whether stop is closed.
func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}
