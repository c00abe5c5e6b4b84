package fleet

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/agent"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/apply"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fleet"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/healthcheck"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Documents with health checks: checkedV2 changes a weight, checkedBad
// adds a server whose checks fail on every director.
const (
	checkedV1 = `apiVersion: ipvsctl/v1
services:
  - protocol: tcp
    address: 10.0.0.9
    port: 80
    healthCheck: {type: tcp, interval: 1s}
    destinations:
      - {address: 192.168.0.1, port: 80}
      - {address: 192.168.0.2, port: 80}
`
	checkedBad = checkedV1 + "      - {address: 192.168.0.9, port: 80}\n"
)

var checkedV2 = strings.Replace(checkedV1, "{address: 192.168.0.1, port: 80}", "{address: 192.168.0.1, port: 80, weight: 5}", 1)

// prober stands for the health checks: given the checks of a document,
// it reports each server up, or down if it is in down, as a monitor
// would after its first probes (transitions to the agent, the state in
// Status).
type prober struct {
	ctx  context.Context
	a    *agent.Agent
	down map[string]bool

	mu    sync.Mutex
	state map[string]healthcheck.Status
}

func (p *prober) Set(ts []healthcheck.Target) {
	now := time.Now()
	var out []healthcheck.Transition
	p.mu.Lock()
	p.state = map[string]healthcheck.Status{}
	for _, tg := range ts {
		to, res := healthcheck.Up, healthcheck.Result{OK: true}
		if p.down[tg.Addr.Addr().String()] {
			to, res = healthcheck.Down, healthcheck.Result{Err: fmt.Errorf("connection refused")}
		}
		p.state[tg.Key()] = healthcheck.Status{Key: tg.Key(), Target: tg, State: to, Weight: -1, Last: res, LastTime: now, Since: now, Probes: 1}
		out = append(out, healthcheck.Transition{Key: tg.Key(), Target: tg, From: healthcheck.Unknown, To: to, Weight: -1, Result: res})
	}
	p.mu.Unlock()
	// Set runs in the agent's loop: the transitions come from elsewhere.
	go func() {
		for _, tr := range out {
			p.a.Transition(p.ctx, tr)
		}
	}()
}

func (p *prober) Status() []healthcheck.Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []healthcheck.Status
	for _, s := range p.state {
		out = append(out, s)
	}
	return out
}

// director is a real agent over the fake kernel, in the fleet through a
// real fleet.Member, as ipvsctl agent --etcd runs them.
type director struct {
	name   string
	kernel *fakeipvs.Fake
	member *fleet.Member
}

// startDirector starts a director that reports every 100ms; servers in
// down fail their checks; with a scope, it refuses documents with
// services outside it (as agent --scope does).
func startDirector(e *env, name string, labels map[string]string, scope string, down ...string) *director {
	e.t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{e.srv.Endpoint()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &director{name: name, kernel: fakeipvs.New()}
	sc, err := ipvsconfig.ParseScope(scope)
	if err != nil {
		e.t.Fatal(err)
	}
	p := &prober{ctx: ctx, down: map[string]bool{}}
	for _, a := range down {
		p.down[a] = true
	}
	a := agent.New(agent.Options{IPVS: d.kernel, Prober: p, Logf: func(string, ...any) {}})
	p.a = a
	drv := fleet.NewDriver(ctx, a, nil)
	d.member = fleet.NewMember(fleet.MemberOptions{
		Client: c, Layout: e.l, Name: name, Labels: labels, Version: "test",
		Validate: func(name string, data []byte) (*ipvsconfig.Desired, error) {
			return apply.ParseDesired(name, data, "", sc)
		},
		Apply: drv.Apply, AgentStatus: a.Status,
		ReportInterval: 100 * time.Millisecond, RetryMin: 100 * time.Millisecond, RetryMax: time.Second,
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = d.member.Run(ctx)
	}()
	e.t.Cleanup(func() {
		cancel()
		<-done
		if drv.Running() {
			<-drv.Done()
		}
		c.Close()
	})
	return d
}

// waitApplied waits until every director reports key at revision rev.
func waitApplied(e *env, rev int64, ds ...*director) {
	e.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		late := ""
		for _, d := range ds {
			if st := d.member.Status(); st.Revision != rev || st.State != fleet.StateInSync {
				late = fmt.Sprintf("%s: %s revision %d", d.name, st.State, st.Revision)
			}
		}
		if late == "" {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("directors did not apply revision %d: %s", rev, late)
		}
	}
}

// weightOf returns the weight of server in the director's table (-1:
// absent).
func weightOf(e *env, d *director, server string) int {
	e.t.Helper()
	tab, err := d.kernel.Table()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, vs := range tab {
		for _, ds := range vs.Destinations {
			if ds.Key().String() == server {
				return int(ds.Weight)
			}
		}
	}
	return -1
}

// threeDirectors starts d1, d2, d3 on checkedV1 (the default document)
// and returns them with its revision. d1 has scope if not empty.
func threeDirectors(e *env, scope string, down ...string) ([]*director, int64) {
	e.t.Helper()
	rev := e.put("documents/default", checkedV1)
	var ds []*director
	for i, n := range []string{"d1", "d2", "d3"} {
		sc := ""
		if i == 0 {
			sc = scope
		}
		ds = append(ds, startDirector(e, n, map[string]string{"rack": fmt.Sprintf("r%d", i%2)}, sc, down...))
	}
	waitApplied(e, rev, ds...)
	// The registrations and statuses are in the store before the rollout reads it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s, err := fleet.Read(ctx, e.c, e.l)
		cancel()
		if err == nil && len(s.Statuses) == 3 {
			break
		}
		if time.Now().After(deadline) {
			e.t.Fatal("the directors' statuses are not in the store")
		}
	}
	return ds, rev
}

// TestRolloutSuccess: the canary applies the document and stays healthy,
// then the fleet gets it and every director applies it.
func TestRolloutSuccess(t *testing.T) {
	e := newEnv(t)
	ds, _ := threeDirectors(e, "")
	r := e.mustRun(0, "rollout", "-f", e.file("lb.yaml", checkedV2), "--canary", "d1", "--settle", "500ms", "--timeout", "20s")
	for _, want := range []string{
		"canary: pushed lb.yaml to documents/name/d1 at revision",
		"canary: d1 applied revision",
		"and deleted the canary keys; waiting until the 3 directors it addresses apply it",
		"all 3 directors applied revision",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output:\n%s\nwant it to contain %q", r.out, want)
		}
	}
	v, rev := e.get("documents/default")
	if v != checkedV2 {
		t.Errorf("documents/default is %q", v)
	}
	if v, _ := e.get("documents/name/d1"); v != "" {
		t.Errorf("the canary key is left: %q", v)
	}
	waitApplied(e, rev, ds...)
	for _, d := range ds {
		if w := weightOf(e, d, "192.168.0.1:80"); w != 5 {
			t.Errorf("%s: weight of 192.168.0.1:80 is %d, want 5", d.name, w)
		}
	}
}

// TestRolloutUnhealthyCanary: the new document adds a server whose checks
// fail; the canary (chosen by label) reports it unhealthy for a settle
// time, so the rollout stops long before its timeout, deletes the canary
// key, and the other directors never leave the previous revision.
func TestRolloutUnhealthyCanary(t *testing.T) {
	e := newEnv(t)
	ds, rev := threeDirectors(e, "", "192.168.0.9")
	t0 := time.Now()
	r := e.mustRun(1, "rollout", "-f", e.file("lb.yaml", checkedBad), "--canary", "rack=r1", "--settle", "300ms", "--timeout", "1m")
	if took := time.Since(t0); took > 30*time.Second {
		t.Errorf("the rollout took %v to stop: it waited for its timeout", took)
	}
	for _, want := range []string{
		"rollout of lb.yaml stopped: canary d2 applied revision",
		"but has unhealthy servers it did not have before: 192.168.0.9:80 of tcp:10.0.0.9:80 (connection refused), for the settle time (300ms)",
		"deleted documents/name/d2: d2 goes back to documents/default revision " + fmt.Sprint(rev),
		"The rest of the fleet (d1, d3) never got it; documents/default is still at revision " + fmt.Sprint(rev),
	} {
		if !strings.Contains(r.err, want) {
			t.Errorf("stderr:\n%s\nwant it to contain %q", r.err, want)
		}
	}
	if v, _ := e.get("documents/name/d2"); v != "" {
		t.Errorf("the canary key is left: %q", v)
	}
	if v, got := e.get("documents/default"); v != checkedV1 || got != rev {
		t.Errorf("documents/default changed: revision %d", got)
	}
	// d2 goes back; d1 and d3 never had the server.
	waitApplied(e, rev, ds...)
	for _, d := range ds {
		if w := weightOf(e, d, "192.168.0.9:80"); w != -1 {
			t.Errorf("%s has 192.168.0.9:80 (weight %d)", d.name, w)
		}
	}
}

// TestRolloutRejected: the canary refuses the document (a service
// outside its --scope): the rollout stops at once, whatever the timeout.
func TestRolloutRejected(t *testing.T) {
	e := newEnv(t)
	ds, rev := threeDirectors(e, "vip=10.0.0.9/32")
	wider := checkedV1 + "  - {protocol: udp, address: 10.0.0.10, port: 53}\n"
	start := time.Now()
	r := e.mustRun(1, "rollout", "-f", e.file("lb.yaml", wider), "--canary", "d1", "--settle", "300ms", "--timeout", "1m")
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the rollout took %s: it should stop at the refusal", took)
	}
	for _, want := range []string{
		"rollout of lb.yaml stopped: canary d1 refused the document: /ipvsctl/documents/name/d1@",
		"is outside the scope vip=10.0.0.9/32",
		"deleted documents/name/d1: d1 goes back to documents/default revision " + fmt.Sprint(rev),
		"The rest of the fleet (d2, d3) never got it; documents/default is still at revision " + fmt.Sprint(rev),
	} {
		if !strings.Contains(r.err, want) {
			t.Errorf("stderr:\n%s\nwant it to contain %q", r.err, want)
		}
	}
	waitApplied(e, rev, ds...)
}

// TestRolloutInterrupted: an interrupt while waiting for the canaries
// deletes their keys.
func TestRolloutInterrupted(t *testing.T) {
	e := newEnv(t)
	_, rev := threeDirectors(e, "", "192.168.0.9")
	ios, _, _, errOut := iostreams.Test()
	f := factory.NewTest(ios, fakeipvs.New())
	sigs := make(chan os.Signal, 1)
	cmd := newCmdFleet(f, func(o *RolloutOptions) error {
		o.Poll, o.Interrupt = e.poll, sigs
		return RunRollout(o)
	})
	// The canary never settles (a failing server); interrupt once its key is there.
	go func() {
		for {
			if v, _ := e.get("documents/name/d1"); v != "" {
				sigs <- os.Interrupt
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	root := &cobra.Command{Use: "ipvsctl", SilenceErrors: true, SilenceUsage: true}
	root.AddCommand(cmd)
	code := cmdutil.Execute(root, []string{"fleet", "--etcd", e.srv.Endpoint(), "rollout", "-f", e.file("lb.yaml", checkedBad),
		"--canary", "d1", "--timeout", "1m"}, ios.Out, errOut)
	if want := "stopped: interrupted (interrupt) while waiting for the canaries"; code != 1 || !strings.Contains(errOut.String(), want) {
		t.Errorf("exit %d, stderr %q; want exit 1 and %q", code, errOut.String(), want)
	}
	if v, _ := e.get("documents/name/d1"); v != "" {
		t.Errorf("the canary key is left: %q", v)
	}
	if _, got := e.get("documents/default"); got != rev {
		t.Errorf("documents/default changed (revision %d)", got)
	}
}

// TestRolloutConflict: someone pushes the target during the rollout: it
// stops before the fleet gets the document, and says so.
func TestRolloutConflict(t *testing.T) {
	e := newEnv(t)
	threeDirectors(e, "")
	// Someone else pushes the default document as soon as the canary key appears.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wch := e.c.Watch(ctx, e.l.Prefix+"documents/name/", clientv3.WithPrefix())
	pushed := make(chan int64, 1)
	go func() {
		for wr := range wch {
			for _, ev := range wr.Events {
				if ev.Type == clientv3.EventTypePut {
					r, err := e.c.Put(ctx, e.l.Prefix+"documents/default", checkedV1+"# theirs\n")
					if err == nil {
						pushed <- r.Header.Revision
					}
					return
				}
			}
		}
	}()
	r := e.mustRun(1, "rollout", "-f", e.file("lb.yaml", checkedV2), "--canary", "d3", "--settle", "300ms", "--timeout", "10s")
	theirs := <-pushed
	want := fmt.Sprintf("someone else pushed documents/default (now revision %d) during the rollout", theirs)
	for _, want := range []string{want, fmt.Sprintf("d3 goes back to documents/default revision %d\nThe rest of the fleet (d1, d2) never got it\n", theirs)} {
		if !strings.Contains(r.err, want) {
			t.Errorf("stderr:\n%s\nwant it to contain %q", r.err, want)
		}
	}
	if v, _ := e.get("documents/default"); v != checkedV1+"# theirs\n" {
		t.Errorf("documents/default is %q, want theirs", v)
	}
	if v, _ := e.get("documents/name/d3"); v != "" {
		t.Errorf("the canary key is left: %q", v)
	}
}

// TestRolloutRefused: canaries that cannot be: none matches, or one has
// a document of its own. Nothing is pushed.
func TestRolloutRefused(t *testing.T) {
	e := newEnv(t)
	rev := e.put("documents/default", docV1)
	e.put("documents/name/d2", docV1)
	e.report("d1", map[string]string{"rack": "r0"}, nil)
	e.report("d2", map[string]string{"rack": "r1"}, nil)
	v2 := e.file("lb.yaml", docV2)
	for _, tt := range []struct {
		args []string
		err  string
	}{
		{[]string{"--canary", "rack=r9"}, "no director matches --canary rack=r9 among those documents/default addresses (d1); nothing was pushed"},
		{[]string{"--canary", "d2"}, "d2 has a document of its own (documents/name/d2): it would not take documents/default"},
		{[]string{"--canary", "d1", "--target", "d1"}, "--target d1 names one director"},
		{[]string{}, "give the canary directors with --canary"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			e.t = t
			r := e.run(append([]string{"rollout", "-f", v2}, tt.args...)...)
			if r.code != 1 || !strings.Contains(r.err, tt.err) {
				t.Errorf("exit %d, stderr %q; want exit 1 and %q", r.code, r.err, tt.err)
			}
			if v, got := e.get("documents/default"); v != docV1 || got != rev {
				t.Errorf("documents/default changed (revision %d)", got)
			}
			if v, _ := e.get("documents/name/d1"); v != "" {
				t.Errorf("a canary key was written: %q", v)
			}
		})
	}
}

// TestJudge: what a canary's status must show before its settle time
// starts.
func TestJudge(t *testing.T) {
	const doc = "documents/name/c1"
	ok := fleet.DirectorStatus{Document: doc, Revision: 9, WantDocument: doc, WantRevision: 9, Unhealthy: []fleet.Unhealthy{}}
	for _, tc := range []struct {
		name string
		edit func(s *fleet.DirectorStatus)
		ok   bool
		msg  string
		v    verdict
	}{
		{"applied and healthy", func(*fleet.DirectorStatus) {}, true, "applied revision 9, healthy", waiting},
		{"older revision", func(s *fleet.DirectorStatus) { s.Revision = 8 }, false, "has not applied it yet", waiting},
		{"refused", func(s *fleet.DirectorStatus) {
			s.Rejected = &fleet.Rejected{Document: doc, Revision: 9, Error: "x:3: bad"}
		}, false, "refused the document: x:3: bad", refused},
		{"first checks pending", func(s *fleet.DirectorStatus) { s.Unchecked = 2 }, false, "waiting for the first check of 2 servers", waiting},
		{"new unhealthy server", func(s *fleet.DirectorStatus) {
			s.Unhealthy = []fleet.Unhealthy{{Service: "TCP 10.0.0.1:80", Server: "10.1.0.9:80", Error: "connection refused"}}
		}, false, "unhealthy servers it did not have before: 10.1.0.9:80 of TCP 10.0.0.1:80 (connection refused)", sick},
		{"unhealthy before the rollout", func(s *fleet.DirectorStatus) {
			s.Unhealthy = []fleet.Unhealthy{{Service: "TCP 10.0.0.1:80", Server: "10.1.0.1:80"}}
		}, true, "healthy", waiting},
		{"kernel error", func(s *fleet.DirectorStatus) { s.LastError = "File exists" }, false, "the kernel refused a write: File exists", waiting},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := ok
			tc.edit(&st)
			gotOK, msg, v := judge(&st, doc, 9, map[string]bool{"TCP 10.0.0.1:80 10.1.0.1:80": true})
			if gotOK != tc.ok || v != tc.v || !strings.Contains(msg, tc.msg) {
				t.Errorf("judge = %v, %q, %v; want %v, %q, %v", gotOK, msg, v, tc.ok, tc.msg, tc.v)
			}
		})
	}
}
