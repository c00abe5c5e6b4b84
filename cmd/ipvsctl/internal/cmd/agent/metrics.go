package agent

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/http"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/agent"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fleet"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/ipvsmetrics"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/printers"
	"github.com/ipvs-tools/ipvs/healthcheck"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics is the agent's HTTP side: the IPVS table (under node_exporter's
// names unless the agent's --metric-names chooses ipvsctl's), the checks' state, flips and latencies, /healthz and /status.
type metrics struct {
	reg     *prometheus.Registry
	agent   *agent.Agent
	monitor *healthcheck.Monitor
	// member and running are set for the agent on etcd: /status adds the
	// director's report, and works before the first document.
	member  *fleet.Member
	running func() bool

	probes  *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

// newMetrics returns the agent's metrics over b: the table under the
// naming names (the zero value: node_exporter's), its totals (under
// node_exporter's names) from totals.
func newMetrics(b backend.IPVS, totals func() (ipvs.Stats, error), names ipvsmetrics.Names) *metrics {
	if names == "" {
		names = ipvsmetrics.NodeExporter
	}
	m := &metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(ipvsmetrics.NewCollector(
		func() ([]ipvs.VirtualServer, error) { return ipvs.ReadTable(b, nil) },
		ipvsmetrics.WithTotals(totals), ipvsmetrics.WithNames(names)))
	m.probes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ipvsctl_agent_probes_total",
		Help: "Probes run by the agent, by check type and result (ok or fail).",
	}, []string{"check", "result"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ipvsctl_agent_probe_duration_seconds",
		Help:    "Time a probe took, by check type.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"check"})
	m.reg.MustRegister(m.probes, m.latency, (*checkCollector)(m))
	return m
}

// observe records one probe (healthcheck.MonitorOptions.OnResult).
func (m *metrics) observe(s healthcheck.Status) {
	t := string(s.Target.Check.Type)
	result := "ok"
	if !s.Last.OK {
		result = "fail"
	}
	m.probes.WithLabelValues(t, result).Inc()
	m.latency.WithLabelValues(t).Observe(s.Last.Latency.Seconds())
}

var (
	stateDesc = prometheus.NewDesc("ipvsctl_agent_probe_state",
		"State of each probe: 1 for its current state (up, down or unknown), 0 for the others.",
		[]string{"check", "target", "probe", "state"}, nil)
	flipsDesc = prometheus.NewDesc("ipvsctl_agent_probe_flips_total",
		"Health changes of each probe since the agent started.", []string{"check", "target", "probe"}, nil)
	genDesc = prometheus.NewDesc("ipvsctl_agent_generation",
		"Generation of the applied document (1 at start, one more per accepted reload).", nil, nil)
	countDesc = prometheus.NewDesc("ipvsctl_agent_events_total",
		"The agent's counters: flips handled, write requests sent, refused requests, drift changes repaired, drift checks.",
		[]string{"event"}, nil)
)

// probeID tells apart two checks of one type on one target (two paths,
// two intervals): 8 hex digits of the probe's key.
func probeID(key string) string {
	h := fnv.New32a()
	h.Write([]byte(key))
	return fmt.Sprintf("%08x", h.Sum32())
}

// checkCollector exports the probes' state and the agent's counters at
// scrape time.
type checkCollector metrics

func (c *checkCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- stateDesc
	ch <- flipsDesc
	ch <- genDesc
	ch <- countDesc
}

func (c *checkCollector) Collect(ch chan<- prometheus.Metric) {
	if c.monitor != nil {
		for _, s := range c.monitor.Status() {
			t, target, id := string(s.Target.Check.Type), s.Target.Check.Target(s.Target.Addr).String(), probeID(s.Key)
			for _, st := range []healthcheck.State{healthcheck.Unknown, healthcheck.Up, healthcheck.Down} {
				v := 0.0
				if s.State == st {
					v = 1
				}
				ch <- prometheus.MustNewConstMetric(stateDesc, prometheus.GaugeValue, v, t, target, id, st.String())
			}
			ch <- prometheus.MustNewConstMetric(flipsDesc, prometheus.CounterValue, float64(s.Flips), t, target, id)
		}
	}
	if c.agent == nil {
		return
	}
	st := c.agent.Counters()
	ch <- prometheus.MustNewConstMetric(genDesc, prometheus.GaugeValue, float64(st.Generation))
	for _, e := range []struct {
		name string
		v    int
	}{{"flips", st.Flips}, {"requests", st.Requests}, {"errors", st.Errors}, {"drift_repaired", st.DriftRepaired}, {"drift_checks", st.DriftChecks}} {
		ch <- prometheus.MustNewConstMetric(countDesc, prometheus.CounterValue, float64(e.v), e.name)
	}
}

// handler serves /metrics, /healthz and /status.
func (m *metrics) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if !m.agent.Synced() {
			http.Error(w, "the agent has not read the table yet (starting, or see its log)", http.StatusServiceUnavailable)
			return
		}
		if err := m.agent.Ping(ctx); err != nil {
			http.Error(w, "the agent's loop does not answer", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		out := &StatusOutput{}
		if m.running == nil || m.running() {
			st, err := m.agent.Status(ctx)
			if err != nil {
				http.Error(w, "the agent's loop does not answer", http.StatusServiceUnavailable)
				return
			}
			out.Status = *st
		} else {
			out.Status.Document = "(none yet: waiting for a document from etcd)"
			out.Status.Servers = []agent.ServerStatus{}
		}
		if m.member != nil {
			f := m.member.Status()
			out.Fleet = &f
		}
		w.Header().Set("Content-Type", "application/json")
		_ = printers.JSON.Print(w, out, nil)
	})
	return mux
}
