package sysctl

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/printers"
	"github.com/ipvs-tools/ipvs/ipvssysctl"
	"github.com/spf13/cobra"
)

// Presets of the DoS-defense group.
var presets = map[string]struct {
	d    func(cur ipvssysctl.Defense) ipvssysctl.Defense
	desc string
}{
	"off": {func(c ipvssysctl.Defense) ipvssysctl.Defense {
		c.DropEntry, c.DropPacket, c.SecureTCP = ipvssysctl.DefenseOff, ipvssysctl.DefenseOff, ipvssysctl.DefenseOff
		return c
	}, "no defence (the kernel default)"},
	"auto": {func(c ipvssysctl.Defense) ipvssysctl.Defense {
		c.DropEntry, c.DropPacket, c.SecureTCP = ipvssysctl.DefenseAutoIdle, ipvssysctl.DefenseAutoIdle, ipvssysctl.DefenseAutoIdle
		return c
	}, "all three defences switch on by themselves while memory is low (free memory below amemthresh) and off when it recovers: the usual production setting"},
	"always": {func(c ipvssysctl.Defense) ipvssysctl.Defense {
		c.DropEntry, c.DropPacket, c.SecureTCP = ipvssysctl.DefenseAlways, ipvssysctl.DefenseAlways, ipvssysctl.DefenseAlways
		return c
	}, "all three defences on now, whatever the memory: for the duration of an attack (drops 1 of am_droprate new connections)"},
}

// DosOptions of dos, dos set and dos preset.
type DosOptions struct {
	factory.Common
	Output printers.Format

	// Set holds the values to write (dos set), Preset the preset name.
	Set    map[string]string
	Preset string
}

// NewCmdDos returns dos.
func NewCmdDos(f *factory.Factory, runF func(*DosOptions) error) *cobra.Command {
	cmd := newDosCmd(f, runF, &cobra.Command{
		Use:   "dos",
		Short: "Show the DoS-defense sysctls with explanations; set them or apply a preset",
		Long: `IPVS can defend itself against connection floods that exhaust memory:

  drop_entry   randomly drop connection entries (half-open, young idle)
  drop_packet  drop a share of the packets that would open new connections
  secure_tcp   use a stricter TCP state table that resists SYN floods

Each is 0 (never), 1/2 (automatic: the kernel flips it to 2 while free
memory is below amemthresh pages and back to 1 when it recovers) or 3
(always). am_droprate is the drop rate of drop_packet mode 3.

Presets: off (kernel default), auto (production), always (under attack).`,
		Example: `  ipvsctl dos
  ipvsctl dos preset auto
  ipvsctl dos set --drop-packet always --am-droprate 20`,
		Args: cobra.NoArgs,
	}, nil)
	cmd.AddCommand(newCmdDosSet(f, runF), newCmdDosPreset(f, runF))
	return cmd
}

// newDosCmd completes cmd, dos or one of its subcommands: its -o, and a
// RunE that fills in the options with prepare (if not nil) and runs
// RunDos (or runF).
func newDosCmd(f *factory.Factory, runF func(*DosOptions) error, cmd *cobra.Command,
	prepare func(o *DosOptions, c *cobra.Command, args []string) error) *cobra.Command {
	opts := &DosOptions{Common: f.Common()}
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if prepare != nil {
			if err := prepare(opts, c, args); err != nil {
				return err
			}
		}
		return cmdutil.Run(opts, runF, RunDos)
	}
	printers.AddFlags(cmd, &opts.Output, printers.Table, printers.JSON, printers.YAML)
	return cmd
}

func newCmdDosSet(f *factory.Factory, runF func(*DosOptions) error) *cobra.Command {
	var de, dp, st string
	var amt, adr int64
	cmd := newDosCmd(f, runF, &cobra.Command{
		Use:   "set",
		Short: "Set DoS-defense sysctls (modes: off, auto, always or 0..3)",
		Args:  cobra.NoArgs,
	}, func(opts *DosOptions, c *cobra.Command, args []string) error {
		opts.Set = map[string]string{}
		for _, m := range []struct{ flag, name, v string }{{"drop-entry", "drop_entry", de}, {"drop-packet", "drop_packet", dp}, {"secure-tcp", "secure_tcp", st}} {
			if !c.Flags().Changed(m.flag) {
				continue
			}
			mode, err := parseMode(m.v)
			if err != nil {
				return cmdutil.FlagErrorf("--%s: %v", m.flag, err)
			}
			opts.Set[m.name] = strconv.Itoa(int(mode))
		}
		if c.Flags().Changed("amemthresh") {
			opts.Set["amemthresh"] = strconv.FormatInt(amt, 10)
		}
		if c.Flags().Changed("am-droprate") {
			opts.Set["am_droprate"] = strconv.FormatInt(adr, 10)
		}
		if len(opts.Set) == 0 {
			return cmdutil.FlagErrorf("nothing to set: give --drop-entry, --drop-packet, --secure-tcp, --amemthresh or --am-droprate")
		}
		return nil
	})
	fs := cmd.Flags()
	fs.StringVar(&de, "drop-entry", "", "`MODE` of drop_entry: off, auto, always (or 0..3)")
	fs.StringVar(&dp, "drop-packet", "", "`MODE` of drop_packet")
	fs.StringVar(&st, "secure-tcp", "", "`MODE` of secure_tcp")
	fs.Int64Var(&amt, "amemthresh", 0, "low-memory threshold in `PAGES`")
	fs.Int64Var(&adr, "am-droprate", 0, "drop 1 of `N` new connections in drop_packet mode 3")
	return cmd
}

func newCmdDosPreset(f *factory.Factory, runF func(*DosOptions) error) *cobra.Command {
	return newDosCmd(f, runF, &cobra.Command{
		Use:       "preset off|auto|always",
		Short:     "Set the three defences together",
		Long:      "off: " + presets["off"].desc + ".\nauto: " + presets["auto"].desc + ".\nalways: " + presets["always"].desc + ".",
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"off", "auto", "always"},
	}, func(opts *DosOptions, c *cobra.Command, args []string) error {
		if _, ok := presets[args[0]]; !ok {
			return cmdutil.FlagErrorf("unknown preset %q (want off, auto or always)", args[0])
		}
		opts.Preset = args[0]
		return nil
	})
}

func parseMode(s string) (ipvssysctl.DefenseMode, error) {
	switch strings.ToLower(s) {
	case "off", "never", "0":
		return ipvssysctl.DefenseOff, nil
	case "auto", "1":
		return ipvssysctl.DefenseAutoIdle, nil
	case "2":
		return ipvssysctl.DefenseAutoActive, nil
	case "always", "on", "3":
		return ipvssysctl.DefenseAlways, nil
	}
	return 0, fmt.Errorf("unknown mode %q (want off, auto, always or 0..3)", s)
}

// DosStatus is the JSON/YAML form of dos.
type DosStatus struct {
	printers.TypeMeta `json:",inline" yaml:",inline"`
	AMemThresh        int64  `json:"amemthresh" yaml:"amemthresh"`
	AMDropRate        int64  `json:"am_droprate" yaml:"am_droprate"`
	DropEntry         Mode   `json:"drop_entry" yaml:"drop_entry"`
	DropPacket        Mode   `json:"drop_packet" yaml:"drop_packet"`
	SecureTCP         Mode   `json:"secure_tcp" yaml:"secure_tcp"`
	Preset            string `json:"preset,omitempty" yaml:"preset,omitempty"`
}

// Mode is a defence's value with its meaning.
type Mode struct {
	Value   int    `json:"value" yaml:"value"`
	Setting string `json:"setting" yaml:"setting"` // off, auto, always
	Active  bool   `json:"active" yaml:"active"`
}

func mode(m ipvssysctl.DefenseMode) Mode {
	s := "off"
	switch {
	case m.Auto():
		s = "auto"
	case m == ipvssysctl.DefenseAlways:
		s = "always"
	}
	return Mode{Value: int(m), Setting: s, Active: m.Active()}
}

// RunDos shows the group, after setting values or a preset if asked.
func RunDos(o *DosOptions) error {
	s, err := o.Sysctls()
	if err != nil {
		return explain("read DoS defences", err)
	}
	d, err := s.Defense()
	if err != nil {
		return explain("read DoS defences", err)
	}
	switch {
	case o.Preset != "":
		if err := s.SetDefense(presets[o.Preset].d(d)); err != nil {
			return explain("apply DoS preset "+o.Preset, err)
		}
		if o.Output == printers.Table {
			fmt.Fprintf(o.IO.Out, "preset %s: %s\n\n", o.Preset, presets[o.Preset].desc)
		}
	case len(o.Set) > 0:
		for n, v := range o.Set {
			if err := ipvssysctl.Validate(n, v); err != nil {
				return explain("set DoS defence", err)
			}
		}
		for _, n := range ipvssysctl.DefenseNames {
			if v, ok := o.Set[n]; ok {
				if err := s.Set(n, v); err != nil {
					return explain("set DoS defence", err)
				}
			}
		}
	}
	if o.Preset != "" || len(o.Set) > 0 {
		if d, err = s.Defense(); err != nil {
			return explain("read DoS defences", err)
		}
	}
	st := DosStatus{AMemThresh: d.AMemThresh, AMDropRate: d.AMDropRate, DropEntry: mode(d.DropEntry), DropPacket: mode(d.DropPacket), SecureTCP: mode(d.SecureTCP)}
	for _, name := range []string{"off", "auto", "always"} {
		p := presets[name].d(d)
		if p.DropEntry.Auto() == d.DropEntry.Auto() && p.DropPacket.Auto() == d.DropPacket.Auto() && p.SecureTCP.Auto() == d.SecureTCP.Auto() &&
			(p.DropEntry == ipvssysctl.DefenseAlways) == (d.DropEntry == ipvssysctl.DefenseAlways) &&
			(p.DropPacket == ipvssysctl.DefenseAlways) == (d.DropPacket == ipvssysctl.DefenseAlways) &&
			(p.SecureTCP == ipvssysctl.DefenseAlways) == (d.SecureTCP == ipvssysctl.DefenseAlways) {
			st.Preset = name
		}
	}
	return o.Output.Print(o.IO.Out, &st, func(w io.Writer) error { return writeDos(w, &st) })
}

var _ = printers.Register[DosStatus]("DosStatus")

func writeDos(w io.Writer, st *DosStatus) error {
	t := cmdutil.NewTable(w, "SYSCTL", "VALUE", "SETTING", "NOW", "WHAT IT DOES")
	now := func(m Mode) string {
		if m.Active {
			return "active"
		}
		return "inactive"
	}
	desc := func(n string) string {
		info, _ := ipvssysctl.Lookup(n)
		d := info.Description
		if i := strings.Index(d, ". "); i > 0 {
			d = d[:i]
		}
		return strings.TrimSuffix(d, ".")
	}
	for _, r := range []struct {
		n string
		m Mode
	}{{"drop_entry", st.DropEntry}, {"drop_packet", st.DropPacket}, {"secure_tcp", st.SecureTCP}} {
		t.Row(r.n, strconv.Itoa(r.m.Value), r.m.Setting, now(r.m), desc(r.n))
	}
	t.Row("amemthresh", strconv.FormatInt(st.AMemThresh, 10), "pages", "", desc("amemthresh"))
	t.Row("am_droprate", strconv.FormatInt(st.AMDropRate, 10), "", "", desc("am_droprate"))
	if err := t.Render(); err != nil {
		return err
	}
	p := st.Preset
	if p == "" {
		p = "custom"
	}
	fmt.Fprintf(w, "\nPreset: %s. Modes: off (0), auto (1 idle / 2 active: on while free memory < amemthresh), always (3).\n", p)
	return nil
}
