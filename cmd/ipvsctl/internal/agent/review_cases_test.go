package agent

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/healthcheck"
	"golang.org/x/sys/unix"
)

// The failure paths a review found: a failed first read, a refused
// delete, writes after withdraw or cancel, a permanent refusal, a reload
// adopting a service that exists.

// flakyRead fails the first Services() read, as a dump interrupted by
// another tool's change (or ESRCH on a service deleted mid-read) would.
type flakyRead struct {
	*fakeipvs.Fake
	mu    sync.Mutex
	fails int
}

func (f *flakyRead) Services() ([]ipvs.Service, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fails > 0 {
		f.fails--
		return nil, &ipvs.Error{Op: ipvs.CmdGetService, Err: unix.EINTR}
	}
	return f.Fake.Services()
}

// A failed first read is repaired; probes start once the table is read,
// and a flip afterwards is applied (it once panicked on a nil map).
func TestAgentFailedStartReadRepaired(t *testing.T) {
	k := fakeipvs.New()
	fr := &flakyRead{Fake: k, fails: 1}
	p := &fakeProber{}
	a := New(Options{IPVS: fr, Prober: p, RetryMin: 10 * time.Millisecond})
	doc := parse(t, example, 1)
	ready := make(chan struct{})
	done := make(chan any, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		defer func() { done <- recover() }()
		a.Run(ctx, doc, func() { close(ready) })
	}()
	<-ready
	// The probes start once a repair has read the table.
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.mu.Lock()
		n := len(p.targets)
		p.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no probes after the repair")
		}
		time.Sleep(5 * time.Millisecond)
	}
	tg := p.key(t, "192.168.0.1:80")
	a.Transition(ctx, healthcheck.Transition{Key: tg.Key(), Target: tg, To: healthcheck.Up, Weight: -1})
	if err := a.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if got := weights(t, k); !strings.Contains(got, "192.168.0.1:80=1") {
		t.Errorf("the flip after the repair was not applied:\n%s", got)
	}
	select {
	case r := <-done:
		if r != nil {
			t.Fatalf("agent loop panicked: %v", r)
		}
	case <-time.After(2 * time.Second):
		cancel()
	}
}

// A service dropped by a reload whose DEL_SERVICE the kernel refuses is
// forgotten: never retried, it stays in the kernel for good.
func TestAgentReloadFailedDeleteIsNeverRetried(t *testing.T) {
	k := fakeipvs.New()
	h := start(t, k, parse(t, example, 1), Options{DriftInterval: 20 * time.Millisecond})
	var once sync.Once
	k.Fail = func(op ipvs.Op) unix.Errno {
		if op.Cmd == ipvs.CmdDelService {
			var e unix.Errno
			once.Do(func() { e = unix.EBUSY })
			return e
		}
		return 0
	}
	dropped := example[:strings.Index(example, "  - protocol: tcp\n    address: 10.0.0.2")]
	err := h.a.Reload(h.ctx, parse(t, dropped, 2))
	t.Logf("reload: %v", err)
	time.Sleep(1500 * time.Millisecond) // past the 1 s repair and many drift checks
	h.settle()
	if got := weights(t, k); strings.Contains(got, "10.0.0.2") {
		t.Errorf("the dropped service is still in the table after repair and drift checks:\n%s", got)
	}
}

// Withdraw deletes the services, but the loop goes on: a flip already
// queued (or arriving before cancel) puts the service back.
func TestAgentFlipAfterWithdrawRecreates(t *testing.T) {
	k := fakeipvs.New()
	h := start(t, k, parse(t, example, 1), Options{})
	if err := h.a.Withdraw(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.flip("192.168.0.1:80", healthcheck.Up, -1)
	if got := weights(t, k); got != "" {
		t.Errorf("table after withdraw and one more flip:\n%s", got)
	}
}

// After ctx is cancelled, Run's select picks at random between ctx.Done
// and queued events: flips are still written after cancel (SIGTERM).
func TestAgentWritesAfterCancel(t *testing.T) {
	k := fakeipvs.New()
	p := &fakeProber{}
	a := New(Options{IPVS: k, Prober: p})
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	block := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, parse(t, example, 1), func() { close(ready); <-block }) }()
	<-ready
	tg := p.key(t, "192.168.0.1:80")
	for i := range 100 {
		to := healthcheck.Up
		if i%2 == 1 {
			to = healthcheck.Down
		}
		a.Transition(context.Background(), healthcheck.Transition{Key: tg.Key(), Target: tg, To: to, Weight: -1})
	}
	k.ResetWrites()
	cancel()
	close(block)
	<-done
	if n := len(k.WriteCmds()); n != 0 {
		t.Errorf("%d writes after the context was cancelled (SIGTERM: 'the table is left as it is')", n)
	}
}

// A permanently refused write makes the agent re-read the whole table
// and log every second, and LastError grows with every failure.
func TestAgentPermanentRefusalSpins(t *testing.T) {
	k := fakeipvs.New()
	k.Fail = func(op ipvs.Op) unix.Errno {
		if op.Cmd == ipvs.CmdNewDest {
			return unix.EINVAL
		}
		return 0
	}
	h := start(t, k, parse(t, example, 1), Options{RetryMin: 20 * time.Millisecond, DriftInterval: time.Hour})
	time.Sleep(time.Second)
	st := h.settle()
	h.logMu.Lock()
	log := h.log.String()
	h.logMu.Unlock()
	// 20, 40, 80, 160, 320 ms: at most 6 repairs in a second, not 50.
	if n := strings.Count(log, "retrying in"); n < 2 || n > 6 {
		t.Errorf("%d repairs in 1 s with a first wait of 20 ms doubling:\n%s", n, log)
	}
	if strings.Contains(st.LastError, "\n") || !strings.HasSuffix(st.LastError, "(and 2 more)") {
		t.Errorf("LastError %q: want one line ending (and 2 more)", st.LastError)
	}
	if st.DriftRepaired != 0 {
		t.Errorf("DriftRepaired %d for changes the kernel refused", st.DriftRepaired)
	}
}

// A reload that starts listing a service already in the kernel (made by
// ipvsctl apply, or left by a previous agent) sends ADD_SERVICE blind:
// the kernel refuses it and the reload reports errors.
func TestAgentReloadAdoptsExistingService(t *testing.T) {
	k := fakeipvs.New()
	first := example[:strings.Index(example, "  - protocol: tcp\n    address: 10.0.0.2")]
	// 10.0.0.2 exists, as ipvsctl apply left it.
	full := parse(t, example, 1)
	if err := k.NewService(full.Desired.Services[1].Service); err != nil {
		t.Fatal(err)
	}
	if err := k.NewDestination(full.Desired.Services[1].Service.Key(), full.Desired.Services[1].Destinations[0]); err != nil {
		t.Fatal(err)
	}
	h := start(t, k, parse(t, first, 1), Options{})
	if err := h.a.Reload(h.ctx, parse(t, example, 2)); err != nil {
		t.Errorf("reload adopting an existing, identical service: %v", err)
	}
}
