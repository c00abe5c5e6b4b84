package ipvsplan

import (
	"iter"

	"github.com/ipvs-tools/ipvs"
)

// DefaultBatchSize is the number of requests Apply hands to one Batch
// call. The transport splits a batch further to fit its socket buffers;
// stopping at a batch's end bounds how much runs after a failure.
const DefaultBatchSize = 2000

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// BatchSize is the number of requests per Batch call (default
	// DefaultBatchSize).
	BatchSize int
	// KeepGoing sends every change, past refused ones; by default Apply
	// stops after the batch that holds the first refusal.
	KeepGoing bool
	// Record keeps the changes that were carried out in Result.Applied,
	// so that they can be reverted (Revert).
	Record bool
	// Refused, if set, is called for each refused change as its batch is
	// answered, in order (ipvsadm-restore prints each where ipvsadm -R
	// would).
	Refused func(Change, error)
	// Stop, if set, interrupts Apply at a consistent point: once it is
	// closed (a caller passes ctx.Done() on SIGINT), no further batch is
	// sent; the batch in flight is answered and counted first.
	// Result.Stopped says it happened.
	Stop <-chan struct{}
	// Progress, if set, is called after each answered batch with the
	// number of changes answered so far (carried out or refused).
	Progress func(answered int)
}

// Failure is a change the kernel refused.
type Failure struct {
	Change Change
	Err    error
}

// Result is what Apply did.
type Result struct {
	// Done counts the changes the kernel carried out.
	Done int
	// Applied lists them, in order, with ApplyOptions.Record.
	Applied []Change
	// Failed lists the refused changes.
	Failed []Failure
	// Stopped is set when ApplyOptions.Stop interrupted Apply before the
	// sequence's end: the changes after the last answered one were not
	// sent.
	Stopped bool
}

// OK reports whether every change was carried out.
func (r *Result) OK() bool { return len(r.Failed) == 0 }

// Apply carries out changes, in order, through b: the one way a plan
// reaches a table. Changes are taken from the sequence as batches are
// filled, so a long plan can be made while it is applied and is never
// held whole. Apply stops after the batch holding the first refused change
// unless opts.KeepGoing; undoing what was applied is the caller's choice
// (Revert).
func Apply(b ipvs.Batcher, changes iter.Seq[Change], opts ApplyOptions) *Result {
	size := opts.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
	}
	r := &Result{}
	batch := make([]Change, 0, min(size, 256))
	ops := make([]ipvs.Op, 0, cap(batch))
	// send carries out the batch; it reports whether to go on.
	send := func() bool {
		if len(batch) == 0 {
			return true
		}
		for _, c := range batch {
			ops = append(ops, c.Op())
		}
		errs, terr := b.Batch(ops)
		failed := false
		for i, c := range batch {
			err := terr // no answers at all: the outcome is unknown
			if i < len(errs) {
				err = errs[i]
			}
			if err != nil {
				failed = true
				r.Failed = append(r.Failed, Failure{Change: c, Err: err})
				if opts.Refused != nil {
					opts.Refused(c, err)
				}
				continue
			}
			r.Done++
			if opts.Record {
				r.Applied = append(r.Applied, c)
			}
		}
		clear(batch)
		batch = batch[:0]
		clear(ops)
		ops = ops[:0]
		if opts.Progress != nil {
			opts.Progress(r.Done + len(r.Failed))
		}
		return !failed || opts.KeepGoing
	}
	stopped := func() bool {
		select {
		case <-opts.Stop:
			r.Stopped = true
			return true
		default:
			return false
		}
	}
	for c := range changes {
		if len(batch) == 0 && opts.Stop != nil && stopped() {
			return r
		}
		batch = append(batch, c)
		if len(batch) >= size && !send() {
			return r
		}
	}
	send()
	return r
}

// Revert undoes applied changes (Result.Applied), newest first, in
// batches of batchSize (DefaultBatchSize if not positive), going on past
// refusals. It returns the number of requests sent and the refused ones.
func Revert(b ipvs.Batcher, applied []Change, batchSize int) (requests int, failed []Failure) {
	undo := Plan{Changes: applied}.Undo(len(applied))
	r := Apply(b, undo.All(), ApplyOptions{BatchSize: batchSize, KeepGoing: true})
	return len(undo.Changes), r.Failed
}

// All returns the plan's changes as a sequence (for Apply).
func (p Plan) All() iter.Seq[Change] {
	return func(yield func(Change) bool) {
		for _, c := range p.Changes {
			if !yield(c) {
				return
			}
		}
	}
}
