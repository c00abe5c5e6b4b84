// Package sysctl implements ipvsctl sysctl list|get|set|describe and
// ipvsctl dos (the DoS-defense group).
package sysctl

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/printers"
	"github.com/ipvs-tools/ipvs/ipvssysctl"
	"github.com/spf13/cobra"
)

// explain wraps a sysctl error with a hint.
func explain(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *ipvssysctl.Error
	name := ""
	if errors.As(err, &se) {
		name = se.Name
	}
	e := &cmdutil.OpError{Op: op, Object: name, Err: err}
	switch {
	case errors.Is(err, ipvssysctl.ErrInvalid):
		if se != nil && se.Reason != "" {
			e.Err = errors.New(se.Reason)
		}
		if name != "" {
			e.Hint = "see ipvsctl sysctl describe " + name
		}
	case errors.Is(err, os.ErrNotExist) && name == "":
		e.Hint = "/proc/sys/net/ipv4/vs is missing: is the ip_vs module loaded (modprobe ip_vs)?"
	case errors.Is(err, os.ErrNotExist):
		// The library says whether the kernel lacks it (and since when
		// the known ones exist) or lacks IPVS sysctls altogether.
		if se != nil && se.Reason != "" {
			e.Err = errors.New(se.Reason)
		}
		e.Hint = "ipvsctl sysctl list shows what this kernel and namespace have; list --all every sysctl known"
	case errors.Is(err, os.ErrPermission):
		e.Hint = "read-only here: needs root, and some IPVS sysctls are read-only (or absent) in namespaces of unprivileged containers"
	}
	if se != nil && se.Reason == "" && se.Err != nil {
		e.Err = se.Err
	}
	return e
}

// ListOptions of sysctl list.
type ListOptions struct {
	factory.Common
	Output  printers.Format
	All     bool
	Changed bool
}

// Entry is the JSON/YAML form of a sysctl.
type Entry struct {
	Name        string `json:"name" yaml:"name"`
	Value       string `json:"value" yaml:"value"`
	Present     bool   `json:"present" yaml:"present"`
	Writable    bool   `json:"writable" yaml:"writable"`
	Default     string `json:"default,omitempty" yaml:"default,omitempty"`
	Unit        string `json:"unit,omitempty" yaml:"unit,omitempty"`
	Defense     bool   `json:"defense,omitempty" yaml:"defense,omitempty"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	Note        string `json:"note,omitempty" yaml:"note,omitempty"`
	Error       string `json:"error,omitempty" yaml:"error,omitempty"`
}

// List is the JSON/YAML form of sysctl list.
type List struct {
	printers.TypeMeta `json:",inline" yaml:",inline"`
	// Items are the sysctls, in the kernel's order, then the known absent
	// ones (--all).
	Items []Entry `json:"items" yaml:"items"`
}

// Values is the JSON/YAML form of sysctl get.
type Values struct {
	printers.TypeMeta `json:",inline" yaml:",inline"`
	// Values maps each name asked for to its value.
	Values map[string]string `json:"values" yaml:"values"`
}

var (
	_ = printers.Register[List]("SysctlList")
	_ = printers.Register[Values]("SysctlValues")
)

// NewCmdList returns sysctl list.
func NewCmdList(f *factory.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{Common: f.Common()}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the IPVS sysctls with their values, defaults and meaning",
		Example: `  ipvsctl sysctl list
  ipvsctl sysctl list --changed
  ipvsctl --netns lb1 sysctl list --all -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return cmdutil.Run(opts, runF, RunList)
		},
	}
	printers.AddFlags(cmd, &opts.Output, printers.Table, printers.JSON, printers.YAML)
	cmd.Flags().BoolVar(&opts.All, "all", false, "also list known sysctls this kernel or namespace does not have")
	cmd.Flags().BoolVar(&opts.Changed, "changed", false, "only sysctls whose value differs from the kernel default")
	return cmd
}

func norm(v string) string { return strings.Join(strings.Fields(v), " ") }

// Entries returns the sysctls present (and, with all, the known absent
// ones), documented.
func Entries(s backend.Sysctls, all bool) ([]Entry, error) {
	list, err := s.List()
	if err != nil {
		return nil, err
	}
	var out []Entry
	present := map[string]bool{}
	for _, sc := range list {
		present[sc.Name] = true
		e := Entry{Name: sc.Name, Value: norm(sc.Value), Present: true, Writable: sc.Writable}
		if sc.Err != nil {
			e.Error = sc.Err.Error()
		}
		if sc.Known {
			e.Default, e.Unit, e.Defense, e.Description, e.Note = norm(sc.Info.Default), sc.Info.Unit, sc.Info.Defense, sc.Info.Description, sc.Info.Note
		}
		out = append(out, e)
	}
	if all {
		for _, in := range ipvssysctl.Known() {
			if !present[in.Name] {
				out = append(out, Entry{Name: in.Name, Default: norm(in.Default), Unit: in.Unit, Defense: in.Defense,
					Description: in.Description, Note: in.Note})
			}
		}
	}
	return out, nil
}

// RunList lists.
func RunList(o *ListOptions) error {
	s, err := o.Sysctls()
	if err != nil {
		return explain("list sysctls", err)
	}
	entries, err := Entries(s, o.All)
	if err != nil {
		return explain("list sysctls", err)
	}
	if o.Changed {
		kept := entries[:0]
		for _, e := range entries {
			if e.Present && e.Default != "" && e.Value != e.Default {
				kept = append(kept, e)
			}
		}
		entries = kept
	}
	if entries == nil {
		entries = []Entry{}
	}
	return o.Output.Print(o.IO.Out, &List{Items: entries}, func(w io.Writer) error { return writeList(w, entries, o.Changed) })
}

func writeList(w io.Writer, entries []Entry, changed bool) error {
	if len(entries) == 0 && !changed {
		fmt.Fprintln(w, "No IPVS sysctls in this namespace (6.1 hides them in namespaces of unprivileged containers).")
		return nil
	}
	t := cmdutil.NewTable(w, "NAME", "VALUE", "DEFAULT", "ACCESS", "DESCRIPTION")
	for _, e := range entries {
		access := "rw"
		switch {
		case !e.Present:
			access = "missing"
		case e.Error != "":
			access = "unreadable"
		case !e.Writable:
			access = "ro"
		}
		desc := e.Description
		if i := strings.IndexAny(desc, ".;("); i > 0 {
			desc = desc[:i]
		}
		val := e.Value
		if e.Present && e.Default != "" && e.Value != e.Default {
			val += " *"
		}
		t.Row(e.Name, val, e.Default, access, desc)
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\n* differs from the kernel default; ipvsctl sysctl describe NAME explains one.")
	return nil
}

// GetOptions of sysctl get.
type GetOptions struct {
	factory.Common
	Output printers.Format
	Names  []string
}

// NewCmdGet returns sysctl get.
func NewCmdGet(f *factory.Factory, runF func(*GetOptions) error) *cobra.Command {
	opts := &GetOptions{Common: f.Common()}
	cmd := &cobra.Command{
		Use:   "get NAME...",
		Short: "Print sysctl values (one name: the value alone)",
		Example: `  ipvsctl sysctl get expire_nodest_conn
  ipvsctl sysctl get sync_threshold sync_version -o json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Names = args
			return cmdutil.Run(opts, runF, RunGet)
		},
	}
	printers.AddFlags(cmd, &opts.Output, printers.Table, printers.JSON, printers.YAML)
	return cmd
}

// RunGet prints values.
func RunGet(o *GetOptions) error {
	s, err := o.Sysctls()
	if err != nil {
		return explain("get sysctl", err)
	}
	vals := map[string]string{}
	for _, n := range o.Names {
		v, err := s.Get(n)
		if err != nil {
			return explain("get sysctl", err)
		}
		vals[n] = norm(v)
	}
	return o.Output.Print(o.IO.Out, &Values{Values: vals}, func(w io.Writer) error {
		if len(o.Names) == 1 {
			fmt.Fprintln(w, vals[o.Names[0]])
			return nil
		}
		for _, n := range o.Names {
			fmt.Fprintf(w, "%s = %s\n", n, vals[n])
		}
		return nil
	})
}

// SetOptions of sysctl set.
type SetOptions struct {
	factory.Common
	Names  []string
	Values []string
}

// NewCmdSet returns sysctl set.
func NewCmdSet(f *factory.Factory, runF func(*SetOptions) error) *cobra.Command {
	opts := &SetOptions{Common: f.Common()}
	return &cobra.Command{
		Use:   "set NAME=VALUE...",
		Short: "Set sysctls (all values are validated before any is written)",
		Example: `  ipvsctl sysctl set expire_nodest_conn=1 expire_quiescent_template=1
  ipvsctl sysctl set "sync_threshold=3 50"`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Names, opts.Values = nil, nil
			for _, a := range args {
				n, v, ok := strings.Cut(a, "=")
				if !ok || n == "" {
					return cmdutil.FlagErrorf("%q: want NAME=VALUE", a)
				}
				opts.Names = append(opts.Names, strings.TrimSpace(n))
				opts.Values = append(opts.Values, v)
			}
			return cmdutil.Run(opts, runF, RunSet)
		},
	}
}

// RunSet validates every value, then writes them, printing the value read
// back (the kernel may show an automatic defense mode as 1 or 2).
func RunSet(o *SetOptions) error {
	for i, n := range o.Names {
		if err := ipvssysctl.Validate(n, o.Values[i]); err != nil {
			return explain("set sysctl", err)
		}
	}
	s, err := o.Sysctls()
	if err != nil {
		return explain("set sysctl", err)
	}
	for i, n := range o.Names {
		old, err := s.Get(n)
		if err != nil {
			return explain("set sysctl", err)
		}
		if err := s.Set(n, o.Values[i]); err != nil {
			return explain("set sysctl", err)
		}
		now, _ := s.Get(n)
		fmt.Fprint(o.IO.Out, o.IO.Text(fmt.Sprintf("%s: %s → %s\n", n, norm(old), norm(now))))
	}
	return nil
}

// DescribeOptions of sysctl describe.
type DescribeOptions struct {
	factory.Common
	Names []string
}

// NewCmdDescribe returns sysctl describe.
func NewCmdDescribe(f *factory.Factory, runF func(*DescribeOptions) error) *cobra.Command {
	opts := &DescribeOptions{Common: f.Common()}
	return &cobra.Command{
		Use:     "describe NAME...",
		Aliases: []string{"explain"},
		Short:   "Explain sysctls: meaning, range, default, current value",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Names = args
			return cmdutil.Run(opts, runF, RunDescribe)
		},
	}
}

// RunDescribe explains.
func RunDescribe(o *DescribeOptions) error {
	s, serr := o.Sysctls()
	for i, n := range o.Names {
		if i > 0 {
			fmt.Fprintln(o.IO.Out)
		}
		info, ok := ipvssysctl.Lookup(n)
		fmt.Fprintf(o.IO.Out, "%s\n", n)
		if ok {
			fmt.Fprintf(o.IO.Out, "  %s\n", info.Description)
			fmt.Fprintf(o.IO.Out, "  kind: %s", info.Kind)
			if info.Kind != ipvssysctl.KindString && info.Kind != ipvssysctl.KindCPUList {
				fmt.Fprintf(o.IO.Out, ", range %d..%d", info.Min, info.Max)
			}
			if info.Unit != "" {
				fmt.Fprintf(o.IO.Out, " %s", info.Unit)
			}
			if info.Default != "" {
				fmt.Fprintf(o.IO.Out, ", default %s", norm(info.Default))
			}
			fmt.Fprintln(o.IO.Out)
			if info.Note != "" {
				fmt.Fprintf(o.IO.Out, "  note: %s\n", info.Note)
			}
		} else {
			fmt.Fprintln(o.IO.Out, "  (not known to this program; it can still be read and set as text)")
		}
		if serr == nil {
			if v, err := s.Get(n); err == nil {
				fmt.Fprintf(o.IO.Out, "  current value: %s\n", norm(v))
			} else if errors.Is(err, os.ErrNotExist) {
				fmt.Fprintln(o.IO.Out, "  not present in this kernel or namespace")
			}
		}
	}
	return nil
}
