package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"github.com/ipvs-tools/ipvs/ipvslock"
	"golang.org/x/sys/unix"
)

// tenServices is a document of 10 services with one server each: 20
// changes against an empty table.
func tenServices() string {
	var b strings.Builder
	b.WriteString("apiVersion: ipvsctl/v1\nservices:\n")
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&b, "  - {protocol: tcp, address: 10.0.0.%d, port: 80, destinations: [{address: 192.168.0.%d}]}\n", i, i)
	}
	return b.String()
}

// TestWritersLockFirst: apply and restore take the table lock before they
// read the table (a writer that finished while they waited is in their
// plan), and hold it to the end; diff and --dry-run take none.
func TestWritersLockFirst(t *testing.T) {
	for _, c := range []struct {
		name   string
		mode   Mode
		dryRun bool
		locks  bool
	}{
		{"apply", ModeApply, false, true},
		{"restore", ModeRestore, false, true},
		{"apply --dry-run", ModeApply, true, false},
		{"diff", ModeDiff, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			fake := fakeipvs.New()
			e := newEnv(t, fake, c.mode, tenServices())
			e.opts.DryRun = c.dryRun
			locked, heldAtWrite := 0, true
			e.opts.Lock = func(_ context.Context, wait time.Duration) (func(), error) {
				if e.fake.Reads != 0 {
					t.Errorf("the table was read (%d requests) before the lock was taken", e.fake.Reads)
				}
				locked++
				// Another writer, done just before we got the lock.
				s := ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80,
					Scheduler: "wlc", Netmask: 0xffffffff}
				if err := fake.NewService(s); err != nil {
					t.Fatal(err)
				}
				return func() { locked-- }, nil
			}
			fake.Fail = func(ipvs.Op) unix.Errno {
				heldAtWrite = heldAtWrite && locked == 1
				return 0
			}
			err := Run(e.opts)
			if c.mode == ModeDiff && err != nil {
				var ee *cmdutil.ExitError
				if !errors.As(err, &ee) || ee.Code != 2 {
					t.Fatalf("diff: %v", err)
				}
				err = nil
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, e.err)
			}
			if !c.locks {
				if fake.Reads == 0 {
					t.Fatal("nothing was read")
				}
				return
			}
			if locked != 0 || !heldAtWrite {
				t.Errorf("lock held at every write: %v; still held at the end: %v", heldAtWrite, locked != 0)
			}
			if w, _ := fake.Weights(); lines(w) != 10 {
				t.Errorf("table after %s:\n%s", c.name, w)
			}
		})
	}
}

// TestLockBusy: when another writer keeps the lock, nothing is read or
// written and the message says who holds it and what to do.
func TestLockBusy(t *testing.T) {
	fake := fakeipvs.New()
	e := newEnv(t, fake, ModeApply, tenServices())
	e.opts.Lock = func(context.Context, time.Duration) (func(), error) {
		return nil, cmdutil.ExplainLock(&ipvslock.BusyError{Path: "/run/ipvs-tools/net-1.lock", Waited: 5 * time.Second,
			Holder: ipvslock.Holder{PID: 42, Owner: "ipvsctl apply -f big.yaml"}})
	}
	err := Run(e.opts)
	want := "the IPVS table is being changed by pid 42 (ipvsctl apply -f big.yaml) (waited 5s); nothing was changed: " +
		"wait until it is done with --wait, or at most SECONDS with --wait=SECONDS (lock file /run/ipvs-tools/net-1.lock)"
	if err == nil || err.Error() != want {
		t.Errorf("error\n got %v\nwant %s", err, want)
	}
	if fake.Reads+len(fake.Writes) != 0 {
		t.Errorf("%d reads, %d writes while the lock was busy", fake.Reads, len(fake.Writes))
	}
}

// interruptAt runs e with a signal delivered during write number n (the
// batch holding it finishes), and a second one too if twice.
func interruptAt(t *testing.T, e *env, n int, twice bool) (err error, exited int) {
	t.Helper()
	sigs := make(chan os.Signal, 2)
	exit := make(chan int, 1)
	var intr *cmdutil.Interrupt
	e.opts.Interrupts = func() *cmdutil.Interrupt {
		intr = cmdutil.NewInterrupt(e.err, sigs, func(code int) { exit <- code })
		return intr
	}
	writes := 0
	e.fake.Fail = func(ipvs.Op) unix.Errno {
		writes++
		if writes == n {
			sigs <- syscall.SIGINT
			<-intr.Context().Done()
			if twice {
				sigs <- syscall.SIGTERM
				exited = <-exit
			}
		}
		return 0
	}
	err = Run(e.opts)
	e.fake.Fail = nil
	return err, exited
}

// TestInterruptedApply: SIGINT in the second batch of an apply lets that
// batch finish, sends nothing more, keeps what was applied, lists it and
// exits 130.
func TestInterruptedApply(t *testing.T) {
	e := newEnv(t, fakeipvs.New(), ModeApply, tenServices())
	e.opts.BatchSize, e.opts.Output = 4, "json"
	err, _ := interruptAt(t, e, 6, false)
	var ee *cmdutil.ExitError
	if !errors.As(err, &ee) || ee.Code != 130 {
		t.Fatalf("got %v, want exit status 130", err)
	}
	if len(e.fake.Writes) != 8 || e.fake.Batches != 2 {
		t.Errorf("%d writes in %d batches, want the 2 first batches of 4", len(e.fake.Writes), e.fake.Batches)
	}
	var out ResultOutput
	if err := json.Unmarshal(e.out.Bytes(), &out); err != nil {
		t.Fatalf("%v: %s", err, e.out)
	}
	if !out.Interrupted || out.Unsent != 12 || out.Applied != 8 || len(out.Changes) != 8 || out.RolledBack {
		t.Errorf("result: interrupted %v, unsent %d, applied %d, %d changes listed, rolled back %v",
			out.Interrupted, out.Unsent, out.Applied, len(out.Changes), out.RolledBack)
	}
	if w, _ := e.fake.Weights(); lines(w) != 4 {
		t.Errorf("the table should hold the 4 services applied:\n%s", w)
	}
	for _, want := range []string{
		"ipvsctl: SIGINT: finishing the batch in flight, then stopping (what was applied stays); interrupt again to abort at once\n",
		"ipvsctl: apply interrupted by SIGINT: applied 8 of 20 changes, the plan's first ones in its order (-o json lists them); the other 12 were not sent\n",
		"run ipvsctl apply -f " + e.opts.File + " again to finish",
	} {
		if !strings.Contains(e.err.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, e.err)
		}
	}
}

// TestInterruptedRestore: restore rolls back what it applied.
func TestInterruptedRestore(t *testing.T) {
	e := newEnv(t, fakeipvs.New(), ModeRestore, tenServices())
	e.opts.BatchSize = 4
	err, _ := interruptAt(t, e, 2, false)
	var ee *cmdutil.ExitError
	if !errors.As(err, &ee) || ee.Code != 130 {
		t.Fatalf("got %v, want exit status 130", err)
	}
	if w, _ := e.fake.Weights(); w != "" {
		t.Errorf("the table should be empty again:\n%s", w)
	}
	if want := "ipvsctl: restore interrupted by SIGINT: rolled back the 4 applied changes (4 requests); the table is back to its state before restore\n"; !strings.Contains(e.err.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, e.err)
	}
}

// TestSecondSignalAborts: a second signal ends the program at once with
// the first signal's status, after saying so.
func TestSecondSignalAborts(t *testing.T) {
	e := newEnv(t, fakeipvs.New(), ModeApply, tenServices())
	e.opts.BatchSize = 4
	_, exited := interruptAt(t, e, 2, true)
	if exited != 130 {
		t.Errorf("exit status %d, want 130", exited)
	}
	if want := "ipvsctl: SIGTERM again: aborting at once: the table holds part of the plan (see ipvsctl diff -f " + e.opts.File + ")\n"; !strings.Contains(e.err.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, e.err)
	}
}

func lines(s string) int {
	if s == "" {
		return 0
	}
	return len(strings.Split(strings.TrimSuffix(s, "\n"), "\n"))
}

// TestPlanOnATerminal: a plan is coloured by action when colour is on,
// with ASCII arrows outside a UTF-8 locale; apply shows its progress on a
// terminal's stderr.
func TestPlanOnATerminal(t *testing.T) {
	doc := strings.Replace(sampleDoc, "scheduler: rr", "scheduler: wrr", 1)
	e := newEnv(t, testutil.Sample(), ModeDiff, doc)
	e.opts.IO.SetColorEnabled(true)
	e.opts.IO.SetUTF8(false)
	_ = Run(e.opts)
	if want := "\x1b[33m~ update service tcp:10.0.0.1:80: scheduler rr -> wrr\x1b[0m\n"; !strings.HasPrefix(e.out.String(), want) {
		t.Errorf("plan\n%q\nwant it to start with\n%q", e.out, want)
	}

	e = newEnv(t, fakeipvs.New(), ModeApply, tenServices())
	e.opts.IO.SetStderrTTY(true)
	e.opts.BatchSize = 4
	clock := time.Unix(0, 0)
	e.opts.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	if err := Run(e.opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.err.String(), "applying: 20/20 (100%)") {
		t.Errorf("no progress line on stderr: %q", e.err)
	}
}
