// Package root assembles the ipvsctl command tree.
package root

import (
	"slices"
	"strconv"
	"strings"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/agent"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/apply"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/completion"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/conn"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/convert"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/dest"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/doctor"
	fleetcmd "github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/fleet"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/service"
	syncd "github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/sync"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/sysctl"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/table"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/timeout"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/version"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/complete"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/printers"
	"github.com/spf13/cobra"
)

// NewCmdRoot returns the ipvsctl command with every subcommand.
func NewCmdRoot(f *factory.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ipvsctl",
		Short: "Manage the Linux IPVS (LVS) load balancer",
		Long: `ipvsctl manages the kernel's IP Virtual Server table over netlink.

Services are named tcp:ADDR:PORT, udp:[V6ADDR]:PORT, sctp:ADDR:PORT,
fwmark:MARK or fwmark:MARK:v6. Declarative files (JSON/YAML, schema
ipvsctl/v1, see docs/ipvsctl-json.md) are applied as a difference against
the live table; --scope keeps ipvsctl away from rules other managers own.

Exit status: 0 success, 1 error, 2 drift found (diff).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       f.Version,
	}
	cmd.SetVersionTemplate("ipvsctl {{.Version}}\n")
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.Options.NetNS, "netns", "", "work in network namespace `NAME` (under /run/netns), PATH (/proc/PID/ns/net) or pid:PID: netlink, /proc and sysctls")
	pf.BoolVarP(&f.Options.Numeric, "numeric", "n", false, "table output: print addresses and ports as numbers")
	pf.BoolVarP(&f.Options.Verbose, "verbose", "v", false, "report timings and the number of kernel requests sent on stderr")
	pf.DurationVar(&f.Options.Timeout, "request-timeout", 0, "bound each kernel request (default 30s)")
	pf.StringVar(&f.Options.Color, "color", "auto", "colour tables and fleet diff: `WHEN` auto (on a terminal, unless NO_COLOR is set or TERM=dumb), always or never")
	// -o belongs to each command that prints data (printers.AddFlags);
	// this hidden one only lets it stand before the command's name
	// ("ipvsctl -o json list"), where the command's own flag takes it.
	var output string
	pf.StringVarP(&output, "output", "o", "", "")
	_ = pf.MarkHidden("output")
	// The shell completes it with every format before a command's name
	// and with none after a command that prints no data; a command with
	// formats completes its own -o (printers.AddFlags).
	_ = cmd.RegisterFlagCompletionFunc("output", func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if c != cmd {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return allFormats(cmd), cobra.ShellCompDirectiveNoFileComp
	})

	cmd.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		if fl := c.Flags().Lookup("output"); fl != nil && fl.Changed && printers.Formats(c) == nil {
			return cmdutil.FlagErrorf("-o %s: %s prints no data to format", fl.Value, c.CommandPath())
		}
		if err := f.IOStreams.SetColorMode(f.Options.Color); err != nil {
			return &cmdutil.FlagError{Err: err}
		}
		return f.Options.ResolveNetNS()
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		// "ipvsctl -Ln": ipvsadm's commands are options, ipvsctl's are words.
		if c == c.Root() {
			if hint := ipvsadmHint(err); hint != "" {
				return cmdutil.FlagErrorf("%s", hint)
			}
		}
		// "timeout set -1 2 3": pflag takes -1 for an option.
		if arg, ok := negativeNumber(err); ok {
			return cmdutil.FlagErrorf("%s is not an option, and no value ipvsctl takes is negative", arg)
		}
		return &cmdutil.FlagError{Err: cmdutil.FlagValue(err)}
	})

	cmd.AddGroup(&cobra.Group{ID: "read", Title: "Inspect:"},
		&cobra.Group{ID: "write", Title: "Change:"},
		&cobra.Group{ID: "decl", Title: "Declarative:"},
		&cobra.Group{ID: "other", Title: "Other:"})
	add := func(group string, cs ...*cobra.Command) {
		for _, c := range cs {
			c.GroupID = group
			cmd.AddCommand(c)
		}
	}
	// A group runs nothing itself; cobra shows its help.
	group := cmdutil.NewGroup
	add("read", table.NewCmdList(f, nil), table.NewCmdGet(f, nil), table.NewCmdStats(f, nil, nil), table.NewCmdTop(f, nil),
		group(&cobra.Command{Use: "conn", Aliases: []string{"connections"}, Short: "List, filter and count IPVS connections"},
			conn.NewCmdList(f, nil), conn.NewCmdSummary(f, nil)))
	add("write",
		group(&cobra.Command{Use: "service", Aliases: []string{"svc"}, Short: "Add, change or delete virtual services"},
			service.NewCmdAdd(f, nil), service.NewCmdEdit(f, nil), service.NewCmdDelete(f, nil)),
		group(&cobra.Command{Use: "dest", Aliases: []string{"destination", "rs"}, Short: "Add, change, delete or drain real servers"},
			dest.NewCmdAdd(f, nil), dest.NewCmdEdit(f, nil), dest.NewCmdDelete(f, nil), dest.NewCmdDrain(f, nil)),
		group(&cobra.Command{Use: "timeout", Short: "Show or set the TCP, TCP FIN_WAIT and UDP connection timeouts"},
			timeout.NewCmdGet(f, nil), timeout.NewCmdSet(f, nil)),
		table.NewCmdZero(f, nil), table.NewCmdFlush(f, nil),
		group(&cobra.Command{Use: "sync", Short: "Start, stop and check the connection synchronisation daemons"},
			syncd.NewCmdStart(f, nil), syncd.NewCmdStop(f, nil), syncd.NewCmdStatus(f, nil)),
		group(&cobra.Command{Use: "sysctl", Short: "List, read, set and explain the IPVS sysctls (/proc/sys/net/ipv4/vs)", Long: sysctlLong},
			sysctl.NewCmdList(f, nil), sysctl.NewCmdGet(f, nil), sysctl.NewCmdSet(f, nil), sysctl.NewCmdDescribe(f, nil)),
		sysctl.NewCmdDos(f, nil))
	add("decl", apply.NewCmdDiff(f, nil), apply.NewCmdApply(f, nil), table.NewCmdSave(f, nil), apply.NewCmdRestore(f, nil),
		agent.NewCmdAgent(f, nil), fleetcmd.NewCmdFleet(f), convert.NewCmdConvert(f, nil))
	add("other", version.NewCmdVersion(f, nil), completion.NewCmdCompletion(f, nil))
	add("read", doctor.NewCmdDoctor(f, nil))
	cmd.AddCommand(scopeHelp())
	cmd.SetHelpCommandGroupID("other")
	cmd.SetCompletionCommandGroupID("other")
	complete.Register(f, cmd)
	return cmd
}

// allFormats returns the formats of every command under root, each once,
// in the order they are first met.
func allFormats(root *cobra.Command) []string {
	var out []string
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, f := range printers.Formats(c) {
			if !slices.Contains(out, string(f)) {
				out = append(out, string(f))
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return out
}

// negativeNumber returns the argument of pflag's error for an unknown
// shorthand when that argument is a negative number ("-1").
func negativeNumber(err error) (string, bool) {
	rest, ok := strings.CutPrefix(err.Error(), "unknown shorthand flag: '")
	if !ok {
		return "", false
	}
	_, arg, ok := strings.Cut(rest, "' in ")
	if !ok {
		return "", false
	}
	if _, perr := strconv.ParseFloat(arg, 64); perr != nil || len(arg) < 2 || arg[1] < '0' || arg[1] > '9' {
		return "", false
	}
	return arg, true
}

const sysctlLong = `The IPVS sysctls are per network namespace (--netns) and differ between
kernels, loaded modules and namespaces (none at all in a 6.1 namespace of an
unprivileged container), so they are discovered at run time. Every known
sysctl comes with its documentation and is validated before writing.`

func scopeHelp() *cobra.Command {
	return &cobra.Command{
		Use:   "scope",
		Short: "How --scope selects services",
		Long: `--scope limits which services apply, restore, diff, flush and list may
touch, so that ipvsctl can share the IPVS table with kube-proxy, keepalived,
Docker or anything else that programs it. IPVS objects carry no owner, so
ownership is by address space:

  vip=CIDR      the service address is inside CIDR (a plain address is /32 or /128)
  port=N|A-B    the service port is N or in A..B
  proto=P       tcp, udp or sctp
  fwmark=N|A-B  the firewall mark is N or in A..B
  family=F      inet or inet6

Terms are comma-separated; the flag may be repeated. Terms with the same
key are alternatives (OR); different keys must all hold (AND).
A tcp/udp/sctp service is in scope only if at least one of vip, port and
proto is given and every one of them that is given matches it. A fwmark
service is in scope only if fwmark is given and matches it. family, if
given, must match either kind; alone, it selects both kinds.

Outside the scope nothing is created, changed or deleted: apply and restore
refuse a file that lists an out-of-scope service, --prune and flush delete
only in-scope services, and diff ignores the rest of the table.

Examples:
  --scope vip=10.96.0.0/12                     kube-style ClusterIP range only
  --scope vip=192.0.2.0/24,fwmark=100-199      these VIPs and these marks
  --scope vip=2001:db8::/64,port=443,proto=tcp HTTPS on one IPv6 prefix`,
	}
}
