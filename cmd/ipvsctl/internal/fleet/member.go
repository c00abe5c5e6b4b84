package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/agent"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// MemberOptions configure a Member.
type MemberOptions struct {
	Client *clientv3.Client
	Layout Layout
	// Name and Labels are the director's.
	Name   string
	Labels map[string]string
	// Version is reported in the registration and the status.
	Version string
	// Validate reads a document; name is what its errors start with.
	Validate func(name string, data []byte) (*ipvsconfig.Desired, error)
	// Apply hands a valid document to the agent and returns once it is
	// applied (an error: writes the kernel refused, being repaired).
	Apply func(ctx context.Context, doc *agent.Document) error
	// ApplyDaemons, if set, runs the sync daemons the director's
	// daemons/NAME key asks for (a document with a daemons section only),
	// stopping and starting only those that differ.
	ApplyDaemons func(ctx context.Context, want *ipvsconfig.Desired) error
	// AgentStatus reads the agent's status; it is called only after the
	// first Apply.
	AgentStatus func(ctx context.Context) (*agent.Status, error)
	// ReportInterval is the time between two status writes (default 5s);
	// LeaseTTL the life of the status key without news (default 30s).
	ReportInterval, LeaseTTL time.Duration
	// RetryMin and RetryMax bound the doubling wait between two attempts
	// to reach etcd (default 1s and 5s); each try itself waits up to 10s
	// for a connection.
	RetryMin, RetryMax time.Duration
	// CacheFile, if set, keeps the last document applied on disk; an
	// agent that starts while etcd is out of reach runs it until etcd
	// answers.
	CacheFile string
	// Logf writes one line of log.
	Logf func(format string, args ...any)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Member is a director in the fleet: it keeps the agent on the document
// addressed to it and reports the agent's status.
type Member struct {
	o MemberOptions

	// Owned by Run's goroutine.
	docs    map[string]*Doc
	current *Doc // applied
	want    *Doc // addressed to us, last seen
	started bool
	// applying is set while Apply runs; ambiguous when two selectors
	// match; agentSeen once the agent's status could be read.
	applying, ambiguous, agentSeen bool
	startAt                        time.Time
	daemonsRev                     int64     // revision of daemons/NAME handled (applied or refused)
	triedCache                     bool      // the cache was read (at the first failure to connect)
	everConnected                  bool      // a session listed the documents once
	outageAt                       time.Time // zero: connected (or never connected)

	// watchFrom, in tests, picks the revision the watch starts at.
	watchFrom func(listed int64) int64

	mu     sync.Mutex
	status DirectorStatus // the last report built
	lease  clientv3.LeaseID
}

// NewMember returns a member; nothing is read or written before Run.
func NewMember(o MemberOptions) *Member {
	if o.ReportInterval <= 0 {
		o.ReportInterval = 5 * time.Second
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 30 * time.Second
	}
	if o.RetryMin <= 0 {
		o.RetryMin = time.Second
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = max(5*time.Second, o.RetryMin)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	m := &Member{o: o, docs: map[string]*Doc{}, startAt: o.Now()}
	m.status.APIVersion, m.status.Kind = newHeader(KindDirectorStatus)
	m.status.Name, m.status.Labels, m.status.Version = o.Name, o.Labels, o.Version
	m.status.State = StateNoDocument
	m.status.StartedAt = m.startAt
	m.status.ReportIntervalSeconds = o.ReportInterval.Seconds()
	m.status.Unhealthy = []Unhealthy{}
	return m
}

// Status returns the last status the member built (also when it could not
// write it).
func (m *Member) Status() DirectorStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status
}

// errRelist ends a session whose watch was compacted: list again at once.
var errRelist = errors.New("the watch was compacted")

// Run keeps the director in the fleet until ctx is done: connect, list
// the documents, apply the one addressed to it, watch, report; on any
// loss of etcd, wait (doubling) and start again. The agent is never
// stopped or flushed: it keeps running its last document meanwhile.
func (m *Member) Run(ctx context.Context) error {
	wait := m.o.RetryMin
	for {
		connected, err := m.session(ctx)
		if ctx.Err() != nil {
			m.revoke()
			return nil
		}
		if errors.Is(err, errRelist) {
			m.o.Logf("etcd: the watch fell behind a compaction; listing the documents again")
			continue
		}
		if connected {
			wait = m.o.RetryMin
		}
		if !connected && m.current == nil && m.o.CacheFile != "" && !m.triedCache {
			m.triedCache = true
			m.fromCache(ctx, err)
		}
		if m.outageAt.IsZero() {
			m.outageAt = m.o.Now()
			// Seen from here (agent status), the director is stale
			// until etcd is back; the store cannot be told.
			m.mu.Lock()
			m.status.State = StateStale
			m.status.StaleSince = ptrTime(m.outageAt.UTC())
			m.mu.Unlock()
			keep := "no document yet"
			if m.current != nil {
				keep = fmt.Sprintf("keeping %s revision %d and its health checks", m.current.Path, m.current.Revision)
			}
			m.o.Logf("etcd: %v; %s; trying again in %v", err, keep, wait)
		} else {
			m.o.Logf("etcd: still unreachable (%v); trying again in %v", err, wait)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, m.o.RetryMax)
	}
}

// session is one connected period. connected says whether it got as far
// as listing the documents.
func (m *Member) session(ctx context.Context) (connected bool, err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := m.o.Client
	op := func() (context.Context, context.CancelFunc) { return context.WithTimeout(sctx, m.opTimeout()) }

	// The first request waits for a connection (clientv3 requests wait
	// until gRPC is connected): etcd coming back in the meantime is
	// noticed within gRPC's reconnection backoff, not at the next try.
	// (A director that never reached etcd tries for less: it may have a
	// cached document to run meanwhile.)
	wait := max(m.opTimeout(), 10*time.Second)
	if !m.everConnected {
		wait = m.opTimeout()
	}
	tctx, tcancel := context.WithTimeout(sctx, wait)
	lease, err := c.Grant(tctx, int64(max(m.o.LeaseTTL.Seconds(), 5)))
	tcancel()
	if err != nil {
		return false, plainError(err)
	}
	m.setLease(lease.ID)
	ka, err := c.KeepAlive(sctx, lease.ID)
	if err != nil {
		return false, plainError(err)
	}
	reg := Director{Name: m.o.Name, Labels: m.o.Labels, Version: m.o.Version, RegisteredAt: m.o.Now().UTC()}
	reg.APIVersion, reg.Kind = newHeader(KindDirector)
	b, _ := json.Marshal(reg)
	tctx, tcancel = op()
	resp, err := c.Txn(tctx).Then(
		clientv3.OpPut(m.o.Layout.Director(m.o.Name), string(b)),
		clientv3.OpGet(m.o.Layout.Documents(), clientv3.WithPrefix()),
		clientv3.OpGet(m.o.Layout.Daemons(m.o.Name))).Commit()
	tcancel()
	if err != nil {
		return false, plainError(err)
	}
	rev := resp.Header.Revision
	m.everConnected = true
	m.docs = map[string]*Doc{}
	for _, kv := range resp.Responses[1].GetResponseRange().Kvs {
		if d, ok := docOf(m.o.Layout, string(kv.Key), kv.ModRevision, kv.Value); ok {
			m.docs[d.Key] = d
		}
	}
	if !m.outageAt.IsZero() {
		now := m.o.Now()
		o := &Outage{From: m.outageAt.UTC(), To: now.UTC(), Seconds: now.Sub(m.outageAt).Seconds()}
		m.mu.Lock()
		m.status.Reconnects++
		m.status.LastOutage = o
		m.status.StaleSince = nil
		m.mu.Unlock()
		m.o.Logf("etcd: reachable again after %.1fs; listed the documents at revision %d", o.Seconds, rev)
		m.outageAt = time.Time{}
	}
	m.reconcile(sctx)
	if kvs := resp.Responses[2].GetResponseRange().Kvs; len(kvs) > 0 {
		m.daemons(sctx, kvs[0].ModRevision, kvs[0].Value)
	}
	if err := m.report(sctx); err != nil {
		return true, err
	}
	from := rev + 1
	if m.watchFrom != nil {
		from = m.watchFrom(rev)
	}
	wch := c.Watch(clientv3.WithRequireLeader(sctx), m.o.Layout.Documents(), clientv3.WithPrefix(), clientv3.WithRev(from))
	var dch clientv3.WatchChan // nil: not watched
	if m.o.ApplyDaemons != nil {
		dch = c.Watch(clientv3.WithRequireLeader(sctx), m.o.Layout.Daemons(m.o.Name), clientv3.WithRev(rev+1))
	}
	tick := time.NewTicker(m.o.ReportInterval)
	defer tick.Stop()
	for {
		select {
		case <-sctx.Done():
			return true, sctx.Err()
		case _, ok := <-ka:
			if !ok {
				return true, errors.New("the lease of the status key expired")
			}
		case wr, ok := <-wch:
			evs, err := watched(wr, ok)
			if err != nil {
				return true, err
			}
			for _, ev := range evs {
				k := string(ev.Kv.Key)
				if ev.Type == clientv3.EventTypeDelete {
					delete(m.docs, k)
				} else if d, ok := docOf(m.o.Layout, k, ev.Kv.ModRevision, ev.Kv.Value); ok {
					m.docs[k] = d
				}
			}
			if m.reconcile(sctx) {
				if err := m.report(sctx); err != nil {
					return true, err
				}
			}
		case wr, ok := <-dch:
			evs, err := watched(wr, ok)
			if err != nil {
				return true, err
			}
			for _, ev := range evs {
				if ev.Type == clientv3.EventTypeDelete {
					m.o.Logf("%s deleted: the sync daemons stay as they are", m.o.Layout.Daemons(m.o.Name))
					continue
				}
				m.daemons(sctx, ev.Kv.ModRevision, ev.Kv.Value)
			}
			if err := m.report(sctx); err != nil {
				return true, err
			}
		case <-tick.C:
			if err := m.report(sctx); err != nil {
				return true, err
			}
		}
	}
}

// watched returns the events of a watch response, or why the session
// must end: the watch closed, fell behind a compaction (errRelist), or
// failed.
func watched(wr clientv3.WatchResponse, ok bool) ([]*clientv3.Event, error) {
	switch {
	case !ok:
		return nil, errors.New("the watch ended")
	case wr.CompactRevision != 0:
		return nil, errRelist
	case wr.Err() != nil:
		return nil, plainError(wr.Err())
	}
	return wr.Events, nil
}

func (m *Member) opTimeout() time.Duration {
	return max(m.o.ReportInterval, 3*time.Second)
}

// reconcile applies the document addressed to the director if it changed.
// It reports whether anything did (the status is then written at once).
func (m *Member) reconcile(ctx context.Context) bool {
	want, err := Select(m.docs, m.o.Name, m.o.Labels)
	m.ambiguous = err != nil
	m.mu.Lock()
	old := m.status.Problem
	m.status.Problem = ""
	if err != nil {
		m.status.Problem = err.Error()
	} else if want == nil {
		m.status.Problem = fmt.Sprintf("no document is addressed to %s (ipvsctl fleet push -f FILE)", m.o.Name)
	}
	m.mu.Unlock()
	if err != nil || want == nil {
		if old != m.status.Problem {
			m.o.Logf("%s", m.Status().Problem)
		}
		m.want = nil
		return old != m.Status().Problem
	}
	m.want = want
	if m.current != nil && m.current.Key == want.Key && m.current.Revision == want.Revision {
		// A document refused meanwhile is no longer addressed to us (a
		// canary's key deleted): the one applied is again.
		m.mu.Lock()
		rej := m.status.Rejected
		m.status.Rejected = nil
		m.mu.Unlock()
		return old != "" || rej != nil
	}
	m.mu.Lock()
	rej := m.status.Rejected
	m.mu.Unlock()
	if rej != nil && rej.Document == "documents/"+want.Path && rej.Revision == want.Revision {
		return old != ""
	}
	name := fmt.Sprintf("%s@%d", want.Key, want.Revision)
	desired, err := m.o.Validate(name, want.Value)
	if err != nil {
		msg := validationText(err)
		m.mu.Lock()
		m.status.Rejected = &Rejected{Document: "documents/" + want.Path, Revision: want.Revision, Error: msg}
		m.mu.Unlock()
		running := "nothing applied yet"
		if m.current != nil {
			running = fmt.Sprintf("still running %s revision %d", m.current.Path, m.current.Revision)
		}
		m.o.Logf("refused %s revision %d: %s; %s", want.Path, want.Revision, strings.ReplaceAll(msg, "\n", "; "), running)
		return true
	}
	m.mu.Lock()
	m.status.Rejected = nil
	m.mu.Unlock()
	m.applying = true
	_ = m.report(ctx) // best effort: say it is applying
	doc := &agent.Document{Desired: desired, Source: want.Key, Generation: want.Revision}
	m.o.Logf("applying %s revision %d (%d service%s)", want.Path, want.Revision, len(desired.Services), cmdutil.Plural(len(desired.Services)))
	if err := m.o.Apply(ctx, doc); err != nil {
		m.o.Logf("%s revision %d applied with errors: %v (repairing)", want.Path, want.Revision, err)
	}
	m.applying = false
	m.current = want
	m.started = true
	if m.o.CacheFile != "" {
		if err := saveCache(m.o.CacheFile, want, m.o.Now()); err != nil {
			m.o.Logf("could not keep %s revision %d in %s: %v", want.Path, want.Revision, m.o.CacheFile, err)
		}
	}
	return true
}

// fromCache runs the document of the cache file when the agent starts
// without etcd (why is the failure to connect).
func (m *Member) fromCache(ctx context.Context, why error) {
	d, err := loadCache(m.o.Layout, m.o.CacheFile)
	if err != nil {
		m.o.Logf("etcd: %v, and the cache cannot be used: %v; the table stays as it is until etcd answers", why, err)
		return
	}
	if d == nil {
		m.o.Logf("etcd: %v, and no cache in %s yet; the table stays as it is until etcd answers", why, m.o.CacheFile)
		return
	}
	desired, err := m.o.Validate(fmt.Sprintf("%s (%s@%d)", m.o.CacheFile, d.Key, d.Revision), d.Value)
	if err != nil {
		m.o.Logf("etcd: %v, and the cached document is refused: %s", why, strings.ReplaceAll(validationText(err), "\n", "; "))
		return
	}
	m.o.Logf("etcd: %v; running %s revision %d from %s until etcd answers", why, d.Path, d.Revision, m.o.CacheFile)
	if err := m.o.Apply(ctx, &agent.Document{Desired: desired, Source: d.Key, Generation: d.Revision}); err != nil {
		m.o.Logf("%s revision %d applied with errors: %v (repairing)", d.Path, d.Revision, err)
	}
	m.current, m.want, m.started = d, d, true
}

// daemons applies revision rev of the director's sync-daemon roles.
func (m *Member) daemons(ctx context.Context, rev int64, value []byte) {
	if m.o.ApplyDaemons == nil || rev == m.daemonsRev {
		return
	}
	m.daemonsRev = rev
	key := m.o.Layout.Daemons(m.o.Name)
	st := &SyncDaemons{Revision: rev, Roles: []string{}}
	want, err := m.o.Validate(fmt.Sprintf("%s@%d", key, rev), value)
	if err == nil && len(want.Services) > 0 {
		err = fmt.Errorf("%s holds services; it takes a daemons section only (services go under documents/)", key)
	}
	if err == nil && !want.ManageDaemons {
		err = fmt.Errorf("%s has no daemons section (daemons: [] stops them all)", key)
	}
	if err != nil {
		st.Error = validationText(err)
		m.o.Logf("refused %s revision %d: %s; the sync daemons stay as they are", key, rev, strings.ReplaceAll(st.Error, "\n", "; "))
	} else {
		for _, d := range want.Daemons {
			st.Roles = append(st.Roles, fmt.Sprintf("%s %s syncid %d", d.State, d.Interface, d.SyncID))
		}
		if err := m.o.ApplyDaemons(ctx, want); err != nil {
			st.Error = err.Error()
			m.o.Logf("sync daemons of %s revision %d: %v", key, rev, err)
		} else {
			roles := strings.Join(st.Roles, ", ")
			if roles == "" {
				roles = "none"
			}
			m.o.Logf("sync daemons of %s revision %d: %s", key, rev, roles)
		}
	}
	m.mu.Lock()
	m.status.SyncDaemons = st
	m.mu.Unlock()
}

// validationText is a validation error as lines (one per problem).
func validationText(err error) string {
	var list ipvsconfig.ErrorList
	if errors.As(err, &list) {
		var lines []string
		for _, e := range list {
			lines = append(lines, e.Error())
		}
		return strings.Join(lines, "\n")
	}
	return err.Error()
}

// build makes the status from the member's and the agent's state.
func (m *Member) build(ctx context.Context) DirectorStatus {
	var as *agent.Status
	if m.started && m.o.AgentStatus != nil {
		actx, cancel := context.WithTimeout(ctx, m.opTimeout())
		as, _ = m.o.AgentStatus(actx)
		cancel()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.status
	s.ReportedAt = m.o.Now().UTC()
	s.Document, s.Revision = "", 0
	if m.current != nil {
		s.Document, s.Revision = "documents/"+m.current.Path, m.current.Revision
	}
	s.WantDocument, s.WantRevision = "", 0
	if m.want != nil {
		s.WantDocument, s.WantRevision = "documents/"+m.want.Path, m.want.Revision
	}
	// An agent too busy to answer (a long sync) keeps the health and
	// counters it last reported: an empty list would read as healthy.
	if as != nil {
		s.fillFromAgent(as)
		m.agentSeen = true
	}
	switch {
	case m.applying || (m.started && !m.agentSeen):
		s.State = StateApplying
	case m.current == nil && s.Rejected == nil && m.want == nil && !m.ambiguous:
		s.State = StateNoDocument
	case s.Rejected != nil || s.Problem != "" || s.LastError != "":
		s.State = StateError
	case m.current == nil || m.want.Key != m.current.Key || m.want.Revision != m.current.Revision:
		s.State = StateApplying
	default:
		s.State = StateInSync
	}
	return s
}

// report writes the status under the member's lease.
func (m *Member) report(ctx context.Context) error {
	s := m.build(ctx)
	m.mu.Lock()
	m.status = s
	lease := m.lease
	m.mu.Unlock()
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	tctx, cancel := context.WithTimeout(ctx, m.opTimeout())
	defer cancel()
	if _, err := m.o.Client.Put(tctx, m.o.Layout.Status(m.o.Name), string(b), clientv3.WithLease(lease)); err != nil {
		return plainError(err)
	}
	return nil
}

// revoke drops the status key at a clean stop, so the fleet sees the
// director stop at once rather than after the lease's life.
func (m *Member) revoke() {
	m.mu.Lock()
	lease := m.lease
	m.mu.Unlock()
	if lease == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, _ = m.o.Client.Revoke(ctx, lease)
}

func (m *Member) setLease(id clientv3.LeaseID) {
	m.mu.Lock()
	m.lease = id
	m.mu.Unlock()
}

// plainError words clientv3's errors for a log line.
func plainError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "DeadlineExceeded") {
		return errors.New("no answer in time")
	}
	return err
}

func ptrTime(t time.Time) *time.Time { return &t }
