package agent

import (
	"context"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/healthcheck"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
)

// Status is what the agent is doing: its document, its counters and every
// checked server. It is served as /status (kind AgentStatus, documented
// in docs/agent.md).
type Status struct {
	// Document names the applied document; Generation counts the
	// documents applied since start; LoadedAt is when it was applied.
	Document   string    `json:"document" yaml:"document"`
	Generation int64     `json:"generation" yaml:"generation"`
	LoadedAt   time.Time `json:"loadedAt" yaml:"loadedAt"`
	// Services is the number of services of the document, Probes the
	// number of distinct probes run for them.
	Services int `json:"services" yaml:"services"`
	Probes   int `json:"probes" yaml:"probes"`
	// LastSync is the time of the last full read and repair.
	LastSync time.Time `json:"lastSync" yaml:"lastSync"`
	// DriftChecks counts the periodic checks, DriftRepaired the changes
	// they made to undo others' changes.
	DriftChecks   int `json:"driftChecks" yaml:"driftChecks"`
	DriftRepaired int `json:"driftRepaired" yaml:"driftRepaired"`
	// Flips counts the health transitions handled.
	Flips int `json:"flips" yaml:"flips"`
	// Requests counts the write requests sent; Errors the refused ones;
	// LastError is the last refusal (empty after a clean write).
	Requests  int    `json:"requests" yaml:"requests"`
	Errors    int    `json:"errors" yaml:"errors"`
	LastError string `json:"lastError,omitempty" yaml:"lastError,omitempty"`
	// Servers are the checked servers, in document order.
	Servers []ServerStatus `json:"servers" yaml:"servers"`

	// SyncChanges counts the changes of every full sync (start included).
	SyncChanges int `json:"-" yaml:"-"`
	// Source is Document's internal name.
	Source string `json:"-" yaml:"-"`
}

// ServerStatus is one checked server of one service.
type ServerStatus struct {
	// Service and Server name the destination ("TCP 10.0.0.1:80",
	// "192.168.0.1:80").
	Service string `json:"service" yaml:"service"`
	Server  string `json:"server" yaml:"server"`
	// Check is the check's type and Target what it probes.
	Check  string `json:"check" yaml:"check"`
	Target string `json:"target" yaml:"target"`
	// Health is up, down or unknown (no result yet).
	Health string `json:"health" yaml:"health"`
	// InTable and Weight are the server in the table as last written.
	InTable bool   `json:"inTable" yaml:"inTable"`
	Weight  uint32 `json:"weight" yaml:"weight"`
	// LastProbe is the time of the last result, LastOK whether it passed,
	// LastError why not, LatencySeconds how long it took.
	LastProbe      *time.Time `json:"lastProbe,omitempty" yaml:"lastProbe,omitempty"`
	LastOK         bool       `json:"lastOK" yaml:"lastOK"`
	LastError      string     `json:"lastError,omitempty" yaml:"lastError,omitempty"`
	LatencySeconds float64    `json:"latencySeconds" yaml:"latencySeconds"`
	// Since is when the health last changed; Flips counts the changes.
	Since *time.Time `json:"since,omitempty" yaml:"since,omitempty"`
	Flips uint64     `json:"flips" yaml:"flips"`
	// Sorry marks the service's sorry server (not checked).
	Sorry bool `json:"sorry,omitempty" yaml:"sorry,omitempty"`
}

func (a *Agent) setStatus(f func(*Status)) {
	a.mu.Lock()
	f(&a.status)
	a.mu.Unlock()
}

// Status returns the agent's status, built by its loop (so it waits while
// the loop is busy writing).
func (a *Agent) Status(ctx context.Context) (*Status, error) {
	q := make(chan *Status, 1)
	select {
	case a.events <- event{query: q, ctx: ctx}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case s := <-q:
		return s, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Counters returns the status without the servers, without waiting for
// the loop (for /metrics).
func (a *Agent) Counters() Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.status
	s.Document = s.Source
	return s
}

// snapshot builds the status from the loop's state.
func (a *Agent) snapshot() *Status {
	a.mu.Lock()
	s := a.status
	a.mu.Unlock()
	s.Document = s.Source
	probes := map[string]healthcheck.Status{}
	for _, ps := range a.opts.Prober.Status() {
		probes[ps.Key] = ps
	}
	want := a.doc.Desired
	s.Servers = []ServerStatus{}
	for i, vs := range want.Services {
		h := health(want, i)
		if h == nil {
			continue
		}
		k := vs.Service.Key()
		cur := a.applied[k]
		inTable := func(d ipvs.DestKey) (uint32, bool) {
			for _, x := range cur.Destinations {
				if x.Key() == d {
					return x.Weight, true
				}
			}
			return 0, false
		}
		for j, d := range vs.Destinations {
			c := h.Checks[j]
			if c == nil {
				continue
			}
			key := c.Key(ipvsconfig.CheckTarget(d))
			ss := ServerStatus{Service: ipvsconfig.FormatServiceKey(k), Server: d.Key().String(), Check: string(c.Type),
				Target: c.Target(ipvsconfig.CheckTarget(d)).String(), Health: healthcheck.Unknown.String()}
			ss.Weight, ss.InTable = inTable(d.Key())
			if ps, ok := probes[key]; ok {
				ss.Health = ps.State.String()
				ss.Flips = ps.Flips
				if !ps.LastTime.IsZero() {
					t := ps.LastTime
					ss.LastProbe = &t
					ss.LastOK = ps.Last.OK
					ss.LatencySeconds = ps.Last.Latency.Seconds()
					if ps.Last.Err != nil {
						ss.LastError = ps.Last.Err.Error()
					}
				}
				if !ps.Since.IsZero() {
					t := ps.Since
					ss.Since = &t
				}
			}
			s.Servers = append(s.Servers, ss)
		}
		if h.Sorry != nil {
			ss := ServerStatus{Service: ipvsconfig.FormatServiceKey(k), Server: h.Sorry.Key().String(), Health: "sorry", Sorry: true}
			ss.Weight, ss.InTable = inTable(h.Sorry.Key())
			s.Servers = append(s.Servers, ss)
		}
	}
	return &s
}
