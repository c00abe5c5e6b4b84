// Package dest implements ipvsctl dest add|edit|delete|drain.
package dest

import (
	"fmt"
	"net/netip"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/ipvs-tools/ipvs/ipvsprobe"
	"github.com/spf13/cobra"
)

// Target is the service and real server named on the command line.
type Target struct {
	Service ipvs.ServiceKey
	// Addr is the real server's address; Port is valid when HasPort.
	Addr    netip.Addr
	Port    uint16
	HasPort bool
}

// targetFlags are the ipvsadm-style flags that name a real server and
// its service (-t/-u/-f ... -r ADDR[:PORT]).
type targetFlags struct {
	sel  cmdutil.ServiceSelector
	real string
}

// register adds the flags to cmd.
func (tf *targetFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&tf.real, "real-server", "r", "", "real server `ADDR[:PORT]` (ipvsadm style, with -t/-u/-f)")
	tf.sel.Register(cmd)
}

// parse reads "SERVICE ADDR[:PORT]" or -t/-u/-f ... -r ADDR[:PORT].
func (tf *targetFlags) parse(args []string) (Target, error) {
	sel, real := &tf.sel, tf.real
	var t Target
	var svcArg, rsArg string
	switch {
	case sel.Given() && len(args) == 0 && real != "":
		rsArg = real
	case !sel.Given() && len(args) == 2 && real == "":
		svcArg, rsArg = args[0], args[1]
	case sel.Given() && len(args) == 1 && real == "":
		rsArg = args[0]
	default:
		return t, cmdutil.FlagErrorf("name the service and the real server: SERVICE ADDR[:PORT] (or -t/-u/-f SERVICE -r ADDR[:PORT])")
	}
	var err error
	if t.Service, err = sel.Resolve(svcArg); err != nil {
		return t, err
	}
	a, p, err := ipvsconfig.ParseAddrPort(rsArg, true)
	if err != nil {
		return t, cmdutil.FlagErrorf("real server %q: %v", rsArg, err)
	}
	t.Addr, t.Port = a, p
	if ap, err := netip.ParseAddrPort(rsArg); err == nil && ap.Port() == p {
		t.HasPort = true
	}
	return t, nil
}

// Key returns the destination key, the port defaulting to def.
func (t Target) Key(def uint16) ipvs.DestKey {
	p := def
	if t.HasPort {
		p = t.Port
	}
	return ipvs.DestKey{Family: ipvsconfig.FamilyOf(t.Addr), Address: t.Addr, Port: p}
}

func (t Target) String() string {
	if t.HasPort {
		return netip.AddrPortFrom(t.Addr, t.Port).String()
	}
	return t.Addr.String()
}

// Options of dest add and edit.
type Options struct {
	factory.Common
	Probe  cmdutil.ProbeFunc
	Target Target
	Edit   bool

	Forward     string
	Weight      uint32
	Upper       uint32
	Lower       uint32
	TunType     string
	TunPort     uint16
	TunChecksum string

	Set map[string]bool
}

// NewCmdAdd returns dest add.
func NewCmdAdd(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	return newCmd(f, runF, false)
}

// NewCmdEdit returns dest edit.
func NewCmdEdit(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	return newCmd(f, runF, true)
}

func newCmd(f *factory.Factory, runF func(*Options) error, edit bool) *cobra.Command {
	opts := &Options{Common: f.Common(), Probe: f.Probe, Edit: edit}
	var tf targetFlags
	var masq, route, tunnel, csum, remcsum, nocsum bool
	cmd := &cobra.Command{
		Use:   "add SERVICE ADDR[:PORT]",
		Short: "Add a real server to a virtual service",
		Long: `Add a real server. The port defaults to the service's. Defaults are
ipvsadm's: direct routing, weight 1, no thresholds.`,
		Example: `  ipvsctl dest add tcp:10.0.0.1:80 192.168.0.1:8080 --forward masq -w 3
  ipvsctl dest add fwmark:7:v6 10.1.1.1 --forward tunnel --tun-type gue --tun-port 6080
  ipvsctl dest add -t 10.0.0.1:80 -r 192.168.0.2 -m`,
		Args: cobra.MaximumNArgs(2),
	}
	if edit {
		cmd.Use = "edit SERVICE ADDR[:PORT]"
		cmd.Short = "Change settings of a real server"
		cmd.Long = `Change settings of a real server. Only the options given are changed
(unlike ipvsadm -e, which resets everything not given).`
		cmd.Example = `  ipvsctl dest edit tcp:10.0.0.1:80 192.168.0.1:8080 -w 0`
	}
	cmd.RunE = func(c *cobra.Command, args []string) error {
		var err error
		if opts.Target, err = tf.parse(args); err != nil {
			return err
		}
		opts.Set = cmdutil.FlagsGiven(c)
		n := pick(&opts.Forward, opts.Set, "forward", switchOpt{masq, "masq"}, switchOpt{route, "route"}, switchOpt{tunnel, "tunnel"})
		if n > 1 || (n == 1 && c.Flags().Changed("forward")) {
			return cmdutil.FlagErrorf("give one forwarding method")
		}
		if pick(&opts.TunChecksum, opts.Set, "tun-checksum", switchOpt{csum, "csum"}, switchOpt{remcsum, "remcsum"}, switchOpt{nocsum, "nocsum"}) > 1 {
			return cmdutil.FlagErrorf("give one of --tun-csum, --tun-remcsum, --tun-nocsum")
		}
		return cmdutil.Run(opts, runF, Run)
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Forward, "forward", "", "forwarding `METHOD`: route (default), masq, tunnel, local")
	fs.BoolVarP(&masq, "masquerading", "m", false, "same as --forward masq (NAT)")
	fs.BoolVarP(&route, "gatewaying", "g", false, "same as --forward route (direct routing)")
	fs.BoolVarP(&tunnel, "ipip", "i", false, "same as --forward tunnel")
	fs.Uint32VarP(&opts.Weight, "weight", "w", 1, "scheduling `WEIGHT` 0..2147483647 (0 quiesces)")
	fs.Uint32VarP(&opts.Upper, "u-threshold", "x", 0, "upper connection `THRESHOLD` (0: none)")
	fs.Uint32VarP(&opts.Lower, "l-threshold", "y", 0, "lower connection `THRESHOLD`")
	fs.StringVar(&opts.TunType, "tun-type", "", "tunnel `TYPE`: ipip, gue or gre")
	fs.Uint16Var(&opts.TunPort, "tun-port", 0, "GUE tunnel `PORT`")
	fs.BoolVar(&csum, "tun-csum", false, "tunnel checksums (gue, gre)")
	fs.BoolVar(&remcsum, "tun-remcsum", false, "remote checksum offload (gue)")
	fs.BoolVar(&nocsum, "tun-nocsum", false, "no tunnel checksums")
	tf.register(cmd)
	_ = cmd.RegisterFlagCompletionFunc("forward", cobra.FixedCompletions([]string{"route", "masq", "tunnel", "local"}, cobra.ShellCompDirectiveNoFileComp))
	opts.Common = f.Writer(cmd, false)
	return cmd
}

// switchOpt is a boolean flag that stands for one value of an option
// (-m for --forward masq).
type switchOpt struct {
	on   bool
	name string
}

// pick sets *value to the name of a switch that is on, marking option as
// given in set, and returns how many switches are on (more than one is
// the caller's usage error).
func pick(value *string, set map[string]bool, option string, switches ...switchOpt) int {
	n := 0
	for _, s := range switches {
		if s.on {
			n++
			*value = s.name
			set[option] = true
		}
	}
	return n
}

// Run adds or edits the real server.
func Run(o *Options) error {
	b, err := o.IPVS()
	if err != nil {
		return err
	}
	svcName := ipvsconfig.FormatServiceKey(o.Target.Service)
	op := "add destination"
	if o.Edit {
		op = "edit destination"
	}
	svc, err := b.Service(o.Target.Service)
	if err != nil {
		return cmdutil.Explain(cmdutil.Context{Op: op, Object: o.Target.String() + " of " + svcName}, err)
	}
	key := o.Target.Key(svc.Port)
	if svc.FWMark != 0 && !o.Target.HasPort {
		key.Port = 0
	}
	object := key.String() + " of " + svcName
	var d ipvsconfig.Destination
	if o.Edit {
		ds, err := b.Destinations(o.Target.Service)
		if err != nil {
			return cmdutil.Explain(cmdutil.Context{Op: op, Object: object}, err)
		}
		found := false
		for _, x := range ds {
			if x.Key() == key {
				d, found = ipvsconfig.FromKernelDest(x, ipvsconfig.FromOptions{}), true
			}
		}
		if !found {
			return &cmdutil.OpError{Op: op, Object: object, Err: fmt.Errorf("no such destination"),
				Hint: "see ipvsctl get " + svcName}
		}
	} else {
		port := key.Port
		d = ipvsconfig.Destination{Address: key.Address.String(), Port: &port}
	}
	if o.Set["forward"] {
		d.Forward = o.Forward
		if o.Forward != "tunnel" && o.Forward != "ipip" {
			d.Tunnel = nil
		}
	}
	if o.Set["weight"] || !o.Edit {
		w := o.Weight
		d.Weight = &w
	}
	if o.Set["u-threshold"] {
		d.UpperThreshold = o.Upper
	}
	if o.Set["l-threshold"] {
		d.LowerThreshold = o.Lower
	}
	if o.Set["tun-type"] || o.Set["tun-port"] || o.Set["tun-checksum"] {
		if d.Tunnel == nil {
			d.Tunnel = &ipvsconfig.Tunnel{}
		}
		if o.Set["tun-type"] {
			d.Tunnel.Type = o.TunType
		}
		if o.Set["tun-port"] {
			d.Tunnel.Port = o.TunPort
		}
		if o.Set["tun-checksum"] {
			d.Tunnel.Checksum = o.TunChecksum
		}
	}
	s := ipvsconfig.FromKernelService(svc, ipvsconfig.FromOptions{})
	s.Destinations = []ipvsconfig.Destination{d}
	doc := &ipvsconfig.Document{APIVersion: ipvsconfig.APIVersion, Services: []ipvsconfig.Service{s}}
	want, err := doc.Desired()
	if err != nil {
		return cmdutil.FieldErrors("destination "+object, err)
	}
	kd := want.Services[0].Destinations[0]
	if kd.ForwardMethod == ipvs.FwdTunnel && kd.TunnelType != ipvs.TunnelIPIP {
		// A kernel without this encapsulation would keep the
		// destination as IPIP without a word.
		req := ipvsprobe.Request{Tunnels: []ipvs.TunnelType{kd.TunnelType}}
		if err := cmdutil.CheckKernel(o.Probe, req, o.IO.ErrOut); err != nil {
			return &cmdutil.OpError{Op: op, Object: object, Err: err}
		}
	}
	if o.Edit {
		err = b.UpdateDestination(o.Target.Service, kd)
	} else {
		err = b.NewDestination(o.Target.Service, kd)
	}
	return cmdutil.Explain(cmdutil.Context{Op: op, Object: object}, err)
}

// DeleteOptions of dest delete.
type DeleteOptions struct {
	factory.Common
	Target Target
}

// NewCmdDelete returns dest delete.
func NewCmdDelete(f *factory.Factory, runF func(*DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{Common: f.Common()}
	var tf targetFlags
	cmd := &cobra.Command{
		Use:     "delete SERVICE ADDR[:PORT]",
		Aliases: []string{"del", "rm"},
		Short:   "Delete a real server at once (see dest drain for a graceful removal)",
		Args:    cobra.MaximumNArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			var err error
			if opts.Target, err = tf.parse(args); err != nil {
				return err
			}
			return cmdutil.Run(opts, runF, RunDelete)
		},
	}
	tf.register(cmd)
	opts.Common = f.Writer(cmd, false)
	return cmd
}

// RunDelete deletes the real server.
func RunDelete(o *DeleteOptions) error {
	b, key, object, err := resolveDest(o.IPVS, o.Target, "delete destination")
	if err != nil {
		return err
	}
	return cmdutil.Explain(cmdutil.Context{Op: "delete destination", Object: object}, b.DeleteDestination(o.Target.Service, key))
}

// resolveDest opens the backend with open and finds the service and the
// destination's full key; it returns the backend, the key and the
// destination's name for messages (KEY of SERVICE).
func resolveDest(open func() (backend.IPVS, error), t Target, op string) (backend.IPVS, ipvs.DestKey, string, error) {
	b, err := open()
	if err != nil {
		return nil, ipvs.DestKey{}, "", err
	}
	svcName := ipvsconfig.FormatServiceKey(t.Service)
	svc, err := b.Service(t.Service)
	if err != nil {
		return nil, ipvs.DestKey{}, "", cmdutil.Explain(cmdutil.Context{Op: op, Object: t.String() + " of " + svcName}, err)
	}
	key := t.Key(svc.Port)
	if svc.FWMark != 0 && !t.HasPort {
		// fwmark services: find the server by address alone if unique.
		ds, err := b.Destinations(t.Service)
		if err == nil {
			var match []ipvs.DestKey
			for _, d := range ds {
				if d.Address == t.Addr {
					match = append(match, d.Key())
				}
			}
			if len(match) == 1 {
				key = match[0]
			}
		}
	}
	return b, key, key.String() + " of " + svcName, nil
}
