package apply

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/printers"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/reconcile"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/spf13/cobra"
)

// Mode is which command runs.
type Mode int

// Modes.
const (
	ModeApply Mode = iota
	ModeRestore
	ModeDiff
)

// Options of diff, apply and restore.
type Options struct {
	factory.Common
	Probe cmdutil.ProbeFunc
	Now   func() time.Time
	// Interrupts starts the handling of SIGINT, SIGTERM and SIGHUP.
	Interrupts func() *cmdutil.Interrupt

	Mode       Mode
	File       string
	Format     string
	Output     printers.Format
	Prune      bool
	Scope      string
	DryRun     bool
	NoRollback bool
	BatchSize  int
	Verbose    bool

	intr *cmdutil.Interrupt
}

// interruptSignal is the signal that interrupted the run, if any.
func (o *Options) interruptSignal() os.Signal {
	if o.intr == nil {
		return nil
	}
	return o.intr.Signal()
}

// NewCmdApply returns apply.
func NewCmdApply(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	return newCmd(f, runF, ModeApply)
}

// NewCmdRestore returns restore.
func NewCmdRestore(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	return newCmd(f, runF, ModeRestore)
}

// NewCmdDiff returns diff.
func NewCmdDiff(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	return newCmd(f, runF, ModeDiff)
}

func newCmd(f *factory.Factory, runF func(*Options) error, mode Mode) *cobra.Command {
	opts := &Options{Common: f.Common(), Probe: f.Probe, Now: f.Now, Mode: mode, Interrupts: f.Interrupts}
	var noPrune bool
	cmd := &cobra.Command{Args: cobra.NoArgs}
	switch mode {
	case ModeApply:
		cmd.Use = "apply -f FILE"
		cmd.Short = "Make the live table match a document, changing only what differs"
		cmd.Long = `Compare the document with the live table and send only the difference,
in batches: nothing at all when they agree, never a flush. Services the
document does not list are kept unless --prune is given. With --scope,
nothing outside the scope is created, changed or deleted (see ipvsctl help
scope). If the kernel refuses a request, apply stops and rolls back what it
had applied, from the table it read before starting (best effort; it says
whether the rollback succeeded). --no-rollback keeps going instead and
reports every failure.

Interrupted (SIGINT, SIGTERM, SIGHUP), apply finishes the batch in flight,
stops, and reports exactly what it applied (exit status 128+signal); a
second signal aborts at once. Another writer of the table (ipvsctl,
ipvsadm-restore, the agent) is waited for first (--wait); the plan is made
once the table is apply's alone.

The document is JSON or YAML (schema ipvsctl/v1, docs/ipvsctl-json.md),
told apart by extension or content; "-" reads standard input.`
		cmd.Example = `  ipvsctl apply -f lb.yaml --dry-run
  ipvsctl apply -f lb.yaml --prune --scope vip=10.96.0.0/12
  ipvsctl save -o json | ssh standby ipvsctl apply -f - --prune`
	case ModeRestore:
		cmd.Use = "restore -f FILE"
		cmd.Short = "Restore a saved configuration safely (validate all, apply the difference, roll back on error)"
		cmd.Long = `Restore a configuration written by ipvsctl save: validate the whole
file first (syntax, address families, tunnel options, duplicates, ranges;
every problem reported as FILE:LINE) and apply nothing if anything is
wrong; then apply only the difference against the live table in batches,
without ever emptying it; on a kernel error, roll back what was applied.
Interrupted (SIGINT, SIGTERM, SIGHUP), restore finishes the batch in
flight and rolls back what it applied; a second signal aborts at once.
Another writer of the table is waited for first (--wait).

Unlike apply, restore removes services the file does not list (within
--scope); --no-prune keeps them. Timeouts, sync daemons and sysctls are
restored when the file has those sections.

FILE may also be an ipvsadm rules file (ipvsadm -S output, with an
optional --set line and --start-daemon lines), read with ipvsadm's own
argument parser.`
		cmd.Example = `  ipvsctl save > /etc/ipvs.yaml && ipvsctl restore -f /etc/ipvs.yaml
  ipvsctl restore -f /etc/ipvs.yaml --dry-run -o json`
	case ModeDiff:
		cmd.Use = "diff -f FILE"
		cmd.Short = "Show how the live table differs from a document (exit 2 on drift)"
		cmd.Long = `Compare a document with the live table and print the changes apply would
make. Exit status: 0 no drift, 2 drift, 1 error. -o json prints the plan
as a machine-readable object.`
		cmd.Example = `  ipvsctl diff -f lb.yaml || echo drift
  ipvsctl diff -f lb.yaml --prune -o json`
	}
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if opts.File == "" {
			return cmdutil.FlagErrorf("give the document with -f FILE (or -f - for standard input)")
		}
		if mode == ModeRestore {
			opts.Prune = !noPrune
		}
		if opts.Scope != "" {
			if _, err := cmdutil.ParseScope(opts.Scope); err != nil {
				return err
			}
		}
		switch opts.Format {
		case "", "json", "yaml", "rules":
		default:
			return cmdutil.FlagErrorf("unknown --format %q (want json, yaml or rules)", opts.Format)
		}
		opts.Verbose = f.Options.Verbose
		return cmdutil.Run(opts, runF, Run)
	}
	printers.AddFlags(cmd, &opts.Output, printers.Table, printers.JSON, printers.YAML)
	fs := cmd.Flags()
	fs.StringVarP(&opts.File, "filename", "f", "", "the document `FILE` (- for standard input)")
	fs.StringVar(&opts.Format, "format", "", "input `FORMAT`: json, yaml or rules (default: from the extension or content)")
	fs.StringVar(&opts.Scope, "scope", "", "touch only services in `SCOPE` (vip=CIDR,port=N,fwmark=A-B; see ipvsctl help scope)")
	if mode == ModeRestore {
		fs.BoolVar(&noPrune, "no-prune", false, "keep services the file does not list")
	} else {
		fs.BoolVar(&opts.Prune, "prune", false, "delete in-scope services the document does not list")
	}
	if mode != ModeDiff {
		fs.BoolVar(&opts.DryRun, "dry-run", false, "print the plan and the number of requests, change nothing")
		fs.BoolVar(&opts.NoRollback, "no-rollback", false, "on a kernel error, keep going instead of rolling back (exit 1 if anything failed)")
		fs.IntVar(&opts.BatchSize, "batch-size", reconcile.DefaultBatchSize, "requests per batch (apply stops after the batch with the first error)")
		cmdutil.AddWaitFlag(cmd, &opts.Wait, true)
	}
	_ = cmd.MarkFlagFilename("filename", "json", "yaml", "yml", "rules")
	return cmd
}

// Run runs diff, apply or restore.
func Run(o *Options) error {
	verb := map[Mode]string{ModeApply: "apply", ModeRestore: "restore", ModeDiff: "diff"}[o.Mode]
	t0 := o.Now()
	sc, _ := ipvsconfig.ParseScope(o.Scope)
	outcome := "nothing was applied"
	if o.Mode == ModeDiff {
		outcome = "nothing was compared"
	}
	// A run that changes the table takes signals from the start: one
	// before the plan is applied stops it with nothing applied, one
	// during it at a consistent point (see below).
	writes := o.Mode != ModeDiff && !o.DryRun
	ctx := context.Background()
	var intr *cmdutil.Interrupt
	if writes {
		intr = o.Interrupts()
		defer intr.Stop()
		o.intr = intr
		ctx = intr.Context()
		intr.Say("stopping before the first change is sent", "aborting at once; nothing was applied")
	}
	want, err := LoadDesired(o.File, o.Format, o.IO.In, o.IO.ErrOut, sc, outcome)
	if err != nil {
		return err
	}
	b, err := o.IPVS()
	if err != nil {
		return err
	}
	// The lock (for a change) is taken before the table is read, so that
	// the plan is made against a table no other writer is changing.
	if writes {
		release, err := o.LockTable(ctx)
		if err != nil {
			return interrupted(intr, err, verb+": "+err.Error())
		}
		defer release()
	}
	t1 := o.Now()
	ropts := reconcile.Options{Prune: o.Prune, Scope: sc, BatchSize: o.BatchSize, NoRollback: o.NoRollback}
	cur, err := reconcile.Read(b, o.Sysctls, want, ropts)
	if err != nil {
		return cmdutil.Explain(cmdutil.Context{Op: verb + ": read the live table"}, err)
	}
	t2 := o.Now()
	plan, err := reconcile.Compute(cur, want, ropts)
	if err != nil {
		return fmt.Errorf("%s %s: %w", verb, o.File, err)
	}
	t3 := o.Now()
	if o.Verbose {
		fmt.Fprintf(o.IO.ErrOut, "%s: read %s (%d services) in %s; live table (%d relevant services) in %s; plan of %d changes in %s\n",
			verb, o.File, len(want.Services), t1.Sub(t0).Round(time.Microsecond), len(cur.Services),
			t2.Sub(t1).Round(time.Microsecond), plan.Len(), t3.Sub(t2).Round(time.Microsecond))
	}
	if o.Mode != ModeDiff {
		// A scheduler or tunnel type this kernel lacks would fail (or,
		// for tunnels, be silently turned into IPIP) half-way: refuse
		// the whole plan first.
		if err := cmdutil.CheckKernel(o.Probe, plan.KernelNeeds(), o.IO.ErrOut); err != nil {
			return fmt.Errorf("%s %s: %w; nothing was applied", verb, o.File, err)
		}
	}
	if o.Mode == ModeDiff || o.DryRun {
		if err := printPlan(o, plan); err != nil {
			return err
		}
		if o.Verbose {
			fmt.Fprintf(o.IO.ErrOut, "%s: %d requests sent\n", verb, b.Requests().Writes)
		}
		if o.Mode == ModeDiff && !plan.Empty() {
			return &cmdutil.ExitError{Code: 2}
		}
		return nil
	}
	if ctx.Err() != nil {
		return interrupted(intr, nil, verb+": nothing was applied")
	}
	ropts.Stop = ctx.Done()
	ropts.RollbackOnStop = o.Mode == ModeRestore && !o.NoRollback
	if ropts.RollbackOnStop {
		intr.Say("finishing the batch in flight, then rolling back what "+verb+" applied",
			"aborting at once: the table holds part of the plan (see ipvsctl diff -f "+o.File+")")
	} else {
		intr.Say("finishing the batch in flight, then stopping (what was applied stays)",
			"aborting at once: the table holds part of the plan (see ipvsctl diff -f "+o.File+")")
	}
	// A long apply shows its progress on a terminal's stderr.
	progress := o.IO.NewProgress(map[Mode]string{ModeApply: "applying", ModeRestore: "restoring"}[o.Mode], plan.Len(), o.Now)
	answered := 0
	ropts.Progress = func(n int) { progress.Add(n - answered); answered = n }
	res := reconcile.Apply(b, o.Sysctls, plan, ropts)
	progress.Done()
	t4 := o.Now()
	if o.Verbose {
		fmt.Fprintf(o.IO.ErrOut, "%s: applied in %s; %d requests sent\n", verb, t4.Sub(t3).Round(time.Microsecond), b.Requests().Writes)
	}
	return report(o, verb, plan, res)
}

// PlanOutput is the JSON/YAML form of a plan.
type PlanOutput struct {
	printers.TypeMeta `json:",inline" yaml:",inline"`
	Drift             bool               `json:"drift" yaml:"drift"`
	Changes           []reconcile.Change `json:"changes" yaml:"changes"`
	Counts            map[string]int     `json:"counts" yaml:"counts"`
	// Requests is the number of kernel write requests applying the plan
	// takes (apply/restore --dry-run).
	Requests *int `json:"requests,omitempty" yaml:"requests,omitempty"`
}

func printPlan(o *Options, plan *reconcile.Plan) error {
	changes := plan.Changes()
	if changes == nil {
		changes = []reconcile.Change{}
	}
	out := PlanOutput{Drift: !plan.Empty(), Changes: changes, Counts: plan.Counts()}
	if o.Mode != ModeDiff {
		n := plan.Requests()
		out.Requests = &n
	}
	return o.Output.Print(o.IO.Out, &out, func(w io.Writer) error {
		if plan.Empty() {
			fmt.Fprintln(w, "No changes: the live table matches the document.")
			return nil
		}
		cs := o.IO.ColorScheme()
		for _, c := range changes {
			mark := map[string]string{"add": "+", "update": "~", "delete": "-"}[c.Action]
			fmt.Fprintln(w, cs.Change(c.Action, mark+" "+o.IO.Text(c.Description)))
		}
		writeSummary(w, plan, o.Mode)
		return nil
	})
}

func writeSummary(w io.Writer, plan *reconcile.Plan, mode Mode) {
	c := plan.Counts()
	fmt.Fprintf(w, "Plan: %d to add, %d to change, %d to delete", c["add"], c["update"], c["delete"])
	if mode != ModeDiff {
		fmt.Fprintf(w, " (%d kernel requests)", plan.Requests())
	}
	fmt.Fprintln(w, ".")
}

// ResultOutput is the JSON/YAML form of an apply.
type ResultOutput struct {
	printers.TypeMeta `json:",inline" yaml:",inline"`
	Applied           int                `json:"applied" yaml:"applied"`
	Changes           []reconcile.Change `json:"changes" yaml:"changes"`
	Failed            []FailureOutput    `json:"failed,omitempty" yaml:"failed,omitempty"`
	// Interrupted is set when a signal stopped the run; Unsent counts
	// the changes it did not send, and Changes are then the ones it
	// carried out.
	Interrupted      bool            `json:"interrupted,omitempty" yaml:"interrupted,omitempty"`
	Unsent           int             `json:"unsent,omitempty" yaml:"unsent,omitempty"`
	RolledBack       bool            `json:"rolledBack" yaml:"rolledBack"`
	RollbackRequests int             `json:"rollbackRequests,omitempty" yaml:"rollbackRequests,omitempty"`
	RollbackFailed   []FailureOutput `json:"rollbackFailed,omitempty" yaml:"rollbackFailed,omitempty"`
}

var (
	_ = printers.Register[PlanOutput]("Plan")
	_ = printers.Register[ResultOutput]("ApplyResult")
)

// FailureOutput is a refused change.
type FailureOutput struct {
	Change reconcile.Change `json:"change" yaml:"change"`
	Error  string           `json:"error" yaml:"error"`
}

func report(o *Options, verb string, plan *reconcile.Plan, res *reconcile.Result) error {
	explain := func(f reconcile.Failure) error {
		ctx := cmdutil.Context{Op: f.Change.Action + " " + f.Change.Object, Object: object(f.Change)}
		if s, ok := f.Change.After.(ipvsconfig.Service); ok {
			ctx.Scheduler, ctx.PE = s.Scheduler, s.PE
		}
		if d, ok := f.Change.After.(ipvsconfig.Daemon); ok {
			ctx.Interface = d.Interface
		}
		return cmdutil.Explain(ctx, f.Err)
	}
	out := ResultOutput{Applied: res.Applied, Changes: plan.Changes(),
		RolledBack: res.RolledBack, RollbackRequests: res.RollbackRequests}
	if res.Interrupted {
		out.Interrupted, out.Unsent, out.Changes = true, res.Unsent, res.Done
	}
	if out.Changes == nil {
		out.Changes = []reconcile.Change{}
	}
	for _, f := range res.Failed {
		out.Failed = append(out.Failed, FailureOutput{Change: f.Change, Error: explain(f).Error()})
	}
	for _, f := range res.RollbackFailed {
		out.RollbackFailed = append(out.RollbackFailed, FailureOutput{Change: f.Change, Error: explain(f).Error()})
	}
	err := o.Output.Print(o.IO.Out, &out, func(w io.Writer) error {
		switch {
		case !res.OK():
		case plan.Empty():
			fmt.Fprintln(w, "No changes: the live table already matches.")
		default:
			c := plan.Counts()
			fmt.Fprintf(w, "Applied %d changes: %d added, %d changed, %d deleted.\n", res.Applied, c["add"], c["update"], c["delete"])
		}
		return nil
	})
	if err != nil {
		return err
	}
	if res.OK() {
		return nil
	}
	for _, f := range res.Failed {
		fmt.Fprintf(o.IO.ErrOut, "ipvsctl: %s failed: %v\n", verb, explain(f))
	}
	if res.Interrupted {
		return reportInterrupt(o, verb, plan, res, explain)
	}
	switch {
	case o.NoRollback:
		fmt.Fprintf(o.IO.ErrOut, "ipvsctl: %d of %d changes failed; %d were applied and kept (--no-rollback)\n",
			len(res.Failed), len(plan.Changes()), res.Applied)
	case !res.RolledBack:
		fmt.Fprintf(o.IO.ErrOut, "ipvsctl: nothing had been applied, so nothing was rolled back; the table is as before\n")
	case len(res.RollbackFailed) == 0:
		fmt.Fprintf(o.IO.ErrOut, "ipvsctl: rolled back the %d applied change%s (%d requests); the table is back to its state before %s\n",
			res.Applied, cmdutil.Plural(res.Applied), res.RollbackRequests, verb)
	default:
		var msgs []string
		for _, f := range res.RollbackFailed {
			msgs = append(msgs, "  "+explain(f).Error())
		}
		fmt.Fprintf(o.IO.ErrOut, "ipvsctl: ROLLBACK INCOMPLETE: %d of %d undo requests failed; the table differs from before %s:\n%s\n",
			len(res.RollbackFailed), res.RollbackRequests, verb, strings.Join(msgs, "\n"))
		fmt.Fprintf(o.IO.ErrOut, "ipvsctl: check with ipvsctl diff -f %s\n", o.File)
	}
	return cmdutil.ErrSilent
}

func object(c reconcile.Change) string {
	switch {
	case c.Destination != "" && c.Service != "":
		return c.Destination + " of " + c.Service
	case c.Service != "":
		return c.Service
	}
	return c.Name
}

// interrupted ends a run that a signal stopped before anything was
// applied (or whose lock wait failed): with the signal's exit status and
// "VERB: nothing was applied", or with err when no signal came.
func interrupted(intr *cmdutil.Interrupt, err error, msg string) error {
	s := intr.Signal()
	if s == nil {
		return err
	}
	return &cmdutil.ExitError{Code: cmdutil.ExitCodeOf(s), Err: fmt.Errorf("interrupted by %s; %s", cmdutil.SignalName(s), msg)}
}

// reportInterrupt says what an interrupted apply or restore did: the
// changes it carried out (kept, or rolled back) and those it never sent.
func reportInterrupt(o *Options, verb string, plan *reconcile.Plan, res *reconcile.Result, explain func(reconcile.Failure) error) error {
	name := "a signal"
	code := 1
	if s := o.interruptSignal(); s != nil {
		name, code = cmdutil.SignalName(s), cmdutil.ExitCodeOf(s)
	}
	total := plan.Len()
	w := o.IO.ErrOut
	switch {
	case !res.RolledBack && len(res.Done) == 0:
		fmt.Fprintf(w, "ipvsctl: %s interrupted by %s before its first change; nothing was applied (%d changes not sent)\n", verb, name, res.Unsent)
	case !res.RolledBack:
		fmt.Fprintf(w, "ipvsctl: %s interrupted by %s: applied %d of %d changes, the plan's first ones in its order (-o json lists them); the other %d were not sent\n",
			verb, name, len(res.Done), total, res.Unsent)
		fmt.Fprintf(w, "ipvsctl: the table is part-way to %s: run ipvsctl %s -f %s again to finish, or ipvsctl diff -f %s to see what is left\n",
			o.File, verb, o.File, o.File)
	case len(res.RollbackFailed) == 0:
		fmt.Fprintf(w, "ipvsctl: %s interrupted by %s: rolled back the %d applied change%s (%d requests); the table is back to its state before %s\n",
			verb, name, res.Applied, cmdutil.Plural(res.Applied), res.RollbackRequests, verb)
	default:
		var msgs []string
		for _, f := range res.RollbackFailed {
			msgs = append(msgs, "  "+explain(f).Error())
		}
		fmt.Fprintf(w, "ipvsctl: %s interrupted by %s: ROLLBACK INCOMPLETE: %d of %d undo requests failed; the table differs from before %s:\n%s\n",
			verb, name, len(res.RollbackFailed), res.RollbackRequests, verb, strings.Join(msgs, "\n"))
		fmt.Fprintf(w, "ipvsctl: check with ipvsctl diff -f %s\n", o.File)
	}
	return &cmdutil.ExitError{Code: code}
}
