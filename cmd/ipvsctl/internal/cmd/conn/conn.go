// Package conn implements ipvsctl conn list and conn summary over
// /proc/net/ip_vs_conn (the kernel has no netlink dump of connections).
package conn

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/printers"
	"github.com/ipvs-tools/ipvs/ipvsproc"
	"github.com/spf13/cobra"
)

// Filter selects connections.
type Filter struct {
	VIP, RS, Client []Endpoint
	States          map[string]bool
	Protos          map[ipvsproc.Protocol]bool
	PE              string
	// Templates: 0 both, 1 only templates, -1 no templates.
	Templates int
}

// Endpoint matches an address (or prefix) and optionally a port.
type Endpoint struct {
	Prefix netip.Prefix
	Port   int // -1: any
}

// ParseEndpoint reads ADDR, CIDR, ADDR:PORT or [V6ADDR]:PORT.
func ParseEndpoint(s string) (Endpoint, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		a := ap.Addr().Unmap()
		return Endpoint{netip.PrefixFrom(a, a.BitLen()), int(ap.Port())}, nil
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		return Endpoint{p.Masked(), -1}, nil
	}
	t := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if a, err := netip.ParseAddr(t); err == nil {
		a = a.Unmap()
		return Endpoint{netip.PrefixFrom(a, a.BitLen()), -1}, nil
	}
	return Endpoint{}, fmt.Errorf("%q: want ADDR, CIDR, ADDR:PORT or [V6ADDR]:PORT", s)
}

// Match reports whether ap is selected.
func (e Endpoint) Match(ap netip.AddrPort) bool {
	return e.Prefix.Contains(ap.Addr().Unmap()) && (e.Port < 0 || e.Port == int(ap.Port()))
}

func matchAny(es []Endpoint, ap netip.AddrPort) bool {
	if len(es) == 0 {
		return true
	}
	for _, e := range es {
		if e.Match(ap) {
			return true
		}
	}
	return false
}

// Match reports whether c passes the filter.
func (f *Filter) Match(c *ipvsproc.Conn) bool {
	if len(f.Protos) > 0 && !f.Protos[c.Protocol] {
		return false
	}
	if len(f.States) > 0 && !f.States[c.State] {
		return false
	}
	if f.PE != "" && c.PEName != f.PE {
		return false
	}
	if f.Templates > 0 && !c.IsTemplate() || f.Templates < 0 && c.IsTemplate() {
		return false
	}
	return matchAny(f.VIP, c.Virtual) && matchAny(f.RS, c.Dest) && matchAny(f.Client, c.Client)
}

// filterFlags are the command-line form of a Filter.
type filterFlags struct {
	vip, rs, client, states, protos []string
	pe                              string
	templates, noTemplates          bool
	sync                            bool
}

func (ff *filterFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringSliceVar(&ff.vip, "vip", nil, "virtual `ADDR[:PORT]|CIDR` (repeatable)")
	fs.StringSliceVar(&ff.rs, "rs", nil, "real server `ADDR[:PORT]|CIDR` (repeatable)")
	fs.StringSliceVar(&ff.client, "client", nil, "client `ADDR[:PORT]|CIDR` (repeatable)")
	fs.StringSliceVar(&ff.states, "state", nil, "`STATES`, e.g. ESTABLISHED,TIME_WAIT (UDP, NONE, ASSURED, ...)")
	fs.StringSliceVar(&ff.protos, "proto", nil, "`PROTOCOLS`: tcp, udp, sctp, ip (fwmark templates), icmp, icmpv6")
	fs.StringVar(&ff.pe, "pe", "", "persistence engine `NAME` (sip)")
	fs.BoolVar(&ff.templates, "templates", false, "only persistence templates")
	fs.BoolVar(&ff.noTemplates, "no-templates", false, "no persistence templates")
	fs.BoolVar(&ff.sync, "sync", false, "read /proc/net/ip_vs_conn_sync (adds each entry's origin: LOCAL or SYNC)")
	cmd.MarkFlagsMutuallyExclusive("templates", "no-templates")
}

func (ff *filterFlags) build() (*Filter, error) {
	f := &Filter{PE: ff.pe}
	for _, l := range []struct {
		in  []string
		out *[]Endpoint
		opt string
	}{{ff.vip, &f.VIP, "--vip"}, {ff.rs, &f.RS, "--rs"}, {ff.client, &f.Client, "--client"}} {
		for _, s := range l.in {
			e, err := ParseEndpoint(s)
			if err != nil {
				return nil, cmdutil.FlagErrorf("%s %v", l.opt, err)
			}
			*l.out = append(*l.out, e)
		}
	}
	if len(ff.states) > 0 {
		f.States = map[string]bool{}
		known := ipvsproc.States()
		for _, s := range ff.states {
			u := strings.ToUpper(s)
			if !slices.Contains(known, u) {
				return nil, cmdutil.FlagErrorf("--state %q: no connection is ever in that state; the states are %s", s, strings.Join(known, ", "))
			}
			f.States[u] = true
		}
	}
	if len(ff.protos) > 0 {
		f.Protos = map[ipvsproc.Protocol]bool{}
		for _, p := range ff.protos {
			v, ok := map[string]ipvsproc.Protocol{"tcp": ipvsproc.ProtoTCP, "udp": ipvsproc.ProtoUDP, "sctp": ipvsproc.ProtoSCTP,
				"ip": ipvsproc.ProtoIP, "fwmark": ipvsproc.ProtoIP, "icmp": ipvsproc.ProtoICMP, "icmpv6": ipvsproc.ProtoICMPv6}[strings.ToLower(p)]
			if !ok {
				return nil, cmdutil.FlagErrorf("--proto %q: want tcp, udp, sctp, ip, icmp or icmpv6", p)
			}
			f.Protos[v] = true
		}
	}
	switch {
	case ff.templates:
		f.Templates = 1
	case ff.noTemplates:
		f.Templates = -1
	}
	return f, nil
}

func (ff *filterFlags) file() string {
	if ff.sync {
		return ipvsproc.ConnSyncFile
	}
	return ipvsproc.ConnFile
}

// scan calls fn for every connection of file that passes the filter.
func scan(open func(string) (factory.ReadCloser, error), file string, flt *Filter, fn func(*ipvsproc.Conn) error) error {
	rc, err := open(file)
	if err != nil {
		return &cmdutil.OpError{Op: "read connections", Object: "/proc/net/" + file, Err: err,
			Hint: "the connection table is in /proc/net/ip_vs_conn of the namespace (is the ip_vs module loaded? --netns?)"}
	}
	defer rc.Close()
	sc := ipvsproc.NewConnScanner(rc)
	sc.SetName("/proc/net/" + file)
	for sc.Scan() {
		c := sc.Conn()
		if !flt.Match(c) {
			continue
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return sc.Err()
}

// Options of conn list and conn summary.
type Options struct {
	factory.Common
	ProcFile func(string) (factory.ReadCloser, error)
	Output   printers.Format
	Filter   *Filter
	File     string
}

// newCmd completes cmd, conn list or conn summary: the filter flags,
// -o with formats, and a RunE that builds the filter and runs run (or
// runF).
func newCmd(f *factory.Factory, cmd *cobra.Command, runF, run func(*Options) error, formats ...printers.Format) *cobra.Command {
	opts := &Options{Common: f.Common(), ProcFile: f.ProcFile}
	var ff filterFlags
	cmd.Args = cobra.NoArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		var err error
		if opts.Filter, err = ff.build(); err != nil {
			return err
		}
		opts.File = ff.file()
		return cmdutil.Run(opts, runF, run)
	}
	printers.AddFlags(cmd, &opts.Output, formats...)
	ff.register(cmd)
	return cmd
}

// NewCmdList returns conn list.
func NewCmdList(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	return newCmd(f, &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List connections, filtered; -o json streams NDJSON",
		Long: `List the IPVS connection table (/proc/net/ip_vs_conn of the namespace),
streaming: filters apply while reading and memory stays constant however
many millions of entries there are. Table output is one line per
connection; -o json writes NDJSON, one JSON object per line. Addresses
and ports are numeric.`,
		Example: `  ipvsctl conn list --vip 10.0.0.1:80 --state ESTABLISHED
  ipvsctl conn list --rs 192.168.0.0/24 -o json | jq -r .client
  ipvsctl conn list --sync --templates`,
	}, runF, RunList, printers.Table, printers.JSON)
}

// ConnJSON is the NDJSON form of a connection.
type ConnJSON struct {
	printers.TypeMeta `json:",inline"`
	Protocol          string `json:"protocol"`
	Client            string `json:"client"`
	Virtual           string `json:"virtual"`
	Destination       string `json:"destination"`
	State             string `json:"state"`
	Expires           uint64 `json:"expires"`
	Template          bool   `json:"template"`
	FWMark            uint32 `json:"fwmark,omitempty"`
	PE                string `json:"pe,omitempty"`
	PEData            string `json:"peData,omitempty"`
	Origin            string `json:"origin,omitempty"`
}

// RunList lists.
func RunList(o *Options) error {
	w := bufio.NewWriterSize(o.IO.Out, 64<<10)
	var write func(*ipvsproc.Conn) error
	if o.Output == printers.JSON {
		lines := printers.NewLines(w)
		write = func(c *ipvsproc.Conn) error {
			j := ConnJSON{Protocol: c.Protocol.String(), Client: c.Client.String(), Virtual: c.Virtual.String(),
				Destination: c.Dest.String(), State: c.State, Expires: c.Expires, Template: c.IsTemplate(),
				PE: c.PEName, PEData: c.PEData, Origin: c.Origin.String()}
			if m, ok := c.FWMark(); ok {
				j.FWMark = m
			}
			return lines.Write(&j)
		}
	} else {
		origin := o.File == ipvsproc.ConnSyncFile
		hdr := fmt.Sprintf("%-6s %-7s %-11s %-22s %-22s %-22s", "PROTO", "EXPIRES", "STATE", "CLIENT", "VIRTUAL", "DESTINATION")
		if origin {
			hdr += " ORIGIN"
		} else {
			hdr += " PE"
		}
		fmt.Fprintln(w, strings.TrimRight(hdr, " "))
		var line []byte
		write = func(c *ipvsproc.Conn) error {
			line = line[:0]
			line = fmt.Appendf(line, "%-6s %-7s %-11s %-22s %-22s %-22s", c.Protocol, expires(c.Expires), c.State,
				c.Client, virtual(c), c.Dest)
			switch {
			case origin:
				line = append(line, ' ')
				line = append(line, c.Origin.String()...)
			case c.PEName != "":
				line = fmt.Appendf(line, " %s %s", c.PEName, c.PEData)
			}
			for len(line) > 0 && line[len(line)-1] == ' ' {
				line = line[:len(line)-1]
			}
			line = append(line, '\n')
			_, err := w.Write(line)
			return err
		}
	}
	err := scan(o.ProcFile, o.File, o.Filter, write)
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}

// virtual shows fwmark templates as fwmark:N.
func virtual(c *ipvsproc.Conn) string {
	if m, ok := c.FWMark(); ok {
		return "fwmark:" + strconv.FormatUint(uint64(m), 10)
	}
	return c.Virtual.String()
}

// expires formats seconds as ipvsadm does (mm:ss).
func expires(s uint64) string { return fmt.Sprintf("%02d:%02d", s/60, s%60) }

// NewCmdSummary returns conn summary.
func NewCmdSummary(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	return newCmd(f, &cobra.Command{
		Use:   "summary",
		Short: "Count connections per real server and state",
		Long: `Count the connections (with the same filters as conn list) per virtual
service and real server, by state, and in total, without printing them:
constant memory in the number of connections. Persistence templates are
counted in their own column.`,
		Example: `  ipvsctl conn summary
  ipvsctl conn summary --vip 10.0.0.1 -o json`,
	}, runF, RunSummary, printers.Table, printers.JSON, printers.YAML)
}

// Summary is the JSON/YAML form of conn summary.
type Summary struct {
	printers.TypeMeta `json:",inline" yaml:",inline"`
	Total             int            `json:"total" yaml:"total"`
	Templates         int            `json:"templates" yaml:"templates"`
	ByState           map[string]int `json:"byState" yaml:"byState"`
	// ConnTableSize is the kernel's connection hash table size (buckets),
	// when it could be read.
	ConnTableSize uint32        `json:"connTableSize,omitempty" yaml:"connTableSize,omitempty"`
	Destinations  []DestSummary `json:"destinations" yaml:"destinations"`
}

// DestSummary counts the connections of one real server of one service.
type DestSummary struct {
	Virtual     string         `json:"virtual" yaml:"virtual"`
	Protocol    string         `json:"protocol" yaml:"protocol"`
	Destination string         `json:"destination" yaml:"destination"`
	Total       int            `json:"total" yaml:"total"`
	Templates   int            `json:"templates" yaml:"templates"`
	ByState     map[string]int `json:"byState" yaml:"byState"`
}

// RunSummary counts.
func RunSummary(o *Options) error {
	type key struct {
		proto   ipvsproc.Protocol
		virtual string
		dest    netip.AddrPort
	}
	sum := Summary{ByState: map[string]int{}}
	dests := map[key]*DestSummary{}
	err := scan(o.ProcFile, o.File, o.Filter, func(c *ipvsproc.Conn) error {
		k := key{c.Protocol, virtual(c), c.Dest}
		d := dests[k]
		if d == nil {
			d = &DestSummary{Virtual: k.virtual, Protocol: c.Protocol.String(), Destination: c.Dest.String(), ByState: map[string]int{}}
			dests[k] = d
		}
		if c.IsTemplate() {
			d.Templates++
			sum.Templates++
			return nil
		}
		d.Total++
		d.ByState[c.State]++
		sum.Total++
		sum.ByState[c.State]++
		return nil
	})
	if err != nil {
		return err
	}
	if o.IPVS != nil {
		if b, err := o.IPVS(); err == nil {
			if info, err := b.Info(); err == nil {
				sum.ConnTableSize = info.ConnTableSize
			}
		}
	}
	sum.Destinations = make([]DestSummary, 0, len(dests))
	for _, d := range dests {
		sum.Destinations = append(sum.Destinations, *d)
	}
	slices.SortFunc(sum.Destinations, func(a, b DestSummary) int {
		return cmp.Or(cmp.Compare(b.Total, a.Total), cmp.Compare(a.Virtual, b.Virtual), cmp.Compare(a.Destination, b.Destination), cmp.Compare(a.Protocol, b.Protocol))
	})
	return o.Output.Print(o.IO.Out, &sum, func(w io.Writer) error { return writeSummaryTable(w, &sum) })
}

var (
	_ = printers.Register[ConnJSON]("Connection")
	_ = printers.Register[Summary]("ConnSummary")
)

func writeSummaryTable(w io.Writer, sum *Summary) error {
	// Columns: the states seen, most frequent first.
	states := slices.Collect(maps.Keys(sum.ByState))
	slices.SortFunc(states, func(a, b string) int { return cmp.Or(cmp.Compare(sum.ByState[b], sum.ByState[a]), cmp.Compare(a, b)) })
	hdr := append([]string{"PROTO", "VIRTUAL", "DESTINATION", "TOTAL"}, states...)
	hdr = append(hdr, "TEMPLATES")
	t := cmdutil.NewTable(w, hdr...)
	for _, d := range sum.Destinations {
		row := []string{d.Protocol, d.Virtual, d.Destination, strconv.Itoa(d.Total)}
		for _, s := range states {
			row = append(row, strconv.Itoa(d.ByState[s]))
		}
		t.Row(append(row, strconv.Itoa(d.Templates))...)
	}
	row := []string{"", "all", "", strconv.Itoa(sum.Total)}
	for _, s := range states {
		row = append(row, strconv.Itoa(sum.ByState[s]))
	}
	t.Row(append(row, strconv.Itoa(sum.Templates))...)
	if err := t.Render(); err != nil {
		return err
	}
	if sum.ConnTableSize > 0 {
		all := sum.Total + sum.Templates
		fmt.Fprintf(w, "\n%d entries in a connection table of %d buckets (%.1f per bucket)", all, sum.ConnTableSize, float64(all)/float64(sum.ConnTableSize))
		if all > 8*int(sum.ConnTableSize) {
			fmt.Fprint(w, ": the table is small for this load; raise the ip_vs module parameter conn_tab_bits")
		}
		fmt.Fprintln(w)
	}
	return nil
}
