package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// patience bounds every wait of these tests: long, for slow machines.
const patience = 20 * time.Second

// eventually polls cond until it holds or patience runs out.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// scripted is an injected Probe: each probe waits for the test to hand
// it its result (or for the monitor to stop).
type scripted struct {
	mu      sync.Mutex
	feeds   map[string]chan Result
	waiting map[string]int // probes waiting for a result, by key
	checks  map[*Check]int // probes, by check
}

func newScripted() *scripted {
	return &scripted{feeds: map[string]chan Result{}, waiting: map[string]int{}, checks: map[*Check]int{}}
}

func (s *scripted) feed(key string) chan Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.feeds[key]
	if !ok {
		f = make(chan Result)
		s.feeds[key] = f
	}
	return f
}

func (s *scripted) probe(ctx context.Context, _ Env, c *Check, addr netip.AddrPort) Result {
	key := c.Key(addr)
	f := s.feed(key)
	s.mu.Lock()
	s.waiting[key]++
	s.checks[c]++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.waiting[key]--
		s.mu.Unlock()
	}()
	select {
	case r := <-f:
		return r
	case <-ctx.Done():
		return Result{Err: ctx.Err(), Weight: -1}
	}
}

// inFlight reports whether a probe of key waits for its result.
func (s *scripted) inFlight(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting[key] > 0
}

// start runs a monitor on opts until the test ends.
func start(t *testing.T, opts MonitorOptions, targets ...Target) *Monitor {
	t.Helper()
	m := NewMonitor(opts)
	m.Set(targets)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return m
}

func status(t *testing.T, m *Monitor, key string) Status {
	t.Helper()
	for _, s := range m.Status() {
		if s.Key == key {
			return s
		}
	}
	t.Fatalf("no status for %s", key)
	return Status{}
}

// step hands key's waiting probe the result r and waits for the monitor
// to count it.
func step(t *testing.T, m *Monitor, s *scripted, key string, r Result) {
	t.Helper()
	probes := status(t, m, key).Probes
	select {
	case s.feed(key) <- r:
	case <-time.After(patience):
		t.Fatalf("no probe of %s came", key)
	}
	eventually(t, "the result of "+key, func() bool { return status(t, m, key).Probes > probes })
}

// change is what the tests compare of a Transition.
type change struct {
	Key      string
	From, To State
	Weight   int
}

// receive takes n transitions.
func receive(t *testing.T, m *Monitor, n int) []change {
	t.Helper()
	var got []change
	for range n {
		select {
		case tr, ok := <-m.Changes():
			if !ok {
				t.Fatal("Changes closed")
			}
			got = append(got, change{tr.Key, tr.From, tr.To, tr.Weight})
		case <-time.After(patience):
			t.Fatalf("received %d transitions of %d: %v", len(got), n, got)
		}
	}
	return got
}

var (
	ok          = Result{OK: true, Weight: -1}
	bad         = Result{Err: errors.New("connection refused"), Weight: -1}
	serverA     = netip.MustParseAddrPort("10.0.0.1:80")
	serverB     = netip.MustParseAddrPort("10.0.0.2:80")
	serverC     = netip.MustParseAddrPort("10.0.0.3:80")
	fastCheck   = Check{Type: TCP, Interval: 5 * time.Millisecond, Timeout: 5 * time.Millisecond}
	weighted    = func(w int) Result { return Result{OK: true, Weight: w} }
	startOfTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

// fakeClock is a Now the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestMonitorStates: the first counted result, rise, fall, grace and
// dynamic weights, one result at a time.
func TestMonitorStates(t *testing.T) {
	type move struct {
		advance time.Duration // the clock, before the result
		result  Result
		want    []change // From, To, Weight
	}
	for _, c := range []struct {
		name    string
		check   Check
		initial State
		steps   []move
		want    Status // State, Weight, Flips, Successes, Failures
	}{{
		name:    "seeded up: one failure is not enough",
		check:   Check{Rise: 2, Fall: 2},
		initial: Up,
		steps: []move{
			{result: bad},
			{result: ok},
			{result: bad},
			{result: bad, want: []change{{From: Up, To: Down, Weight: -1}}},
		},
		want: Status{State: Down, Weight: -1, Flips: 1, Failures: 2},
	}, {
		name:    "seeded down: rise successes to come up",
		check:   Check{Rise: 2, Fall: 2},
		initial: Down,
		steps: []move{
			{result: ok},
			{result: ok, want: []change{{From: Down, To: Up, Weight: -1}}},
		},
		want: Status{State: Up, Weight: -1, Flips: 1, Successes: 2},
	}, {
		name:  "first failure",
		check: Check{Rise: 2, Fall: 3},
		steps: []move{
			{result: bad, want: []change{{From: Unknown, To: Down, Weight: -1}}},
			{result: ok},
			{result: ok, want: []change{{From: Down, To: Up, Weight: -1}}},
			{result: bad},
			{result: bad},
			{result: ok},
			{result: bad},
			{result: bad},
			{result: bad, want: []change{{From: Up, To: Down, Weight: -1}}},
			{result: bad},
		},
		want: Status{State: Down, Weight: -1, Flips: 2, Failures: 4},
	}, {
		name:  "first success",
		check: Check{Rise: 3, Fall: 2},
		steps: []move{
			{result: ok, want: []change{{From: Unknown, To: Up, Weight: -1}}},
			{result: bad},
			{result: bad, want: []change{{From: Up, To: Down, Weight: -1}}},
			{result: ok},
			{result: ok},
			{result: bad},
			{result: ok},
			{result: ok},
			{result: ok, want: []change{{From: Down, To: Up, Weight: -1}}},
		},
		want: Status{State: Up, Weight: -1, Flips: 2, Successes: 3},
	}, {
		name:  "defaults",
		check: Check{},
		steps: []move{
			{result: ok, want: []change{{From: Unknown, To: Up, Weight: -1}}},
			{result: bad},
			{result: bad},
			{result: bad, want: []change{{From: Up, To: Down, Weight: -1}}},
			{result: ok},
			{result: ok, want: []change{{From: Down, To: Up, Weight: -1}}},
		},
		want: Status{State: Up, Weight: -1, Flips: 2, Successes: 2},
	}, {
		name:  "grace",
		check: Check{Rise: 1, Fall: 2, Grace: time.Minute},
		steps: []move{
			{result: bad},
			{advance: 30 * time.Second, result: bad},
			{result: ok, want: []change{{From: Unknown, To: Up, Weight: -1}}},
			{result: bad},
			{result: bad},
			{result: bad},
			{advance: 30 * time.Second, result: bad},
			{result: bad, want: []change{{From: Up, To: Down, Weight: -1}}},
		},
		want: Status{State: Down, Weight: -1, Flips: 1, Failures: 2},
	}, {
		name:  "failure after grace",
		check: Check{Rise: 1, Fall: 5, Grace: time.Minute},
		steps: []move{
			{result: bad},
			{advance: time.Minute, result: bad, want: []change{{From: Unknown, To: Down, Weight: -1}}},
		},
		want: Status{State: Down, Weight: -1, Failures: 1},
	}, {
		name:  "dynamic weight",
		check: Check{Rise: 1, Fall: 1},
		steps: []move{
			{result: ok, want: []change{{From: Unknown, To: Up, Weight: -1}}},
			{result: weighted(5), want: []change{{From: Up, To: Up, Weight: 5}}},
			{result: weighted(5)},
			{result: weighted(0), want: []change{{From: Up, To: Up, Weight: 0}}},
			{result: bad, want: []change{{From: Up, To: Down, Weight: 0}}},
			{result: weighted(3), want: []change{{From: Down, To: Up, Weight: 3}}},
			{result: ok, want: []change{{From: Up, To: Up, Weight: -1}}},
		},
		want: Status{State: Up, Weight: -1, Flips: 2, Successes: 2},
	}, {
		name:  "weight while down",
		check: Check{Rise: 2, Fall: 1},
		steps: []move{
			{result: bad, want: []change{{From: Unknown, To: Down, Weight: -1}}},
			{result: weighted(4)},
			{result: weighted(6), want: []change{{From: Down, To: Up, Weight: 6}}},
		},
		want: Status{State: Up, Weight: 6, Flips: 1, Successes: 2},
	}} {
		t.Run(c.name, func(t *testing.T) {
			clock := &fakeClock{t: startOfTime}
			s := newScripted()
			var results []uint64
			var resultsMu sync.Mutex
			chk := fastCheck
			chk.Rise, chk.Fall, chk.Grace = c.check.Rise, c.check.Fall, c.check.Grace
			target := Target{Check: &chk, Addr: serverA, Initial: c.initial}
			key := target.Key()
			m := start(t, MonitorOptions{Probe: s.probe, Now: clock.now, OnResult: func(st Status) {
				resultsMu.Lock()
				results = append(results, st.Probes)
				resultsMu.Unlock()
			}}, target)

			var since time.Time
			for i, st := range c.steps {
				clock.advance(st.advance)
				step(t, m, s, key, st.result)
				if len(st.want) > 0 {
					since = clock.now()
				}
				for j := range st.want {
					st.want[j].Key = key
				}
				if diff := cmp.Diff(st.want, receive(t, m, len(st.want))); diff != "" {
					t.Errorf("step %d: transitions (-want +got):\n%s", i, diff)
				}
			}

			got := status(t, m, key)
			want := c.want
			want.Key, want.Target = key, target
			want.Last, want.LastTime = c.steps[len(c.steps)-1].result, clock.now()
			want.Since = since
			want.Probes = uint64(len(c.steps))
			if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.AddrPort{}), cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
				t.Errorf("Status (-want +got):\n%s", diff)
			}
			resultsMu.Lock()
			defer resultsMu.Unlock()
			var wantResults []uint64
			for i := range c.steps {
				wantResults = append(wantResults, uint64(i+1))
			}
			if diff := cmp.Diff(wantResults, results); diff != "" {
				t.Errorf("OnResult saw Probes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMonitorSet: surviving keys keep their state, removed ones go (the
// result of a probe in flight with them), new ones start Unknown, and a
// key set twice is watched once.
func TestMonitorSet(t *testing.T) {
	s := newScripted()
	chk := fastCheck
	chk.Rise, chk.Fall = 1, 1
	a, b, c := Target{Check: &chk, Addr: serverA}, Target{Check: &chk, Addr: serverB}, Target{Check: &chk, Addr: serverC}
	m := start(t, MonitorOptions{Probe: s.probe}, a, b)

	step(t, m, s, a.Key(), ok)
	step(t, m, s, b.Key(), bad)
	got := receive(t, m, 2)
	slices.SortFunc(got, func(x, y change) int { return strings.Compare(x.Key, y.Key) })
	want := []change{{a.Key(), Unknown, Up, -1}, {b.Key(), Unknown, Down, -1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("transitions (-want +got):\n%s", diff)
	}

	// b's next probe is in flight when b goes.
	eventually(t, "a probe of b", func() bool { return s.inFlight(b.Key()) })
	same := chk // an equal check: the same key as a
	m.Set([]Target{a, c, {Check: &same, Addr: serverA}})
	type brief struct {
		Key    string
		State  State
		Probes uint64
	}
	briefs := func() []brief {
		var bs []brief
		for _, st := range m.Status() {
			bs = append(bs, brief{st.Key, st.State, st.Probes})
		}
		return bs
	}
	if diff := cmp.Diff([]brief{{a.Key(), Up, 1}, {c.Key(), Unknown, 0}}, briefs()); diff != "" {
		t.Errorf("after Set (-want +got):\n%s", diff)
	}
	select {
	case s.feed(b.Key()) <- ok: // would bring b up
	case <-time.After(patience):
		t.Fatal("b's probe went")
	}
	step(t, m, s, c.Key(), ok)
	if diff := cmp.Diff([]change{{c.Key(), Unknown, Up, -1}}, receive(t, m, 1)); diff != "" {
		t.Errorf("transitions (-want +got):\n%s", diff)
	}

	// b again: a new target.
	m.Set([]Target{a, b, c})
	step(t, m, s, b.Key(), ok)
	if diff := cmp.Diff([]change{{b.Key(), Unknown, Up, -1}}, receive(t, m, 1)); diff != "" {
		t.Errorf("transitions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]brief{{a.Key(), Up, 1}, {b.Key(), Up, 1}, {c.Key(), Up, 1}}, briefs()); diff != "" {
		t.Errorf("after Set (-want +got):\n%s", diff)
	}
}

// TestMonitorDedup: targets with equal keys (equal checks, or servers
// sharing a side port) make one stream of probes, of the first target.
func TestMonitorDedup(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{} // check pointer and address
	running := map[string]int{}
	overlap := false
	first, second := fastCheck, fastCheck
	side1, side2 := fastCheck, fastCheck
	side1.Port, side2.Port = 8080, 8080
	probe := func(ctx context.Context, env Env, c *Check, addr netip.AddrPort) Result {
		k := c.Key(addr)
		mu.Lock()
		seen[fmt.Sprintf("%p %v", c, addr)]++
		running[k]++
		overlap = overlap || running[k] > 1
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		running[k]--
		mu.Unlock()
		return ok
	}
	m := start(t, MonitorOptions{Probe: probe},
		Target{Check: &first, Addr: serverA}, Target{Check: &second, Addr: serverA},
		Target{Check: &side1, Addr: netip.AddrPortFrom(serverB.Addr(), 80)}, Target{Check: &side2, Addr: netip.AddrPortFrom(serverB.Addr(), 81)})
	eventually(t, "ten probes each", func() bool {
		st := m.Status()
		return len(st) == 2 && st[0].Probes >= 10 && st[1].Probes >= 10
	})
	if n := len(m.Status()); n != 2 {
		t.Errorf("%d targets watched, want 2", n)
	}
	mu.Lock()
	defer mu.Unlock()
	var got []string
	for k := range seen {
		got = append(got, k)
	}
	slices.Sort(got)
	want := []string{fmt.Sprintf("%p %v", &first, serverA), fmt.Sprintf("%p %v", &side1, netip.AddrPortFrom(serverB.Addr(), 80))}
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("probed (-want +got):\n%s", diff)
	}
	if overlap {
		t.Error("two probes of one key ran at once")
	}
}

// TestMonitorInFlight: no more than MaxInFlight probes run at once, and
// every target gets its turn.
func TestMonitorInFlight(t *testing.T) {
	const max, n = 3, 50
	var running, peak atomic.Int64
	probe := func(ctx context.Context, env Env, c *Check, addr netip.AddrPort) Result {
		r := running.Add(1)
		for {
			p := peak.Load()
			if r <= p || peak.CompareAndSwap(p, r) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		running.Add(-1)
		return ok
	}
	chk := fastCheck
	chk.Interval = time.Millisecond
	var targets []Target
	for i := range n {
		targets = append(targets, Target{Check: &chk, Addr: netip.AddrPortFrom(serverA.Addr(), uint16(1000+i))})
	}
	m := start(t, MonitorOptions{Probe: probe, MaxInFlight: max}, targets...)
	eventually(t, "three probes of every target", func() bool {
		for _, st := range m.Status() {
			if st.Probes < 3 {
				return false
			}
		}
		return true
	})
	if p := peak.Load(); p > max {
		t.Errorf("%d probes ran at once, want at most %d", p, max)
	}
}

// TestOffset: the first probes of many targets spread over the interval.
func TestOffset(t *testing.T) {
	const n = 100
	chk := Check{Type: TCP, Interval: time.Second}
	deciles := map[time.Duration]bool{}
	distinct := map[time.Duration]bool{}
	for i := range n {
		d := offset(chk.Key(netip.AddrPortFrom(serverA.Addr(), uint16(1000+i))), chk.Interval)
		if d < 0 || d >= chk.Interval {
			t.Fatalf("offset %v is outside the interval", d)
		}
		distinct[d] = true
		deciles[d/(chk.Interval/10)] = true
	}
	if len(distinct) < n {
		t.Errorf("%d distinct offsets of %d", len(distinct), n)
	}
	if len(deciles) < 8 {
		t.Errorf("the offsets fall in %d tenths of the interval", len(deciles))
	}
}

// TestMonitorSpread: the first probes of 100 targets come at different
// times, not all at the start.
func TestMonitorSpread(t *testing.T) {
	const n = 100
	var mu sync.Mutex
	first := map[netip.AddrPort]time.Time{}
	probe := func(ctx context.Context, env Env, c *Check, addr netip.AddrPort) Result {
		mu.Lock()
		if _, ok := first[addr]; !ok {
			first[addr] = time.Now()
		}
		mu.Unlock()
		return ok
	}
	chk := fastCheck
	chk.Interval = 500 * time.Millisecond
	var targets []Target
	for i := range n {
		targets = append(targets, Target{Check: &chk, Addr: netip.AddrPortFrom(serverA.Addr(), uint16(1000+i))})
	}
	start(t, MonitorOptions{Probe: probe}, targets...)
	eventually(t, "a probe of every target", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(first) == n
	})
	mu.Lock()
	defer mu.Unlock()
	var times []time.Time
	for _, t := range first {
		times = append(times, t)
	}
	earliest, latest := slices.MinFunc(times, time.Time.Compare), slices.MaxFunc(times, time.Time.Compare)
	if span := latest.Sub(earliest); span < chk.Interval/5 {
		t.Errorf("the first probes came within %v, want them spread over %v", span, chk.Interval)
	}
}

// TestMonitorInterval: a target is probed an interval after its previous
// probe started, and never twice at once, even when a probe takes longer
// than the interval.
func TestMonitorInterval(t *testing.T) {
	for _, c := range []struct {
		name     string
		interval time.Duration
		takes    time.Duration
	}{
		{name: "quick probe", interval: 40 * time.Millisecond},
		{name: "slow probe", interval: 10 * time.Millisecond, takes: 40 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			var starts []time.Time
			var running int
			overlap := false
			probe := func(ctx context.Context, env Env, _ *Check, addr netip.AddrPort) Result {
				mu.Lock()
				starts = append(starts, time.Now())
				running++
				overlap = overlap || running > 1
				mu.Unlock()
				time.Sleep(c.takes)
				mu.Lock()
				running--
				mu.Unlock()
				return ok
			}
			chk := fastCheck
			chk.Interval = c.interval
			m := start(t, MonitorOptions{Probe: probe}, Target{Check: &chk, Addr: serverA})
			eventually(t, "six probes", func() bool { return m.Status()[0].Probes >= 6 })
			mu.Lock()
			defer mu.Unlock()
			min := max(c.interval, c.takes) / 2 // the clock is not read at the same point
			for i := 1; i < len(starts); i++ {
				if gap := starts[i].Sub(starts[i-1]); gap < min {
					t.Errorf("probe %d came %v after the previous one, want at least %v", i, gap, min)
				}
			}
			if overlap {
				t.Error("two probes ran at once")
			}
		})
	}
}

// TestMonitorSlowReceiver: while nobody receives, probes go on and the
// transitions of a target merge; what is received makes a chain from the
// first state to the last.
func TestMonitorSlowReceiver(t *testing.T) {
	s := newScripted()
	chk := fastCheck
	chk.Rise, chk.Fall = 1, 1
	a := Target{Check: &chk, Addr: serverA}
	m := start(t, MonitorOptions{Probe: s.probe}, a)
	for i := range 20 {
		r := ok
		if i%2 == 1 {
			r = bad
		}
		step(t, m, s, a.Key(), r)
	}
	got := receive(t, m, 1)
	if got[0].From == Unknown && got[0].To == Up {
		// The first was on its way before the others merged.
		got = append(got, receive(t, m, 1)...)
	}
	if len(got) > 2 || got[0].From != Unknown || got[len(got)-1].To != Down {
		t.Fatalf("transitions %v, want a chain from unknown to down of at most two", got)
	}
	for i := 1; i < len(got); i++ {
		if got[i].From != got[i-1].To {
			t.Errorf("transitions %v do not chain", got)
		}
	}
	if st := status(t, m, a.Key()); st.Flips != 19 || st.State != Down {
		t.Errorf("state %v after %d flips, want down after 19", st.State, st.Flips)
	}
}

// TestMonitorRunEnds: Run returns once ctx is done, after the probes in
// flight end, and closes Changes; a second Run fails.
func TestMonitorRunEnds(t *testing.T) {
	var running, started atomic.Int64
	probe := func(ctx context.Context, env Env, c *Check, addr netip.AddrPort) Result {
		running.Add(1)
		started.Add(1)
		defer running.Add(-1)
		<-ctx.Done()
		time.Sleep(20 * time.Millisecond) // a probe slow to give up
		return Result{Err: ctx.Err(), Weight: -1}
	}
	chk := fastCheck
	var targets []Target
	for i := range 10 {
		targets = append(targets, Target{Check: &chk, Addr: netip.AddrPortFrom(serverA.Addr(), uint16(1000+i))})
	}
	m := NewMonitor(MonitorOptions{Probe: probe, MaxInFlight: 4})
	m.Set(targets)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	eventually(t, "four probes", func() bool { return started.Load() == 4 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(patience):
		t.Fatal("Run did not return")
	}
	if n := running.Load(); n != 0 {
		t.Errorf("%d probes still run after Run returned", n)
	}
	if _, open := <-m.Changes(); open {
		t.Error("Changes is open after Run returned")
	}
	for _, st := range m.Status() {
		if st.Probes != 0 || st.State != Unknown {
			t.Errorf("%s: %d results counted, state %v, after a cancel", st.Key, st.Probes, st.State)
		}
	}
	if err := m.Run(context.Background()); err == nil {
		t.Error("a second Run did not fail")
	}
}

func TestStateString(t *testing.T) {
	got := []string{Unknown.String(), Up.String(), Down.String(), State(7).String()}
	if diff := cmp.Diff([]string{"unknown", "up", "down", "state(7)"}, got); diff != "" {
		t.Errorf("String (-want +got):\n%s", diff)
	}
}
