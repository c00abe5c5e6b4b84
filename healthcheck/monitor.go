package healthcheck

import (
	"container/heap"
	"context"
	"errors"
	"hash/fnv"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Target is one probe to run: a check against a server's address (the
// check's side port, when set, replaces the address's port).
type Target struct {
	Check *Check
	Addr  netip.AddrPort
	// Initial is the state a new target starts in. Unknown lets its first
	// counted result decide; Up (or Down) needs Fall failures (or Rise
	// successes) in a row to change, as if it had been probed before: a
	// restarted caller seeds it from what it finds, so one lost probe
	// does not flap a server.
	Initial State
}

// Key identifies the probe: Check.Key(Addr). Targets with equal Keys are
// probed once.
func (t Target) Key() string { return t.Check.Key(t.Addr) }

// State is what a Monitor knows of a target.
type State int

// The states of a target.
const (
	// Unknown is the state of a target before its first counted result:
	// the caller keeps the server as it is.
	Unknown State = iota
	// Up is a target that passes.
	Up
	// Down is a target that fails.
	Down
)

// String returns "unknown", "up" or "down".
func (s State) String() string {
	switch s {
	case Unknown:
		return "unknown"
	case Up:
		return "up"
	case Down:
		return "down"
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// Status is what a Monitor knows of one target.
type Status struct {
	Key    string
	Target Target
	State  State
	// Weight is the weight the last passing probe asked for (an exec
	// check with DynamicWeight), or -1.
	Weight int
	// Last is the last result and LastTime when it came (zero before the
	// first).
	Last     Result
	LastTime time.Time
	// Since is the time of the last change of State, or when the target
	// was added.
	Since time.Time
	// Flips counts the changes between Up and Down (not the first result).
	Flips uint64
	// Probes counts the results.
	Probes uint64
	// Successes and Failures count the consecutive passing and counted
	// failing results up to the last one; one of them is zero.
	Successes, Failures int
}

// Transition is a change of a target's State, or of the Weight of a
// target that is Up (then From and To are both Up).
type Transition struct {
	Key      string
	Target   Target
	From, To State
	Weight   int
	Result   Result // the result that made the change
}

// MonitorOptions configures a Monitor; the zero value is usable.
type MonitorOptions struct {
	// MaxInFlight bounds the probes running at once (default 64); the
	// others wait their turn.
	MaxInFlight int
	// Env is where the probes run.
	Env Env
	// Probe runs one probe (default Probe).
	Probe func(ctx context.Context, env Env, c *Check, target netip.AddrPort) Result
	// Now is the clock of the statuses' times and of the grace periods
	// (default time.Now). The schedule runs on the real clock.
	Now func() time.Time
	// OnResult, when set, is called after every probe with the target's
	// new status, from the probe's goroutine, in order for each target;
	// it delays that target's next probe and holds a slot of MaxInFlight
	// while it runs, so it must not block long.
	OnResult func(Status)
}

// DefaultMaxInFlight is the default bound of the probes in flight.
const DefaultMaxInFlight = 64

// Monitor probes a set of targets, each once per its check's interval,
// and follows their states: a target starts Unknown, its first counted
// result sets Up or Down directly, then Rise consecutive successes bring
// it Up and Fall consecutive failures take it Down. Failures within the
// check's Grace after the target was added are not counted (successes
// are).
//
// The first probe of a target comes at an offset within its interval
// (the hash of its Key modulo the interval, after Set or the start of
// Run), which spreads the probes of many targets over the interval; the
// next is due an interval after the previous one started, or when it ends
// if it took longer. At most MaxInFlight probes run at once; due probes
// wait for a slot in the order they fell due.
//
// One goroutine schedules, from a heap of due times; each probe runs on a
// goroutine of its own.
type Monitor struct {
	opts    MonitorOptions
	changes chan Transition
	wake    chan struct{} // to the scheduler: targets changed, a slot is free
	notify  chan struct{} // to the deliverer: a transition is pending

	mu       sync.Mutex
	entries  map[string]*entry
	due      dueHeap  // the targets waiting for their time
	ready    []*entry // the targets due, waiting for a slot
	inFlight int
	started  bool // Run was called
	pending  map[string]*Transition
	order    []string // the keys of pending, oldest first (with stale ones)
}

// entry is one target of a Monitor.
type entry struct {
	status  Status
	added   time.Time // on the Now clock: the grace runs from here
	next    time.Time // on the real clock: the next probe is due
	index   int       // in Monitor.due, or -1
	removed bool
}

// NewMonitor returns a Monitor watching nothing; Set gives it targets and
// Run runs it.
func NewMonitor(opts MonitorOptions) *Monitor {
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = DefaultMaxInFlight
	}
	if opts.Probe == nil {
		opts.Probe = Probe
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Monitor{
		opts:    opts,
		changes: make(chan Transition),
		wake:    make(chan struct{}, 1),
		notify:  make(chan struct{}, 1),
		entries: map[string]*entry{},
		pending: map[string]*Transition{},
	}
}

// Changes returns the channel of the transitions, sent while Run runs and
// closed when it returns.
//
// Transitions of one target arrive in order and none is lost, but while
// the receiver is slow those of one target are merged: From is the state
// the receiver last heard of, To, Weight and Result the latest (so From
// may equal To). A transition not received when Run returns, or of a
// target Set removed, is dropped.
func (m *Monitor) Changes() <-chan Transition { return m.changes }

// Set replaces the targets watched, taking each Key once. Targets already
// watched keep their state and schedule (and take the new Target); the
// others stop, the results of their probes in flight dropped; new ones
// start in their Initial state. Set is safe while Run runs.
func (m *Monitor) Set(targets []Target) {
	m.mu.Lock()
	now, wall := time.Now(), m.opts.Now()
	keep := make(map[string]bool, len(targets))
	for _, t := range targets {
		k := t.Key()
		if keep[k] {
			continue
		}
		keep[k] = true
		if e, ok := m.entries[k]; ok {
			e.status.Target = t
			continue
		}
		e := &entry{status: Status{Key: k, Target: t, State: t.Initial, Weight: -1, Since: wall}, added: wall, index: -1}
		m.entries[k] = e
		if m.started {
			e.next = now.Add(offset(k, interval(t.Check)))
			heap.Push(&m.due, e)
		}
	}
	for k, e := range m.entries {
		if keep[k] {
			continue
		}
		delete(m.entries, k)
		delete(m.pending, k)
		e.removed = true
		if e.index >= 0 {
			heap.Remove(&m.due, e.index)
		}
	}
	m.mu.Unlock()
	signal(m.wake)
}

// Status returns the status of every target, sorted by Key.
func (m *Monitor) Status() []Status {
	m.mu.Lock()
	s := make([]Status, 0, len(m.entries))
	for _, e := range m.entries {
		s = append(s, e.status)
	}
	m.mu.Unlock()
	slices.SortFunc(s, func(a, b Status) int { return strings.Compare(a.Key, b.Key) })
	return s
}

// Run probes the targets until ctx is done, then waits for the probes in
// flight to end (their results are dropped), closes Changes and returns
// nil. A Monitor runs once: a second call returns an error.
func (m *Monitor) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.started {
		m.mu.Unlock()
		return errors.New("healthcheck: the monitor has already run")
	}
	m.started = true
	now := time.Now()
	for k, e := range m.entries {
		e.next = now.Add(offset(k, interval(e.status.Target.Check)))
		heap.Push(&m.due, e)
	}
	m.mu.Unlock()

	stop, delivered := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(delivered)
		m.deliver(stop)
	}()
	var probes sync.WaitGroup
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if wait, ok := m.startDue(ctx, &probes); ok {
			timer.Reset(wait)
		} else {
			timer.Stop()
		}
		select {
		case <-ctx.Done():
			probes.Wait()
			close(stop)
			<-delivered
			close(m.changes)
			return nil
		case <-timer.C:
		case <-m.wake:
		}
	}
}

// startDue starts the probes that are due, as many as there are free
// slots, and returns the time until the next is due (false: none is).
func (m *Monitor) startDue(ctx context.Context, probes *sync.WaitGroup) (time.Duration, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	for len(m.due) > 0 && !m.due[0].next.After(now) {
		m.ready = append(m.ready, heap.Pop(&m.due).(*entry))
	}
	for m.inFlight < m.opts.MaxInFlight && len(m.ready) > 0 {
		e := m.ready[0]
		m.ready[0] = nil
		m.ready = m.ready[1:]
		if e.removed {
			continue
		}
		m.inFlight++
		probes.Add(1)
		go m.probe(ctx, probes, e, e.status.Target)
	}
	if len(m.due) == 0 {
		return 0, false
	}
	return m.due[0].next.Sub(now), true
}

// probe runs one probe of e, records its result and schedules the next.
func (m *Monitor) probe(ctx context.Context, probes *sync.WaitGroup, e *entry, t Target) {
	defer probes.Done()
	start := time.Now()
	r := m.opts.Probe(ctx, m.opts.Env, t.Check, t.Addr)

	m.mu.Lock()
	counted := ctx.Err() == nil && !e.removed
	var st Status
	if counted {
		st = m.record(e, r)
	}
	m.mu.Unlock()
	if counted && m.opts.OnResult != nil {
		m.opts.OnResult(st)
	}

	m.mu.Lock()
	m.inFlight--
	wake := len(m.ready) > 0
	if ctx.Err() == nil && !e.removed {
		e.next = start.Add(interval(e.status.Target.Check))
		if now := time.Now(); e.next.Before(now) {
			e.next = now
		}
		heap.Push(&m.due, e)
		wake = wake || m.due[0] == e // earlier than the scheduler's timer
	}
	m.mu.Unlock()
	if wake {
		signal(m.wake)
	}
}

// record counts r, a result of e, and queues the transition it makes;
// it returns e's new status.
func (m *Monitor) record(e *entry, r Result) Status {
	now := m.opts.Now()
	st := &e.status
	st.Probes++
	st.Last, st.LastTime = r, now
	c := st.Target.Check
	if !r.OK && now.Before(e.added.Add(c.Grace)) {
		return *st
	}
	from := st.State
	if r.OK {
		st.Successes++
		st.Failures = 0
		weightChanged := st.Weight != r.Weight
		st.Weight = r.Weight
		switch {
		case from == Unknown, from == Down && st.Successes >= rise(c):
			st.State = Up
		case from == Up && weightChanged:
			m.queue(Transition{Key: st.Key, Target: st.Target, From: Up, To: Up, Weight: st.Weight, Result: r})
		}
	} else {
		st.Failures++
		st.Successes = 0
		if from == Unknown || from == Up && st.Failures >= fall(c) {
			st.State = Down
		}
	}
	if st.State != from {
		st.Since = now
		if from != Unknown {
			st.Flips++
		}
		m.queue(Transition{Key: st.Key, Target: st.Target, From: from, To: st.State, Weight: st.Weight, Result: r})
	}
	return *st
}

// queue makes tr pending, merged with a pending transition of its target.
func (m *Monitor) queue(tr Transition) {
	if p, ok := m.pending[tr.Key]; ok {
		tr.From = p.From
		*p = tr
		return
	}
	m.pending[tr.Key] = &tr
	m.order = append(m.order, tr.Key)
	signal(m.notify)
}

// next takes the oldest pending transition.
func (m *Monitor) next() (Transition, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.order) > 0 {
		k := m.order[0]
		m.order = m.order[1:]
		if p, ok := m.pending[k]; ok {
			delete(m.pending, k)
			return *p, true
		}
	}
	m.order = nil
	return Transition{}, false
}

// deliver sends the pending transitions on the Changes channel until stop
// is closed.
func (m *Monitor) deliver(stop <-chan struct{}) {
	for {
		tr, ok := m.next()
		if !ok {
			select {
			case <-m.notify:
				continue
			case <-stop:
				return
			}
		}
		select {
		case m.changes <- tr:
		case <-stop:
			return
		}
	}
}

// signal wakes the goroutine waiting on c, without blocking.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// offset is the time from its start to a target's first probe: the hash
// of its key modulo its interval.
func offset(key string, interval time.Duration) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(key))
	return time.Duration(h.Sum64() % uint64(interval))
}

func interval(c *Check) time.Duration {
	if c.Interval > 0 {
		return c.Interval
	}
	return DefaultInterval
}

func rise(c *Check) int {
	if c.Rise > 0 {
		return c.Rise
	}
	return DefaultRise
}

func fall(c *Check) int {
	if c.Fall > 0 {
		return c.Fall
	}
	return DefaultFall
}

// dueHeap orders entries by their next due time.
type dueHeap []*entry

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h dueHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *dueHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}

func (h *dueHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}
