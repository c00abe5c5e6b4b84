package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/healthcheck"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/ipvs-tools/ipvs/ipvsplan"
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
}

// Agent is the reconciliation loop. Create it with New, start it with
// Run; Reload, Transition and Status may be called from other goroutines.
type Agent struct {
	opts Options

	events chan event
	// mu guards status.
	mu     sync.Mutex
	status Status

	// The loop's state, owned by Run's goroutine.
	doc *Document
	// applied is what the agent believes each managed service is in the
	// kernel: what it last read or wrote.
	applied map[ipvs.ServiceKey]ipvs.VirtualServer
	// health is the state of each probe by its key.
	health map[string]probeState
	// users lists, for each probe key, the indexes of the services that
	// use it.
	users map[string][]int
	// sorry records which services have their sorry server in.
	sorry map[ipvs.ServiceKey]bool
	// repair asks the loop for a drift check as soon as possible (after
	// a failed write).
	repair bool
}

type probeState struct {
	state  healthcheck.State
	weight int // -1: the document's
}

type event struct {
	reload *Document
	flip   *healthcheck.Transition
	done   chan error
	query  chan *Status
	// withdraw deletes the document's services.
	withdraw bool
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
	return &Agent{opts: opts, events: make(chan event, 1024), health: map[string]probeState{}, sorry: map[ipvs.ServiceKey]bool{}}
}

// Transition hands the agent a health transition. It blocks only while
// the agent's queue is full.
func (a *Agent) Transition(ctx context.Context, t healthcheck.Transition) {
	select {
	case a.events <- event{flip: &t}:
	case <-ctx.Done():
	}
}

// Reload replaces the document: the checks of servers that stay keep their
// state, and only the difference is sent. Services the old document
// listed and the new one does not are deleted. It returns once the new
// document is applied (or failed to apply: then the agent keeps running
// with it and repairs at the next drift check).
func (a *Agent) Reload(ctx context.Context, doc *Document) error {
	done := make(chan error, 1)
	select {
	case a.events <- event{reload: doc, done: done}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Withdraw deletes the document's services that are in the table (for
// ipvsctl agent --withdraw at exit). The loop goes on; cancel Run's
// context afterwards.
func (a *Agent) Withdraw(ctx context.Context) error {
	done := make(chan error, 1)
	select {
	case a.events <- event{withdraw: true, done: done}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *Agent) withdraw() error {
	var changes []ipvsplan.Change
	for _, vs := range a.doc.Desired.Services {
		k := vs.Service.Key()
		if cur, ok := a.applied[k]; ok {
			changes = append(changes, ipvsplan.Change{Kind: ipvsplan.DeleteService, Service: k, OldService: cur.Service, Dests: cur.Destinations})
		}
	}
	a.opts.Logf("withdraw: deleting the document's %d services", len(changes))
	return a.send(changes, "withdraw")
}

// Run applies doc, then keeps the table right until ctx is done. It calls
// ready once the first sync is done (successful or not). It returns nil
// when ctx is cancelled; the table is left as it is.
func (a *Agent) Run(ctx context.Context, doc *Document, ready func()) error {
	a.load(doc, nil)
	err := a.sync("start")
	if err != nil {
		a.opts.Logf("start: %v; will retry at the next drift check", err)
		a.repair = true
	}
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
		if a.repair {
			retry.Reset(time.Second)
			a.repair = false
		}
		select {
		case <-ctx.Done():
			return nil
		case ev := <-a.events:
			switch {
			case ev.reload != nil:
				ev.done <- a.reload(ev.reload)
			case ev.flip != nil:
				a.flip(*ev.flip)
			case ev.query != nil:
				ev.query <- a.snapshot()
			case ev.withdraw:
				ev.done <- a.withdraw()
			}
		case <-tick:
			a.driftCheck("drift check")
		case <-retry.C:
			a.driftCheck("repair")
		}
	}
}

func (a *Agent) driftCheck(why string) {
	if err := a.sync(why); err != nil {
		a.opts.Logf("%s: %v; will retry", why, err)
		a.repair = true
	}
}

// load makes doc the current document and gives the prober its checks.
// old is the previous document (nil at start).
func (a *Agent) load(doc *Document, old *Document) {
	a.doc = doc
	a.users = map[string][]int{}
	var targets []healthcheck.Target
	want := doc.Desired
	for i := range want.Services {
		h := health(want, i)
		if h == nil {
			continue
		}
		for j, c := range h.Checks {
			if c == nil {
				continue
			}
			addr := ipvsconfig.CheckTarget(want.Services[i].Destinations[j])
			k := c.Key(addr)
			if len(a.users[k]) == 0 {
				targets = append(targets, healthcheck.Target{Check: c, Addr: addr})
			}
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
	a.opts.Prober.Set(targets)
	a.setStatus(func(s *Status) {
		s.Source, s.Generation, s.LoadedAt = doc.Source, doc.Generation, a.opts.Now()
		s.Services, s.Probes = len(want.Services), len(targets)
	})
}

func health(want *ipvsconfig.Desired, i int) *ipvsconfig.ServiceHealth {
	if want.Health == nil || want.Health[i] == nil || !want.Health[i].Checked() {
		return nil
	}
	return want.Health[i]
}

// reload applies a new document: the difference between the table last
// written and the new one, plus the deletion of services it dropped.
func (a *Agent) reload(doc *Document) error {
	old := a.doc
	a.load(doc, old)
	listed := make(map[ipvs.ServiceKey]bool, len(doc.Desired.Services))
	for _, vs := range doc.Desired.Services {
		listed[vs.Service.Key()] = true
	}
	var changes []ipvsplan.Change
	for _, vs := range old.Desired.Services {
		k := vs.Service.Key()
		if cur, ok := a.applied[k]; ok && !listed[k] {
			changes = append(changes, ipvsplan.Change{Kind: ipvsplan.DeleteService, Service: k, OldService: cur.Service, Dests: cur.Destinations})
		}
	}
	changes = a.appendEffective(changes, func(int) bool { return true })
	err := a.send(changes, "reload")
	for _, c := range changes {
		if c.Kind == ipvsplan.DeleteService {
			delete(a.applied, c.Service)
		}
	}
	a.opts.Logf("reload: %s generation %d applied: %d changes", doc.Source, doc.Generation, len(changes))
	return err
}

// appendEffective appends the changes that bring the services for which
// pick(i) holds from a.applied to what the document and health ask for.
func (a *Agent) appendEffective(out []ipvsplan.Change, pick func(i int) bool) []ipvsplan.Change {
	for i := range a.doc.Desired.Services {
		if !pick(i) {
			continue
		}
		vs := a.effective(i)
		k := vs.Service.Key()
		if cur, ok := a.applied[k]; ok {
			out = ipvsplan.AppendServiceChanges(out, &cur, vs)
		} else {
			out = ipvsplan.AppendServiceChanges(out, nil, vs)
		}
	}
	return out
}

// sync reads the managed services, logs what differs from the document
// and health (drift) and sends the difference.
func (a *Agent) sync(why string) error {
	want := a.doc.Desired
	listed := make(map[ipvs.ServiceKey]bool, len(want.Services))
	for _, vs := range want.Services {
		listed[vs.Service.Key()] = true
	}
	match := func(k ipvs.ServiceKey) bool {
		return listed[k] || (a.opts.Prune && a.opts.Scope.Match(k))
	}
	live, err := ipvs.ReadTable(a.opts.IPVS, match)
	if err != nil {
		return fmt.Errorf("read the table: %w", err)
	}
	a.applied = make(map[ipvs.ServiceKey]ipvs.VirtualServer, len(live))
	for _, vs := range live {
		a.applied[vs.Service.Key()] = vs
	}
	changes := a.appendEffective(nil, func(int) bool { return true })
	if a.opts.Prune {
		for _, vs := range live {
			if k := vs.Service.Key(); !listed[k] {
				changes = append(changes, ipvsplan.Change{Kind: ipvsplan.DeleteService, Service: k, OldService: vs.Service, Dests: vs.Destinations})
			}
		}
	}
	now := a.opts.Now()
	const maxLogged = 20
	switch {
	case why == "start":
		a.opts.Logf("start: %s generation %d: %d services, %d probes; %d changes to the table",
			a.doc.Source, a.doc.Generation, len(want.Services), len(a.users), len(changes))
	case len(changes) > 0:
		a.opts.Logf("%s: the table had drifted: %d changes", why, len(changes))
		for i, c := range changes {
			if i == maxLogged {
				a.opts.Logf("%s: ... and %d more", why, len(changes)-maxLogged)
				break
			}
			a.opts.Logf("%s: %s", why, describe(c))
		}
	}
	err = a.send(changes, why)
	for _, c := range changes {
		if c.Kind == ipvsplan.DeleteService {
			delete(a.applied, c.Service)
		}
	}
	a.setStatus(func(s *Status) {
		s.LastSync = now
		s.SyncChanges += len(changes)
		if why == "drift check" || why == "repair" {
			s.DriftChecks++
			s.DriftRepaired += len(changes)
		}
	})
	return err
}

// describe says what a change does, with the weights of updated servers.
func describe(c ipvsplan.Change) string {
	if c.Kind == ipvsplan.UpdateDest && c.OldDest.Weight != c.NewDest.Weight {
		return fmt.Sprintf("%s: weight %d -> %d", c, c.OldDest.Weight, c.NewDest.Weight)
	}
	return c.String()
}

// send applies changes, updating a.applied with those that went through.
// A refused change leaves the agent to repair at the next drift check.
func (a *Agent) send(changes []ipvsplan.Change, why string) error {
	if len(changes) == 0 {
		return nil
	}
	res := ipvsplan.Apply(a.opts.IPVS, slices.Values(changes), ipvsplan.ApplyOptions{BatchSize: a.opts.BatchSize, KeepGoing: true, Record: true})
	for _, c := range res.Applied {
		a.record(c)
	}
	if res.OK() {
		a.setStatus(func(s *Status) { s.Requests += res.Done; s.LastError = "" })
		return nil
	}
	var errs []error
	for _, f := range res.Failed {
		errs = append(errs, fmt.Errorf("%s: %w", f.Change, f.Err))
		a.opts.Logf("%s: %s failed: %v", why, f.Change, f.Err)
	}
	a.repair = true
	err := errors.Join(errs...)
	a.setStatus(func(s *Status) { s.Requests += res.Done; s.LastError = err.Error(); s.Errors += len(res.Failed) })
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

// flip handles one health transition: only the services using the probe
// are recomputed, from the table last written.
func (a *Agent) flip(t healthcheck.Transition) {
	svcs, ok := a.users[t.Key]
	if !ok {
		return // a probe of an older document
	}
	a.health[t.Key] = probeState{state: t.To, weight: t.Weight}
	changes := a.appendEffective(nil, func(i int) bool { return slices.Contains(svcs, i) })
	verb := t.To.String()
	what := fmt.Sprintf("server %s (%s check", t.Target.Addr, t.Target.Check.Type)
	if n := len(svcs); n > 1 {
		what += fmt.Sprintf(", %d services", n)
	}
	what += ")"
	reason := ""
	if t.Result.Err != nil {
		reason = ": " + t.Result.Err.Error()
	}
	a.opts.Logf("%s %s%s; %d change%s", what, verb, reason, len(changes), plural(len(changes)))
	for _, c := range changes {
		a.opts.Logf("  %s", describe(c))
	}
	_ = a.send(changes, "health")
	a.setStatus(func(s *Status) { s.Flips++ })
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
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
		j := slices.IndexFunc(cur.Destinations, func(x ipvs.Destination) bool { return x.Key() == d })
		if j < 0 {
			return ipvs.Destination{}, false
		}
		return cur.Destinations[j], true
	}
	vs := ipvs.VirtualServer{Service: want.Service, Destinations: make([]ipvs.Destination, 0, len(want.Destinations)+1)}
	var healthy uint64
	for j, d := range want.Destinations {
		c := h.Checks[j]
		if c == nil {
			vs.Destinations = append(vs.Destinations, d)
			healthy += uint64(d.Weight)
			continue
		}
		st := a.health[c.Key(ipvsconfig.CheckTarget(d))]
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
	if sorry != a.sorry[k] {
		if sorry {
			a.opts.Logf("service %s: healthy weight %d is below the quorum %d: sorry server %s in", ipvsconfig.FormatServiceKey(k), healthy, h.Quorum, h.Sorry.Key())
		} else {
			a.opts.Logf("service %s: healthy weight %d reaches the quorum %d: sorry server %s out", ipvsconfig.FormatServiceKey(k), healthy, h.Quorum, h.Sorry.Key())
		}
		a.sorry[k] = sorry
	}
	return vs
}
