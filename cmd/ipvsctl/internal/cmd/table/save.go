package table

import (
	"strings"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/printers"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/ipvs-tools/ipvs/ipvssysctl"
	"github.com/spf13/cobra"
)

// SaveOptions of save.
type SaveOptions struct {
	factory.Common

	Output      printers.Format
	WithSysctls bool
	WithStats   bool
	Scope       string
	// Complete adds --set and --start-daemon lines to the rules format.
	Complete bool
}

// NewCmdSave returns save.
func NewCmdSave(f *factory.Factory, runF func(*SaveOptions) error) *cobra.Command {
	opts := &SaveOptions{Common: f.Common()}
	cmd := &cobra.Command{
		Use:   "save",
		Short: "Write the whole configuration as YAML, JSON or ipvsadm rules",
		Long: `Write the live configuration so that ipvsctl restore (or apply) can
recreate it. YAML (the default) and JSON are complete: services,
destinations, timeouts and sync daemons, plus the IPVS sysctls with
--sysctls. -o rules writes ipvsadm -Sn format (services and destinations
only, as ipvsadm -S; real-server thresholds are kept as -x/-y); with
--complete it adds --set and --start-daemon lines, which ipvsadm -R reads.
Output is always numeric and sorted (rules in ipvsadm -S's own order), so
save | restore | save is stable.`,
		Example: `  ipvsctl save > /etc/ipvs.yaml
  ipvsctl save -o json --sysctls
  ipvsctl save -o rules | ipvsadm -R`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if opts.Complete && opts.Output != printers.Rules {
				return cmdutil.FlagErrorf("--complete is for -o rules (YAML and JSON are always complete)")
			}
			if opts.Output == printers.Rules && opts.WithSysctls {
				return cmdutil.FlagErrorf("--sysctls needs -o yaml or -o json (the rules format has no place for them)")
			}
			if _, err := cmdutil.ParseScope(opts.Scope); err != nil {
				return err
			}
			return cmdutil.Run(opts, runF, RunSave)
		},
	}
	printers.AddFlags(cmd, &opts.Output, printers.YAML, printers.JSON, printers.Rules)
	cmd.Flags().BoolVar(&opts.WithSysctls, "sysctls", false, "include the IPVS sysctls (/proc/sys/net/ipv4/vs)")
	cmd.Flags().BoolVar(&opts.WithStats, "stats", false, "include counters and rates (ignored when read back)")
	cmd.Flags().StringVar(&opts.Scope, "scope", "", "only services in `SCOPE` (see ipvsctl help scope)")
	cmd.Flags().BoolVar(&opts.Complete, "complete", false, "-o rules: also write the timeouts (--set) and sync daemons (--start-daemon), which ipvsadm -R reads too")
	return cmd
}

// RunSave saves.
func RunSave(o *SaveOptions) error {
	b, err := o.IPVS()
	if err != nil {
		return err
	}
	vss, err := readTable(b, o.Scope, "save: list services")
	if err != nil {
		return err
	}
	if o.Output == printers.Rules {
		SortLikeIpvsadm(vss)
		if err := WriteRules(o.IO.Out, vss); err != nil || !o.Complete {
			return err
		}
		t, err := b.Timeouts()
		if err != nil {
			return cmdutil.Explain(cmdutil.Context{Op: "save: get timeouts"}, err)
		}
		ds, err := b.Daemons()
		if err != nil {
			return cmdutil.Explain(cmdutil.Context{Op: "save: list sync daemons"}, err)
		}
		return WriteRulesConfig(o.IO.Out, t, ds)
	}
	cmdutil.SortTable(vss)
	doc := &ipvsconfig.Document{Services: ipvsconfig.FromKernel(vss, ipvsconfig.FromOptions{Stats: o.WithStats})}
	t, err := b.Timeouts()
	if err != nil {
		return cmdutil.Explain(cmdutil.Context{Op: "save: get timeouts"}, err)
	}
	doc.Timeouts = ipvsconfig.FromKernelTimeouts(t)
	ds, err := b.Daemons()
	if err != nil {
		return cmdutil.Explain(cmdutil.Context{Op: "save: list sync daemons"}, err)
	}
	doc.Daemons = ipvsconfig.FromKernelDaemons(ds)
	if o.WithSysctls {
		s, err := o.Sysctls()
		if err != nil {
			return err
		}
		list, err := s.List()
		if err != nil {
			return err
		}
		doc.Sysctls = map[string]ipvsconfig.SysctlValue{}
		for _, e := range list {
			if e.Writable {
				// One blank between numbers (sync_threshold reads "3\t50").
				v := strings.Join(strings.Fields(e.Value), " ")
				if e.Known && e.Info.Kind == ipvssysctl.KindDefense && v == "2" {
					v = "1" // "automatic, active now" is saved as the setting, automatic
				}
				doc.Sysctls[e.Name] = ipvsconfig.SysctlValue(v)
			}
		}
	}
	return o.Output.Print(o.IO.Out, doc, nil)
}
