package fleet

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fleet"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/internal/etcdtest"
	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// env is a real etcd (embedded) and a directory for documents.
type env struct {
	t   *testing.T
	srv *etcdtest.Server
	c   *clientv3.Client
	l   fleet.Layout
	dir string
	// now is the clock of the commands (nil: time.Now).
	now func() time.Time
	// poll replaces rollout's wait between two reads.
	poll time.Duration
}

func newEnv(t *testing.T) *env {
	srv := etcdtest.Start(t)
	l, _ := fleet.NewLayout(fleet.DefaultPrefix)
	return &env{t: t, srv: srv, c: srv.Client(t), l: l, dir: t.TempDir(), poll: 50 * time.Millisecond}
}

// file writes a document and returns its path.
func (e *env) file(name, content string) string {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// result is what one ipvsctl fleet run printed and its exit status.
type result struct {
	out, err string
	code     int
}

// run runs ipvsctl fleet --etcd ENDPOINT args.
func (e *env) run(args ...string) result {
	e.t.Helper()
	ios, _, out, errOut := iostreams.Test()
	f := factory.NewTest(ios, fakeipvs.New())
	if e.now != nil {
		f.Now = e.now
	}
	cmd := newCmdFleet(f, func(o *RolloutOptions) error {
		o.Poll = e.poll
		return RunRollout(o)
	})
	// As the root command runs it (cobra prints nothing itself).
	root := &cobra.Command{Use: "ipvsctl", SilenceErrors: true, SilenceUsage: true}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &cmdutil.FlagError{Err: err} })
	root.AddCommand(cmd)
	code := cmdutil.Execute(root, append([]string{"fleet", "--etcd", e.srv.Endpoint()}, args...), out, errOut)
	return result{strings.ReplaceAll(out.String(), e.dir+"/", ""), strings.ReplaceAll(errOut.String(), e.dir+"/", ""), code}
}

// mustRun runs and wants exit status code.
func (e *env) mustRun(code int, args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	e.t.Logf("ipvsctl fleet %s: exit %d\nstdout:\n%sstderr:\n%s", strings.Join(args, " "), r.code, r.out, r.err)
	if r.code != code {
		e.t.Fatalf("ipvsctl fleet %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, code, r.out, r.err)
	}
	return r
}

// get returns the value and revision of a key below the prefix ("" and
// 0: absent).
func (e *env) get(key string) (string, int64) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := e.c.Get(ctx, e.l.Prefix+key)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(r.Kvs) == 0 {
		return "", 0
	}
	return string(r.Kvs[0].Value), r.Kvs[0].ModRevision
}

// put writes a key below the prefix and returns its revision.
func (e *env) put(key, value string) int64 {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := e.c.Put(ctx, e.l.Prefix+key, value)
	if err != nil {
		e.t.Fatal(err)
	}
	return r.Header.Revision
}

// report writes a director's registration and, if st is not nil, its
// status, as its agent would.
func (e *env) report(name string, labels map[string]string, st *fleet.DirectorStatus) {
	e.t.Helper()
	reg := fleet.Director{APIVersion: "ipvsctl/v1", Kind: fleet.KindDirector, Name: name, Labels: labels, Version: "test",
		RegisteredAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	b, _ := json.Marshal(reg)
	e.put("directors/"+name, string(b))
	if st == nil {
		return
	}
	st.APIVersion, st.Kind, st.Name, st.Labels, st.Version = "ipvsctl/v1", fleet.KindDirectorStatus, name, labels, "test"
	if st.Unhealthy == nil {
		st.Unhealthy = []fleet.Unhealthy{}
	}
	if st.ReportIntervalSeconds == 0 {
		st.ReportIntervalSeconds = 5
	}
	b, _ = json.Marshal(st)
	e.put("status/"+name, string(b))
}
