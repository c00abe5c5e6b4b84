// Package sync implements ipvsctl sync start|stop|status.
package sync

import (
	"fmt"
	"io"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/printers"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/ipvs-tools/ipvs/ipvsproc"
	"github.com/ipvs-tools/ipvs/netns"
	"github.com/spf13/cobra"
)

// StartOptions of sync start.
type StartOptions struct {
	factory.Common
	Daemon ipvs.Daemon
	group  string
}

// NewCmdStart returns sync start.
func NewCmdStart(f *factory.Factory, runF func(*StartOptions) error) *cobra.Command {
	opts := &StartOptions{Common: f.Common()}
	var syncID uint32
	cmd := &cobra.Command{
		Use:   "start master|backup --interface IFACE [--syncid N]",
		Short: "Start a sync daemon",
		Long: `Start the master (sends connection state) or backup (receives it) sync
daemon. Master and backup must use the same sync ID (a backup with sync
ID 0 accepts any), the same multicast group and port, and interfaces on
the same segment (or a TTL large enough to reach it).`,
		Example: `  ipvsctl sync start master --interface eth0 --syncid 7
  ipvsctl sync start backup --interface eth1 --syncid 7 --group 239.1.2.3 --port 9000`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"master", "backup"},
		RunE: func(c *cobra.Command, args []string) error {
			st, err := ipvsconfig.ParseDaemonState(args[0])
			if err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			opts.Daemon.State = st
			if opts.Daemon.Interface == "" {
				return cmdutil.FlagErrorf("give the multicast interface with --interface")
			}
			if len(opts.Daemon.Interface) > ipvs.MaxIfNameLen {
				return cmdutil.FlagErrorf("interface name %q is too long", opts.Daemon.Interface)
			}
			if syncID > 255 {
				return cmdutil.FlagErrorf("--syncid must be 0..255")
			}
			opts.Daemon.SyncID = syncID
			if opts.group != "" {
				g, err := netip.ParseAddr(opts.group)
				if err != nil || !g.IsMulticast() {
					return cmdutil.FlagErrorf("--group %q is not a multicast address", opts.group)
				}
				opts.Daemon.Group = g
			}
			return cmdutil.Run(opts, runF, RunStart)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&opts.Daemon.Interface, "interface", "i", "", "multicast `IFACE` (ipvsadm --mcast-interface)")
	fs.Uint32Var(&syncID, "syncid", 0, "sync `ID` 0..255")
	fs.Uint16Var(&opts.Daemon.SyncMaxLen, "maxlen", 0, "maximum sync message `SIZE` (default: from the MTU)")
	fs.StringVar(&opts.group, "group", "", "multicast `GROUP` (default 224.0.0.81)")
	fs.Uint16Var(&opts.Daemon.Port, "port", 0, "UDP `PORT` (default 8848)")
	fs.Uint8Var(&opts.Daemon.TTL, "ttl", 0, "multicast `TTL` (default 1)")
	opts.Common = f.Writer(cmd, true)
	return cmd
}

// RunStart starts the daemon.
func RunStart(o *StartOptions) error {
	b, err := o.IPVS()
	if err != nil {
		return err
	}
	d := o.Daemon
	return cmdutil.Explain(cmdutil.Context{Op: "start " + d.State.String() + " sync daemon", Object: "on " + d.Interface, Interface: d.Interface}, b.NewDaemon(d))
}

// StopOptions of sync stop.
type StopOptions struct {
	factory.Common
	States []ipvs.DaemonState
}

// NewCmdStop returns sync stop.
func NewCmdStop(f *factory.Factory, runF func(*StopOptions) error) *cobra.Command {
	opts := &StopOptions{Common: f.Common()}
	cmd := &cobra.Command{
		Use:       "stop master|backup|all",
		Short:     "Stop a sync daemon",
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"master", "backup", "all"},
		RunE: func(c *cobra.Command, args []string) error {
			opts.States = nil
			if args[0] == "all" {
				opts.States = []ipvs.DaemonState{ipvs.DaemonMaster, ipvs.DaemonBackup}
			} else {
				st, err := ipvsconfig.ParseDaemonState(args[0])
				if err != nil {
					return &cmdutil.FlagError{Err: err}
				}
				opts.States = []ipvs.DaemonState{st}
			}
			return cmdutil.Run(opts, runF, RunStop)
		},
	}
	opts.Common = f.Writer(cmd, true)
	return cmd
}

// RunStop stops daemons; with "all", roles that do not run are skipped.
func RunStop(o *StopOptions) error {
	b, err := o.IPVS()
	if err != nil {
		return err
	}
	running := map[ipvs.DaemonState]bool{}
	if len(o.States) > 1 {
		ds, err := b.Daemons()
		if err != nil {
			return cmdutil.Explain(cmdutil.Context{Op: "list sync daemons"}, err)
		}
		for _, d := range ds {
			running[d.State] = true
		}
	}
	for _, st := range o.States {
		if len(o.States) > 1 && !running[st] {
			continue
		}
		if err := b.DeleteDaemon(st); err != nil {
			return cmdutil.Explain(cmdutil.Context{Op: "stop " + st.String() + " sync daemon"}, err)
		}
	}
	return nil
}

// StatusOptions of sync status.
type StatusOptions struct {
	factory.Common
	ProcFile func(string) (factory.ReadCloser, error)
	// Interface looks up an interface in the target namespace.
	Interface func(name string) (*net.Interface, error)
	Output    printers.Format
}

// NewCmdStatus returns sync status.
func NewCmdStatus(f *factory.Factory, runF func(*StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{Common: f.Common(), ProcFile: f.ProcFile}
	opts.Interface = func(name string) (*net.Interface, error) {
		var ifc *net.Interface
		err := netns.Do(f.Options.NetNS, func() error {
			var err error
			ifc, err = net.InterfaceByName(name)
			return err
		})
		return ifc, err
	}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the sync daemons, the sync sysctls and synced connections, and diagnose common mistakes",
		Long: `Show the running sync daemons together with the sync_* sysctls that decide
whether synchronisation works, the number of connections learned from a
master, and warnings for the usual mistakes: no daemon, interface missing
or down, a backup that has received nothing, mismatched sync IDs,
mixed-family (tunnel) real servers that keep the kernel from starting a
daemon. Notes explain settings that are not mistakes.

Exit status: 0 when no problem is found (notes do not count), 1 when one
is, so a monitoring check can run it.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return cmdutil.Run(opts, runF, RunStatus)
		},
	}
	printers.AddFlags(cmd, &opts.Output, printers.Table, printers.JSON, printers.YAML)
	return cmd
}

// Status is the JSON/YAML form of sync status.
type Status struct {
	printers.TypeMeta `json:",inline" yaml:",inline"`
	Daemons           []DaemonStatus    `json:"daemons" yaml:"daemons"`
	Sysctls           map[string]string `json:"sysctls,omitempty" yaml:"sysctls,omitempty"`
	// SysctlError says why the sysctls could not be read.
	SysctlError string `json:"sysctlError,omitempty" yaml:"sysctlError,omitempty"`
	// Connections counts /proc/net/ip_vs_conn_sync entries by origin
	// (LOCAL, SYNC); nil if the file could not be read.
	Connections map[string]int `json:"connections,omitempty" yaml:"connections,omitempty"`
	// MixedFamilyDests counts real servers of another family than their
	// service.
	MixedFamilyDests int      `json:"mixedFamilyDests" yaml:"mixedFamilyDests"`
	Problems         []string `json:"problems" yaml:"problems"`
	// Notes explain settings that are not mistakes (they do not make the
	// exit status 1).
	Notes []string `json:"notes" yaml:"notes"`
}

// DaemonStatus is one daemon with its interface state.
type DaemonStatus struct {
	ipvsconfig.Daemon `yaml:",inline"`
	InterfaceUp       *bool `json:"interfaceUp,omitempty" yaml:"interfaceUp,omitempty"`
}

// RunStatus shows the status.
func RunStatus(o *StatusOptions) error {
	b, err := o.IPVS()
	if err != nil {
		return err
	}
	ds, err := b.Daemons()
	if err != nil {
		return cmdutil.Explain(cmdutil.Context{Op: "list sync daemons"}, err)
	}
	st := Status{Daemons: []DaemonStatus{}, Problems: []string{}, Notes: []string{}}
	problem := func(format string, args ...any) { st.Problems = append(st.Problems, fmt.Sprintf(format, args...)) }
	note := func(format string, args ...any) { st.Notes = append(st.Notes, fmt.Sprintf(format, args...)) }
	for i, d := range ds {
		dm := (*ipvsconfig.FromKernelDaemons(ds))[i]
		s := DaemonStatus{Daemon: dm}
		if o.Interface != nil {
			ifc, err := o.Interface(d.Interface)
			switch {
			case err != nil:
				f := false
				s.InterfaceUp = &f
				problem("%s daemon: interface %s does not exist in this namespace: the daemon sends or receives nothing (ip link; restart it on the right interface)", d.State, d.Interface)
			default:
				up := ifc.Flags&net.FlagUp != 0
				s.InterfaceUp = &up
				if !up {
					problem("%s daemon: interface %s is down (ip link set %s up)", d.State, d.Interface, d.Interface)
				}
				if ifc.Flags&net.FlagMulticast == 0 && ifc.Flags&net.FlagLoopback == 0 {
					problem("%s daemon: interface %s has no MULTICAST flag", d.State, d.Interface)
				}
			}
		}
		st.Daemons = append(st.Daemons, s)
	}
	if len(ds) == 0 {
		problem("no sync daemon runs: start one with ipvsctl sync start master|backup --interface IFACE --syncid N")
	}
	var master, backup *ipvs.Daemon
	for i := range ds {
		switch ds[i].State {
		case ipvs.DaemonMaster:
			master = &ds[i]
		case ipvs.DaemonBackup:
			backup = &ds[i]
		}
	}
	if master != nil && backup != nil {
		if backup.SyncID != 0 && backup.SyncID != master.SyncID {
			problem("syncid mismatch: master sends %d, backup accepts only %d (peers must use the same syncid; backup syncid 0 accepts any)", master.SyncID, backup.SyncID)
		}
		if master.Group != backup.Group || master.Port != backup.Port {
			problem("master and backup use different multicast groups or ports (%s:%d vs %s:%d): peers must agree",
				master.Group, master.Port, backup.Group, backup.Port)
		}
	}
	if sys, err := o.Sysctls(); err != nil {
		st.SysctlError = err.Error()
	} else if list, err := sys.List(); err != nil {
		st.SysctlError = err.Error()
	} else {
		st.Sysctls = map[string]string{}
		for _, e := range list {
			if strings.HasPrefix(e.Name, "sync_") || e.Name == "backup_only" {
				st.Sysctls[e.Name] = strings.Join(strings.Fields(e.Value), " ")
			}
		}
		if master != nil && st.Sysctls["sync_persist_mode"] == "1" {
			note("sync_persist_mode=1: only persistence templates are synced; connections of non-persistent services are not")
		}
		if backup != nil && st.Sysctls["backup_only"] != "1" {
			note("backup_only=0, so this host also acts as a director while the backup daemon runs (set backup_only=1 on a pure backup with DR/TUN to avoid loops)")
		}
	}
	if rc, err := o.ProcFile(ipvsproc.ConnSyncFile); err == nil {
		counts := map[string]int{"LOCAL": 0, "SYNC": 0}
		sc := ipvsproc.NewConnScanner(rc)
		for sc.Scan() {
			counts[sc.Conn().Origin.String()]++
		}
		rc.Close()
		if sc.Err() == nil {
			st.Connections = counts
		}
		if backup != nil && counts["SYNC"] == 0 {
			problem("the backup daemon has learned no connections: is a master running with the same syncid, group and port on that segment (TTL, firewall: UDP %d)?", backup.Port)
		}
	}
	if vss, err := b.Table(); err == nil {
		for _, vs := range vss {
			for _, d := range vs.Destinations {
				if d.Family != ipvs.AFUnspec && d.Family != vs.Service.Family {
					st.MixedFamilyDests++
				}
			}
		}
		if st.MixedFamilyDests > 0 {
			problem("%d real servers have another address family than their service (mixed-AF tunnels): the kernel refuses to start a sync daemon while they exist (EINVAL) and to add them while one runs", st.MixedFamilyDests)
		}
	}
	if err := o.Output.Print(o.IO.Out, &st, func(w io.Writer) error { return writeStatus(w, &st) }); err != nil {
		return err
	}
	if len(st.Problems) > 0 {
		return &cmdutil.ExitError{Code: 1} // the problems are printed
	}
	return nil
}

var _ = printers.Register[Status]("SyncStatus")

func writeStatus(w io.Writer, st *Status) error {
	if len(st.Daemons) > 0 {
		t := cmdutil.NewTable(w, "ROLE", "INTERFACE", "SYNCID", "MAXLEN", "GROUP", "PORT", "TTL", "LINK")
		for _, d := range st.Daemons {
			link := "?"
			if d.InterfaceUp != nil {
				link = map[bool]string{true: "up", false: "down/missing"}[*d.InterfaceUp]
			}
			t.Row(d.State, d.Interface, strconv.Itoa(int(d.SyncID)), strconv.Itoa(int(d.SyncMaxLen)), d.Group,
				strconv.Itoa(int(d.Port)), strconv.Itoa(int(d.TTL)), link)
		}
		if err := t.Render(); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(w, "No sync daemon is running.")
	}
	if st.SysctlError != "" {
		fmt.Fprintf(w, "\nSysctls: not available: %s\n", st.SysctlError)
	} else if len(st.Sysctls) > 0 {
		fmt.Fprintln(w, "\nSysctls:")
		for _, k := range sortedKeys(st.Sysctls) {
			fmt.Fprintf(w, "  %s = %s\n", k, st.Sysctls[k])
		}
	}
	if st.Connections != nil {
		fmt.Fprintf(w, "\nConnections in /proc/net/ip_vs_conn_sync: %d local, %d learned from a master\n", st.Connections["LOCAL"], st.Connections["SYNC"])
	}
	if len(st.Problems) > 0 {
		fmt.Fprintln(w, "\nProblems:")
		for _, p := range st.Problems {
			fmt.Fprintf(w, "  - %s\n", p)
		}
	}
	if len(st.Notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, p := range st.Notes {
			fmt.Fprintf(w, "  - %s\n", p)
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
