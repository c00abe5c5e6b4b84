// Package service implements ipvsctl service add|edit|delete.
package service

import (
	"fmt"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/ipvs-tools/ipvs/ipvsprobe"
	"github.com/spf13/cobra"
)

// Options of service add and edit.
type Options struct {
	factory.Common
	Probe cmdutil.ProbeFunc

	Service ipvs.ServiceKey
	Edit    bool

	Scheduler    string
	SchedFlags   []string
	Persistent   uint32 // seconds; 0 = not persistent
	PrefixLength int
	Netmask      string
	OnePacket    bool
	PE           string

	// Set names the options given on the command line (edit changes
	// only those).
	Set map[string]bool
}

// NewCmdAdd returns service add.
func NewCmdAdd(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	return newCmd(f, runF, false)
}

// NewCmdEdit returns service edit.
func NewCmdEdit(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	return newCmd(f, runF, true)
}

func newCmd(f *factory.Factory, runF func(*Options) error, edit bool) *cobra.Command {
	opts := &Options{Common: f.Common(), Probe: f.Probe, Edit: edit, PrefixLength: -1}
	var sel cmdutil.ServiceSelector
	cmd := &cobra.Command{
		Use:   "add SERVICE",
		Short: "Add a virtual service",
		Long: `Add a virtual service. SERVICE is tcp:ADDR:PORT, udp:[V6ADDR]:PORT,
sctp:ADDR:PORT, fwmark:MARK or fwmark:MARK:v6 (or ipvsadm's -t/-u/--sctp-service/-f).
Defaults are ipvsadm's: scheduler wlc, not persistent.`,
		Example: `  ipvsctl service add tcp:10.0.0.1:80 -s rr
  ipvsctl service add udp:[2001:db8::1]:53 -s sh -b sh-port --one-packet
  ipvsctl service add fwmark:7 --persistent 600 --prefix 24`,
		Args: cobra.MaximumNArgs(1),
	}
	if edit {
		cmd.Use = "edit SERVICE"
		cmd.Short = "Change settings of a virtual service"
		cmd.Long = `Change settings of an existing virtual service. Only the options given
are changed; the others keep their current values (unlike ipvsadm -E,
which resets everything not given). --persistent 0 turns persistence off.`
		cmd.Example = `  ipvsctl service edit tcp:10.0.0.1:80 -s wrr
  ipvsctl service edit fwmark:7 --persistent 0`
	}
	cmd.RunE = func(c *cobra.Command, args []string) error {
		var err error
		if opts.Service, err = sel.ResolveArgs(args); err != nil {
			return err
		}
		opts.Set = cmdutil.FlagsGiven(c)
		return cmdutil.Run(opts, runF, Run)
	}
	fs := cmd.Flags()
	fs.StringVarP(&opts.Scheduler, "scheduler", "s", "", "scheduler `NAME` (rr, wrr, lc, wlc, sh, mh, ...; default wlc)")
	fs.StringSliceVarP(&opts.SchedFlags, "sched-flags", "b", nil, "scheduler `FLAGS`: flag-1,flag-2,flag-3, sh-fallback, sh-port, mh-fallback, mh-port")
	fs.Uint32VarP(&opts.Persistent, "persistent", "p", 0, "make the service persistent for `SECONDS` (0: not persistent)")
	fs.IntVar(&opts.PrefixLength, "prefix", -1, "persistence granularity as a prefix `LENGTH` (/0../32 IPv4, /1../128 IPv6; default: the whole address)")
	// -1 only tells "not given" (Options.Set has it too), not a default to
	// show: help hides a DefValue of "0" (and nothing else reads it).
	fs.Lookup("prefix").DefValue = "0"
	fs.StringVarP(&opts.Netmask, "netmask", "M", "", "persistence granularity as an IPv4 `NETMASK` (ipvsadm -M)")
	fs.BoolVarP(&opts.OnePacket, "one-packet", "O", false, "one-packet scheduling (UDP)")
	fs.StringVar(&opts.PE, "pe", "", "persistence engine `NAME` (sip)")
	sel.Register(cmd)
	_ = cmd.RegisterFlagCompletionFunc("scheduler", cobra.FixedCompletions(ipvs.Schedulers(), cobra.ShellCompDirectiveNoFileComp))
	opts.Common = f.Writer(cmd, true)
	return cmd
}

// Run adds or edits the service.
func Run(o *Options) error {
	b, err := o.IPVS()
	if err != nil {
		return err
	}
	name := ipvsconfig.FormatServiceKey(o.Service)
	var s ipvsconfig.Service
	if o.Edit {
		cur, err := b.Service(o.Service)
		if err != nil {
			return cmdutil.Explain(cmdutil.Context{Op: "edit service", Object: name}, err)
		}
		s = ipvsconfig.FromKernelService(cur, ipvsconfig.FromOptions{})
	} else {
		s = ipvsconfig.FromKernelService(ipvs.Service{Family: o.Service.Family, Protocol: o.Service.Protocol,
			Address: o.Service.Address, Port: o.Service.Port, FWMark: o.Service.FWMark}, ipvsconfig.FromOptions{})
		s.Scheduler = ""
	}
	s.Destinations = nil
	if o.Set["scheduler"] {
		s.Scheduler = o.Scheduler
	}
	if o.Set["sched-flags"] {
		s.SchedFlags = o.SchedFlags
	}
	if o.Set["one-packet"] {
		s.OnePacket = o.OnePacket
	}
	if o.Set["pe"] {
		s.PE = o.PE
	}
	if o.Set["persistent"] {
		if o.Persistent == 0 {
			s.Persistence = nil
		} else {
			if s.Persistence == nil {
				s.Persistence = &ipvsconfig.Persistence{}
			}
			s.Persistence.Timeout = o.Persistent
		}
	}
	if o.Set["prefix"] || o.Set["netmask"] {
		if s.Persistence == nil {
			return cmdutil.FlagErrorf("--prefix and --netmask set the persistence granularity: give --persistent too")
		}
		if o.Set["prefix"] {
			pl := o.PrefixLength
			s.Persistence.PrefixLength, s.Persistence.Netmask = &pl, ""
		}
		if o.Set["netmask"] {
			s.Persistence.Netmask, s.Persistence.PrefixLength = o.Netmask, nil
		}
	}
	doc := &ipvsconfig.Document{APIVersion: ipvsconfig.APIVersion, Services: []ipvsconfig.Service{s}}
	want, err := doc.Desired()
	if err != nil {
		return cmdutil.FieldErrors("service "+name, err)
	}
	ks := want.Services[0].Service
	ctx := cmdutil.Context{Op: "add service", Object: name, Scheduler: ks.Scheduler, PE: ks.PEName}
	if o.Edit {
		ctx.Op = "edit service"
	}
	var req ipvsprobe.Request
	if !o.Edit || o.Set["scheduler"] {
		req.Schedulers = []string{ks.Scheduler}
	}
	if ks.PEName != "" && (!o.Edit || o.Set["pe"]) {
		req.PEs = []string{ks.PEName}
	}
	if err := cmdutil.CheckKernel(o.Probe, req, o.IO.ErrOut); err != nil {
		return &cmdutil.OpError{Op: ctx.Op, Object: name, Err: err}
	}
	if o.Edit {
		err = b.UpdateService(ks)
	} else {
		err = b.NewService(ks)
	}
	return cmdutil.Explain(ctx, err)
}

// DeleteOptions of service delete.
type DeleteOptions struct {
	factory.Common
	Services []ipvs.ServiceKey
}

// NewCmdDelete returns service delete.
func NewCmdDelete(f *factory.Factory, runF func(*DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{Common: f.Common()}
	var sel cmdutil.ServiceSelector
	cmd := &cobra.Command{
		Use:     "delete SERVICE...",
		Aliases: []string{"del", "rm"},
		Short:   "Delete virtual services (with their real servers)",
		Example: `  ipvsctl service delete tcp:10.0.0.1:80 fwmark:7`,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Services = nil
			if sel.Given() || len(args) == 0 {
				if len(args) > 0 {
					return cmdutil.FlagErrorf("give services as arguments or with one of -t/-u/--sctp-service/-f, not both")
				}
				k, err := sel.Resolve("")
				if err != nil {
					return err
				}
				opts.Services = append(opts.Services, k)
			}
			for _, a := range args {
				k, err := ipvsconfig.ParseServiceKey(a)
				if err != nil {
					return &cmdutil.FlagError{Err: err}
				}
				opts.Services = append(opts.Services, k)
			}
			return cmdutil.Run(opts, runF, RunDelete)
		},
	}
	sel.Register(cmd)
	opts.Common = f.Writer(cmd, true)
	return cmd
}

// RunDelete deletes the services; it goes on past a failure and reports
// every one.
func RunDelete(o *DeleteOptions) error {
	b, err := o.IPVS()
	if err != nil {
		return err
	}
	var first error
	for _, k := range o.Services {
		if err := b.DeleteService(k); err != nil {
			err = cmdutil.Explain(cmdutil.Context{Op: "delete service", Object: ipvsconfig.FormatServiceKey(k)}, err)
			if first == nil {
				first = err
			} else {
				fmt.Fprintf(o.IO.ErrOut, "ipvsctl: %v\n", err)
			}
		}
	}
	return first
}
