package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/agent"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"github.com/ipvs-tools/ipvs/healthcheck"
	"github.com/ipvs-tools/ipvs/internal/etcdtest"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	clientv3 "go.etcd.io/etcd/client/v3"
)

var layout = Layout{Prefix: "/ipvsctl/"}

// director is one agent on etcd over a fake kernel, with real tcp checks
// on loopback.
type director struct {
	name   string
	k      *fakeipvs.Fake
	a      *agent.Agent
	m      *Member
	log    *testutil.SyncBuffer
	cancel func()
	done   chan struct{}
}

func validate(name string, data []byte) (*ipvsconfig.Desired, error) {
	d, err := ipvsconfig.Parse(name, data, "")
	if err != nil {
		return nil, err
	}
	return d.Desired()
}

func startDirector(t *testing.T, srv *etcdtest.Server, name string, labels map[string]string, mod func(*director)) *director {
	t.Helper()
	d := &director{name: name, k: fakeipvs.New(), log: &testutil.SyncBuffer{}, done: make(chan struct{})}
	logf := func(f string, args ...any) { fmt.Fprintf(d.log, name+": "+f+"\n", args...) }
	ctx, cancel := context.WithCancel(context.Background())
	mon := healthcheck.NewMonitor(healthcheck.MonitorOptions{MaxInFlight: 8})
	d.a = agent.New(agent.Options{IPVS: d.k, Prober: mon, Logf: logf})
	drv := NewDriver(ctx, d.a, nil)
	d.m = NewMember(MemberOptions{Client: srv.Client(t), Layout: layout, Name: name, Labels: labels, Version: "test",
		Validate: validate, Apply: drv.Apply, AgentStatus: d.a.Status, Logf: logf,
		ReportInterval: 200 * time.Millisecond, LeaseTTL: 5 * time.Second,
		RetryMin: 100 * time.Millisecond, RetryMax: 400 * time.Millisecond})
	if mod != nil {
		mod(d)
	}
	monDone := make(chan struct{})
	go func() { _ = mon.Run(ctx); close(monDone) }()
	go func() {
		for tr := range mon.Changes() {
			d.a.Transition(ctx, tr)
		}
	}()
	go func() {
		_ = d.m.Run(ctx)
		if drv.Running() {
			<-drv.Done()
		}
		<-monDone
		close(d.done)
	}()
	d.cancel = cancel
	t.Cleanup(d.stop)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log of %s:\n%s", name, d.log.String())
		}
	})
	return d
}

func (d *director) stop() {
	d.cancel()
	<-d.done
}

// weights is "service dest=weight ..." for the whole table.
func (d *director) weights(t *testing.T) string {
	t.Helper()
	w, err := d.k.Weights()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// eventually polls cond for up to 20 s (a slow machine's bound, not a
// timing requirement).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func put(t *testing.T, c *clientv3.Client, key, value string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := c.Put(ctx, key, value)
	if err != nil {
		t.Fatal(err)
	}
	return r.Header.Revision
}

func status(t *testing.T, c *clientv3.Client, name string) *DirectorStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := c.Get(ctx, layout.Status(name))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Kvs) == 0 {
		return nil
	}
	var s DirectorStatus
	if err := json.Unmarshal(r.Kvs[0].Value, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// server is a TCP listener on loopback that a tcp check finds up; Close
// takes it down.
func server(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln
}

// doc is a document of one service per vip with the servers given.
func doc(vips []string, weight int, servers ...net.Listener) string {
	var b strings.Builder
	b.WriteString("apiVersion: ipvsctl/v1\nservices:\n")
	for _, v := range vips {
		fmt.Fprintf(&b, "  - {protocol: tcp, address: %s, port: 80, healthCheck: {type: tcp, interval: 150ms, timeout: 100ms, rise: 1, fall: 1}, destinations: [", v)
		for i, s := range servers {
			ap := s.Addr().(*net.TCPAddr).AddrPort()
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "{address: %s, port: %d, weight: %d}", ap.Addr(), ap.Port(), weight)
		}
		b.WriteString("]}\n")
	}
	return b.String()
}

func TestMemberAppliesEachRevision(t *testing.T) {
	srv := etcdtest.Start(t)
	c := srv.Client(t)
	s1, s2 := server(t), server(t)
	rev1 := put(t, c, layout.Document(Target{}), doc([]string{"10.0.0.1", "10.0.0.2"}, 2, s1, s2))
	d := startDirector(t, srv, "d1", nil, nil)
	p1, p2 := s1.Addr().(*net.TCPAddr).Port, s2.Addr().(*net.TCPAddr).Port
	ds := []string{fmt.Sprintf("127.0.0.1:%d=2", p1), fmt.Sprintf("127.0.0.1:%d=2", p2)}
	slices.Sort(ds)
	want := fmt.Sprintf("TCP 10.0.0.1:80 %s\nTCP 10.0.0.2:80 %[1]s", strings.Join(ds, " "))
	eventually(t, "the document applied with both servers up", func() bool { return d.weights(t) == want })
	eventually(t, "in-sync at the revision", func() bool {
		s := status(t, c, "d1")
		return s != nil && s.State == StateInSync && s.Revision == rev1 && s.WantRevision == rev1 && s.Services == 2
	})

	// A new revision is a reload: only the change is written.
	d.k.ResetWrites()
	rev2 := put(t, c, layout.Document(Target{}), doc([]string{"10.0.0.1", "10.0.0.2"}, 5, s1, s2))
	want5 := strings.ReplaceAll(want, "=2", "=5")
	eventually(t, "the new weights", func() bool { return d.weights(t) == want5 })
	eventually(t, "in-sync at the new revision", func() bool {
		s := status(t, c, "d1")
		return s != nil && s.State == StateInSync && s.Revision == rev2
	})
	if w := d.k.Requests().Writes; w != 4 {
		t.Errorf("%d writes for 4 changed weights, want 4", w)
	}

	// A failing server is reported as unhealthy, and quiesced.
	s2.Close()
	eventually(t, "the failed server in the status", func() bool {
		s := status(t, c, "d1")
		return s != nil && len(s.Unhealthy) == 2 && s.Unhealthy[0].Server == fmt.Sprintf("127.0.0.1:%d", p2)
	})
	if got := d.weights(t); !strings.Contains(got, fmt.Sprintf("127.0.0.1:%d=0", p2)) {
		t.Errorf("the failed server is not quiesced:\n%s", got)
	}

	// A clean stop revokes the lease: the status goes at once; the
	// registration stays.
	d.stop()
	if s := status(t, c, "d1"); s != nil {
		t.Errorf("status still there after a clean stop: %+v", s)
	}
	snap, err := Read(context.Background(), c, layout)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Directors["d1"] == nil {
		t.Error("the registration of d1 is gone")
	}
	if got := snap.Status(time.Now()).Directors[0].State; got != StateStale {
		t.Errorf("a stopped director is %q, want %q", got, StateStale)
	}
}

func TestMemberChoosesItsDocument(t *testing.T) {
	srv := etcdtest.Start(t)
	c := srv.Client(t)
	s := server(t)
	put(t, c, layout.Document(Target{}), doc([]string{"10.0.0.1"}, 1, s))
	put(t, c, layout.Document(Target{Selector: Selector{"site": "a"}}), doc([]string{"10.0.0.2"}, 1, s))
	put(t, c, layout.Document(Target{Name: "named"}), doc([]string{"10.0.0.3"}, 1, s))
	put(t, c, layout.Documents()+"junk/key", "not a document key")
	for _, tc := range []struct {
		name   string
		labels map[string]string
		vip    string
	}{
		{"plain", nil, "10.0.0.1"},
		{"labelled", map[string]string{"site": "a", "rack": "1"}, "10.0.0.2"},
		{"other-site", map[string]string{"site": "b"}, "10.0.0.1"},
		{"named", map[string]string{"site": "a"}, "10.0.0.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := startDirector(t, srv, tc.name, tc.labels, nil)
			eventually(t, "its document", func() bool { return strings.HasPrefix(d.weights(t), "TCP "+tc.vip+":80 ") })
		})
	}

	t.Run("two selectors", func(t *testing.T) {
		d := startDirector(t, srv, "both", map[string]string{"site": "a", "role": "edge"}, nil)
		eventually(t, "site=a applied", func() bool { return strings.HasPrefix(d.weights(t), "TCP 10.0.0.2:80 ") })
		put(t, c, layout.Document(Target{Selector: Selector{"role": "edge"}}), doc([]string{"10.0.0.4"}, 1, s))
		eventually(t, "the ambiguity reported", func() bool {
			st := status(t, c, "both")
			return st != nil && st.State == StateError && strings.Contains(st.Problem, "selector/role=edge and selector/site=a")
		})
		if got := d.weights(t); !strings.HasPrefix(got, "TCP 10.0.0.2:80 ") {
			t.Errorf("the table changed on an ambiguous choice:\n%s", got)
		}
	})
}

func TestMemberRefusesABadDocument(t *testing.T) {
	srv := etcdtest.Start(t)
	c := srv.Client(t)
	s := server(t)
	good := put(t, c, layout.Document(Target{}), doc([]string{"10.0.0.1"}, 1, s))
	d := startDirector(t, srv, "d1", nil, nil)
	eventually(t, "applied, server up", func() bool {
		return strings.HasPrefix(d.weights(t), "TCP 10.0.0.1:80 ") && strings.HasSuffix(d.weights(t), "=1")
	})
	before := d.weights(t)

	bad := put(t, c, layout.Document(Target{}), "apiVersion: ipvsctl/v1\nservices:\n  - {protocol: tcp, address: 10.0.0.9, port: -1}\n")
	var st *DirectorStatus
	eventually(t, "the rejection reported", func() bool {
		st = status(t, c, "d1")
		return st != nil && st.Rejected != nil
	})
	wantRej := &Rejected{Document: "documents/default", Revision: bad,
		Error: fmt.Sprintf("/ipvsctl/documents/default@%d:3: services[0].port: want a number in 0..65535, not -1", bad)}
	if diff := cmp.Diff(wantRej, st.Rejected); diff != "" {
		t.Errorf("rejected (-want +got):\n%s", diff)
	}
	if st.State != StateError || st.Revision != good {
		t.Errorf("state %s at revision %d, want error at %d (the good one still applied)", st.State, st.Revision, good)
	}
	if got := d.weights(t); got != before {
		t.Errorf("the table changed:\n%s\nwant\n%s", got, before)
	}

	fixed := put(t, c, layout.Document(Target{}), doc([]string{"10.0.0.5"}, 1, s))
	eventually(t, "the fixed document applied", func() bool {
		st := status(t, c, "d1")
		return st != nil && st.Rejected == nil && st.State == StateInSync && st.Revision == fixed
	})
}

// TestMemberWithoutEtcd: the store goes away; the agent keeps the table
// and still acts on its checks; when it is back, the outage is reported
// and a document pushed since is applied.
func TestMemberWithoutEtcd(t *testing.T) {
	t.Parallel() // waits for etcd to go and come back: overlap the waits
	srv := etcdtest.Start(t)
	c := srv.Client(t)
	s1, s2 := server(t), server(t)
	put(t, c, layout.Document(Target{}), doc([]string{"10.0.0.1"}, 1, s1, s2))
	d := startDirector(t, srv, "d1", nil, nil)
	p2 := s2.Addr().(*net.TCPAddr).Port
	eventually(t, "both up", func() bool { return strings.Count(d.weights(t), "=1") == 2 })

	srv.Stop(t)
	eventually(t, "the loss logged", func() bool { return strings.Contains(d.log.String(), "keeping default revision") })
	if st := d.m.Status(); st.State != StateStale || st.StaleSince == nil {
		t.Errorf("while etcd is away the member says %q (since %v), want stale", st.State, st.StaleSince)
	}
	s2.Close()
	eventually(t, "the failed server quiesced without etcd", func() bool {
		return strings.Contains(d.weights(t), fmt.Sprintf("127.0.0.1:%d=0", p2))
	})

	srv.Start(t)
	eventually(t, "the outage reported", func() bool {
		st := status(t, c, "d1")
		return st != nil && st.Reconnects == 1 && st.LastOutage != nil && st.LastOutage.Seconds > 0 && len(st.Unhealthy) == 1 &&
			st.StaleSince == nil && st.State == StateInSync
	})
	rev := put(t, c, layout.Document(Target{}), doc([]string{"10.0.0.7"}, 1, s1))
	eventually(t, "the next document applied", func() bool {
		st := status(t, c, "d1")
		return st != nil && st.Revision == rev && st.State == StateInSync
	})
	if !strings.Contains(d.log.String(), "reachable again after") {
		t.Errorf("no reconnection in the log:\n%s", d.log.String())
	}
}

// TestMemberRelistsAfterCompaction: a watch that starts below the
// compacted revision is told so by etcd; the member lists again and
// converges.
func TestMemberRelistsAfterCompaction(t *testing.T) {
	srv := etcdtest.Start(t)
	c := srv.Client(t)
	s := server(t)
	put(t, c, layout.Document(Target{}), doc([]string{"10.0.0.1"}, 1, s))
	rev := put(t, c, layout.Document(Target{}), doc([]string{"10.0.0.2"}, 1, s))
	srv.Compact(t)
	first := true
	d := startDirector(t, srv, "d1", nil, func(d *director) {
		d.m.watchFrom = func(listed int64) int64 {
			if first {
				first = false
				return 1 // below the compaction: etcd answers ErrCompacted
			}
			return listed + 1
		}
	})
	eventually(t, "the relist logged", func() bool { return strings.Contains(d.log.String(), "compaction; listing the documents again") })
	eventually(t, "in sync", func() bool {
		st := status(t, c, "d1")
		return st != nil && st.Revision == rev && st.State == StateInSync
	})
	next := put(t, c, layout.Document(Target{}), doc([]string{"10.0.0.3"}, 1, s))
	eventually(t, "the next revision through the new watch", func() bool {
		return strings.HasPrefix(d.weights(t), "TCP 10.0.0.3:80 ")
	})
	_ = next
}

// TestMemberSyncDaemons: daemons/NAME sets the director's sync daemons;
// a new revision stops and starts only what differs; a key with services
// is refused and leaves them running.
func TestMemberSyncDaemons(t *testing.T) {
	srv := etcdtest.Start(t)
	c := srv.Client(t)
	s := server(t)
	put(t, c, layout.Document(Target{}), doc([]string{"10.0.0.1"}, 1, s))
	d := startDirector(t, srv, "d1", nil, func(d *director) {
		d.m.o.ApplyDaemons = func(_ context.Context, want *ipvsconfig.Desired) error { return ApplyDaemons(d.k, want) }
	})
	running := func() string {
		ds, err := d.k.Daemons()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range ds {
			out = append(out, fmt.Sprintf("%s %s %d", x.State, x.Interface, x.SyncID))
		}
		slices.Sort(out)
		return strings.Join(out, ", ")
	}
	key := layout.Daemons("d1")
	rev := put(t, c, key, "apiVersion: ipvsctl/v1\ndaemons:\n  - {state: master, interface: eth0, syncID: 7}\n")
	eventually(t, "the master daemon", func() bool { return running() == "master eth0 7" })
	eventually(t, "the roles reported", func() bool {
		st := status(t, c, "d1")
		return st != nil && st.SyncDaemons != nil && st.SyncDaemons.Revision == rev &&
			cmp.Equal(st.SyncDaemons.Roles, []string{"master eth0 syncid 7"})
	})

	eventually(t, "the server up", func() bool { return strings.HasSuffix(d.weights(t), "=1") })
	d.k.ResetWrites()
	put(t, c, key, "apiVersion: ipvsctl/v1\ndaemons:\n  - {state: master, interface: eth0, syncID: 7}\n  - {state: backup, interface: eth0, syncID: 7}\n")
	eventually(t, "master and backup", func() bool { return running() == "backup eth0 7, master eth0 7" })
	if w := d.k.Requests().Writes; w != 1 {
		t.Errorf("%d writes to add a backup daemon, want 1 (the master kept)", w)
	}

	bad := put(t, c, key, "apiVersion: ipvsctl/v1\nservices: [{protocol: tcp, address: 10.0.0.9, port: 80}]\ndaemons: []\n")
	eventually(t, "the refusal reported", func() bool {
		st := status(t, c, "d1")
		return st != nil && st.SyncDaemons != nil && st.SyncDaemons.Revision == bad && strings.Contains(st.SyncDaemons.Error, "holds services")
	})
	if got := running(); got != "backup eth0 7, master eth0 7" {
		t.Errorf("a refused key changed the daemons: %s", got)
	}
}

// TestMemberBusyAgent: while the agent's loop is too busy to answer, the
// reports keep the health it last gave (an empty list would read as
// healthy to fleet status and rollout), and a director whose agent never
// answered says applying, not in-sync.
func TestMemberBusyAgent(t *testing.T) {
	srv := etcdtest.Start(t)
	c := srv.Client(t)
	s := server(t)
	rev := put(t, c, layout.Document(Target{}), doc([]string{"10.0.0.1"}, 1, s))
	var answer atomic.Int32 // 0: busy, 1: one server down
	m := NewMember(MemberOptions{Client: c, Layout: layout, Name: "d1", Validate: validate,
		Apply: func(context.Context, *agent.Document) error { return nil },
		AgentStatus: func(ctx context.Context) (*agent.Status, error) {
			if answer.Load() == 0 {
				return nil, context.DeadlineExceeded
			}
			return &agent.Status{Services: 1, Requests: 7, Servers: []agent.ServerStatus{
				{Service: "TCP 10.0.0.1:80", Server: "127.0.0.1:1", Health: "down", LastError: "connection refused"}}}, nil
		},
		ReportInterval: 100 * time.Millisecond, LeaseTTL: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = m.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	eventually(t, "a report", func() bool { return status(t, c, "d1") != nil })
	if st := status(t, c, "d1"); st.State != StateApplying || st.Revision != rev {
		t.Errorf("before the agent ever answered: %s at %d, want applying at %d", st.State, st.Revision, rev)
	}
	answer.Store(1)
	eventually(t, "the down server reported", func() bool {
		st := status(t, c, "d1")
		return st.State == StateInSync && len(st.Unhealthy) == 1 && st.Requests == 7
	})
	answer.Store(0)
	time.Sleep(500 * time.Millisecond) // five reports while busy
	st := status(t, c, "d1")
	if len(st.Unhealthy) != 1 || st.Services != 1 || st.Requests != 7 {
		t.Errorf("while busy the report lost what the agent said: %d unhealthy, %d services, %d requests", len(st.Unhealthy), st.Services, st.Requests)
	}
}

// TestMemberStartsFromCache: a director restarted (here: with an empty
// kernel, as after a reboot) while etcd is down runs the document it last
// applied, from its cache file, checks included; when etcd answers with
// the same revision, nothing is applied again.
func TestMemberStartsFromCache(t *testing.T) {
	t.Parallel() // waits for etcd to go and come back: overlap the waits
	srv := etcdtest.Start(t)
	c := srv.Client(t)
	s := server(t)
	cache := filepath.Join(t.TempDir(), "fleet-cache.json")
	withCache := func(d *director) { d.m.o.CacheFile = cache }
	rev := put(t, c, layout.Document(Target{}), doc([]string{"10.0.0.1", "10.0.0.2"}, 2, s))
	d1 := startDirector(t, srv, "d1", nil, withCache)
	eventually(t, "applied", func() bool { return strings.Count(d1.weights(t), "=2") == 2 })
	want := d1.weights(t)
	d1.stop()
	srv.Stop(t)

	d2 := startDirector(t, srv, "d1", nil, withCache)
	eventually(t, "the cached document applied and checked without etcd", func() bool { return d2.weights(t) == want })
	if !strings.Contains(d2.log.String(), fmt.Sprintf("running default revision %d from %s until etcd answers", rev, cache)) {
		t.Errorf("log:\n%s", d2.log.String())
	}
	d2.k.ResetWrites()
	srv.Start(t)
	eventually(t, "in sync once etcd answers", func() bool {
		st := status(t, c, "d1")
		return st != nil && st.State == StateInSync && st.Revision == rev && st.Reconnects == 1
	})
	if w := d2.k.Requests().Writes; w != 0 {
		t.Errorf("%d writes when etcd came back with the cached revision, want 0", w)
	}
}

// TestMemberBadCache: a cache that is not one is reported, and the table
// is left alone.
func TestMemberBadCache(t *testing.T) {
	t.Parallel()           // waits for etcd to go and come back: overlap the waits
	srv := etcdtest.New(t) // never started: etcd is down
	cache := filepath.Join(t.TempDir(), "fleet-cache.json")
	os.WriteFile(cache, []byte(`{"kind": "Something"}`), 0o644)
	d := startDirector(t, srv, "d1", nil, func(d *director) { d.m.o.CacheFile = cache })
	eventually(t, "the refusal logged", func() bool {
		return strings.Contains(d.log.String(), "the cache cannot be used: "+cache+" is not a fleet cache")
	})
	if got := d.weights(t); got != "" {
		t.Errorf("table: %q", got)
	}
}
