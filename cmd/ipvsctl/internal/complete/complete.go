package complete

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/ipvs-tools/ipvs/ipvsproc"
	"github.com/ipvs-tools/ipvs/ipvssysctl"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// requestTimeout bounds each kernel request of a completion when
// --request-timeout is not given: a shell waits for it.
const requestTimeout = 2 * time.Second

const noFiles = cobra.ShellCompDirectiveNoFileComp

// Args is what a command's positional arguments complete to.
type Args int

// The positional arguments that complete.
const (
	// Service: the first argument is a live service.
	Service Args = iota
	// Services: every argument is a live service, each offered once.
	Services
	// ServiceDest: a live service, then one of its destinations.
	ServiceDest
	// ServiceNewDest: a live service, then an address (not offered).
	ServiceNewDest
	// SysctlNames: every argument is a sysctl name.
	SysctlNames
	// SysctlAssignments: every argument is NAME=VALUE; NAME= is offered.
	SysctlAssignments
)

// argsOf are the commands whose positional arguments complete, by
// command path under the root.
var argsOf = map[string]Args{
	"get":             Service,
	"zero":            Service,
	"service edit":    Service,
	"service delete":  Services,
	"dest add":        ServiceNewDest,
	"dest edit":       ServiceDest,
	"dest delete":     ServiceDest,
	"dest drain":      ServiceDest,
	"sysctl get":      SysctlNames,
	"sysctl describe": SysctlNames,
	"sysctl set":      SysctlAssignments,
}

// fixed are enum flags and their values, by flag name, wherever a command
// has a flag of that name; a value list is completed element by element.
var fixed = map[string][]string{
	"proto":       {"tcp", "udp", "sctp", "ip", "icmp", "icmpv6"},
	"pe":          {"sip"},
	"tun-type":    {"ipip", "gue", "gre"},
	"sched-flags": {"flag-1", "flag-2", "flag-3", "sh-fallback", "sh-port", "mh-fallback", "mh-port"},
	"drop-entry":  {"off", "auto", "always"},
	"drop-packet": {"off", "auto", "always"},
	"secure-tcp":  {"off", "auto", "always"},
	"scope":       {"vip=", "port=", "proto=", "fwmark=", "family="},
	"format":      {"json", "yaml", "rules"},
}

// pathFlags name files; every other flag that completes nothing else
// completes nothing, instead of the shell's file names.
var pathFlags = map[string]bool{
	"filename": true, "textfile": true, "cache": true,
	"etcd-cacert": true, "etcd-cert": true, "etcd-key": true, "etcd-password-file": true,
}

// Register attaches completion to the tree under root: positional
// arguments by argsOf, and the flags --netns, --color, --interface,
// --state, the ipvsadm-style service flags and the enum flags of fixed
// wherever a command has them; the other flags that take a value
// complete nothing, except the files of pathFlags. Flags that already
// complete keep their function.
func Register(f *factory.Factory, root *cobra.Command) {
	c := &completer{f: f}
	register(root, "color", fixedValues(iostreams.ColorModes, false))
	register(root, "netns", c.netns)
	walk(root, func(cmd *cobra.Command) {
		path := strings.TrimPrefix(cmd.CommandPath(), root.Name()+" ")
		if a, ok := argsOf[path]; ok && cmd.ValidArgsFunction == nil {
			cmd.ValidArgsFunction = safe(c.args(a))
		}
		fs := cmd.LocalNonPersistentFlags()
		has := func(name string) bool { return fs.Lookup(name) != nil }
		for name, values := range fixed {
			if has(name) {
				list := cmd.Flags().Lookup(name).Value.Type() == "stringSlice"
				register(cmd, name, fixedValues(values, list))
			}
		}
		if has("interface") {
			register(cmd, "interface", c.interfaces)
		}
		if has("state") && strings.HasPrefix(path, "conn ") {
			register(cmd, "state", c.states)
		}
		for flag, proto := range map[string]ipvs.Protocol{"tcp-service": ipvs.ProtoTCP, "udp-service": ipvs.ProtoUDP, "sctp-service": ipvs.ProtoSCTP} {
			if has(flag) {
				register(cmd, flag, c.serviceAddrs(proto))
			}
		}
		if has("fwmark-service") {
			register(cmd, "fwmark-service", c.fwmarks)
		}
		cmd.LocalFlags().VisitAll(func(fl *pflag.Flag) {
			if !pathFlags[fl.Name] && fl.Value.Type() != "bool" {
				register(cmd, fl.Name, cobra.NoFileCompletions)
			}
		})
	})
}

// walk calls fn for cmd and every command under it.
func walk(cmd *cobra.Command, fn func(*cobra.Command)) {
	fn(cmd)
	for _, sub := range cmd.Commands() {
		walk(sub, fn)
	}
}

// register attaches fn to the flag unless it completes already.
func register(cmd *cobra.Command, flag string, fn cobra.CompletionFunc) {
	if _, ok := cmd.GetFlagCompletionFunc(flag); ok {
		return
	}
	_ = cmd.RegisterFlagCompletionFunc(flag, safe(fn))
}

// safe makes a panic in fn no completion.
func safe(fn cobra.CompletionFunc) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) (out []cobra.Completion, dir cobra.ShellCompDirective) {
		defer func() {
			if recover() != nil {
				out, dir = nil, noFiles
			}
		}()
		return fn(cmd, args, toComplete)
	}
}

// matching are the names that start with prefix.
func matching(names []string, prefix string) []cobra.Completion {
	var out []cobra.Completion
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}

// fixedValues offers values; for a list flag (a,b,c) it completes the
// last element and keeps the ones before.
func fixedValues(values []string, list bool) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return listValues(values, list, toComplete)
	}
}

func listValues(values []string, list bool, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	done, last := "", toComplete
	if i := strings.LastIndexByte(toComplete, ','); list && i >= 0 {
		done, last = toComplete[:i+1], toComplete[i+1:]
	}
	var out []cobra.Completion
	dir := noFiles
	for _, v := range values {
		if strings.HasPrefix(strings.ToLower(v), strings.ToLower(last)) {
			out = append(out, done+v)
			if strings.HasSuffix(v, "=") {
				dir |= cobra.ShellCompDirectiveNoSpace
			}
		}
	}
	return out, dir
}

// completer reads the live names through the factory.
type completer struct{ f *factory.Factory }

// ready readies the factory as the root's PersistentPreRunE would (it
// does not run for completions): --netns pid:N, a short request timeout.
func (c *completer) ready() error {
	if c.f.Options.Timeout == 0 {
		c.f.Options.Timeout = requestTimeout
	}
	return c.f.Options.ResolveNetNS()
}

// services are the live services, sorted as ipvsctl lists them.
func (c *completer) services() ([]ipvs.ServiceKey, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	b, err := c.f.IPVS()
	if err != nil {
		return nil, err
	}
	svcs, err := b.Services()
	if err != nil {
		return nil, err
	}
	keys := make([]ipvs.ServiceKey, len(svcs))
	for i, s := range svcs {
		keys[i] = s.Key()
	}
	slices.SortFunc(keys, cmdutil.CompareServices)
	return keys, nil
}

// serviceNames are the live services as ipvsctl names them, except those
// in skip.
func (c *completer) serviceNames(toComplete string, skip []string) []cobra.Completion {
	keys, err := c.services()
	if err != nil {
		return nil
	}
	var names []string
	for _, k := range keys {
		if n := ipvsconfig.FormatServiceKey(k); !slices.Contains(skip, n) {
			names = append(names, n)
		}
	}
	return matching(names, toComplete)
}

// args completes the positional arguments of a command.
func (c *completer) args(a Args) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		switch {
		case a == Services:
			return c.serviceNames(toComplete, args), noFiles
		case a == SysctlNames:
			return c.sysctlNames(toComplete, args, ""), noFiles
		case a == SysctlAssignments:
			var given []string
			for _, arg := range args {
				name, _, _ := strings.Cut(arg, "=")
				given = append(given, name)
			}
			return c.sysctlNames(toComplete, given, "="), noFiles | cobra.ShellCompDirectiveNoSpace
		case len(args) == 0:
			return c.serviceNames(toComplete, nil), noFiles
		case a == ServiceDest && len(args) == 1:
			return c.dests(args[0], toComplete), noFiles
		}
		return nil, noFiles
	}
}

// dests are the destinations of the service named svc, as ADDR:PORT.
func (c *completer) dests(svc, toComplete string) []cobra.Completion {
	k, err := ipvsconfig.ParseServiceKey(svc)
	if err != nil || c.ready() != nil {
		return nil
	}
	b, err := c.f.IPVS()
	if err != nil {
		return nil
	}
	ds, err := b.Destinations(k)
	if err != nil {
		return nil
	}
	slices.SortFunc(ds, cmdutil.CompareDests)
	var names []string
	for _, d := range ds {
		names = append(names, netip.AddrPortFrom(d.Address, d.Port).String())
	}
	return matching(names, toComplete)
}

// serviceAddrs completes -t, -u and --sctp-service: the ADDR:PORT of the
// live services of proto.
func (c *completer) serviceAddrs(proto ipvs.Protocol) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		keys, err := c.services()
		if err != nil {
			return nil, noFiles
		}
		var names []string
		for _, k := range keys {
			if !k.IsFWMark() && k.Protocol == proto {
				names = append(names, netip.AddrPortFrom(k.Address, k.Port).String())
			}
		}
		return matching(names, toComplete), noFiles
	}
}

// fwmarks completes -f: the marks of the live firewall-mark services.
func (c *completer) fwmarks(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	keys, err := c.services()
	if err != nil {
		return nil, noFiles
	}
	var names []string
	for _, k := range keys {
		// An IPv4 and an IPv6 service may share a mark.
		if n := strconv.FormatUint(uint64(k.FWMark), 10); k.IsFWMark() && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return matching(names, toComplete), noFiles
}

// sysctlNames are the known sysctls and those the namespace has (a
// kernel may have more than we know), each followed by suffix, except
// those in skip.
func (c *completer) sysctlNames(toComplete string, skip []string, suffix string) []cobra.Completion {
	var names []string
	for _, in := range ipvssysctl.Known() {
		names = append(names, in.Name)
	}
	if c.ready() == nil {
		if s, err := c.f.Sysctls(); err == nil {
			if live, err := s.List(); err == nil {
				for _, l := range live {
					names = append(names, l.Name)
				}
			}
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	names = slices.DeleteFunc(names, func(n string) bool { return slices.Contains(skip, n) })
	for i := range names {
		names[i] += suffix
	}
	return matching(names, toComplete)
}

// netns completes --netns: the names under /run/netns.
func (c *completer) netns(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	names, err := c.f.NetNSNames()
	if err != nil {
		return nil, noFiles
	}
	return matching(names, toComplete), noFiles
}

// interfaces completes --interface: the interfaces of --netns.
func (c *completer) interfaces(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if c.ready() != nil {
		return nil, noFiles
	}
	names, err := c.f.Interfaces()
	if err != nil {
		return nil, noFiles
	}
	slices.Sort(names)
	return matching(names, toComplete), noFiles
}

// states completes conn --state, a list: the state names of
// /proc/net/ip_vs_conn.
func (c *completer) states(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	states := slices.DeleteFunc(ipvsproc.States(), func(s string) bool { return s == "?" })
	return listValues(states, true, toComplete)
}
