package agent

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/agent"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/apply"
	fleetcmd "github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/fleet"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fleet"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/ipvsmetrics"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/sdnotify"
	"github.com/ipvs-tools/ipvs/healthcheck"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/ipvs-tools/ipvs/ipvslock"
	"github.com/ipvs-tools/ipvs/ipvsproc"
	"github.com/ipvs-tools/ipvs/netns"
	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Options of ipvsctl agent.
type Options struct {
	factory.Common
	NetNS string

	File          string
	Format        string
	Scope         string
	Prune         bool
	DriftInterval time.Duration
	Listen        string
	// MetricNames is the naming of the table on /metrics.
	MetricNames ipvsmetrics.Names
	Withdraw    bool
	MaxInFlight int
	BatchSize   int

	// Store, Name, Labels, ReportInterval and LeaseTTL: documents from
	// etcd instead of File.
	Store          fleetcmd.StoreFlags
	Name           string
	Labels         string
	ReportInterval time.Duration
	LeaseTTL       time.Duration
	Cache          string
	Version        string

	// Signals delivers SIGHUP, SIGINT and SIGTERM (tests send their own).
	Signals chan os.Signal
	// Totals reads the kernel's IPVS totals for /metrics (default
	// /proc/net/ip_vs_stats of the namespace).
	Totals func() (ipvs.Stats, error)
}

// NewCmdAgent returns agent, with status as its subcommand.
func NewCmdAgent(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Common: f.Common(), Version: f.Version}
	var metricNames string
	cmd := &cobra.Command{
		Use:   "agent (-f FILE | --etcd URLS --name NAME)",
		Short: "Keep the table equal to a document while real servers fail and recover",
		Long: `Run until stopped: apply the document, check its real servers (the
healthCheck fields, see docs/agent.md), and keep the table right.

A failed server is quiesced (weight 0) or removed as its service's onFailure
says, and comes back after rise successes; a sorry server replaces the pool
while the healthy weight is below the quorum. A health change sends only
the requests for the services that use the server. Every --drift-interval
the services in the document (and, with --prune, in --scope) are read and
anything others changed is put back and logged.

Signals: SIGHUP re-reads the document and applies only the difference (a
document with errors is refused, FILE:LINE, and the running one kept);
SIGTERM and SIGINT stop the agent and leave the table as it is
(--withdraw deletes the document's services instead). A restarted agent
keeps each server's weight until that server's first result.

With --etcd, the documents come from etcd instead (see ipvsctl fleet and
docs/fleet.md): the agent takes the document addressed to --name (by
name, by a selector of its --labels, or the default), applies each new
revision as a reload, and keeps a status key bound to its lease. If etcd
is lost, the table, the checks and their flips go on with the last
document; the agent reconnects and reports the outage. With --cache, an
agent that starts while etcd is out of reach runs the document it last
applied (checks included) until etcd answers.

With --listen, it serves /metrics (Prometheus), /healthz and /status
(JSON, kind AgentStatus; ipvsctl agent status prints it). /metrics has
the table under node_exporter's node_ipvs_* names and labels by default,
as it always has, so that the agent can stand in for node_exporter's ipvs
collector; --metric-names ipvsctl serves ipvsctl's names instead (those
of ipvsctl stats -o prometheus: ipvs_service_*, ipvs_destination_*,
labelled service="tcp:10.0.0.1:80", server="192.168.0.1:8080").

Under systemd (Type=notify) it reports READY, RELOADING, STOPPING and
WATCHDOG.
Logs are plain lines on standard error.`,
		Example: `  ipvsctl agent -f /etc/ipvs/lb.yaml --listen 127.0.0.1:9444
  ipvsctl agent -f lb.yaml --scope vip=10.0.0.0/24 --prune --drift-interval 30s
  systemctl reload ipvsctl-agent     # SIGHUP: apply the edited document
  ipvsctl agent --etcd http://10.0.0.5:2379 --name lb1 --labels site=par,role=edge`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			switch {
			case opts.File != "" && opts.Store.Endpoints != "":
				return cmdutil.FlagErrorf("-f and --etcd exclude each other: the documents come from a file or from etcd")
			case opts.File == "" && opts.Store.Endpoints == "":
				return cmdutil.FlagErrorf("give the document with -f FILE, or etcd with --etcd URLS")
			case opts.File == "-":
				return cmdutil.FlagErrorf("the agent re-reads its document on SIGHUP: give a file, not -")
			}
			if opts.Cache != "" && opts.Store.Endpoints == "" {
				return cmdutil.FlagErrorf("--cache keeps the document from etcd: it needs --etcd")
			}
			if opts.Store.Endpoints != "" {
				if opts.Name == "" {
					h, err := os.Hostname()
					if err != nil {
						return cmdutil.FlagErrorf("give the director's name with --name")
					}
					opts.Name, _, _ = strings.Cut(h, ".")
				}
				if err := fleet.CheckName(opts.Name); err != nil {
					return cmdutil.FlagErrorf("--name: %v", err)
				}
				if _, err := fleet.ParseLabels(opts.Labels); err != nil {
					return cmdutil.FlagErrorf("--labels: %v", err)
				}
				if opts.ReportInterval < 100*time.Millisecond {
					return cmdutil.FlagErrorf("--report-interval must be at least 100ms")
				}
				if opts.LeaseTTL < 2*opts.ReportInterval || opts.LeaseTTL < 5*time.Second {
					return cmdutil.FlagErrorf("--lease-ttl must be at least 5s and twice --report-interval")
				}
			}
			if opts.Scope != "" {
				if _, err := cmdutil.ParseScope(opts.Scope); err != nil {
					return err
				}
			}
			n, err := ipvsmetrics.ParseNames(metricNames)
			if err != nil {
				return cmdutil.FlagErrorf("--metric-names %s: want node-exporter or ipvsctl", metricNames)
			}
			opts.MetricNames = n
			if opts.MaxInFlight < 1 {
				return cmdutil.FlagErrorf("--max-in-flight must be at least 1")
			}
			if opts.BatchSize < 0 {
				return cmdutil.FlagErrorf("--batch-size must not be negative (0: the default, 2000)")
			}
			if opts.DriftInterval < 0 {
				return cmdutil.FlagErrorf("--drift-interval must not be negative (0 turns drift checks off)")
			}
			opts.NetNS = f.Options.NetNS
			return cmdutil.Run(opts, runF, Run)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&opts.File, "filename", "f", "", "the document `FILE` (JSON or YAML, ipvsctl/v1 with healthCheck fields)")
	fs.StringVar(&opts.Format, "format", "", "input `FORMAT`: json, yaml or rules (default: from the extension or content)")
	fs.StringVar(&opts.Scope, "scope", "", "touch only services in `SCOPE` (vip=CIDR,port=N,fwmark=A-B; see ipvsctl help scope)")
	fs.BoolVar(&opts.Prune, "prune", false, "delete in-scope services the document does not list (at start and each drift check)")
	fs.DurationVar(&opts.DriftInterval, "drift-interval", time.Minute, "time between two full reads that repair others' changes (0: never)")
	fs.StringVar(&opts.Listen, "listen", "", "serve /metrics, /healthz and /status on `ADDR` (host:port)")
	fs.StringVar(&metricNames, "metric-names", string(ipvsmetrics.NodeExporter), "metric names and labels of the table on /metrics, `NAMING`: node-exporter (node_ipvs_*) or ipvsctl (ipvs_*)")
	_ = cmd.RegisterFlagCompletionFunc("metric-names", cobra.FixedCompletions([]string{string(ipvsmetrics.NodeExporter), string(ipvsmetrics.IPVSCtl)}, cobra.ShellCompDirectiveNoFileComp))
	fs.BoolVar(&opts.Withdraw, "withdraw", false, "on SIGTERM or SIGINT, delete the document's services instead of leaving them")
	fs.IntVar(&opts.MaxInFlight, "max-in-flight", 64, "at most `N` probes at once")
	fs.IntVar(&opts.BatchSize, "batch-size", 0, "requests per batch (default 2000)")
	opts.Store.Add(fs)
	fs.StringVar(&opts.Name, "name", "", "with --etcd: the director's `NAME` in the fleet (default: the short host name)")
	fs.StringVar(&opts.Labels, "labels", "", "with --etcd: the director's labels `K=V[,K=V]`, matched by documents' selectors")
	fs.DurationVar(&opts.ReportInterval, "report-interval", 5*time.Second, "with --etcd: time between two status reports")
	fs.DurationVar(&opts.LeaseTTL, "lease-ttl", 30*time.Second, "with --etcd: how long the status key outlives the last report")
	fs.StringVar(&opts.Cache, "cache", "", "with --etcd: keep the last document applied in `FILE`, and run it if the agent starts while etcd is out of reach")
	_ = cmd.MarkFlagFilename("filename", "json", "yaml", "yml")
	cmd.AddCommand(NewCmdStatus(f, nil))
	return cmd
}

// logger writes plain lines on w: journald adds the time.
type logger struct{ l *log.Logger }

func (g logger) Logf(format string, args ...any) { g.l.Printf(format, args...) }

// Run runs the agent until a SIGTERM or SIGINT.
func Run(o *Options) error {
	lg := logger{log.New(o.IO.ErrOut, "", 0)}
	sc, _ := ipvsconfig.ParseScope(o.Scope)
	load := func(gen int64) (*agent.Document, error) {
		want, err := apply.LoadDesired(o.File, o.Format, nil, o.IO.ErrOut, sc, "nothing was applied")
		if err != nil {
			return nil, err
		}
		warnUnused(lg, o.File, want)
		return &agent.Document{Desired: want, Source: o.File, Generation: gen}, nil
	}
	var doc *agent.Document
	var store *clientv3.Client
	var layout fleet.Layout
	var err error
	if o.Store.Endpoints == "" {
		if doc, err = load(1); err != nil {
			return err
		}
	} else {
		if store, layout, err = o.Store.Connect(); err != nil {
			return err
		}
		defer store.Close()
	}
	b, err := o.IPVS()
	if err != nil {
		return err
	}
	sigs := o.Signals
	if sigs == nil {
		sigs = make(chan os.Signal, 4)
		signal.Notify(sigs, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
		defer signal.Stop(sigs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	totals := o.Totals
	if totals == nil {
		var popts []ipvsproc.Option
		if o.NetNS != "" {
			popts = append(popts, ipvsproc.WithNetNS(o.NetNS))
		}
		totals = func() (ipvs.Stats, error) { return ipvsproc.ReadStats(popts...) }
	}
	m := newMetrics(b, totals, o.MetricNames)
	env, sockets, err := probeEnv(o.NetNS)
	if err != nil {
		return err
	}
	if sockets != nil {
		defer sockets.Close()
	}
	mon := healthcheck.NewMonitor(healthcheck.MonitorOptions{MaxInFlight: o.MaxInFlight, Env: env, OnResult: m.observe})
	a := agent.New(agent.Options{IPVS: b, Prober: mon, Scope: sc, Prune: o.Prune, DriftInterval: o.DriftInterval,
		BatchSize: o.BatchSize, Logf: lg.Logf, Lock: agentLock(o.Common, lg.Logf)})
	m.agent, m.monitor = a, mon

	var ln net.Listener
	if o.Listen != "" {
		// Listen before anything starts: a busy port stops the agent
		// before it touches the table.
		if ln, err = net.Listen("tcp", o.Listen); err != nil {
			return fmt.Errorf("--listen %s: %w", o.Listen, err)
		}
	}
	sd := sdnotify.New()
	monDone := make(chan error, 1)
	go func() { monDone <- mon.Run(ctx) }()
	go func() {
		for t := range mon.Changes() {
			a.Transition(ctx, t)
		}
	}()
	// drv starts the agent's loop: at once with -f, at the first
	// document with --etcd.
	var drv *fleet.Driver
	name := o.File
	var memberDone chan error
	if store == nil {
		drv = fleet.NewDriver(ctx, a, func() { _ = sd.Notify("READY=1\nSTATUS=running " + o.File) })
		drv.Start(doc)
	} else {
		drv = fleet.NewDriver(ctx, a, nil)
		labels, _ := fleet.ParseLabels(o.Labels)
		name = fmt.Sprintf("%s as %s", strings.Join(store.Endpoints(), ","), o.Name)
		member := fleet.NewMember(fleet.MemberOptions{
			Client: store, Layout: layout, Name: o.Name, Labels: labels, Version: o.Version,
			ReportInterval: o.ReportInterval, LeaseTTL: o.LeaseTTL, CacheFile: o.Cache, Logf: lg.Logf,
			Validate: func(name string, data []byte) (*ipvsconfig.Desired, error) {
				want, err := apply.ParseDesired(name, data, "", sc)
				if err == nil {
					warnUnused(lg, name, want)
				}
				return want, err
			},
			Apply:        drv.Apply,
			ApplyDaemons: func(_ context.Context, want *ipvsconfig.Desired) error { return fleet.ApplyDaemons(b, want) },
			AgentStatus:  a.Status,
		})
		m.member, m.running = member, drv.Running
		memberDone = make(chan error, 1)
		go func() { memberDone <- member.Run(ctx) }()
		// Ready at once: a director whose etcd is down at boot still
		// starts (and keeps whatever table the kernel has).
		_ = sd.Notify("READY=1\nSTATUS=running " + name)
		lg.Logf("fleet member %s (labels %s) of etcd %s, prefix %s", o.Name, fleet.FormatLabels(labels),
			strings.Join(store.Endpoints(), ","), layout.Prefix)
	}
	if ln != nil {
		srv := &http.Server{Handler: m.handler(), ReadHeaderTimeout: 10 * time.Second,
			WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		lg.Logf("serving /metrics, /healthz and /status on %s", ln.Addr())
	}

	var watchdog <-chan time.Time
	if d := sdnotify.WatchdogInterval(); d > 0 {
		t := time.NewTicker(d)
		defer t.Stop()
		watchdog = t.C
	}
	gen := int64(1)
	for {
		select {
		case err := <-drv.Done():
			return err
		case <-watchdog:
			// Only a loop that answers gets the watchdog fed (before
			// its first document, the agent on etcd has no loop yet).
			if !drv.Running() {
				_ = sd.Notify("WATCHDOG=1")
				continue
			}
			qctx, qcancel := context.WithTimeout(ctx, 5*time.Second)
			if err := a.Ping(qctx); err == nil {
				_ = sd.Notify("WATCHDOG=1")
			}
			qcancel()
		case s := <-sigs:
			switch s {
			case syscall.SIGHUP:
				if store != nil {
					lg.Logf("SIGHUP: the documents come from etcd; nothing to read (push with ipvsctl fleet push)")
					continue
				}
				_ = sd.Notify(sdnotify.Reloading())
				lg.Logf("SIGHUP: reading %s", o.File)
				next, err := load(gen + 1)
				if err != nil {
					lg.Logf("reload refused: %v; still running generation %d", err, gen)
				} else if err := a.Reload(ctx, next); err != nil {
					gen = next.Generation
					lg.Logf("reload: generation %d applied with errors: %v (repairing)", gen, err)
				} else {
					gen = next.Generation
				}
				_ = sd.Notify("READY=1\nSTATUS=running " + o.File + fmt.Sprintf(" generation %d", gen))
			default:
				_ = sd.Notify("STOPPING=1")
				lg.Logf("%s: stopping", signalName(s))
				var werr error
				if o.Withdraw && drv.Running() {
					werr = a.Withdraw(ctx)
				} else {
					lg.Logf("the table is left as it is")
				}
				cancel()
				if memberDone != nil {
					<-memberDone
				}
				if drv.Running() {
					<-drv.Done()
				}
				<-monDone
				return werr
			}
		}
	}
}

// warnUnused says which sections of a document the agent does not apply.
func warnUnused(lg logger, name string, want *ipvsconfig.Desired) {
	var unused []string
	if want.Timeouts != nil {
		unused = append(unused, "timeouts")
	}
	if want.ManageDaemons {
		unused = append(unused, "daemons")
	}
	if len(want.Sysctls) > 0 {
		unused = append(unused, "sysctls")
	}
	if len(unused) > 0 {
		lg.Logf("%s: the agent keeps services only; its %s section%s not applied (use ipvsctl apply)",
			name, strings.Join(unused, ", "), map[bool]string{true: "s are", false: " is"}[len(unused) > 1])
	}
}

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// probeEnv makes probes run in the network namespace ns (none: the
// agent's own): their sockets are opened by one thread that stays in it,
// and commands start on a thread inside it. The caller closes the
// returned Sockets.
func probeEnv(ns string) (healthcheck.Env, *netns.Sockets, error) {
	if ns == "" {
		return healthcheck.Env{}, nil, nil
	}
	s, err := netns.NewSockets(ns)
	if err != nil {
		return healthcheck.Env{}, nil, fmt.Errorf("--netns %s: %w", ns, err)
	}
	return healthcheck.Env{
		Socket: s.Socket,
		Start:  func(cmd *exec.Cmd) error { return netns.Do(ns, cmd.Start) },
	}, s, nil
}

// agentLock is the agent's table lock: it waits for other writers
// (ipvsctl apply, ipvsadm-restore) without limit. A lock that cannot be
// taken at all (no /run, say) is logged once and the agent goes on
// unlocked rather than stop keeping its servers' health.
func agentLock(c factory.Common, logf func(string, ...any)) func(context.Context) (func(), error) {
	if c.Lock == nil {
		return nil
	}
	warned := false
	return func(ctx context.Context) (func(), error) {
		release, err := c.Lock(ctx, ipvslock.Forever)
		switch {
		case err == nil:
			return release, nil
		case ctx.Err() != nil:
			return nil, err
		}
		if !warned {
			warned = true
			logf("cannot take the IPVS table lock, going on without it: %v", err)
		}
		return func() {}, nil
	}
}
