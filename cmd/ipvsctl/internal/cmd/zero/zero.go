// Package zero implements ipvsctl zero.
package zero

import (
	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/spf13/cobra"
)

// Options of zero.
type Options struct {
	IPVS    func() (backend.IPVS, error)
	All     bool
	Service ipvs.ServiceKey
}

// NewCmdZero returns zero.
func NewCmdZero(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IPVS: f.IPVS}
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
			return cmdutil.Run(opts, runF, Run)
		},
	}
	sel.Register(cmd)
	return cmd
}

// Run zeroes.
func Run(o *Options) error {
	b, err := o.IPVS()
	if err != nil {
		return err
	}
	if o.All {
		return cmdutil.Explain(cmdutil.Context{Op: "zero all counters"}, b.ZeroAll())
	}
	return cmdutil.Explain(cmdutil.Context{Op: "zero counters of", Object: ipvsconfig.FormatServiceKey(o.Service)}, b.ZeroService(o.Service))
}
