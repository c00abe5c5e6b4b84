// Package flush implements ipvsctl flush.
package flush

import (
	"fmt"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/spf13/cobra"
)

// Options of flush.
type Options struct {
	IO     *iostreams.IOStreams
	IPVS   func() (*backend.Counting, error)
	Scope  string
	DryRun bool
}

// NewCmdFlush returns flush.
func NewCmdFlush(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, IPVS: f.IPVS}
	cmd := &cobra.Command{
		Use:   "flush",
		Short: "Delete all services, or only those in --scope",
		Long: `Delete every virtual service with its real servers (one FLUSH request),
or, with --scope, only the services in scope, in one batch of deletions;
services outside the scope (kube-proxy's, keepalived's, Docker's) are left
alone. See ipvsctl help scope.`,
		Example: `  ipvsctl flush --scope vip=192.0.2.0/24,fwmark=100-199
  ipvsctl flush --scope port=8080 --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if _, err := ipvsconfig.ParseScope(opts.Scope); err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			return cmdutil.Run(opts, runF, Run)
		},
	}
	cmd.Flags().StringVar(&opts.Scope, "scope", "", "delete only services in `SCOPE` (vip=CIDR,port=N,fwmark=A-B)")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "list what would be deleted")
	return cmd
}

// Run flushes.
func Run(o *Options) error {
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
	var ops []ipvs.Op
	for _, s := range svcs {
		if sc.Match(s.Key()) {
			ops = append(ops, ipvs.Op{Cmd: ipvs.CmdDelService, Service: ipvs.Service{
				Family: s.Family, Protocol: s.Protocol, Address: s.Address, Port: s.Port, FWMark: s.FWMark}})
		}
	}
	if o.DryRun {
		for _, op := range ops {
			fmt.Fprintf(o.IO.Out, "- delete service %s\n", ipvsconfig.FormatServiceKey(op.Service.Key()))
		}
		fmt.Fprintf(o.IO.Out, "%d of %d services in scope %s would be deleted.\n", len(ops), len(svcs), sc)
		return nil
	}
	if len(ops) == 0 {
		return nil
	}
	errs, terr := b.Batch(ops)
	var first error
	for i, e := range errs {
		if e == nil {
			continue
		}
		e = cmdutil.Explain(cmdutil.Context{Op: "delete service", Object: ipvsconfig.FormatServiceKey(ops[i].Service.Key())}, e)
		if first == nil {
			first = e
		} else {
			fmt.Fprintf(o.IO.ErrOut, "ipvsctl: %v\n", e)
		}
	}
	if first == nil && terr != nil {
		first = cmdutil.Explain(cmdutil.Context{Op: "flush"}, terr)
	}
	return first
}
