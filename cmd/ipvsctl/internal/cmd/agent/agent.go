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
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/sdnotify"
	"github.com/ipvs-tools/ipvs/healthcheck"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/ipvs-tools/ipvs/ipvsproc"
	"github.com/ipvs-tools/ipvs/netns"
	"github.com/spf13/cobra"
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
	Withdraw      bool
	MaxInFlight   int
	BatchSize     int

	// Signals delivers SIGHUP, SIGINT and SIGTERM (tests send their own).
	Signals chan os.Signal
	// Totals reads the kernel's IPVS totals for /metrics (default
	// /proc/net/ip_vs_stats of the namespace).
	Totals func() (ipvs.Stats, error)
}

// NewCmdAgent returns agent, with status as its subcommand.
func NewCmdAgent(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Common: f.Common()}
	cmd := &cobra.Command{
		Use:   "agent -f FILE",
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

With --listen, it serves /metrics (Prometheus), /healthz and /status
(JSON, kind AgentStatus; ipvsctl agent status prints it). Under systemd
(Type=notify) it reports READY, RELOADING, STOPPING and WATCHDOG.
Logs are plain lines on standard error.`,
		Example: `  ipvsctl agent -f /etc/ipvs/lb.yaml --listen 127.0.0.1:9444
  ipvsctl agent -f lb.yaml --scope vip=10.0.0.0/24 --prune --drift-interval 30s
  systemctl reload ipvsctl-agent     # SIGHUP: apply the edited document`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if opts.File == "" {
				return cmdutil.FlagErrorf("give the document with -f FILE")
			}
			if opts.File == "-" {
				return cmdutil.FlagErrorf("the agent re-reads its document on SIGHUP: give a file, not -")
			}
			if opts.Scope != "" {
				if _, err := cmdutil.ParseScope(opts.Scope); err != nil {
					return err
				}
			}
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
	fs.BoolVar(&opts.Withdraw, "withdraw", false, "on SIGTERM or SIGINT, delete the document's services instead of leaving them")
	fs.IntVar(&opts.MaxInFlight, "max-in-flight", 64, "at most `N` probes at once")
	fs.IntVar(&opts.BatchSize, "batch-size", 0, "requests per batch (default 2000)")
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
			lg.Logf("%s: the agent keeps services only; its %s section%s not applied (use ipvsctl apply -f %s)",
				o.File, strings.Join(unused, ", "), map[bool]string{true: "s are", false: " is"}[len(unused) > 1], o.File)
		}
		return &agent.Document{Desired: want, Source: o.File, Generation: gen}, nil
	}
	doc, err := load(1)
	if err != nil {
		return err
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
	m := newMetrics(b, totals)
	env, sockets, err := probeEnv(o.NetNS)
	if err != nil {
		return err
	}
	if sockets != nil {
		defer sockets.Close()
	}
	mon := healthcheck.NewMonitor(healthcheck.MonitorOptions{MaxInFlight: o.MaxInFlight, Env: env, OnResult: m.observe})
	a := agent.New(agent.Options{IPVS: b, Prober: mon, Scope: sc, Prune: o.Prune, DriftInterval: o.DriftInterval,
		BatchSize: o.BatchSize, Logf: lg.Logf})
	m.agent, m.monitor = a, mon

	if o.Listen != "" {
		ln, err := net.Listen("tcp", o.Listen)
		if err != nil {
			return fmt.Errorf("--listen %s: %w", o.Listen, err)
		}
		srv := &http.Server{Handler: m.handler(), ReadHeaderTimeout: 10 * time.Second,
			WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		lg.Logf("serving /metrics, /healthz and /status on %s", ln.Addr())
	}

	sd := sdnotify.New()
	done := make(chan error, 1)
	monDone := make(chan error, 1)
	go func() { monDone <- mon.Run(ctx) }()
	go func() {
		for t := range mon.Changes() {
			a.Transition(ctx, t)
		}
	}()
	go func() {
		done <- a.Run(ctx, doc, func() {
			_ = sd.Notify("READY=1\nSTATUS=running " + o.File)
		})
	}()
	var watchdog <-chan time.Time
	if d := sdnotify.WatchdogInterval(); d > 0 {
		t := time.NewTicker(d)
		defer t.Stop()
		watchdog = t.C
	}
	gen := doc.Generation
	for {
		select {
		case err := <-done:
			return err
		case <-watchdog:
			// Only a loop that answers gets the watchdog fed.
			qctx, qcancel := context.WithTimeout(ctx, 5*time.Second)
			if err := a.Ping(qctx); err == nil {
				_ = sd.Notify("WATCHDOG=1")
			}
			qcancel()
		case s := <-sigs:
			switch s {
			case syscall.SIGHUP:
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
				if o.Withdraw {
					werr = a.Withdraw(ctx)
				} else {
					lg.Logf("the table is left as it is")
				}
				cancel()
				<-done
				<-monDone
				return werr
			}
		}
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
