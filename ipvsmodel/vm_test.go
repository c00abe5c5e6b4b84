//go:build linux

package ipvsmodel_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"syscall"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
	"github.com/ipvs-tools/ipvs/ipvsmodel"
	"github.com/ipvs-tools/ipvs/ipvsprobe"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
	"github.com/ipvs-tools/ipvs/netns"
)

// Counters move with traffic and the kernel's rate estimator, not with
// requests; everything else must be the same.
var ignoreCounters = gocmp.Options{
	cmpopts.IgnoreFields(ipvs.Service{}, "Stats"),
	cmpopts.IgnoreFields(ipvs.Destination{}, "Stats", "ActiveConns", "InactiveConns", "PersistConns"),
	cmpAddr,
}

// byKey orders a table by service key: the kernel lists services in hash
// order, the model in creation order. Destinations keep their order (both
// list newest first).
func byKey(t []ipvs.VirtualServer) []ipvs.VirtualServer {
	slices.SortFunc(t, func(a, b ipvs.VirtualServer) int {
		return cmp.Compare(a.Service.Key().String(), b.Service.Key().String())
	})
	return t
}

// TestVMModelMatchesKernel sends random sequences of write requests to the
// kernel (in a fresh namespace each, lo up) and to the model: every request must
// get the same answer, and after each the two tables and timeouts must be
// the same. Sync daemons are left out (they need a multicast-capable
// interface); TestDaemons covers the model's side.
//
//vmtest:kernels all
//vmtest:budget 2m
func TestVMModelMatchesKernel(t *testing.T) {
	vmtest.Require(t)
	var names []string
	for _, s := range schedulers {
		if s != "none" {
			names = append(names, s)
		}
	}
	rep, err := ipvsprobe.Probe(ipvsprobe.Request{Schedulers: names, PEs: []string{"sip", "nosuch"}})
	if err != nil {
		t.Fatal(err)
	}
	k := ipvsmodel.Kernel{
		Scheduler: func(n string) bool { return slices.Contains(rep.Schedulers, n) },
		PE:        func(n string) bool { return slices.Contains(rep.PEs, n) },
	}
	t.Logf("kernel %s: schedulers %v, engines %v", rep.Kernel, rep.Schedulers, rep.PEs)
	const sequences, length = 12, 150
	seen := map[syscall.Errno]int{}
	for seed := range uint64(sequences) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			err := netns.Scratch(func(path string) error {
				if err := netns.LoopbackUp(path); err != nil {
					return err
				}
				c, err := netlinkipvs.New(netlinkipvs.WithNetNS(path))
				if err != nil {
					return err
				}
				defer c.Close()
				compareSequence(t, c, ipvsmodel.New(k), rand.New(rand.NewPCG(seed, 0x1f5)), length, seen)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	// The sequences must have met every answer, or they prove little.
	t.Logf("answers: %v", seen)
	for _, e := range []syscall.Errno{0, syscall.EEXIST, syscall.ENOENT, syscall.ESRCH, syscall.EINVAL, syscall.ERANGE} {
		if seen[e] == 0 && !t.Failed() {
			t.Errorf("no request got %q (errno %d): make the sequences longer or the pools smaller", e.Error(), e)
		}
	}
}

func compareSequence(t *testing.T, c *netlinkipvs.Client, m *ipvsmodel.Model, r *rand.Rand, n int, seen map[syscall.Errno]int) {
	var log []string
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("after:\n%s\n%s", strings.Join(log, "\n"), fmt.Sprintf(format, args...))
	}
	for i := range n {
		op := randomOp(r)
		errs, err := c.Batch([]ipvs.Op{op})
		if err != nil {
			fail("%s: the socket failed: %v", opString(op), err)
		}
		kernelErr := errs[0]
		modelErr := m.Apply(op)
		log = append(log, fmt.Sprintf("%3d %s: kernel %v, model %v", i, opString(op), kernelErr, modelErr))
		if errnoOf(kernelErr) != errnoOf(modelErr) {
			fail("the answers differ")
		}
		seen[errnoOf(kernelErr)]++
		kt, err := c.Table()
		if err != nil {
			fail("reading the table: %v", err)
		}
		if diff := gocmp.Diff(byKey(kt), byKey(m.Table()), ignoreCounters); diff != "" {
			fail("the tables differ (-kernel +model):\n%s", diff)
		}
		to, err := c.Timeouts()
		if err != nil {
			fail("reading the timeouts: %v", err)
		}
		if to != m.Timeouts() {
			fail("timeouts: kernel %+v, model %+v", to, m.Timeouts())
		}
	}
}
