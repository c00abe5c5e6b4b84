package table

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/printers"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/spf13/cobra"
)

// ListOptions of list and get.
type ListOptions struct {
	factory.Common
	Names  *cmdutil.Names
	Output printers.Format

	// Service is set for get.
	Service ipvs.ServiceKey
	Get     bool

	Stats  bool
	Rate   bool
	NoSort bool
	Scope  string
}

// NewCmdList returns the list command.
func NewCmdList(f *factory.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{Common: f.Common()}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List virtual services and their real servers",
		Long: `List the virtual services with their destinations (real servers).

Table output resolves host and port names unless --numeric is given; JSON
and YAML output is always numeric, includes counters, rates and connection
counts, and follows the ipvsctl/v1 schema (docs/ipvsctl-json.md).`,
		Example: `  ipvsctl list
  ipvsctl list -n --stats
  ipvsctl list -o json --scope vip=10.96.0.0/12`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.finish(f); err != nil {
				return err
			}
			return cmdutil.Run(opts, runF, RunList)
		},
	}
	opts.register(cmd)
	cmd.Flags().StringVar(&opts.Scope, "scope", "", "only services in `SCOPE` (vip=CIDR,port=N,fwmark=A-B; see ipvsctl help scope)")
	return cmd
}

// NewCmdGet returns the get command.
func NewCmdGet(f *factory.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{Common: f.Common(), Get: true}
	var sel cmdutil.ServiceSelector
	cmd := &cobra.Command{
		Use:   "get SERVICE",
		Short: "Show one virtual service and its real servers",
		Example: `  ipvsctl get tcp:10.0.0.1:80
  ipvsctl get fwmark:7:v6 -o yaml
  ipvsctl get -t 10.0.0.1:80 --stats`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Service, err = sel.ResolveArgs(args); err != nil {
				return err
			}
			if err := opts.finish(f); err != nil {
				return err
			}
			return cmdutil.Run(opts, runF, RunList)
		},
	}
	opts.register(cmd)
	sel.Register(cmd)
	return cmd
}

func (o *ListOptions) register(cmd *cobra.Command) {
	printers.AddFlags(cmd, &o.Output, printers.Table, printers.JSON, printers.YAML)
	cmd.Flags().BoolVar(&o.Stats, "stats", false, "table: show counters (connections, packets, bytes)")
	cmd.Flags().BoolVar(&o.Rate, "rate", false, "table: show the kernel's rate estimates")
	cmd.Flags().BoolVar(&o.NoSort, "no-sort", false, "keep the kernel's order instead of sorting")
	cmd.MarkFlagsMutuallyExclusive("stats", "rate")
}

func (o *ListOptions) finish(f *factory.Factory) error {
	o.Names = &cmdutil.Names{Numeric: f.Options.Numeric}
	return nil
}

// RunList lists.
func RunList(o *ListOptions) error {
	b, err := o.IPVS()
	if err != nil {
		return err
	}
	var vss []ipvs.VirtualServer
	if o.Get {
		s, err := b.Service(o.Service)
		if err != nil {
			return cmdutil.Explain(cmdutil.Context{Op: "get service", Object: ipvsconfig.FormatServiceKey(o.Service)}, err)
		}
		ds, err := b.Destinations(o.Service)
		if err != nil {
			return cmdutil.Explain(cmdutil.Context{Op: "list destinations of", Object: ipvsconfig.FormatServiceKey(o.Service)}, err)
		}
		vss = []ipvs.VirtualServer{{Service: s, Destinations: ds}}
	} else {
		if vss, err = readTable(b, o.Scope, "list services"); err != nil {
			return err
		}
	}
	if !o.NoSort {
		cmdutil.SortTable(vss)
	}
	mode := ModeDefault
	switch {
	case o.Stats:
		mode = ModeStats
	case o.Rate:
		mode = ModeRate
	}
	return PrintTable(o.IO.Out, o.IO.ColorScheme(), o.Output, o.Names, vss, mode)
}

// readTable reads the services in scope with their destinations; op
// names the reading in an error.
func readTable(b backend.IPVS, scope, op string) ([]ipvs.VirtualServer, error) {
	sc, err := cmdutil.ParseScope(scope)
	if err != nil {
		return nil, err
	}
	vss, err := ipvs.ReadTable(b, sc.Func())
	if err != nil {
		return nil, cmdutil.Explain(cmdutil.Context{Op: op}, err)
	}
	return vss, nil
}

// fetch reads the table for stats and top, sorted.
func fetch(b backend.IPVS, scope string) ([]ipvs.VirtualServer, error) {
	vss, err := readTable(b, scope, "read statistics")
	if err != nil {
		return nil, err
	}
	cmdutil.SortTable(vss)
	return vss, nil
}

// PrintTable prints a table read from the kernel: as an ipvsctl/v1
// document with counters, rates and connection counts for JSON and YAML,
// else with RenderTable, accented by cs.
func PrintTable(w io.Writer, cs *iostreams.ColorScheme, format printers.Format, names *cmdutil.Names, vss []ipvs.VirtualServer, mode Mode) error {
	var doc *ipvsconfig.Document
	if format.Structured() {
		doc = &ipvsconfig.Document{Services: ipvsconfig.FromKernel(vss, ipvsconfig.FromOptions{Stats: true})}
	}
	return format.Print(w, doc, func(w io.Writer) error { return RenderTable(w, cs, names, vss, mode) })
}

// Mode selects the columns of RenderTable.
type Mode int

// Table modes.
const (
	ModeDefault Mode = iota
	ModeStats
	ModeRate
)

// RenderTable writes services and their destinations as a table; with a
// scheme that colours (cs), its header is bold and the destinations of
// weight 0, which take no new connections, are dim.
func RenderTable(w io.Writer, cs *iostreams.ColorScheme, names *cmdutil.Names, vss []ipvs.VirtualServer, mode Mode) error {
	var t *cmdutil.Table
	switch mode {
	case ModeStats:
		t = cmdutil.NewTable(w, "SERVICE", "CONNS", "INPKTS", "OUTPKTS", "INBYTES", "OUTBYTES")
	case ModeRate:
		t = cmdutil.NewTable(w, "SERVICE", "CPS", "INPPS", "OUTPPS", "INBPS", "OUTBPS")
	default:
		t = cmdutil.NewTable(w, "SERVICE", "SCHED/FORWARD", "WEIGHT", "ACTIVE", "INACTIVE", "PERSIST", "OPTIONS")
	}
	t.Accent(cs)
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	// In the stats and rate modes a service's row and a destination's are
	// their counters.
	counted := mode == ModeStats || mode == ModeRate
	counters := func(name string, st ipvs.Stats) []string {
		if mode == ModeStats {
			return []string{name, u(st.Conns), u(st.InPkts), u(st.OutPkts), u(st.InBytes), u(st.OutBytes)}
		}
		return []string{name, u(st.CPS), u(st.InPPS), u(st.OutPPS), u(st.InBPS), u(st.OutBPS)}
	}
	for _, vs := range vss {
		s := vs.Service
		name := names.Service(s.Key())
		if counted {
			t.Row(counters(name, s.Stats)...)
		} else {
			var act, inact, pers uint64
			for _, d := range vs.Destinations {
				act += uint64(d.ActiveConns)
				inact += uint64(d.InactiveConns)
				pers += uint64(d.PersistConns)
			}
			t.Row(name, s.Scheduler, "", u(act), u(inact), u(pers), ServiceOptions(s))
		}
		for _, d := range vs.Destinations {
			dn := "  -> " + names.AddrPort(d.Address, d.Port, s.Protocol)
			row := t.Row
			if d.Weight == 0 {
				row = t.DimRow
			}
			if counted {
				row(counters(dn, d.Stats)...)
			} else {
				row(dn, ipvsconfig.ForwardName(d.ForwardMethod), u(uint64(d.Weight)), u(uint64(d.ActiveConns)),
					u(uint64(d.InactiveConns)), u(uint64(d.PersistConns)), DestOptions(d))
			}
		}
	}
	return t.Render()
}

// ServiceOptions describes a service's settings other than the scheduler.
func ServiceOptions(s ipvs.Service) string {
	var o []string
	if fl := ipvsconfig.SchedFlagNames(s.Flags); len(fl) > 0 {
		o = append(o, "flags="+strings.Join(fl, ","))
	}
	if s.Flags&ipvs.SvcPersistent != 0 {
		o = append(o, fmt.Sprintf("persistent=%ds", s.Timeout))
		fs := ipvsconfig.FromKernelService(s, ipvsconfig.FromOptions{})
		if p := fs.Persistence; p != nil {
			switch {
			case p.Netmask != "":
				o = append(o, "netmask="+p.Netmask)
			case p.PrefixLength != nil && *p.PrefixLength != famBits(s.Family):
				o = append(o, fmt.Sprintf("prefix=/%d", *p.PrefixLength))
			}
		}
	}
	if s.PEName != "" {
		o = append(o, "pe="+s.PEName)
	}
	if s.Flags&ipvs.SvcOnePacket != 0 {
		o = append(o, "one-packet")
	}
	return strings.Join(o, " ")
}

func famBits(f ipvs.AddressFamily) int {
	if f == ipvs.AFInet6 {
		return 128
	}
	return 32
}

// DestOptions describes a destination's thresholds and tunnel.
func DestOptions(d ipvs.Destination) string {
	var o []string
	if d.UpperThreshold != 0 || d.LowerThreshold != 0 {
		o = append(o, fmt.Sprintf("thresholds=%d/%d", d.UpperThreshold, d.LowerThreshold))
	}
	if d.ForwardMethod == ipvs.FwdTunnel {
		s := "tunnel=" + d.TunnelType.String()
		if d.TunnelType == ipvs.TunnelGUE {
			s += fmt.Sprintf(":%d", d.TunnelPort)
		}
		if d.TunnelFlags != ipvs.TunnelNoCsum {
			s += "," + ipvsconfig.ChecksumName(d.TunnelFlags)
		}
		o = append(o, s)
	}
	return strings.Join(o, " ")
}
