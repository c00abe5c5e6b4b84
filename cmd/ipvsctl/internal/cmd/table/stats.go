package table

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/ipvsmetrics"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/printers"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/spf13/cobra"
)

// StatsOptions of stats.
type StatsOptions struct {
	factory.Common
	Names    *cmdutil.Names
	Output   printers.Format
	Textfile string
	// MetricNames is the naming of -o prometheus and --textfile.
	MetricNames ipvsmetrics.Names
	Scope       string
	Top         *TopOptions // --watch
}

// NewCmdStats returns stats.
func NewCmdStats(f *factory.Factory, runF func(*StatsOptions) error, topRunF func(*TopOptions) error) *cobra.Command {
	opts := &StatsOptions{Common: f.Common()}
	var watch bool
	var metricNames string
	top := newTopOptions(f)
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Show counters, or write a Prometheus textfile",
		Long: `Show the 64-bit counters of every service and real server (connections,
packets, bytes), as a table, JSON/YAML (ipvsctl/v1) or, with -o prometheus,
in the Prometheus text format for node_exporter's textfile collector,
including per-real-server packets and bytes. --textfile PATH writes the
Prometheus file atomically (temporary file and rename). --watch is
ipvsctl top.

--metric-names chooses the Prometheus names. ipvsctl (the default, what
stats has always written): ipvs_service_* and ipvs_destination_*, one
series per service and per real server, labelled service="tcp:10.0.0.1:80",
server="192.168.0.1:8080", forward="masq" and the parts of each.
node-exporter: node_exporter's own node_ipvs_* families and labels (totals
summed over the services, per-backend connections and weight), for
dashboards built on its ipvs collector, where node_exporter cannot see
the table itself (another network namespace); turn its ipvs collector off
(--no-collector.ipvs), or the two collide. The default stays ipvsctl so
that existing textfiles keep their names; ipvsctl agent serves
node-exporter names by default, as it always has.`,
		Example: `  ipvsctl stats --numeric
  ipvsctl stats -o prometheus --textfile /var/lib/node_exporter/ipvs.prom
  ipvsctl stats --netns lb --textfile /var/lib/node_exporter/ipvs.prom --metric-names node-exporter
  ipvsctl stats --watch --sort bps`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			n, err := ipvsmetrics.ParseNames(metricNames)
			if err != nil {
				return cmdutil.FlagErrorf("--metric-names %s: want ipvsctl or node-exporter", metricNames)
			}
			opts.MetricNames = n
			if watch {
				if c.Flags().Changed("metric-names") {
					return cmdutil.FlagErrorf("--metric-names names the metrics of -o prometheus and --textfile, not of --watch")
				}
				if err := printers.Check(opts.Output, "--watch", topFormats...); err != nil {
					return err
				}
				top.Output = opts.Output
				if err := top.finish(f); err != nil {
					return err
				}
				return cmdutil.Run(top, topRunF, RunTop)
			}
			if opts.Textfile != "" {
				if c.Flags().Changed("output") && opts.Output != printers.Prometheus {
					return cmdutil.FlagErrorf("--textfile writes the prometheus format")
				}
				opts.Output = printers.Prometheus
			}
			if c.Flags().Changed("metric-names") && opts.Output != printers.Prometheus {
				return cmdutil.FlagErrorf("--metric-names names the metrics of -o prometheus and --textfile, not of -o %s", opts.Output)
			}
			if _, err := cmdutil.ParseScope(opts.Scope); err != nil {
				return err
			}
			opts.Names = &cmdutil.Names{Numeric: f.Options.Numeric}
			return cmdutil.Run(opts, runF, RunStats)
		},
	}
	printers.AddFlags(cmd, &opts.Output, printers.Table, printers.JSON, printers.YAML, printers.Prometheus)
	cmd.Flags().StringVar(&opts.Textfile, "textfile", "", "write the Prometheus format to `PATH` atomically")
	cmd.Flags().StringVar(&metricNames, "metric-names", string(ipvsmetrics.IPVSCtl), "metric names and labels of `NAMING`: ipvsctl (ipvs_*) or node-exporter (node_exporter's node_ipvs_*)")
	_ = cmd.RegisterFlagCompletionFunc("metric-names", cobra.FixedCompletions([]string{string(ipvsmetrics.IPVSCtl), string(ipvsmetrics.NodeExporter)}, cobra.ShellCompDirectiveNoFileComp))
	cmd.Flags().StringVar(&opts.Scope, "scope", "", "only services in `SCOPE`")
	cmd.Flags().BoolVar(&watch, "watch", false, "live rates, as ipvsctl top")
	top.register(cmd, false)
	return cmd
}

// RunStats shows or writes the counters.
func RunStats(o *StatsOptions) error {
	b, err := o.IPVS()
	if err != nil {
		return err
	}
	vss, err := fetch(b, o.Scope)
	if err != nil {
		return err
	}
	if o.Output == printers.Prometheus {
		if o.Textfile != "" {
			if err := WriteFileAtomic(o.Textfile, func(w io.Writer) error { return WritePrometheus(w, o.MetricNames, vss) }); err != nil {
				return fmt.Errorf("write textfile %s: %w", o.Textfile, err)
			}
			return nil
		}
		return WritePrometheus(o.IO.Out, o.MetricNames, vss)
	}
	return PrintTable(o.IO.Out, o.IO.ColorScheme(), o.Output, o.Names, vss, ModeStats)
}

// TopOptions of top.
type TopOptions struct {
	factory.Common
	Names    *cmdutil.Names
	Output   printers.Format
	Interval time.Duration
	Sort     string
	Once     bool
	Count    int
	Scope    string
	Limit    int
	Now      func() time.Time
	Sleep    func(time.Duration)
}

func newTopOptions(f *factory.Factory) *TopOptions {
	return &TopOptions{Common: f.Common(), Now: f.Now, Sleep: f.Sleep}
}

func (o *TopOptions) register(cmd *cobra.Command, own bool) {
	fs := cmd.Flags()
	fs.DurationVarP(&o.Interval, "interval", "d", 2*time.Second, "sampling interval")
	fs.StringVar(&o.Sort, "sort", "cps", "sort by `KEY`: cps, pps, bps or conns (active connections)")
	if own {
		fs.BoolVar(&o.Once, "once", false, "print one sample (after one interval) and exit")
		fs.IntVarP(&o.Count, "iterations", "c", 0, "exit after `N` samples (0: run until interrupted); -n is --numeric, as everywhere")
		fs.StringVar(&o.Scope, "scope", "", "only services in `SCOPE`")
	}
	fs.IntVar(&o.Limit, "limit", 0, "show at most `N` services (0: all)")
	_ = cmd.RegisterFlagCompletionFunc("sort", cobra.FixedCompletions([]string{"cps", "pps", "bps", "conns"}, cobra.ShellCompDirectiveNoFileComp))
}

func (o *TopOptions) finish(f *factory.Factory) error {
	switch o.Sort {
	case "cps", "pps", "bps", "conns":
	default:
		return cmdutil.FlagErrorf("unknown --sort %q (want cps, pps, bps or conns)", o.Sort)
	}
	if o.Interval <= 0 {
		return cmdutil.FlagErrorf("--interval must be positive")
	}
	if o.Count < 0 {
		return cmdutil.FlagErrorf("--iterations %d: the number of samples must not be negative", o.Count)
	}
	if o.Once {
		o.Count = 1
	}
	if _, err := cmdutil.ParseScope(o.Scope); err != nil {
		return err
	}
	o.Names = &cmdutil.Names{Numeric: f.Options.Numeric}
	return nil
}

// NewCmdTop returns top.
func NewCmdTop(f *factory.Factory, runF func(*TopOptions) error) *cobra.Command {
	opts := newTopOptions(f)
	cmd := &cobra.Command{
		Use:   "top",
		Short: "Live connections, packets and bytes per second for services and real servers",
		Long: `Sample the 64-bit counters every --interval and show the rates computed
from their differences, independent of the kernel's rate estimates:
connections, incoming/outgoing
packets and bytes per second, per service and per real server, sorted by
--sort. On a terminal the screen refreshes; otherwise each sample is
printed in turn. --once or -c N (--iterations N) end after one or N
samples; -n is --numeric, as in every ipvsctl command. -o json prints one
JSON object per sample (NDJSON).

Note: on 6.1 kernels the counters are themselves summed by the rate
estimator every 2 seconds, so intervals shorter than that are lumpy, and
with run_estimation=0 the counters stop moving (top warns).`,
		Example: `  ipvsctl top --sort bps
  ipvsctl top --once -o json
  ipvsctl top -c 10 -d 1s -n`,
		Args: topArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := opts.finish(f); err != nil {
				return err
			}
			return cmdutil.Run(opts, runF, RunTop)
		},
	}
	printers.AddFlags(cmd, &opts.Output, topFormats...)
	opts.register(cmd, true)
	return cmd
}

// topArgs refuses arguments; "top -n 10", top(1)'s count of samples,
// is answered with the flag that counts them here.
func topArgs(c *cobra.Command, args []string) error {
	if len(args) == 1 && c.Flags().Changed("numeric") {
		if n, err := strconv.Atoi(args[0]); err == nil && n >= 0 {
			return cmdutil.FlagErrorf("-n is --numeric in ipvsctl; for %d samples, use -c %d (--iterations %d)", n, n, n)
		}
	}
	return cobra.NoArgs(c, args)
}

// topFormats are the formats of top (and stats --watch); JSON is NDJSON,
// one RateSample a line.
var topFormats = []printers.Format{printers.Table, printers.JSON}

// RateSample is the JSON form of one sample of top.
type RateSample struct {
	printers.TypeMeta `json:",inline" yaml:",inline"`
	// Time is when the sample was taken (UTC).
	Time time.Time `json:"time"`
	// Interval is the time since the previous sample, in seconds.
	Interval float64 `json:"intervalSeconds"`
	// Services are the rates, sorted by --sort.
	Services []ServiceRates `json:"services"`
}

var _ = printers.Register[RateSample]("RateSample")

// Rates are per-second rates of one service or real server.
type Rates struct {
	CPS    float64 `json:"cps"`
	InPPS  float64 `json:"inPps"`
	OutPPS float64 `json:"outPps"`
	InBPS  float64 `json:"inBps"`
	OutBPS float64 `json:"outBps"`
}

// ServiceRates are the rates of a service and its real servers.
type ServiceRates struct {
	Service      string      `json:"service"`
	Rates        Rates       `json:"rates"`
	Active       uint64      `json:"activeConns"`
	Inactive     uint64      `json:"inactiveConns"`
	Destinations []DestRates `json:"destinations"`
	key          ipvs.ServiceKey
}

// DestRates are the rates of a real server.
type DestRates struct {
	Server   string `json:"server"`
	Rates    Rates  `json:"rates"`
	Active   uint32 `json:"activeConns"`
	Inactive uint32 `json:"inactiveConns"`
	Weight   uint32 `json:"weight"`
	addr     ipvs.Destination
}

func delta(cur, prev uint64) uint64 {
	if cur < prev { // zeroed meanwhile
		return 0
	}
	return cur - prev
}

func rates(cur, prev ipvs.Stats, secs float64) Rates {
	return Rates{
		CPS:    float64(delta(cur.Conns, prev.Conns)) / secs,
		InPPS:  float64(delta(cur.InPkts, prev.InPkts)) / secs,
		OutPPS: float64(delta(cur.OutPkts, prev.OutPkts)) / secs,
		InBPS:  float64(delta(cur.InBytes, prev.InBytes)) / secs,
		OutBPS: float64(delta(cur.OutBytes, prev.OutBytes)) / secs,
	}
}

// ComputeRates returns the rates between two samples taken elapsed
// apart. Objects missing from prev (new ones) get zero rates.
func ComputeRates(prev, cur []ipvs.VirtualServer, elapsed time.Duration) []ServiceRates {
	secs := elapsed.Seconds()
	if secs <= 0 {
		secs = 1
	}
	type dkey struct {
		s ipvs.ServiceKey
		d ipvs.DestKey
	}
	ps := map[ipvs.ServiceKey]ipvs.Stats{}
	pd := map[dkey]ipvs.Stats{}
	for _, vs := range prev {
		ps[vs.Service.Key()] = vs.Service.Stats
		for _, d := range vs.Destinations {
			pd[dkey{vs.Service.Key(), d.Key()}] = d.Stats
		}
	}
	out := make([]ServiceRates, 0, len(cur))
	for _, vs := range cur {
		k := vs.Service.Key()
		sr := ServiceRates{Service: ipvsconfig.FormatServiceKey(k), key: k}
		if p, ok := ps[k]; ok {
			sr.Rates = rates(vs.Service.Stats, p, secs)
		}
		for _, d := range vs.Destinations {
			dr := DestRates{Server: d.Key().String(), Active: d.ActiveConns, Inactive: d.InactiveConns, Weight: d.Weight, addr: d}
			if p, ok := pd[dkey{k, d.Key()}]; ok {
				dr.Rates = rates(d.Stats, p, secs)
			}
			sr.Active += uint64(d.ActiveConns)
			sr.Inactive += uint64(d.InactiveConns)
			sr.Destinations = append(sr.Destinations, dr)
		}
		out = append(out, sr)
	}
	return out
}

// SortRates orders services, and the servers within each, by key,
// largest first.
func SortRates(rs []ServiceRates, key string) {
	metric := func(r Rates, active uint64) float64 {
		switch key {
		case "pps":
			return r.InPPS + r.OutPPS
		case "bps":
			return r.InBPS + r.OutBPS
		case "conns":
			return float64(active)
		}
		return r.CPS
	}
	slices.SortStableFunc(rs, func(a, b ServiceRates) int {
		return cmp.Or(cmp.Compare(metric(b.Rates, b.Active), metric(a.Rates, a.Active)), cmdutil.CompareServices(a.key, b.key))
	})
	for _, s := range rs {
		slices.SortStableFunc(s.Destinations, func(a, b DestRates) int {
			return cmp.Or(cmp.Compare(metric(b.Rates, uint64(b.Active)), metric(a.Rates, uint64(a.Active))), cmdutil.CompareDests(a.addr, b.addr))
		})
	}
}

// RunTop samples and prints.
func RunTop(o *TopOptions) error {
	b, err := o.IPVS()
	if err != nil {
		return err
	}
	if o.Sysctls != nil {
		if s, err := o.Sysctls(); err == nil {
			if v, err := s.Get("run_estimation"); err == nil && strings.TrimSpace(v) == "0" {
				fmt.Fprintln(o.IO.ErrOut, "ipvsctl: warning: run_estimation=0: on kernels where the rate estimator also sums the per-CPU counters (6.1 does), the counters stop moving and every rate shows 0; set it to 1 (ipvsctl sysctl set run_estimation=1)")
			}
		}
	}
	prev, err := fetch(b, o.Scope)
	if err != nil {
		return err
	}
	prevAt := o.Now()
	tty := o.IO.IsStdoutTTY() && o.Output == printers.Table
	lines := printers.NewLines(o.IO.Out)
	for n := 0; o.Count == 0 || n < o.Count; n++ {
		o.Sleep(o.Interval)
		cur, err := fetch(b, o.Scope)
		if err != nil {
			return err
		}
		at := o.Now()
		rs := ComputeRates(prev, cur, at.Sub(prevAt))
		SortRates(rs, o.Sort)
		if o.Limit > 0 && len(rs) > o.Limit {
			rs = rs[:o.Limit]
		}
		if o.Output == printers.JSON {
			if err := lines.Write(&RateSample{Time: at.UTC(), Interval: at.Sub(prevAt).Seconds(), Services: rs}); err != nil {
				return err
			}
		} else {
			if tty {
				fmt.Fprint(o.IO.Out, "\033[H\033[2J")
			} else if n > 0 {
				fmt.Fprintln(o.IO.Out)
			}
			fmt.Fprintf(o.IO.Out, "%s  %d services  interval %s  sorted by %s\n", at.Format("15:04:05"), len(cur), at.Sub(prevAt).Round(time.Millisecond), o.Sort)
			if err := renderRates(o.IO.Out, o.Names, rs); err != nil {
				return err
			}
		}
		prev, prevAt = cur, at
	}
	return nil
}

func renderRates(w io.Writer, names *cmdutil.Names, rs []ServiceRates) error {
	t := cmdutil.NewTable(w, "SERVICE", "CPS", "INPPS", "OUTPPS", "INBPS", "OUTBPS", "ACTIVE", "INACTIVE")
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	for _, s := range rs {
		t.Row(names.Service(s.key), f(s.Rates.CPS), f(s.Rates.InPPS), f(s.Rates.OutPPS), f(s.Rates.InBPS), f(s.Rates.OutBPS),
			strconv.FormatUint(s.Active, 10), strconv.FormatUint(s.Inactive, 10))
		for _, d := range s.Destinations {
			t.Row("  -> "+names.AddrPort(d.addr.Address, d.addr.Port, s.key.Protocol), f(d.Rates.CPS), f(d.Rates.InPPS), f(d.Rates.OutPPS),
				f(d.Rates.InBPS), f(d.Rates.OutBPS), strconv.Itoa(int(d.Active)), strconv.Itoa(int(d.Inactive)))
		}
	}
	return t.Render()
}
