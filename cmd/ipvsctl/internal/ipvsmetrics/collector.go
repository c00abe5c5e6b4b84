package ipvsmetrics

import (
	"fmt"

	"github.com/ipvs-tools/ipvs"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector is a prometheus.Collector of the IPVS table under
// node_exporter's names. Each Collect reads the table once; concurrent
// scrapes call the read function concurrently.
type Collector struct {
	read    func() ([]ipvs.VirtualServer, error)
	totals  func() (ipvs.Stats, error)
	onError func(error)

	totalDescs   [len(TotalFamilies)]typedDesc
	backendDescs [len(BackendFamilies)]typedDesc
	successDesc  typedDesc
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
// the kernel's totals, which node_exporter exports:
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

// NewCollector returns a Collector that reads the table with read, for
// example ipvs.ReadTable over the backend.
func NewCollector(read func() ([]ipvs.VirtualServer, error), opts ...Option) *Collector {
	c := &Collector{read: read}
	for _, o := range opts {
		o(c)
	}
	for i, f := range TotalFamilies {
		c.totalDescs[i] = f.desc()
	}
	for i, f := range BackendFamilies {
		c.backendDescs[i] = f.desc()
	}
	c.successDesc = ScrapeSuccess.desc()
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
	for _, d := range c.totalDescs {
		ch <- d.desc
	}
	for _, d := range c.backendDescs {
		ch <- d.desc
	}
	ch <- c.successDesc.desc
}

// Collect implements prometheus.Collector: the totals, the backends and
// ScrapeSuccess. After an error it sends what it had sent before, as
// node_exporter does (the totals of WithTotals when the table fails),
// and ScrapeSuccess 0.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	success := uint64(1)
	if err := c.collect(ch); err != nil {
		success = 0
		if c.onError != nil {
			c.onError(err)
		}
	}
	ch <- c.successDesc.metric(success, ScrapeCollector)
}

func (c *Collector) collect(ch chan<- prometheus.Metric) error {
	if c.totals != nil {
		st, err := c.totals()
		if err != nil {
			return fmt.Errorf("reading the IPVS totals: %w", err)
		}
		c.sendTotals(ch, st)
	}
	vss, err := c.read()
	if err != nil {
		return fmt.Errorf("reading the IPVS table: %w", err)
	}
	if c.totals == nil {
		c.sendTotals(ch, SumStats(vss))
	}
	for _, b := range Backends(vss) {
		for i, v := range b.Values() {
			ch <- c.backendDescs[i].metric(v, b.Labels[:]...)
		}
	}
	return nil
}

func (c *Collector) sendTotals(ch chan<- prometheus.Metric, st ipvs.Stats) {
	for i, v := range TotalValues(st) {
		ch <- c.totalDescs[i].metric(v)
	}
}
