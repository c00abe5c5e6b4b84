package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"maps"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fleet"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/spf13/cobra"
)

// PushOptions of ipvsctl fleet push.
type PushOptions struct {
	Common
	File   string
	Target string
	// TargetGiven says --target was on the command line (--delete needs
	// it, even for the default document).
	TargetGiven bool
	Force       bool
	// IfRevision, when IfRevisionGiven, is the revision the document key
	// must be at (0: absent) instead of the one push reads.
	IfRevision      int64
	IfRevisionGiven bool
	Delete          bool
	// Daemons pushes (or deletes) director --target's sync-daemon roles
	// (daemons/NAME) instead of a document.
	Daemons bool
}

// NewCmdPush returns fleet push.
func NewCmdPush(f *factory.Factory, store *StoreFlags, runF func(*PushOptions) error) *cobra.Command {
	opts := &PushOptions{Common: newCommon(f, store)}
	cmd := &cobra.Command{
		Use:   "push -f FILE [--target NAME|K=V,...]",
		Short: "Store a document for the fleet (refused if someone pushed it since it was read)",
		Long: `Validate the document (every problem reported as FILE:LINE; nothing is
pushed if there is one), then store it as it is under the key of --target:
the default document (no --target), a director's own (--target NAME) or
the one of the directors whose labels match (--target K=V,...).

The push compares the key's revision with the one it read just before (or
with --if-revision N, the one ipvsctl fleet diff printed) and is refused if
someone pushed in between; --force writes whatever the key holds.
--delete removes the document of --target (give --target default to
remove the default document).

--daemons stores a director's sync-daemon roles instead (daemons/NAME, a
document with a daemons section only, --target NAME): its agent stops
and starts only the daemons that differ.`,
		Example: `  ipvsctl fleet --etcd http://10.0.0.5:2379 push -f lb.yaml
  ipvsctl fleet --etcd http://10.0.0.5:2379 push -f lb.yaml --target site=par1 --if-revision 42
  ipvsctl fleet --etcd http://10.0.0.5:2379 push --delete --target d3
  ipvsctl fleet --etcd http://10.0.0.5:2379 push --daemons --target lb1 -f lb1-sync.yaml`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			opts.TargetGiven = c.Flags().Changed("target")
			opts.IfRevisionGiven = c.Flags().Changed("if-revision")
			switch {
			case opts.Delete && opts.File != "":
				return cmdutil.FlagErrorf("--delete removes a document: give --target, not -f")
			case opts.Delete && !opts.TargetGiven:
				return cmdutil.FlagErrorf("--delete needs --target NAME|K=V (or --target default for the default document)")
			case !opts.Delete && opts.File == "":
				return cmdutil.FlagErrorf("give the document with -f FILE (or -f - for standard input)")
			case opts.Force && opts.IfRevisionGiven:
				return cmdutil.FlagErrorf("--force and --if-revision contradict each other: give one")
			case opts.IfRevision < 0:
				return cmdutil.FlagErrorf("--if-revision %d: want a revision (0: the key must be absent)", opts.IfRevision)
			}
			t, err := fleet.ParseTarget(opts.Target)
			if err != nil {
				return cmdutil.FlagErrorf("--target: %v", err)
			}
			if opts.Daemons && t.Name == "" {
				return cmdutil.FlagErrorf("--daemons sets one director's sync daemons: give --target NAME")
			}
			return cmdutil.Run(opts, runF, RunPush)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&opts.File, "filename", "f", "", "the document `FILE` (- for standard input)")
	fs.StringVar(&opts.Target, "target", "", "the directors it is for: a director `NAME`, K=V,... (a label selector) or default")
	fs.BoolVar(&opts.Force, "force", false, "write even if someone pushed since (no compare-and-swap)")
	fs.Int64Var(&opts.IfRevision, "if-revision", 0, "push only if the document key is at revision `N` (0: absent)")
	fs.BoolVar(&opts.Delete, "delete", false, "remove the document of --target")
	fs.BoolVar(&opts.Daemons, "daemons", false, "push the sync-daemon roles of director --target (daemons/NAME)")
	_ = cmd.MarkFlagFilename("filename", "json", "yaml", "yml")
	return cmd
}

// RunPush pushes (or deletes) the document.
func RunPush(o *PushOptions) error {
	t, _ := fleet.ParseTarget(o.Target)
	var data []byte
	name := ""
	if !o.Delete {
		var err error
		var want *ipvsconfig.Desired
		if want, data, name, err = loadDocument(&o.Common, o.File, "nothing was pushed"); err != nil {
			return err
		}
		if o.Daemons && (len(want.Services) > 0 || !want.ManageDaemons) {
			return &cmdutil.ExitError{Code: 1, Err: fmt.Errorf("%s: --daemons takes a document with a daemons section only (daemons: [...]); nothing was pushed", name)}
		}
	}
	if o.Daemons {
		return pushDaemons(o, t.Name, data, name)
	}
	c, l, snap, err := o.open()
	if err != nil {
		return err
	}
	defer c.Close()
	key := l.Document(t)
	path := "documents/" + t.Path()
	cur := snap.Documents[key]
	expect := int64(0)
	if cur != nil {
		expect = cur.Revision
	}
	if o.IfRevisionGiven {
		expect = o.IfRevision
	}
	ctx, cancel := o.request()
	defer cancel()
	if o.Delete {
		if cur == nil && !o.IfRevisionGiven {
			return fmt.Errorf("%s does not exist: nothing to delete", path)
		}
		rev, err := fleet.Delete(ctx, c, key, expect, o.Force)
		if err != nil {
			return pushError(err, path, "", "nothing was deleted")
		}
		docs := maps.Clone(snap.Documents)
		delete(docs, key)
		fmt.Fprintf(o.IO.Out, "deleted %s at revision %d\n", path, rev)
		for _, n := range snap.Names() {
			if old, _ := fleet.Select(snap.Documents, n, snap.Labels(n)); old == nil || old.Key != key {
				continue // it did not take the deleted document
			}
			switch d, err := fleet.Select(docs, n, snap.Labels(n)); {
			case err != nil:
				warn(o.IO.ErrOut, "%v", err)
			case d == nil:
				warn(o.IO.ErrOut, "no document is addressed to %s any more: it keeps its table as it is but gets no new document", n)
			default:
				fmt.Fprintf(o.IO.Out, "%s now takes %s (revision %d)\n", n, docName(d), d.Revision)
			}
		}
		return nil
	}
	if cur != nil && !o.Force && expect == cur.Revision && bytes.Equal(cur.Value, data) {
		fmt.Fprintf(o.IO.Out, "%s already holds %s (revision %d): nothing pushed\n", path, name, cur.Revision)
		return nil
	}
	rev, err := fleet.Put(ctx, c, key, data, expect, o.Force)
	if err != nil {
		return pushError(err, path, o.File, "nothing was pushed")
	}
	nd := &fleet.Doc{Key: key, Path: t.Path(), Target: t, Revision: rev, Value: data}
	names, problems := addressed(snap, withDoc(snap.Documents, nd), key)
	for _, p := range problems {
		warn(o.IO.ErrOut, "%s", p)
	}
	if len(names) == 0 {
		fmt.Fprintf(o.IO.Out, "pushed %s to %s at revision %d; no known director takes it yet (the directors it addresses take it when they join)\n",
			name, path, rev)
		return nil
	}
	fmt.Fprintf(o.IO.Out, "pushed %s to %s at revision %d; directors addressed: %s (ipvsctl fleet status to watch them apply it)\n",
		name, path, rev, list(names))
	return nil
}

// pushError words a failed push: a conflict says what to do next.
func pushError(err error, path, file, outcome string) error {
	var ce *fleet.ConflictError
	if !errors.As(err, &ce) {
		return unreachable(fmt.Errorf("%w; %s", err, outcome))
	}
	var what string
	switch {
	case ce.Found == 0:
		what = fmt.Sprintf("%s was deleted by someone else since revision %d", path, ce.Expected)
	case ce.Expected == 0:
		what = fmt.Sprintf("someone else pushed %s (revision %d) since it was read as absent", path, ce.Found)
	default:
		what = fmt.Sprintf("someone else pushed %s (now revision %d) since revision %d", path, ce.Found, ce.Expected)
	}
	next := "Check it with ipvsctl fleet status, then try again (or --force)"
	if file != "" {
		next = fmt.Sprintf("See what yours would change now with ipvsctl fleet diff -f %s, then push again (or --force to overwrite their push)", file)
	}
	return &cmdutil.ExitError{Code: 1, Err: fmt.Errorf("%s; %s. %s", what, outcome, next)}
}

// pushDaemons writes (or deletes) daemons/NAME with the same
// compare-and-swap as a document.
func pushDaemons(o *PushOptions, director string, data []byte, name string) error {
	c, l, err := o.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	key := l.Daemons(director)
	path := "daemons/" + director
	ctx, cancel := o.request()
	defer cancel()
	resp, err := c.Get(ctx, key)
	if err != nil {
		return unreachable(fleet.StoreError(c, err))
	}
	expect := int64(0)
	if len(resp.Kvs) > 0 {
		expect = resp.Kvs[0].ModRevision
	}
	if o.IfRevisionGiven {
		expect = o.IfRevision
	}
	if o.Delete {
		if len(resp.Kvs) == 0 && !o.IfRevisionGiven {
			return fmt.Errorf("%s does not exist: nothing to delete", path)
		}
		rev, err := fleet.Delete(ctx, c, key, expect, o.Force)
		if err != nil {
			return pushError(err, path, "", "nothing was deleted")
		}
		fmt.Fprintf(o.IO.Out, "deleted %s at revision %d; %s keeps its sync daemons as they are\n", path, rev, director)
		return nil
	}
	rev, err := fleet.Put(ctx, c, key, data, expect, o.Force)
	if err != nil {
		return pushError(err, path, o.File, "nothing was pushed")
	}
	fmt.Fprintf(o.IO.Out, "pushed %s to %s at revision %d (ipvsctl fleet status shows when %s runs them)\n", name, path, rev, director)
	return nil
}
