package fleet

import (
	"errors"
	"fmt"
	"os"
	"os/signal"

	"strings"
	"syscall"
	"time"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fleet"
	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// RolloutOptions of ipvsctl fleet rollout.
type RolloutOptions struct {
	Common
	File   string
	Target string
	Canary string
	// Settle is how long the canaries must stay applied and healthy;
	// Timeout bounds each of the two waits (canaries, then the fleet).
	Settle, Timeout time.Duration
	KeepCanary      bool
	// Poll is the time between two reads of the fleet (default 500ms).
	Poll time.Duration
	// Interrupt stops the waits (default: SIGINT and SIGTERM): before
	// the fleet got the document, the canary keys are deleted.
	Interrupt <-chan os.Signal
}

// DefaultPoll is the time between two reads of the fleet during a
// rollout.
const DefaultPoll = 500 * time.Millisecond

// NewCmdRollout returns fleet rollout.
func NewCmdRollout(f *factory.Factory, store *StoreFlags, runF func(*RolloutOptions) error) *cobra.Command {
	opts := &RolloutOptions{Common: newCommon(f, store), Poll: DefaultPoll}
	cmd := &cobra.Command{
		Use:   "rollout -f FILE --canary NAME|K=V,... [--target NAME|K=V,...]",
		Short: "Push a document to canary directors, wait until they are healthy, then to the rest",
		Long: `Validate the document, then give it first to the canaries: the directors
that --target addresses and --canary matches (a name or a label
selector). Each canary gets it under its own key (documents/name/NAME),
so no other director sees it. rollout waits until every canary reports
it applied that revision, without refusing it, without a kernel error and
without an unhealthy server it did not have before, continuously for
--settle (longer than the agents' report interval). Then, in one
transaction, it pushes the document to --target (compare-and-swap on the
revision read at the start) and deletes the canary keys, and waits until
every director addressed reports the new revision.

If a canary refuses the document, or is not healthy and settled within
--timeout, the rollout stops: the canary keys are deleted (unless
--keep-canary), the canaries go back to their document, and the rest of
the fleet never got the new one. Exit status 0 when every director
applied it, 1 otherwise.`,
		Example: `  ipvsctl fleet --etcd http://10.0.0.5:2379 rollout -f lb.yaml --canary d1
  ipvsctl fleet --etcd http://10.0.0.5:2379 rollout -f lb.yaml --canary rack=a1 --settle 1m --timeout 10m`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if opts.File == "" {
				return cmdutil.FlagErrorf("give the document with -f FILE (or -f - for standard input)")
			}
			t, err := fleet.ParseTarget(opts.Target)
			if err != nil {
				return cmdutil.FlagErrorf("--target: %v", err)
			}
			if t.Name != "" {
				return cmdutil.FlagErrorf("--target %s names one director: there is no rest of the fleet to protect; use ipvsctl fleet push", t.Name)
			}
			ct, err := fleet.ParseTarget(opts.Canary)
			switch {
			case opts.Canary == "" || opts.Canary == "default":
				return cmdutil.FlagErrorf("give the canary directors with --canary NAME or --canary K=V,...")
			case err != nil:
				return cmdutil.FlagErrorf("--canary: %v", err)
			case ct.Name == "" && len(ct.Selector) == 0:
				return cmdutil.FlagErrorf("--canary: want a director's name or K=V,...")
			case opts.Settle < 0 || opts.Timeout <= 0:
				return cmdutil.FlagErrorf("--settle and --timeout must be positive")
			}
			return cmdutil.Run(opts, runF, RunRollout)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&opts.File, "filename", "f", "", "the document `FILE` (- for standard input)")
	fs.StringVar(&opts.Target, "target", "", "the directors it is for: K=V,... (a label selector) or default")
	fs.StringVar(&opts.Canary, "canary", "", "the canaries among them: a director `NAME` or K=V,...")
	fs.DurationVar(&opts.Settle, "settle", 30*time.Second, "how long the canaries must stay applied and healthy")
	fs.DurationVar(&opts.Timeout, "timeout", 5*time.Minute, "give up waiting for the canaries, then for the fleet, after this long")
	fs.BoolVar(&opts.KeepCanary, "keep-canary", false, "when the rollout stops, leave the canaries on the new document (to look at them)")
	_ = cmd.MarkFlagFilename("filename", "json", "yaml", "yml")
	return cmd
}

// canary is one canary director during the rollout.
type canary struct {
	name string
	key  string // documents/name/NAME under the prefix
	// baseline are its unhealthy servers before the push.
	baseline map[string]bool
	// since is when it was last seen applied and healthy after being
	// otherwise (zero: it is not).
	since time.Time
	// sick is since when it has had unhealthy servers it did not have
	// before (zero: it has not).
	sick time.Time
	// said is its last progress line, why the reason it is not ready.
	said, why string
}

// RunRollout rolls the document out.
func RunRollout(o *RolloutOptions) error {
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.Interrupt == nil {
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sigs)
		o.Interrupt = sigs
	}
	t, _ := fleet.ParseTarget(o.Target)
	ct, _ := fleet.ParseTarget(o.Canary)
	_, data, name, err := loadDocument(&o.Common, o.File, "nothing was pushed")
	if err != nil {
		return err
	}
	c, l, snap, err := o.open()
	if err != nil {
		return err
	}
	defer c.Close()
	w := o.IO.Out
	key := l.Document(t)
	path := "documents/" + t.Path()
	start := int64(0)
	if d := snap.Documents[key]; d != nil {
		start = d.Revision
	}
	targets, problems := addressed(snap, withDoc(snap.Documents, &fleet.Doc{Key: key, Path: t.Path(), Target: t, Value: data}), key)
	for _, p := range problems {
		warn(o.IO.ErrOut, "%s", p)
	}
	var cs []*canary
	var rest []string
	for _, n := range targets {
		if !ct.Matches(n, snap.Labels(n)) {
			rest = append(rest, n)
			continue
		}
		cn := &canary{name: n, key: l.Document(fleet.Target{Name: n}), baseline: map[string]bool{}}
		if st := snap.Statuses[n]; st != nil {
			for _, u := range st.Unhealthy {
				cn.baseline[u.Service+" "+u.Server] = true
			}
		}
		cs = append(cs, cn)
	}
	if len(cs) == 0 {
		// A director with a document of its own never takes the target's.
		for _, n := range snap.Names() {
			if d := snap.Documents[l.Document(fleet.Target{Name: n})]; d != nil && ct.Matches(n, snap.Labels(n)) {
				return fmt.Errorf("%s has a document of its own (%s): it would not take %s, so it cannot be its canary; nothing was pushed. Choose another --canary, or delete its document first (ipvsctl fleet push --delete --target %s)",
					n, docName(d), path, n)
			}
		}
		return fmt.Errorf("no director matches --canary %s among those %s addresses (%s); nothing was pushed",
			o.Canary, path, list(targets))
	}
	names := canaryNames(cs)

	// The canaries' own keys, all at once, none there before.
	var cmps []clientv3.Cmp
	var puts []clientv3.Op
	for _, cn := range cs {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(cn.key), "=", 0))
		puts = append(puts, clientv3.OpPut(cn.key, string(data)))
	}
	ctx, cancel := o.request()
	resp, err := c.Txn(ctx).If(cmps...).Then(puts...).Commit()
	cancel()
	if err != nil {
		return unreachable(fmt.Errorf("%w; nothing was pushed", fleet.StoreError(c, err)))
	}
	if !resp.Succeeded {
		return fmt.Errorf("a document was pushed for one of %s since the fleet was read (it has its own now); nothing was pushed. Check with ipvsctl fleet status and choose other canaries", list(names))
	}
	rev := resp.Header.Revision
	verbs := "apply it and stay"
	if len(cs) == 1 {
		verbs = "applies it and stays"
	}
	fmt.Fprintf(w, "canary: pushed %s to %s at revision %d; waiting until %s %s healthy for %s (timeout %s)\n",
		name, strings.Join(canaryKeys(cs), ", "), rev, list(names), verbs, o.Settle, o.Timeout)

	// stop ends a rollout that did not reach the fleet.
	stop := func(why string) error {
		undo := "the canary keys are left (--keep-canary): delete them with ipvsctl fleet push --delete --target NAME"
		if !o.KeepCanary {
			undo = o.deleteCanaries(c, cs, rev, l)
		}
		still := ""
		if s, err := o.read(c, l); err == nil {
			if d := s.Documents[key]; d != nil && d.Revision == start {
				still = fmt.Sprintf("; %s is still at revision %d", path, start)
			} else if d == nil && start == 0 {
				still = fmt.Sprintf("; %s still does not exist", path)
			}
		}
		return &cmdutil.ExitError{Code: 1, Err: fmt.Errorf("rollout of %s stopped: %s\n%s\nThe rest of the fleet (%s) never got it%s",
			name, why, undo, list(rest), still)}
	}

	deadline := o.Now().Add(o.Timeout)
	canaryDoc := func(cn *canary) string { return "documents/name/" + cn.name }
	for {
		s, err := o.read(c, l)
		now := o.Now()
		if err != nil {
			fmt.Fprintf(w, "  %v; trying again\n", err)
		} else {
			ready := true
			for _, cn := range cs {
				ok, msg, v := judge(s.Statuses[cn.name], canaryDoc(cn), rev, cn.baseline)
				if v == refused {
					fmt.Fprintf(w, "  %s: %s\n", cn.name, msg)
					return stop(fmt.Sprintf("canary %s %s", cn.name, msg))
				}
				// Servers that stay down for a settle time are the
				// failure a canary is for: stop now, not at --timeout.
				if v != sick {
					cn.sick = time.Time{}
				} else if cn.sick.IsZero() {
					cn.sick = now
				} else if now.Sub(cn.sick) >= o.Settle {
					fmt.Fprintf(w, "  %s: %s\n", cn.name, msg)
					return stop(fmt.Sprintf("canary %s %s, for the settle time (%s)", cn.name, msg, o.Settle))
				}
				if msg != cn.said {
					fmt.Fprintf(w, "  %s: %s\n", cn.name, msg)
					cn.said = msg
				}
				switch {
				case !ok:
					cn.since, cn.why = time.Time{}, msg
					ready = false
				case cn.since.IsZero():
					cn.since = now
					fallthrough
				case now.Sub(cn.since) < o.Settle:
					cn.why = fmt.Sprintf("was healthy for %s only", now.Sub(cn.since).Round(time.Second))
					ready = false
				}
			}
			if ready {
				fmt.Fprintf(w, "canary: %s applied revision %d and stayed healthy for %s\n", list(names), rev, o.Settle)
				break
			}
		}
		if !now.Before(deadline) {
			var why []string
			for _, cn := range cs {
				if cn.why != "" && (cn.since.IsZero() || now.Sub(cn.since) < o.Settle) {
					why = append(why, fmt.Sprintf("canary %s %s", cn.name, cn.why))
				}
			}
			if len(why) == 0 {
				why = append(why, "etcd could not be read")
			}
			return stop(fmt.Sprintf("not ready within %s: %s", o.Timeout, strings.Join(why, "; ")))
		}
		select {
		case sig := <-o.Interrupt:
			return stop(fmt.Sprintf("interrupted (%v) while waiting for the canaries", sig))
		case <-time.After(o.Poll):
		}
	}

	// The fleet: the document at the target and no canary key, at once.
	ops := []clientv3.Op{clientv3.OpPut(key, string(data))}
	for _, cn := range cs {
		ops = append(ops, clientv3.OpDelete(cn.key))
	}
	ctx, cancel = o.request()
	final, err := fleet.WriteIf(ctx, c, key, start, ops...)
	cancel()
	var ce *fleet.ConflictError
	switch {
	case errors.As(err, &ce):
		what := fmt.Sprintf("someone else pushed %s (now revision %d) during the rollout", path, ce.Found)
		if ce.Found == 0 {
			what = fmt.Sprintf("someone else deleted %s during the rollout", path)
		}
		return stop(what + fmt.Sprintf("; see what changed with ipvsctl fleet diff -f %s, then roll out again", o.File))
	case err != nil:
		return stop(fmt.Sprintf("the push to %s failed: %v", path, err))
	}
	fmt.Fprintf(w, "pushed %s to %s at revision %d and deleted the canary keys; waiting until the %d director%s it addresses apply it\n",
		name, path, final, len(targets), cmdutil.Plural(len(targets)))
	return o.waitFleet(c, l, key, path, final)
}

// verdict is what judge makes of a canary beyond ready or not.
type verdict int

const (
	// waiting: not there yet, or there and healthy.
	waiting verdict = iota
	// refused: it refused the document (the rollout stops at once).
	refused
	// sick: it applied the document and has unhealthy servers it did not
	// have before (the rollout stops if that lasts a settle time).
	sick
)

// judge says whether a canary's status shows the document at rev applied
// and healthy (ok), what it shows (msg), and whether it refused it or is
// sick with it (v).
func judge(st *fleet.DirectorStatus, doc string, rev int64, baseline map[string]bool) (ok bool, msg string, v verdict) {
	switch {
	case st == nil:
		return false, "no status in the store (is its agent running? ipvsctl fleet status)", waiting
	case st.Rejected != nil && st.Rejected.Document == doc && st.Rejected.Revision == rev:
		return false, "refused the document: " + strings.ReplaceAll(st.Rejected.Error, "\n", "; "), refused
	case st.Document != doc || st.Revision != rev:
		at := "nothing applied"
		if st.Document != "" {
			at = fmt.Sprintf("%s revision %d", st.Document, st.Revision)
		}
		return false, fmt.Sprintf("has not applied it yet (%s: %s)", st.State, at), waiting
	case st.WantDocument != doc || st.WantRevision != rev:
		return false, fmt.Sprintf("applied it but reports %s revision %d as its document", st.WantDocument, st.WantRevision), waiting
	case st.Problem != "":
		return false, "reports a problem: " + st.Problem, waiting
	case st.LastError != "":
		return false, "the kernel refused a write: " + st.LastError, waiting
	}
	var bad []string
	for _, u := range st.Unhealthy {
		if !baseline[u.Service+" "+u.Server] {
			bad = append(bad, unhealthyText(u))
		}
	}
	if len(bad) > 0 {
		return false, fmt.Sprintf("applied revision %d, but has unhealthy servers it did not have before: %s", rev, strings.Join(bad, "; ")), sick
	}
	if st.Unchecked > 0 {
		return false, fmt.Sprintf("applied revision %d; waiting for the first check of %d server%s", rev, st.Unchecked, cmdutil.Plural(st.Unchecked)), waiting
	}
	return true, fmt.Sprintf("applied revision %d, healthy", rev), waiting
}

// deleteCanaries removes the canary keys still at rev and says where the
// canaries go back to.
func (o *RolloutOptions) deleteCanaries(c *clientv3.Client, cs []*canary, rev int64, l fleet.Layout) string {
	var lines []string
	deleted := false
	for _, cn := range cs {
		ctx, cancel := o.request()
		_, err := fleet.Delete(ctx, c, cn.key, rev, false)
		cancel()
		if err != nil {
			lines = append(lines, fmt.Sprintf("could not delete %s: %v; delete it with ipvsctl fleet push --delete --target %s", cn.key[len(l.Prefix):], err, cn.name))
			continue
		}
		deleted = true
	}
	if !deleted {
		return strings.Join(lines, "\n")
	}
	s, err := o.read(c, l)
	for _, cn := range cs {
		back := "the document addressed to it"
		if err == nil {
			back = "no document (it keeps its table as it is)"
			if d, err := fleet.Select(s.Documents, cn.name, s.Labels(cn.name)); err == nil && d != nil {
				back = fmt.Sprintf("%s revision %d", docName(d), d.Revision)
			}
		}
		lines = append(lines, fmt.Sprintf("deleted %s: %s goes back to %s", cn.key[len(l.Prefix):], cn.name, back))
	}
	return strings.Join(lines, "\n")
}

// waitFleet waits until every director the document key addresses
// reports revision rev of it (or a later one).
func (o *RolloutOptions) waitFleet(c *clientv3.Client, l fleet.Layout, key, path string, rev int64) error {
	w := o.IO.Out
	deadline := o.Now().Add(o.Timeout)
	said := -1
	for {
		s, err := o.read(c, l)
		if err != nil {
			fmt.Fprintf(w, "  %v; trying again\n", err)
		} else {
			names, _ := addressed(s, s.Documents, key)
			var late []string
			for _, n := range names {
				st := s.Statuses[n]
				if st == nil || st.Document != path || st.Revision < rev {
					late = append(late, n)
				}
			}
			if len(late) == 0 {
				fmt.Fprintf(w, "all %d director%s applied revision %d\n", len(names), cmdutil.Plural(len(names)), rev)
				return nil
			}
			if done := len(names) - len(late); done != said {
				fmt.Fprintf(w, "  %d of %d directors applied revision %d\n", done, len(names), rev)
				said = done
			}
			if !o.Now().Before(deadline) {
				row := map[string]fleet.DirectorRow{}
				for _, r := range s.Status(o.Now()).Directors {
					row[r.Name] = r
				}
				var lines []string
				for _, n := range late {
					r := row[n]
					at := "nothing applied"
					if r.Revision > 0 {
						at = fmt.Sprintf("revision %d applied", r.Revision)
					}
					line := fmt.Sprintf("%s: %s, %s, last report %s", n, r.State, at, age(r.LastReportSeconds))
					for _, p := range problems(r) {
						line += "; " + p
					}
					lines = append(lines, line)
				}
				return &cmdutil.ExitError{Code: 1, Err: fmt.Errorf("%s is pushed (revision %d), but %d of %d directors did not apply it within %s:\n%s\n(ipvsctl fleet status to watch them)",
					path, rev, len(late), len(names), o.Timeout, strings.Join(lines, "\n"))}
			}
		}
		select {
		case sig := <-o.Interrupt:
			return &cmdutil.ExitError{Code: 1, Err: fmt.Errorf("interrupted (%v): %s is pushed (revision %d); ipvsctl fleet status shows which directors applied it", sig, path, rev)}
		case <-time.After(o.Poll):
		}
	}
}

func canaryNames(cs []*canary) []string {
	var out []string
	for _, cn := range cs {
		out = append(out, cn.name)
	}
	return out
}

func canaryKeys(cs []*canary) []string {
	var out []string
	for _, cn := range cs {
		out = append(out, "documents/name/"+cn.name)
	}
	return out
}
