package ipvsplan

import (
	"errors"
	"net/netip"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/ipvsmodel"
)

// modelBatcher is the kernel model as the ipvs.Batcher, counting calls.
type modelBatcher struct {
	m     *ipvsmodel.Model
	calls int
}

func (b *modelBatcher) Batch(ops []ipvs.Op) ([]error, error) {
	b.calls++
	return b.m.Batch(ops)
}

func newModel(t *testing.T, table ...ipvs.VirtualServer) *modelBatcher {
	t.Helper()
	m := ipvsmodel.New(ipvsmodel.Kernel{})
	for _, vs := range table {
		if err := m.Apply(ipvs.Op{Cmd: ipvs.CmdNewService, Service: vs.Service}); err != nil {
			t.Fatal(err)
		}
		for _, d := range vs.Destinations {
			if err := m.Apply(ipvs.Op{Cmd: ipvs.CmdNewDest, Service: vs.Service, Destination: d}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return &modelBatcher{m: m}
}

// TestApply: batches of two; the third change is refused (its service
// exists), so Apply stops after the second batch unless KeepGoing, and
// what it applied can be reverted.
func TestApply(t *testing.T) {
	web := svc("10.0.0.1", 80, "rr")
	changes := Plan{Changes: []Change{
		{Kind: AddService, Service: svc("10.0.0.2", 80, "rr").Key(), NewService: svc("10.0.0.2", 80, "rr")},
		{Kind: AddDest, Service: web.Key(), NewDest: dst("192.168.0.2", 1)},
		{Kind: AddService, Service: web.Key(), NewService: web},
		{Kind: UpdateDest, Service: web.Key(), OldDest: dst("192.168.0.1", 1), NewDest: dst("192.168.0.1", 5)},
		{Kind: DeleteDest, Service: web.Key(), OldDest: dst("192.168.0.1", 1)},
	}}
	ignore := cmp.Options{cmpopts.EquateComparable(netip.Addr{})}
	for _, c := range []struct {
		name      string
		keepGoing bool
		done      int
		calls     int
	}{
		{"stop after the failed batch", false, 3, 2},
		{"keep going", true, 4, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newModel(t, vs(web, dst("192.168.0.1", 1)))
			before := b.m.Table()
			var refused []Kind
			r := Apply(b, changes.All(), ApplyOptions{BatchSize: 2, KeepGoing: c.keepGoing, Record: true,
				Refused: func(ch Change, err error) { refused = append(refused, ch.Kind) }})
			if r.Done != c.done || len(r.Applied) != c.done || b.calls != c.calls {
				t.Errorf("done %d (%d recorded) in %d batches, want %d in %d", r.Done, len(r.Applied), b.calls, c.done, c.calls)
			}
			if len(r.Failed) != 1 || r.Failed[0].Change.Kind != AddService || !errors.Is(r.Failed[0].Err, os.ErrExist) || r.OK() {
				t.Fatalf("failed %+v, want the second add of %s (EEXIST)", r.Failed, web.Key())
			}
			if diff := cmp.Diff([]Kind{AddService}, refused); diff != "" {
				t.Errorf("Refused calls (-want +got):\n%s", diff)
			}
			n, failed := Revert(b, r.Applied, 2)
			if n != c.done || len(failed) != 0 {
				t.Errorf("revert: %d requests, failed %v", n, failed)
			}
			if diff := cmp.Diff(before, b.m.Table(), ignore); diff != "" {
				t.Errorf("table after the revert (-before +after):\n%s", diff)
			}
		})
	}
}

// TestApplyTransportFailure: a batch without answers fails every change
// in it with the transport's error.
func TestApplyTransportFailure(t *testing.T) {
	broken := errors.New("socket closed")
	b := batcherFunc(func(ops []ipvs.Op) ([]error, error) { return nil, broken })
	web := svc("10.0.0.1", 80, "rr")
	r := Apply(b, Plan{Changes: []Change{{Kind: AddService, Service: web.Key(), NewService: web}}}.All(), ApplyOptions{})
	if r.Done != 0 || len(r.Failed) != 1 || r.Failed[0].Err != broken {
		t.Errorf("got %+v", r)
	}
}

type batcherFunc func([]ipvs.Op) ([]error, error)

func (f batcherFunc) Batch(ops []ipvs.Op) ([]error, error) { return f(ops) }

// TestApplyStop: a Stop closed while a batch is in flight lets that batch
// finish and sends no other; closed before the start, nothing is sent;
// closed after the last batch, nothing is lost. Progress sees every
// answered batch.
func TestApplyStop(t *testing.T) {
	var changes []Change
	for i := range 5 {
		s := svc("10.0.0."+string(rune('1'+i)), 80, "rr")
		changes = append(changes, Change{Kind: AddService, Service: s.Key(), NewService: s})
	}
	for _, c := range []struct {
		name      string
		closeAt   int // close Stop during this Batch call (1-based); 0 before Apply
		done      int
		stopped   bool
		progress  []int
		sentCalls int
	}{
		{"before the start", 0, 0, true, nil, 0},
		{"during the first batch", 1, 2, true, []int{2}, 1},
		{"during the second batch", 2, 4, true, []int{2, 4}, 2},
		{"during the last batch", 3, 5, false, []int{2, 4, 5}, 3},
		{"never", 99, 5, false, []int{2, 4, 5}, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := newModel(t)
			stop := make(chan struct{})
			if c.closeAt == 0 {
				close(stop)
			}
			b := batcherFunc(func(ops []ipvs.Op) ([]error, error) {
				m.calls++
				if m.calls == c.closeAt {
					close(stop)
				}
				return m.m.Batch(ops)
			})
			var progress []int
			r := Apply(b, Plan{Changes: changes}.All(), ApplyOptions{BatchSize: 2, Stop: stop,
				Progress: func(n int) { progress = append(progress, n) }})
			if r.Done != c.done || r.Stopped != c.stopped || m.calls != c.sentCalls {
				t.Errorf("done %d, stopped %v, %d batches; want %d, %v, %d", r.Done, r.Stopped, m.calls, c.done, c.stopped, c.sentCalls)
			}
			if got := len(m.m.Table()); got != c.done {
				t.Errorf("the table has %d services, want %d", got, c.done)
			}
			if diff := cmp.Diff(c.progress, progress); diff != "" {
				t.Errorf("progress (-want +got):\n%s", diff)
			}
		})
	}
}
