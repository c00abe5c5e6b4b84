package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/healthcheck"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/ipvs-tools/ipvs/ipvsplan"
	"golang.org/x/sys/unix"
)

// Document is a validated document and where it came from.
type Document struct {
	Desired *ipvsconfig.Desired
	// Source names it in logs and the status ("/etc/ipvs/lb.yaml").
	Source string
	// Generation counts the documents applied: 1 for the first, one more
	// at each reload that was accepted.
	Generation int64
}

// Prober runs the health checks; *healthcheck.Monitor is one. The agent
// calls Set with the checks of its document and reads Status for
// /status; transitions reach the agent through Agent.Transition.
type Prober interface {
	Set([]healthcheck.Target)
	Status() []healthcheck.Status
}

// Options configure an Agent.
type Options struct {
	// IPVS is the table's kernel (or a fake).
	IPVS backend.IPVS
	// Prober runs the checks.
	Prober Prober
	// Scope limits the services the agent touches (nil: all).
	Scope *ipvsconfig.Scope
	// Prune deletes in-scope services the document does not list, at
	// start and at each drift check.
	Prune bool
	// DriftInterval is the time between two drift checks (0: none).
	DriftInterval time.Duration
	// BatchSize is the number of requests per batch (default
	// ipvsplan.DefaultBatchSize).
	BatchSize int
	// Logf writes one line of log (no time stamp: journald adds it).
	Logf func(format string, args ...any)
	// Now is the clock (default time.Now).
	Now func() time.Time
	// RetryMin is the first wait before repairing after a failed read or
	// a refused write (default 1s); it doubles at each failure up to the
	// drift interval (1 minute without drift checks).
	RetryMin time.Duration
	// Lock, if set, takes the table lock (ipvslock) for as long as the
	// agent reads and writes the table for one event (a sync, a reload,
	// a health flip, the withdrawal), waiting for other writers; it
	// fails only when ctx ends.
	Lock func(ctx context.Context) (release func(), err error)
}

// maxLogged bounds the changes listed in the log for one event.
const maxLogged = 20

// Agent is the reconciliation loop. Create it with New, start it with
// Run; Reload, Transition, Withdraw, Status and Ping may be called from
// other goroutines.
type Agent struct {
	opts Options
	ctx  context.Context // Run's

	events chan event
	// mu guards status.
	mu     sync.Mutex
	status Status
	// synced is set once a sync has read the table.
	synced atomic.Bool

	// The loop's state, owned by Run's goroutine.
	doc *Document
	// listed is the set of services doc lists.
	listed map[ipvs.ServiceKey]bool
	// applied is what the agent believes each service it read or wrote
	// is in the kernel.
	applied map[ipvs.ServiceKey]ipvs.VirtualServer
	// health is the state of each probe by its key; a missing key is
	// Unknown.
	health map[string]probeState
	// users lists, for each probe key, the indexes of the services that
	// use it; keys[i][j] is the probe key of service i's destination j
	// ("" when not checked).
	users map[string][]int
	keys  [][]string
	// given are the probe keys handed to the prober (seeded once);
	// targetsSet says the prober has the current document's checks.
	given      map[string]bool
	targetsSet bool
	// sorry records which services have their sorry server in.
	sorry map[ipvs.ServiceKey]bool
	// dropped are services an earlier document listed and the current
	// one does not: the agent owes their deletion until it succeeds.
	dropped map[ipvs.ServiceKey]bool
	// stopped is set by Withdraw: nothing is written afterwards.
	stopped bool
	// repair asks for a sync after wait (a failed read or write).
	repair bool
	wait   time.Duration
}

type probeState struct {
	state  healthcheck.State
	weight int // -1: the document's
}

type event struct {
	reload   *Document
	flip     *healthcheck.Transition
	withdraw bool
	done     chan error
	query    chan *Status
	ping     chan struct{}
	ctx      context.Context // of a query: skipped once done
}

// New returns an agent; nothing is sent before Run.
func New(opts Options) *Agent {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = ipvsplan.DefaultBatchSize
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = time.Second
	}
	return &Agent{opts: opts, events: make(chan event, 1024),
		applied: map[ipvs.ServiceKey]ipvs.VirtualServer{}, health: map[string]probeState{},
		given: map[string]bool{}, sorry: map[ipvs.ServiceKey]bool{}, dropped: map[ipvs.ServiceKey]bool{},
		wait: opts.RetryMin}
}

// Transition hands the agent a health transition. It blocks only while
// the agent's queue is full.
func (a *Agent) Transition(ctx context.Context, t healthcheck.Transition) {
	select {
	case a.events <- event{flip: &t}:
	case <-ctx.Done():
	}
}

// call sends ev to the loop and waits for its answer on ev.done.
func (a *Agent) call(ctx context.Context, ev event) error {
	ev.done = make(chan error, 1)
	select {
	case a.events <- ev:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-ev.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Reload replaces the document: the checks of servers that stay keep their
// state, services the new document adds are read first (so one that
// exists is adopted, not added again), and only the difference is sent.
// Services the old document listed and the new one does not are deleted,
// unless someone else changed them since the agent last wrote them. It
// returns once the new document is applied; refused changes are repaired
// later.
func (a *Agent) Reload(ctx context.Context, doc *Document) error {
	return a.call(ctx, event{reload: doc})
}

// Withdraw deletes the document's services that are in the table (for
// ipvsctl agent --withdraw at exit); afterwards the agent writes nothing
// more. Cancel Run's context next.
func (a *Agent) Withdraw(ctx context.Context) error {
	return a.call(ctx, event{withdraw: true})
}

// Ping returns once the loop has handled everything queued before: the
// loop is alive (for /healthz and the systemd watchdog).
func (a *Agent) Ping(ctx context.Context) error {
	p := make(chan struct{}, 1)
	select {
	case a.events <- event{ping: p}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-p:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Synced reports whether a sync has read the table since the start.
func (a *Agent) Synced() bool { return a.synced.Load() }

// Run applies doc, then keeps the table right until ctx is done. It calls
// ready once the first sync is done (successful or not). It returns nil
// when ctx is cancelled; the table is left as it is: no event queued
// after the cancellation is handled.
func (a *Agent) Run(ctx context.Context, doc *Document, ready func()) error {
	a.ctx = ctx
	a.index(doc)
	_ = a.locked(func() {
		if err := a.sync("start"); err != nil {
			a.failed("start", err)
		}
	})
	if ready != nil {
		ready()
	}
	var tick <-chan time.Time
	if a.opts.DriftInterval > 0 {
		t := time.NewTicker(a.opts.DriftInterval)
		defer t.Stop()
		tick = t.C
	}
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	for {
		if ctx.Err() != nil {
			return nil
		}
		if a.repair {
			retry.Reset(a.wait)
			a.repair = false
		}
		select {
		case <-ctx.Done():
			return nil
		case ev := <-a.events:
			if ctx.Err() != nil {
				return nil // SIGTERM: nothing more is written
			}
			a.handle(ev)
		case <-tick:
			a.check("drift check")
		case <-retry.C:
			a.check("repair")
		}
	}
}

func (a *Agent) handle(ev event) {
	switch {
	case ev.reload != nil:
		var err error
		if lerr := a.locked(func() { err = a.reload(ev.reload) }); lerr != nil {
			err = lerr
		}
		ev.done <- err
	case ev.flip != nil:
		_ = a.locked(func() { a.flip(*ev.flip) })
	case ev.query != nil:
		if ev.ctx == nil || ev.ctx.Err() == nil {
			ev.query <- a.snapshot()
		}
	case ev.ping != nil:
		ev.ping <- struct{}{}
	case ev.withdraw:
		var err error
		if lerr := a.locked(func() { err = a.withdraw() }); lerr != nil {
			err = lerr
		}
		ev.done <- err
	}
}

// locked runs fn holding the table lock (Options.Lock), so that no other
// writer changes the table between the agent's read and its writes. It
// returns the lock's error (the agent is stopping) without running fn.
func (a *Agent) locked(fn func()) error {
	if a.opts.Lock == nil {
		fn()
		return nil
	}
	ctx := a.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	release, err := a.opts.Lock(ctx)
	if err != nil {
		return fmt.Errorf("waiting for the IPVS table lock: %w", err)
	}
	defer release()
	fn()
	return nil
}

// check runs a drift check or a repair.
func (a *Agent) check(why string) {
	if a.stopped {
		return
	}
	_ = a.locked(func() {
		if err := a.sync(why); err != nil {
			a.failed(why, err)
			return
		}
		a.wait = a.opts.RetryMin
	})
}

// failed schedules a repair, waiting twice as long as the last time up
// to the drift interval.
func (a *Agent) failed(why string, err error) {
	a.repair = true
	var re *refusedError
	if errors.As(err, &re) {
		a.opts.Logf("%s: retrying in %s", why, a.wait) // send listed the refusals
	} else {
		a.opts.Logf("%s: %v; retrying in %s", why, err, a.wait)
	}
	limit := a.opts.DriftInterval
	if limit <= 0 {
		limit = time.Minute
	}
	a.wait = min(2*a.wait, max(limit, a.opts.RetryMin))
}

// index makes doc the current document: the probe keys of its checked
// destinations and the services using each.
func (a *Agent) index(doc *Document) {
	a.doc = doc
	want := doc.Desired
	a.targetsSet = false
	a.listed = make(map[ipvs.ServiceKey]bool, len(want.Services))
	for _, vs := range want.Services {
		a.listed[vs.Service.Key()] = true
	}
	a.users = map[string][]int{}
	a.keys = make([][]string, len(want.Services))
	for i := range want.Services {
		h := health(want, i)
		if h == nil {
			continue
		}
		a.keys[i] = make([]string, len(h.Checks))
		for j, c := range h.Checks {
			if c == nil {
				continue
			}
			k := c.Key(ipvsconfig.CheckTarget(want.Services[i].Destinations[j]))
			a.keys[i][j] = k
			if u := a.users[k]; len(u) == 0 || u[len(u)-1] != i {
				a.users[k] = append(u, i)
			}
		}
	}
	// Probes that are gone lose their state; the others keep it.
	for k := range a.health {
		if _, ok := a.users[k]; !ok {
			delete(a.health, k)
		}
	}
	for k := range a.given {
		if _, ok := a.users[k]; !ok {
			delete(a.given, k)
		}
	}
	for k := range a.sorry {
		if !a.listed[k] {
			delete(a.sorry, k)
		}
	}
	a.setStatus(func(s *Status) {
		s.Source, s.Generation, s.LoadedAt = doc.Source, doc.Generation, a.opts.Now()
		s.Services, s.Probes = len(want.Services), len(a.users)
	})
}

// setTargets hands the prober the document's checks, once per document.
// A probe it has not had yet starts in the state the table shows (seed),
// so that a restart or a reload does not flap its servers.
func (a *Agent) setTargets() {
	if a.targetsSet {
		return
	}
	a.targetsSet = true
	want := a.doc.Desired
	targets := make([]healthcheck.Target, 0, len(a.users))
	seen := make(map[string]bool, len(a.users))
	for i, ks := range a.keys {
		for j, k := range ks {
			if k == "" || seen[k] {
				continue
			}
			seen[k] = true
			tg := healthcheck.Target{Check: want.Health[i].Checks[j], Addr: ipvsconfig.CheckTarget(want.Services[i].Destinations[j])}
			if !a.given[k] {
				st := a.seed(k)
				tg.Initial = st.state
				if st.state != healthcheck.Unknown {
					a.health[k] = st
				}
				a.given[k] = true
			}
			targets = append(targets, tg)
		}
	}
	a.opts.Prober.Set(targets)
}

// seed reads the state of probe k from the table as last read or
// written: up if one of its servers has a weight, down if they are
// quiesced (or removed, in a service that removes failed servers),
// unknown for servers the table has never had.
func (a *Agent) seed(k string) probeState {
	want := a.doc.Desired
	up, down, weight := false, false, -1
	for _, i := range a.users[k] {
		cur, ok := a.applied[want.Services[i].Service.Key()]
		if !ok {
			continue
		}
		for j, dk := range a.keys[i] {
			if dk != k {
				continue
			}
			d := want.Services[i].Destinations[j]
			kd, present := findDest(cur.Destinations, d.Key())
			switch {
			case present && kd.Weight > 0:
				up = true
				if want.Health[i].Checks[j].DynamicWeight {
					weight = int(kd.Weight)
				}
			case present, want.Health[i].OnFailure == ipvsconfig.Remove:
				down = true
			}
		}
	}
	switch {
	case up:
		return probeState{healthcheck.Up, weight}
	case down:
		return probeState{healthcheck.Down, -1}
	}
	return probeState{healthcheck.Unknown, -1}
}

func findDest(ds []ipvs.Destination, k ipvs.DestKey) (ipvs.Destination, bool) {
	for _, d := range ds {
		if d.Key() == k {
			return d, true
		}
	}
	return ipvs.Destination{}, false
}

func health(want *ipvsconfig.Desired, i int) *ipvsconfig.ServiceHealth {
	if want.Health == nil || want.Health[i] == nil || !want.Health[i].Checked() {
		return nil
	}
	return want.Health[i]
}

// sync reads the services the agent manages, seeds new probes, logs
// what differs from the document and health and sends the difference.
func (a *Agent) sync(why string) error {
	want, listed := a.doc.Desired, a.listed
	live, err := ipvs.ReadTable(a.opts.IPVS, func(k ipvs.ServiceKey) bool {
		return listed[k] || a.dropped[k] || (a.opts.Prune && a.opts.Scope.Match(k))
	})
	if err != nil {
		return fmt.Errorf("read the table: %w", err)
	}
	a.applied = make(map[ipvs.ServiceKey]ipvs.VirtualServer, len(live))
	for _, vs := range live {
		a.applied[vs.Service.Key()] = vs
	}
	first := !a.synced.Load()
	a.synced.Store(true)
	a.setTargets()
	changes := a.appendEffective(nil, nil)
	for _, vs := range live {
		k := vs.Service.Key()
		if !listed[k] && (a.dropped[k] || a.opts.Prune) {
			changes = append(changes, deleteService(vs))
		}
	}
	for k := range a.dropped {
		if _, ok := a.applied[k]; !ok || listed[k] {
			delete(a.dropped, k) // gone already, or listed again
		}
	}
	switch {
	case why == "start" || first:
		a.opts.Logf("%s: %s generation %d: %d service%s, %d probe%s; %d change%s to the table",
			why, a.doc.Source, a.doc.Generation, len(want.Services), cmdutil.Plural(len(want.Services)),
			len(a.users), cmdutil.Plural(len(a.users)), len(changes), cmdutil.Plural(len(changes)))
	case len(changes) == 0:
	case why == "drift check":
		a.opts.Logf("%s: the table had drifted: %d change%s", why, len(changes), cmdutil.Plural(len(changes)))
	default:
		a.opts.Logf("%s: %d change%s", why, len(changes), cmdutil.Plural(len(changes)))
	}
	if why == "drift check" {
		a.logChanges(why+": ", changes)
	}
	done, err := a.send(changes, why)
	now := a.opts.Now()
	a.setStatus(func(s *Status) {
		s.LastSync = now
		if why == "drift check" {
			s.DriftChecks++
			s.DriftRepaired += done
		}
	})
	return err
}

func deleteService(vs ipvs.VirtualServer) ipvsplan.Change {
	return ipvsplan.Change{Kind: ipvsplan.DeleteService, Service: vs.Service.Key(), OldService: vs.Service, Dests: vs.Destinations}
}

// logChanges logs at most maxLogged changes.
func (a *Agent) logChanges(prefix string, changes []ipvsplan.Change) {
	for i, c := range changes {
		if i == maxLogged {
			a.opts.Logf("%s... and %d more", prefix, len(changes)-maxLogged)
			return
		}
		a.opts.Logf("%s%s", prefix, describe(c))
	}
}

// describe says what a change does, with the weights of updated servers.
func describe(c ipvsplan.Change) string {
	if c.Kind == ipvsplan.UpdateDest && c.OldDest.Weight != c.NewDest.Weight {
		return fmt.Sprintf("%s: weight %d -> %d", c, c.OldDest.Weight, c.NewDest.Weight)
	}
	return c.String()
}

// appendEffective appends the changes that bring services (all of the
// document's when nil) from a.applied to what the document and health
// ask for.
func (a *Agent) appendEffective(out []ipvsplan.Change, services []int) []ipvsplan.Change {
	add := func(i int) {
		vs := a.effective(i)
		if cur, ok := a.applied[vs.Service.Key()]; ok {
			out = ipvsplan.AppendServiceChanges(out, &cur, vs)
		} else {
			out = ipvsplan.AppendServiceChanges(out, nil, vs)
		}
	}
	if services == nil {
		for i := range a.doc.Desired.Services {
			add(i)
		}
	}
	for _, i := range services {
		add(i)
	}
	return out
}

// send applies changes, recording in a.applied those the kernel accepted
// (and the deletions of what is already gone). It returns the number
// applied and, when some were refused, an error that says how many and
// the first; a repair is then due.
func (a *Agent) send(changes []ipvsplan.Change, why string) (int, error) {
	if len(changes) == 0 {
		return 0, nil
	}
	res := ipvsplan.Apply(a.opts.IPVS, slices.Values(changes), ipvsplan.ApplyOptions{BatchSize: a.opts.BatchSize, KeepGoing: true, Record: true})
	for _, c := range res.Applied {
		a.record(c)
	}
	var refused []ipvsplan.Failure
	for _, f := range res.Failed {
		if f.Change.Kind == ipvsplan.DeleteService && (errors.Is(f.Err, unix.ESRCH) || errors.Is(f.Err, unix.ENOENT)) {
			a.record(f.Change) // someone deleted it first
			continue
		}
		refused = append(refused, f)
	}
	if len(refused) == 0 {
		a.setStatus(func(s *Status) { s.Requests += res.Done; s.LastError = "" })
		return res.Done, nil
	}
	for i, f := range refused {
		if i == 5 {
			a.opts.Logf("%s: ... and %d more refused", why, len(refused)-5)
			break
		}
		a.opts.Logf("%s: the kernel refused to %s: %v", why, f.Change, kernelWords(f.Err))
	}
	msg := fmt.Sprintf("the kernel refused to %s: %v", refused[0].Change, kernelWords(refused[0].Err))
	if len(refused) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(refused)-1)
	}
	a.setStatus(func(s *Status) { s.Requests += res.Done; s.LastError = msg; s.Errors += len(refused) })
	return res.Done, &refusedError{msg}
}

// refusedError is the kernel's refusal of some changes of a send, which
// send has logged.
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }

// kernelWords is the errno of a refused request without the request's
// name (the change already says what it was).
func kernelWords(err error) error {
	var ie *ipvs.Error
	if errors.As(err, &ie) && ie.Err != nil {
		return ie.Err
	}
	return err
}

// record updates a.applied with one change the kernel accepted.
func (a *Agent) record(c ipvsplan.Change) {
	vs := a.applied[c.Service]
	switch c.Kind {
	case ipvsplan.AddService, ipvsplan.UpdateService:
		vs.Service = c.NewService
	case ipvsplan.DeleteService:
		delete(a.applied, c.Service)
		delete(a.dropped, c.Service)
		return
	case ipvsplan.AddDest:
		vs.Destinations = append(slices.Clip(vs.Destinations), c.NewDest)
	case ipvsplan.UpdateDest, ipvsplan.DeleteDest:
		k := c.OldDest.Key()
		i := slices.IndexFunc(vs.Destinations, func(d ipvs.Destination) bool { return d.Key() == k })
		if i < 0 {
			break
		}
		vs.Destinations = slices.Clone(vs.Destinations)
		if c.Kind == ipvsplan.UpdateDest {
			vs.Destinations[i] = c.NewDest
		} else {
			vs.Destinations = slices.Delete(vs.Destinations, i, i+1)
		}
	}
	a.applied[c.Service] = vs
}

// reload applies a new document: the services it adds are read first,
// the difference from the table last written is sent, and the services
// it dropped are deleted.
func (a *Agent) reload(doc *Document) error {
	if a.stopped {
		return errors.New("the agent has withdrawn its services and is stopping")
	}
	old := a.doc
	a.index(doc)
	listed := a.listed
	for _, vs := range old.Desired.Services {
		if k := vs.Service.Key(); !listed[k] {
			a.dropped[k] = true
		}
	}
	if !a.synced.Load() {
		a.repair = true // the next sync applies it
		return nil
	}
	// Read the services new to the agent (to adopt them) and the dropped
	// ones (to delete them only as the agent left them).
	read := map[ipvs.ServiceKey]bool{}
	for k := range listed {
		if _, ok := a.applied[k]; !ok {
			read[k] = true
		}
	}
	for k := range a.dropped {
		read[k] = true
	}
	var changes []ipvsplan.Change
	if len(read) > 0 {
		live, err := ipvs.ReadTable(a.opts.IPVS, func(k ipvs.ServiceKey) bool { return read[k] })
		if err != nil {
			a.failed("reload", fmt.Errorf("read the table: %w", err))
			return err
		}
		found := map[ipvs.ServiceKey]bool{}
		for _, vs := range live {
			k := vs.Service.Key()
			found[k] = true
			cur, mine := a.applied[k]
			switch {
			case !a.dropped[k]:
				a.applied[k] = vs // adopted
			case mine && len(ipvsplan.AppendServiceChanges(nil, &cur, vs)) > 0:
				a.opts.Logf("reload: left %s in the table: changed by someone else since this agent wrote it", ipvsconfig.FormatServiceKey(k))
				delete(a.dropped, k)
				delete(a.applied, k)
			default:
				changes = append(changes, deleteService(vs))
			}
		}
		for k := range read {
			if !found[k] {
				delete(a.applied, k)
				delete(a.dropped, k)
			}
		}
	}
	a.setTargets()
	changes = a.appendEffective(changes, nil)
	a.logChanges("reload: ", changes)
	_, err := a.send(changes, "reload")
	if err != nil {
		a.failed("reload", err)
		return err
	}
	a.opts.Logf("reload: %s generation %d applied: %d change%s", doc.Source, doc.Generation, len(changes), cmdutil.Plural(len(changes)))
	return nil
}

// withdraw deletes the document's services and stops all writing.
func (a *Agent) withdraw() error {
	var changes []ipvsplan.Change
	for _, vs := range a.doc.Desired.Services {
		if cur, ok := a.applied[vs.Service.Key()]; ok {
			changes = append(changes, deleteService(cur))
		}
	}
	a.stopped = true
	a.opts.Logf("withdraw: deleting the document's %d service%s", len(changes), cmdutil.Plural(len(changes)))
	_, err := a.send(changes, "withdraw")
	return err
}

// flip handles one health transition: only the services using the probe
// are recomputed, from the table last written.
func (a *Agent) flip(t healthcheck.Transition) {
	svcs, ok := a.users[t.Key]
	if !ok {
		return // a probe of an older document
	}
	a.health[t.Key] = probeState{state: t.To, weight: t.Weight}
	a.setStatus(func(s *Status) { s.Flips++ })
	if a.stopped {
		return
	}
	what := fmt.Sprintf("server %s (%s check", t.Target.Addr, t.Target.Check.Type)
	if n := len(svcs); n > 1 {
		what += fmt.Sprintf(", %d services", n)
	}
	what += ")"
	reason := ""
	if t.Result.Err != nil {
		reason = ": " + t.Result.Err.Error()
	}
	if !a.synced.Load() {
		a.opts.Logf("%s %s%s; the table is applied at the next sync", what, t.To, reason)
		return
	}
	changes := a.appendEffective(nil, svcs)
	a.opts.Logf("%s %s%s; %d change%s", what, t.To, reason, len(changes), cmdutil.Plural(len(changes)))
	a.logChanges("  ", changes)
	if _, err := a.send(changes, "health"); err != nil {
		a.failed("health", err)
	}
}

// effective returns service i as the document and the servers' health
// ask for it now.
func (a *Agent) effective(i int) ipvs.VirtualServer {
	want := a.doc.Desired.Services[i]
	h := health(a.doc.Desired, i)
	if h == nil {
		return want
	}
	k := want.Service.Key()
	cur, inKernel := a.applied[k]
	kernelDest := func(d ipvs.DestKey) (ipvs.Destination, bool) {
		if !inKernel {
			return ipvs.Destination{}, false
		}
		return findDest(cur.Destinations, d)
	}
	vs := ipvs.VirtualServer{Service: want.Service, Destinations: make([]ipvs.Destination, 0, len(want.Destinations)+1)}
	var healthy uint64
	for j, d := range want.Destinations {
		key := a.keys[i][j]
		if key == "" {
			vs.Destinations = append(vs.Destinations, d)
			healthy += uint64(d.Weight)
			continue
		}
		st := a.health[key]
		switch st.state {
		case healthcheck.Up:
			if st.weight >= 0 {
				d.Weight = uint32(min(st.weight, 1<<31-1))
			}
			healthy += uint64(d.Weight)
		case healthcheck.Down:
			if h.OnFailure == ipvsconfig.Remove {
				continue
			}
			d.Weight = 0
		default: // no result yet: keep what the kernel has
			kd, ok := kernelDest(d.Key())
			switch {
			case ok:
				d.Weight = kd.Weight
				healthy += uint64(d.Weight)
			case h.OnFailure == ipvsconfig.Remove:
				continue
			default:
				d.Weight = 0
			}
		}
		vs.Destinations = append(vs.Destinations, d)
	}
	sorry := h.Sorry != nil && healthy < uint64(h.Quorum)
	if sorry {
		if h.OnFailure == ipvsconfig.Remove {
			vs.Destinations = vs.Destinations[:0]
		} else {
			for j := range vs.Destinations {
				vs.Destinations[j].Weight = 0
			}
		}
		vs.Destinations = append(vs.Destinations, *h.Sorry)
	}
	if h.Sorry != nil && sorry != a.sorry[k] {
		if sorry {
			a.opts.Logf("service %s: healthy weight %d is below the quorum %d: sorry server %s in", ipvsconfig.FormatServiceKey(k), healthy, h.Quorum, h.Sorry.Key())
		} else {
			a.opts.Logf("service %s: healthy weight %d reaches the quorum %d: sorry server %s out", ipvsconfig.FormatServiceKey(k), healthy, h.Quorum, h.Sorry.Key())
		}
		a.sorry[k] = sorry
	}
	return vs
}
