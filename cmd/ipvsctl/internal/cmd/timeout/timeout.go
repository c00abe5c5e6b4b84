// Package timeout implements ipvsctl timeout get|set.
package timeout

import (
	"fmt"
	"io"
	"strconv"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/printers"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/spf13/cobra"
)

// GetOptions of timeout get.
type GetOptions struct {
	factory.Common
	Output printers.Format
}

// Timeouts is the JSON/YAML form of timeout get.
type Timeouts struct {
	printers.TypeMeta   `json:",inline" yaml:",inline"`
	ipvsconfig.Timeouts `yaml:",inline"`
}

var _ = printers.Register[Timeouts]("Timeouts")

// NewCmdGet returns timeout get.
func NewCmdGet(f *factory.Factory, runF func(*GetOptions) error) *cobra.Command {
	opts := &GetOptions{Common: f.Common()}
	cmd := &cobra.Command{
		Use:   "get",
		Short: "Show the connection timeouts (seconds)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return cmdutil.Run(opts, runF, RunGet)
		},
	}
	printers.AddFlags(cmd, &opts.Output, printers.Table, printers.JSON, printers.YAML)
	return cmd
}

// RunGet shows the timeouts.
func RunGet(o *GetOptions) error {
	b, err := o.IPVS()
	if err != nil {
		return err
	}
	t, err := b.Timeouts()
	if err != nil {
		return cmdutil.Explain(cmdutil.Context{Op: "get timeouts"}, err)
	}
	return o.Output.Print(o.IO.Out, &Timeouts{Timeouts: *ipvsconfig.FromKernelTimeouts(t)}, func(w io.Writer) error {
		tb := cmdutil.NewTable(w, "TCP", "TCP-FIN", "UDP")
		tb.Row(strconv.Itoa(int(t.TCP)), strconv.Itoa(int(t.TCPFin)), strconv.Itoa(int(t.UDP)))
		return tb.Render()
	})
}

// SetOptions of timeout set.
type SetOptions struct {
	factory.Common
	Timeouts ipvs.Timeouts
}

// NewCmdSet returns timeout set.
func NewCmdSet(f *factory.Factory, runF func(*SetOptions) error) *cobra.Command {
	opts := &SetOptions{Common: f.Common()}
	cmd := &cobra.Command{
		Use:   "set [TCP TCPFIN UDP]",
		Short: "Set connection timeouts (seconds; 0 or omitted keeps a value)",
		Example: `  ipvsctl timeout set --tcp 3600
  ipvsctl timeout set 900 120 300`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 0 && len(args) != 3 {
				return cmdutil.FlagErrorf("give all three timeouts (TCP TCPFIN UDP) or use --tcp/--tcp-fin/--udp")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 3 {
				if c.Flags().Changed("tcp") || c.Flags().Changed("tcp-fin") || c.Flags().Changed("udp") {
					return cmdutil.FlagErrorf("give the timeouts as arguments or as flags, not both")
				}
				var v [3]uint32
				for i, a := range args {
					n, err := strconv.ParseUint(a, 10, 32)
					if err != nil {
						return cmdutil.FlagErrorf("timeout %q is not a number of seconds", a)
					}
					v[i] = uint32(n)
				}
				opts.Timeouts = ipvs.Timeouts{TCP: v[0], TCPFin: v[1], UDP: v[2]}
			}
			t := opts.Timeouts
			for _, v := range []uint32{t.TCP, t.TCPFin, t.UDP} {
				if v > ipvsconfig.MaxTimeout {
					return cmdutil.FlagErrorf("timeout %d is too large (at most %d seconds)", v, ipvsconfig.MaxTimeout)
				}
			}
			if t == (ipvs.Timeouts{}) {
				return cmdutil.FlagErrorf("nothing to set: give --tcp, --tcp-fin or --udp")
			}
			return cmdutil.Run(opts, runF, RunSet)
		},
	}
	cmd.Flags().Uint32Var(&opts.Timeouts.TCP, "tcp", 0, "TCP ESTABLISHED timeout in `SECONDS`")
	cmd.Flags().Uint32Var(&opts.Timeouts.TCPFin, "tcp-fin", 0, "TCP FIN_WAIT timeout in `SECONDS`")
	cmd.Flags().Uint32Var(&opts.Timeouts.UDP, "udp", 0, "UDP timeout in `SECONDS`")
	opts.Common = f.Writer(cmd, true)
	return cmd
}

// RunSet sets the timeouts.
func RunSet(o *SetOptions) error {
	b, err := o.IPVS()
	if err != nil {
		return err
	}
	t := o.Timeouts
	return cmdutil.Explain(cmdutil.Context{Op: "set timeouts", Object: fmt.Sprintf("tcp %d, tcpfin %d, udp %d", t.TCP, t.TCPFin, t.UDP)}, b.SetTimeouts(t))
}
