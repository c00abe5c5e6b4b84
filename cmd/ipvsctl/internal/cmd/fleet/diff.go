package fleet

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/apply"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fleet"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/reconcile"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/ipvs-tools/ipvs/ipvsplan"
	"github.com/spf13/cobra"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// DiffOptions of ipvsctl fleet diff.
type DiffOptions struct {
	Common
	File   string
	Target string
}

// NewCmdDiff returns fleet diff.
func NewCmdDiff(f *factory.Factory, store *StoreFlags, runF func(*DiffOptions) error) *cobra.Command {
	opts := &DiffOptions{Common: newCommon(f, store)}
	cmd := &cobra.Command{
		Use:   "diff -f FILE [--target NAME|K=V,...]",
		Short: "Show what pushing a document would change on each director it addresses (exit 2 if anything)",
		Long: `Validate the document, then, for every known director that would take it
if it were pushed to --target (given the other documents in the store),
print the changes its agent would make to its table: the difference
between the document it runs now (at the revision it reports applied)
and this one. Directors that run the same document at the same revision
share one plan. The agent's health checks may hold some servers at
weight 0: the plan is between the two documents.

It prints the revision the target's key was read at: push with
--if-revision N to be sure nobody pushed in between. Exit status: 0 no
change anywhere, 2 changes, 1 error.`,
		Example: `  ipvsctl fleet --etcd http://10.0.0.5:2379 diff -f lb.yaml
  ipvsctl fleet --etcd http://10.0.0.5:2379 diff -f lb.yaml --target site=par1`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if opts.File == "" {
				return cmdutil.FlagErrorf("give the document with -f FILE (or -f - for standard input)")
			}
			if _, err := fleet.ParseTarget(opts.Target); err != nil {
				return cmdutil.FlagErrorf("--target: %v", err)
			}
			return cmdutil.Run(opts, runF, RunDiff)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&opts.File, "filename", "f", "", "the document `FILE` (- for standard input)")
	fs.StringVar(&opts.Target, "target", "", "the directors it would be for: a director `NAME`, K=V,... (a label selector) or default")
	_ = cmd.MarkFlagFilename("filename", "json", "yaml", "yml")
	return cmd
}

// running is the document a director runs now, as a group of directors.
type running struct {
	// doc names it ("documents/default revision 42", "no document applied
	// yet"); note says how it was read when not exactly.
	doc, note string
	names     []string
	desired   *ipvsconfig.Desired
	err       error
}

// RunDiff prints the plans.
func RunDiff(o *DiffOptions) error {
	t, _ := fleet.ParseTarget(o.Target)
	want, data, name, err := loadDocument(&o.Common, o.File, "nothing was compared")
	if err != nil {
		return err
	}
	c, l, snap, err := o.open()
	if err != nil {
		return err
	}
	defer c.Close()
	key := l.Document(t)
	path := "documents/" + t.Path()
	docs := withDoc(snap.Documents, &fleet.Doc{Key: key, Path: t.Path(), Target: t, Value: data})
	w := o.IO.Out
	cur := int64(0)
	if d := snap.Documents[key]; d != nil {
		cur = d.Revision
		fmt.Fprintf(w, "%s is at revision %d (store revision %d): push with --if-revision %d to be sure nobody pushed it since.\n",
			path, cur, snap.Revision, cur)
	} else {
		fmt.Fprintf(w, "%s does not exist yet (store revision %d): push with --if-revision 0 to be sure nobody pushed it since.\n",
			path, snap.Revision)
	}

	groups := map[string]*running{}
	var order []string
	var others, problems []string
	for _, n := range snap.Names() {
		d, err := fleet.Select(docs, n, snap.Labels(n))
		switch {
		case err != nil:
			problems = append(problems, err.Error())
			continue
		case d == nil || d.Key != key:
			keeps := "no document"
			if d != nil {
				keeps = docName(d)
			}
			others = append(others, fmt.Sprintf("%s is not addressed: it keeps %s", n, keeps))
			continue
		}
		st := snap.Statuses[n]
		gk := ""
		if st != nil && st.Document != "" && st.Revision > 0 {
			gk = fmt.Sprintf("%s@%d", st.Document, st.Revision)
		}
		g := groups[gk]
		if g == nil {
			g = &running{}
			if gk == "" {
				g.doc = "no document applied yet"
				g.desired = &ipvsconfig.Desired{}
			} else {
				g.doc = fmt.Sprintf("running %s revision %d", st.Document, st.Revision)
				g.desired, g.note, g.err = oldDocument(o, c, l, st.Document, st.Revision)
			}
			groups[gk] = g
			order = append(order, gk)
		}
		g.names = append(g.names, n)
	}
	// order is by the first director of each group (names are sorted).
	changed := false
	if len(order) == 0 {
		fmt.Fprintf(w, "No known director would take %s.\n", path)
	}
	for _, gk := range order {
		g := groups[gk]
		fmt.Fprintf(w, "\n%s (%s):\n", strings.Join(g.names, ", "), g.doc)
		if g.note != "" {
			fmt.Fprintf(w, "  note: %s\n", g.note)
		}
		if g.err != nil {
			fmt.Fprintf(w, "  cannot compare: %v\n", g.err)
			continue
		}
		p, err := ipvsplan.Diff(g.desired.Services, want.Services, ipvsplan.Options{Prune: true})
		if err != nil {
			return fmt.Errorf("diff %s: %w", name, err)
		}
		plan := &reconcile.Plan{Services: p}
		if plan.Empty() {
			fmt.Fprintln(w, "  No changes: its table would stay as it is.")
			continue
		}
		changed = true
		writePlan(w, o.IO, plan)
	}
	if len(others) > 0 || len(problems) > 0 {
		fmt.Fprintln(w)
	}
	for _, s := range others {
		fmt.Fprintln(w, s)
	}
	for _, p := range problems {
		fmt.Fprintln(w, "problem: "+p)
	}
	if changed {
		return &cmdutil.ExitError{Code: 2}
	}
	return nil
}

// writePlan prints a plan's changes, indented and coloured by action if
// ios allows colour, and its counts.
func writePlan(w io.Writer, ios *iostreams.IOStreams, plan *reconcile.Plan) {
	cs := ios.ColorScheme()
	for _, c := range plan.Changes() {
		mark := map[string]string{"add": "+", "update": "~", "delete": "-"}[c.Action]
		fmt.Fprintf(w, "  %s\n", cs.Change(c.Action, mark+" "+ios.Text(c.Description)))
	}
	n := plan.Counts()
	fmt.Fprintf(w, "  Plan: %d to add, %d to change, %d to delete\n", n["add"], n["update"], n["delete"])
}

// oldDocument reads the document a director applied: doc (below the
// prefix) at revision rev, or, if that revision was compacted away, the
// key's current value (said in note).
func oldDocument(o *DiffOptions, c *clientv3.Client, l fleet.Layout, doc string, rev int64) (*ipvsconfig.Desired, string, error) {
	key := l.Prefix + doc
	get := func(opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
		ctx, cancel := o.request()
		defer cancel()
		return c.Get(ctx, key, opts...)
	}
	note := ""
	resp, err := get(clientv3.WithRev(rev))
	switch {
	case errors.Is(err, rpctypes.ErrCompacted):
		resp, err = get()
		if err == nil && len(resp.Kvs) > 0 {
			note = fmt.Sprintf("revision %d was compacted away; compared with the key's current value (revision %d)", rev, resp.Kvs[0].ModRevision)
		}
	case err == nil && (len(resp.Kvs) == 0 || resp.Kvs[0].ModRevision != rev):
		return nil, "", fmt.Errorf("%s has no revision %d in the store", doc, rev)
	}
	if err != nil {
		return nil, "", unreachable(fleet.StoreError(c, err))
	}
	if len(resp.Kvs) == 0 {
		return nil, "", fmt.Errorf("revision %d of %s was compacted away and the key is gone", rev, doc)
	}
	d, err := apply.ParseDesired(fmt.Sprintf("%s@%d", doc, resp.Kvs[0].ModRevision), resp.Kvs[0].Value, "", nil)
	if err != nil {
		return nil, "", fmt.Errorf("it is not a valid document any more: %v", err)
	}
	return d, note, nil
}

// sortedDocs returns the documents sorted by key.
func sortedDocs(m map[string]*fleet.Doc) []*fleet.Doc {
	var out []*fleet.Doc
	for _, d := range m {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b *fleet.Doc) int { return strings.Compare(a.Key, b.Key) })
	return out
}
