package ipvsmetrics

import (
	"fmt"

	"github.com/ipvs-tools/ipvs"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector is a prometheus.Collector of the IPVS table, under
// node_exporter's names unless WithNames chooses others. Each Collect
// reads the table once; concurrent scrapes call the read function
// concurrently.
type Collector struct {
	read    func() ([]ipvs.VirtualServer, error)
	totals  func() (ipvs.Stats, error)
	onError func(error)
	names   Names

	descs       []typedDesc // of Families(names), in its order
	successDesc typedDesc
}

// typedDesc is a Family's Desc and value type.
type typedDesc struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
}

func (d typedDesc) metric(v uint64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d.desc, d.typ, float64(v), labels...)
}

var _ prometheus.Collector = (*Collector)(nil)

// Option configures a Collector.
type Option func(*Collector)

// WithTotals takes the totals from totals, read before the table, instead
// of summing the services' counters (SumStats). ipvsproc.ReadStats gives
// the kernel's totals, which node_exporter exports. Only NodeExporter's
// naming has totals; under IPVSCtl's, totals is not called.
//
//	WithTotals(func() (ipvs.Stats, error) { return ipvsproc.ReadStats() })
func WithTotals(totals func() (ipvs.Stats, error)) Option {
	return func(c *Collector) { c.totals = totals }
}

// WithErrorFunc has f called with the error of each failed scrape, for
// the caller's log (concurrently, from concurrent scrapes).
func WithErrorFunc(f func(error)) Option {
	return func(c *Collector) { c.onError = f }
}

// WithNames chooses the naming of the metrics (NodeExporter by default).
func WithNames(n Names) Option {
	return func(c *Collector) { c.names = n }
}

// NewCollector returns a Collector that reads the table with read, for
// example ipvs.ReadTable over the backend.
func NewCollector(read func() ([]ipvs.VirtualServer, error), opts ...Option) *Collector {
	c := &Collector{read: read, names: NodeExporter}
	for _, o := range opts {
		o(c)
	}
	for _, f := range Families(c.names) {
		c.descs = append(c.descs, f.desc())
	}
	c.successDesc = ScrapeSuccessFamily(c.names).desc()
	return c
}

func (f Family) desc() typedDesc {
	typ := prometheus.GaugeValue
	if f.Type == "counter" {
		typ = prometheus.CounterValue
	}
	return typedDesc{prometheus.NewDesc(f.Name, f.Help, f.Labels, nil), typ}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d.desc
	}
	ch <- c.successDesc.desc
}

// Collect implements prometheus.Collector: the families of the naming
// (Table) and its success gauge (ScrapeSuccessFamily). After an error it
// sends what it had read before, as node_exporter does (the totals of
// WithTotals when the table fails), and the success gauge 0.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	success := uint64(1)
	if err := c.collect(ch); err != nil {
		success = 0
		if c.onError != nil {
			c.onError(err)
		}
	}
	if c.names == NodeExporter {
		ch <- c.successDesc.metric(success, ScrapeCollector)
	} else {
		ch <- c.successDesc.metric(success)
	}
}

func (c *Collector) collect(ch chan<- prometheus.Metric) error {
	var totals *ipvs.Stats
	if c.totals != nil && c.names == NodeExporter {
		st, err := c.totals()
		if err != nil {
			return fmt.Errorf("reading the IPVS totals: %w", err)
		}
		totals = &st
	}
	vss, err := c.read()
	if err != nil {
		if totals != nil {
			c.send(ch, Table(c.names, nil, totals))
		}
		return fmt.Errorf("reading the IPVS table: %w", err)
	}
	c.send(ch, Table(c.names, vss, totals))
	return nil
}

func (c *Collector) send(ch chan<- prometheus.Metric, ms []Metrics) {
	for i, m := range ms {
		for _, s := range m.Samples {
			ch <- c.descs[i].metric(s.Value, s.Labels...)
		}
	}
}
