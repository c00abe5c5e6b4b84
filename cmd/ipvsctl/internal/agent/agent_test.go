package agent

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/healthcheck"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"golang.org/x/sys/unix"
)

// fakeProber records the targets it was given; the test sends the
// transitions itself.
type fakeProber struct {
	mu      sync.Mutex
	targets []healthcheck.Target
	sets    int
}

func (p *fakeProber) Set(t []healthcheck.Target) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.targets = slices.Clone(t)
	p.sets++
}

func (p *fakeProber) Status() []healthcheck.Status { return nil }

func (p *fakeProber) key(t *testing.T, addr string) healthcheck.Target {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, x := range p.targets {
		if x.Addr.String() == addr {
			return x
		}
	}
	t.Fatalf("no probe of %s among %d", addr, len(p.targets))
	return healthcheck.Target{}
}

func parse(t *testing.T, doc string, gen int64) *Document {
	t.Helper()
	d, err := ipvsconfig.Parse("lb.yaml", []byte(doc), "")
	if err != nil {
		t.Fatal(err)
	}
	want, err := d.Desired()
	if err != nil {
		t.Fatal(err)
	}
	return &Document{Desired: want, Source: "lb.yaml", Generation: gen}
}

// harness runs an agent over a fake kernel.
type harness struct {
	t      *testing.T
	k      *fakeipvs.Fake
	p      *fakeProber
	a      *Agent
	ctx    context.Context
	cancel func()
	done   chan error
	log    *strings.Builder
	logMu  sync.Mutex
}

func start(t *testing.T, k *fakeipvs.Fake, doc *Document, opts Options) *harness {
	t.Helper()
	h := &harness{t: t, k: k, p: &fakeProber{}, done: make(chan error, 1), log: &strings.Builder{}}
	opts.IPVS, opts.Prober = k, h.p
	opts.Logf = func(f string, args ...any) {
		h.logMu.Lock()
		defer h.logMu.Unlock()
		fmt.Fprintf(h.log, f+"\n", args...)
	}
	h.a = New(opts)
	h.ctx, h.cancel = context.WithCancel(context.Background())
	ready := make(chan struct{})
	go func() { h.done <- h.a.Run(h.ctx, doc, func() { close(ready) }) }()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("no first sync")
	}
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	h.cancel()
	if err := <-h.done; err != nil {
		h.t.Errorf("Run: %v", err)
	}
	h.done <- nil
}

// settle waits until the loop has handled everything sent before.
func (h *harness) settle() *Status {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := h.a.Status(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

func (h *harness) flip(addr string, to healthcheck.State, weight int) {
	h.t.Helper()
	tg := h.p.key(h.t, addr)
	h.a.Transition(h.ctx, healthcheck.Transition{Key: tg.Key(), Target: tg, To: to, Weight: weight})
	h.settle()
}

// weights returns "service dest=weight ..." for the whole table.
func weights(t *testing.T, k *fakeipvs.Fake) string {
	t.Helper()
	w, err := k.Weights()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

const example = `apiVersion: ipvsctl/v1
services:
  - protocol: tcp
    address: 10.0.0.1
    port: 80
    scheduler: wrr
    healthCheck: {type: http, path: /, expectStatus: [200], interval: 1s, timeout: 500ms, rise: 2, fall: 2}
    destinations:
      - {address: 192.168.0.1, forward: masq}
      - {address: 192.168.0.2, forward: masq, weight: 3, healthCheck: {type: tcp, interval: 2s}}
  - protocol: tcp
    address: 10.0.0.2
    port: 80
    destinations: [{address: 192.168.0.9, weight: 5}]
`

func TestFlipSendsOnlyTheChange(t *testing.T) {
	k := fakeipvs.New()
	h := start(t, k, parse(t, example, 1), Options{})
	// No result yet, not in the kernel: added quiesced. Unchecked: as written.
	if diff := cmp.Diff("TCP 10.0.0.1:80 192.168.0.1:80=0 192.168.0.2:80=0\nTCP 10.0.0.2:80 192.168.0.9:80=5", weights(t, k)); diff != "" {
		t.Errorf("after start (-want +got):\n%s", diff)
	}
	if n := len(h.p.targets); n != 2 {
		t.Errorf("%d probes, want 2", n)
	}
	for _, step := range []struct {
		addr   string
		to     healthcheck.State
		weight int
		want   string
	}{
		{"192.168.0.1:80", healthcheck.Up, -1, "TCP 10.0.0.1:80 192.168.0.1:80=1 192.168.0.2:80=0"},
		{"192.168.0.2:80", healthcheck.Up, -1, "TCP 10.0.0.1:80 192.168.0.1:80=1 192.168.0.2:80=3"},
		{"192.168.0.1:80", healthcheck.Down, -1, "TCP 10.0.0.1:80 192.168.0.1:80=0 192.168.0.2:80=3"},
		{"192.168.0.2:80", healthcheck.Up, 7, "TCP 10.0.0.1:80 192.168.0.1:80=0 192.168.0.2:80=7"},
	} {
		t.Run(fmt.Sprintf("%s %s", step.addr, step.to), func(t *testing.T) {
			k.ResetWrites()
			reads := k.Requests().Reads
			h.flip(step.addr, step.to, step.weight)
			if got := k.Requests(); got.Writes != 1 || got.Reads != reads {
				t.Errorf("requests: %d writes, %d reads; want 1 write and no read", got.Writes, got.Reads-reads)
			}
			if got := weights(t, k); !strings.HasPrefix(got, step.want+"\n") {
				t.Errorf("table:\n%s\nwant first line %s", got, step.want)
			}
		})
	}
}

// TestSharedServerOneProbe: one server behind 20 services is probed once;
// its flip sends one request per service.
func TestSharedServerOneProbe(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: ipvsctl/v1\nservices:\n")
	for i := range 20 {
		fmt.Fprintf(&b, "  - {protocol: tcp, address: 10.0.1.%d, port: 80, healthCheck: {type: tcp, interval: 1s}, destinations: [{address: 192.168.0.1}, {address: 192.168.0.2}]}\n", i+1)
	}
	k := fakeipvs.New()
	h := start(t, k, parse(t, b.String(), 1), Options{})
	if n := len(h.p.targets); n != 2 {
		t.Fatalf("%d probes for 2 servers behind 20 services, want 2", n)
	}
	k.ResetWrites()
	h.flip("192.168.0.1:80", healthcheck.Up, -1)
	if got := k.Requests().Writes; got != 20 {
		t.Errorf("%d writes, want 20 (one per service)", got)
	}
}

// TestRestartDoesNotFlap: a second agent over the table the first left
// sends nothing until results arrive.
func TestRestartDoesNotFlap(t *testing.T) {
	k := fakeipvs.New()
	h := start(t, k, parse(t, example, 1), Options{})
	h.flip("192.168.0.1:80", healthcheck.Up, -1)
	h.flip("192.168.0.2:80", healthcheck.Down, -1)
	before := weights(t, k)
	h.stop()
	k.ResetWrites()
	h2 := start(t, k, parse(t, example, 1), Options{})
	if got := k.Requests().Writes; got != 0 {
		t.Errorf("restart sent %d writes, want 0: %v", got, k.Writes)
	}
	if got := weights(t, k); got != before {
		t.Errorf("table changed by the restart:\n%s\nwant\n%s", got, before)
	}
	// The probes start as the table shows them: one lost probe does not
	// quiesce the server that is up, rise successes bring back the other.
	for addr, want := range map[string]healthcheck.State{"192.168.0.1:80": healthcheck.Up, "192.168.0.2:80": healthcheck.Down} {
		if got := h2.p.key(t, addr).Initial; got != want {
			t.Errorf("%s starts %s, want %s", addr, got, want)
		}
	}
	h2.flip("192.168.0.2:80", healthcheck.Up, -1)
	if got := k.Requests().Writes; got != 1 {
		t.Errorf("%d writes after the first result, want 1", got)
	}
}

func TestRemoveSorryQuorum(t *testing.T) {
	doc := `apiVersion: ipvsctl/v1
services:
  - protocol: tcp
    address: 10.0.0.1
    port: 80
    onFailure: remove
    quorum: 2
    healthCheck: {type: tcp}
    sorryServer: {address: 192.168.0.99, forward: masq}
    destinations:
      - {address: 192.168.0.1, forward: masq}
      - {address: 192.168.0.2, forward: masq}
`
	k := fakeipvs.New()
	h := start(t, k, parse(t, doc, 1), Options{})
	for _, step := range []struct {
		addr string
		to   healthcheck.State
		want string
	}{
		{"", 0, "TCP 10.0.0.1:80 192.168.0.99:80=1"},
		{"192.168.0.1:80", healthcheck.Up, "TCP 10.0.0.1:80 192.168.0.99:80=1"},
		{"192.168.0.2:80", healthcheck.Up, "TCP 10.0.0.1:80 192.168.0.1:80=1 192.168.0.2:80=1"},
		{"192.168.0.1:80", healthcheck.Down, "TCP 10.0.0.1:80 192.168.0.99:80=1"},
		{"192.168.0.1:80", healthcheck.Up, "TCP 10.0.0.1:80 192.168.0.1:80=1 192.168.0.2:80=1"},
	} {
		if step.addr != "" {
			h.flip(step.addr, step.to, -1)
		}
		if got := weights(t, k); got != step.want {
			t.Errorf("after %s %s:\n%s\nwant\n%s", step.addr, step.to, got, step.want)
		}
	}
	if !strings.Contains(h.log.String(), "sorry server 192.168.0.99:80 in") {
		t.Errorf("log does not say the sorry server came in:\n%s", h.log)
	}
}

func TestReloadSendsTheDifference(t *testing.T) {
	k := fakeipvs.New()
	h := start(t, k, parse(t, example, 1), Options{})
	h.flip("192.168.0.1:80", healthcheck.Up, -1)
	sets := h.p.sets
	k.ResetWrites()
	changed := strings.Replace(example, "{address: 192.168.0.9, weight: 5}", "{address: 192.168.0.9, weight: 6}", 1)
	if err := h.a.Reload(h.ctx, parse(t, changed, 2)); err != nil {
		t.Fatal(err)
	}
	if got := k.Requests().Writes; got != 1 {
		t.Errorf("reload sent %d writes, want 1: %v", got, k.Writes)
	}
	if h.p.sets != sets+1 {
		t.Errorf("checks not handed to the prober again")
	}
	// The server that was up stays up: its probe key did not change.
	if got := weights(t, k); !strings.Contains(got, "192.168.0.1:80=1") || !strings.Contains(got, "192.168.0.9:80=6") {
		t.Errorf("table after reload:\n%s", got)
	}
	// A service dropped from the document is deleted.
	k.ResetWrites()
	dropped := example[:strings.Index(example, "  - protocol: tcp\n    address: 10.0.0.2")]
	if err := h.a.Reload(h.ctx, parse(t, dropped, 3)); err != nil {
		t.Fatal(err)
	}
	if got := k.WriteCmds(); !slices.Equal(got, []ipvs.Command{ipvs.CmdDelService}) {
		t.Errorf("writes %v, want one DEL_SERVICE", got)
	}
	if st := h.settle(); st.Generation != 3 {
		t.Errorf("generation %d, want 3", st.Generation)
	}
}

func TestDriftRepaired(t *testing.T) {
	k := fakeipvs.New()
	h := start(t, k, parse(t, example, 1), Options{DriftInterval: 20 * time.Millisecond})
	h.flip("192.168.0.1:80", healthcheck.Up, -1)
	want := weights(t, k)
	// Someone else changes a weight and deletes a server.
	svc := ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: netip.MustParseAddr("10.0.0.2"), Port: 80}
	d := ipvs.Destination{Family: ipvs.AFInet, Address: netip.MustParseAddr("192.168.0.9"), Port: 80, Weight: 100, ForwardMethod: ipvs.FwdRoute}
	if err := k.UpdateDestination(svc.Key(), d); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for weights(t, k) != want {
		if time.Now().After(deadline) {
			t.Fatalf("not repaired:\n%s\nwant\n%s", weights(t, k), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	st := h.settle()
	if st.DriftRepaired < 1 {
		t.Errorf("DriftRepaired = %d", st.DriftRepaired)
	}
	h.logMu.Lock()
	defer h.logMu.Unlock()
	if !strings.Contains(h.log.String(), "drift check: update destination 192.168.0.9:80 of TCP 10.0.0.2:80: weight 100 -> 5") {
		t.Errorf("log:\n%s", h.log)
	}
}

func TestPruneWithinScope(t *testing.T) {
	k := fakeipvs.New()
	for _, a := range []string{"10.0.0.50", "10.9.0.1"} {
		if err := k.NewService(ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: netip.MustParseAddr(a), Port: 80, Scheduler: "wlc"}); err != nil {
			t.Fatal(err)
		}
	}
	sc, err := ipvsconfig.ParseScope("vip=10.0.0.0/24")
	if err != nil {
		t.Fatal(err)
	}
	start(t, k, parse(t, example, 1), Options{Prune: true, Scope: sc})
	got := weights(t, k)
	if strings.Contains(got, "10.0.0.50") || !strings.Contains(got, "10.9.0.1") {
		t.Errorf("prune within vip=10.0.0.0/24:\n%s", got)
	}
}

func TestWithdraw(t *testing.T) {
	k := fakeipvs.New()
	h := start(t, k, parse(t, example, 1), Options{})
	if err := h.a.Withdraw(h.ctx); err != nil {
		t.Fatal(err)
	}
	if got := weights(t, k); got != "" {
		t.Errorf("table after withdraw:\n%s", got)
	}
}

// TestAgentTakesTheLock: every request the agent sends or reads goes out
// while it holds the table lock; while another writer holds it, a flip
// waits and is applied once the lock is free.
func TestAgentTakesTheLock(t *testing.T) {
	k := fakeipvs.New()
	var (
		mu     sync.Mutex // the lock itself
		heldMu sync.Mutex
		held   bool // by the agent
		peek   bool // the test reads the table
		takes  int
	)
	outside := 0
	k.OnRead = func(*fakeipvs.Fake) {
		heldMu.Lock()
		defer heldMu.Unlock()
		if !held && !peek {
			outside++
		}
	}
	k.Fail = func(ipvs.Op) unix.Errno {
		heldMu.Lock()
		defer heldMu.Unlock()
		if !held {
			outside++
		}
		return 0
	}
	lock := func(ctx context.Context) (func(), error) {
		mu.Lock()
		heldMu.Lock()
		held, takes = true, takes+1
		heldMu.Unlock()
		return func() {
			heldMu.Lock()
			held = false
			heldMu.Unlock()
			mu.Unlock()
		}, nil
	}
	table := func() string {
		heldMu.Lock()
		peek = true
		heldMu.Unlock()
		defer func() {
			heldMu.Lock()
			peek = false
			heldMu.Unlock()
		}()
		return weights(t, k)
	}
	h := start(t, k, parse(t, example, 1), Options{Lock: lock})
	if takes != 1 {
		t.Errorf("the first sync took the lock %d times", takes)
	}
	// Another writer holds the table: the flip waits for it.
	mu.Lock()
	tg := h.p.key(t, "192.168.0.1:80")
	h.a.Transition(h.ctx, healthcheck.Transition{Key: tg.Key(), Target: tg, To: healthcheck.Up, Weight: -1})
	if got := table(); !strings.HasPrefix(got, "TCP 10.0.0.1:80 192.168.0.1:80=0 ") {
		t.Errorf("the flip was applied while another writer held the lock:\n%s", got)
	}
	mu.Unlock()
	h.settle()
	if got := table(); !strings.HasPrefix(got, "TCP 10.0.0.1:80 192.168.0.1:80=1 ") {
		t.Errorf("the flip was not applied once the lock was free:\n%s", got)
	}
	if err := h.a.Reload(h.ctx, parse(t, strings.Replace(example, "weight: 5", "weight: 6", 1), 2)); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if takes != 3 || outside != 0 {
		t.Errorf("lock taken %d times (want 3: start, flip, reload); %d requests outside it", takes, outside)
	}
}
