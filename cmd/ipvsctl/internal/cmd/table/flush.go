package table

import (
	"fmt"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/ipvs-tools/ipvs/ipvsplan"
	"github.com/spf13/cobra"
)

// FlushOptions of flush.
type FlushOptions struct {
	factory.Common
	Scope  string
	DryRun bool
	// Interrupts starts the handling of SIGINT, SIGTERM and SIGHUP.
	Interrupts func() *cmdutil.Interrupt
}

// NewCmdFlush returns flush.
func NewCmdFlush(f *factory.Factory, runF func(*FlushOptions) error) *cobra.Command {
	opts := &FlushOptions{Common: f.Common(), Interrupts: f.Interrupts}
	cmd := &cobra.Command{
		Use:   "flush",
		Short: "Delete all services, or only those in --scope",
		Long: `Delete every virtual service with its real servers (one FLUSH request),
or, with --scope, only the services in scope, in batches of deletions;
services outside the scope (kube-proxy's, keepalived's, Docker's) are left
alone. See ipvsctl help scope. Interrupted (SIGINT, SIGTERM, SIGHUP), a
flush --scope finishes the batch in flight and says what it deleted.`,
		Example: `  ipvsctl flush --scope vip=192.0.2.0/24,fwmark=100-199
  ipvsctl flush --scope port=8080 --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if _, err := cmdutil.ParseScope(opts.Scope); err != nil {
				return err
			}
			return cmdutil.Run(opts, runF, RunFlush)
		},
	}
	cmd.Flags().StringVar(&opts.Scope, "scope", "", "delete only services in `SCOPE` (vip=CIDR,port=N,fwmark=A-B)")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "list what would be deleted")
	opts.Common = f.Writer(cmd, true)
	return cmd
}

// RunFlush flushes.
func RunFlush(o *FlushOptions) error {
	b, err := o.IPVS()
	if err != nil {
		return err
	}
	sc, _ := ipvsconfig.ParseScope(o.Scope)
	if sc.IsZero() && !o.DryRun {
		return cmdutil.Explain(cmdutil.Context{Op: "flush"}, b.Flush())
	}
	svcs, err := b.Services()
	if err != nil {
		return cmdutil.Explain(cmdutil.Context{Op: "flush: list services"}, err)
	}
	cur := make([]ipvs.VirtualServer, len(svcs))
	for i, s := range svcs {
		cur[i].Service = s
	}
	plan, err := ipvsplan.Diff(cur, nil, ipvsplan.Options{Prune: true, Scope: sc.Func()})
	if err != nil {
		return err
	}
	if o.DryRun {
		for _, c := range plan.Changes {
			fmt.Fprintf(o.IO.Out, "- delete service %s\n", ipvsconfig.FormatServiceKey(c.Service))
		}
		fmt.Fprintf(o.IO.Out, "%d of %d services in scope %s would be deleted.\n", len(plan.Changes), len(svcs), sc)
		return nil
	}
	// Batches of deletions; every refusal is reported, the first as the
	// error. A signal stops it after the batch in flight.
	intr := o.Interrupts()
	defer intr.Stop()
	intr.Say("finishing the batch of deletions in flight, then stopping", "aborting at once")
	var first error
	res := ipvsplan.Apply(b, plan.All(), ipvsplan.ApplyOptions{KeepGoing: true, Stop: intr.Context().Done(),
		Refused: func(c ipvsplan.Change, err error) {
			err = cmdutil.Explain(cmdutil.Context{Op: "delete service", Object: ipvsconfig.FormatServiceKey(c.Service)}, err)
			if first == nil {
				first = err
			} else {
				fmt.Fprintf(o.IO.ErrOut, "ipvsctl: %v\n", err)
			}
		}})
	if res.Stopped {
		if first != nil {
			fmt.Fprintf(o.IO.ErrOut, "ipvsctl: %v\n", first)
		}
		s := intr.Signal()
		return &cmdutil.ExitError{Code: cmdutil.ExitCodeOf(s), Err: fmt.Errorf(
			"flush interrupted by %s: deleted %d of the %d services in scope %s; the other %d are still there (run the same flush again to finish)",
			cmdutil.SignalName(s), res.Done, len(plan.Changes), sc, len(plan.Changes)-res.Done-len(res.Failed))}
	}
	return first
}

// ZeroOptions of zero.
type ZeroOptions struct {
	factory.Common
	All     bool
	Service ipvs.ServiceKey
}

// NewCmdZero returns zero.
func NewCmdZero(f *factory.Factory, runF func(*ZeroOptions) error) *cobra.Command {
	opts := &ZeroOptions{Common: f.Common()}
	var sel cmdutil.ServiceSelector
	cmd := &cobra.Command{
		Use:   "zero [SERVICE]",
		Short: "Zero the counters of one service, or of all services and the totals",
		Example: `  ipvsctl zero
  ipvsctl zero tcp:10.0.0.1:80`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.All = len(args) == 0 && !sel.Given()
			if !opts.All {
				var err error
				if opts.Service, err = sel.ResolveArgs(args); err != nil {
					return err
				}
			}
			return cmdutil.Run(opts, runF, RunZero)
		},
	}
	sel.Register(cmd)
	opts.Common = f.Writer(cmd, true)
	return cmd
}

// RunZero zeroes.
func RunZero(o *ZeroOptions) error {
	if o.All {
		return o.Request(cmdutil.Context{Op: "zero all counters"}, backend.IPVS.ZeroAll)
	}
	return o.Request(cmdutil.Context{Op: "zero counters of", Object: ipvsconfig.FormatServiceKey(o.Service)},
		func(b backend.IPVS) error { return b.ZeroService(o.Service) })
}
