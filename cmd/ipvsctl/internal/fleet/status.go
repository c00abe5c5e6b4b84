package fleet

import (
	"time"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/agent"
	"github.com/ipvs-tools/ipvs/healthcheck"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
)

// Kinds of the fleet's JSON values (apiVersion ipvsctl/v1, documented in
// docs/fleet.md).
const (
	KindDirectorStatus = "DirectorStatus"
	KindDirector       = "Director"
	KindFleetStatus    = "FleetStatus"
)

// States a director reports, and Stale, which readers add for a director
// whose reports stopped.
const (
	// StateApplying: a document is being applied.
	StateApplying = "applying"
	// StateInSync: the document addressed to it is applied and every
	// write the kernel took.
	StateInSync = "in-sync"
	// StateError: the document was refused (Rejected), the kernel refused
	// writes (LastError), or two selectors match it (Problem).
	StateError = "error"
	// StateNoDocument: no document is addressed to the director yet.
	StateNoDocument = "no-document"
	// StateStale: its status expired or is older than three report
	// intervals (set by readers of the store; the director itself says
	// it in its own /status while etcd is out of reach).
	StateStale = "stale"
)

// Director is a director's registration: written when its agent connects,
// never bound to a lease, so fleet status lists a director that stopped
// reporting.
type Director struct {
	APIVersion   string            `json:"apiVersion" yaml:"apiVersion"`
	Kind         string            `json:"kind" yaml:"kind"`
	Name         string            `json:"name" yaml:"name"`
	Labels       map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
	Version      string            `json:"version" yaml:"version"`
	RegisteredAt time.Time         `json:"registeredAt" yaml:"registeredAt"`
}

// DirectorStatus is what a director's agent reports under status/NAME,
// bound to its lease.
type DirectorStatus struct {
	APIVersion string            `json:"apiVersion" yaml:"apiVersion"`
	Kind       string            `json:"kind" yaml:"kind"`
	Name       string            `json:"name" yaml:"name"`
	Labels     map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
	// Version is the agent's ipvsctl version.
	Version string `json:"version" yaml:"version"`
	// State is one of the State constants. A director says stale only in
	// its own /status, while it cannot reach etcd (StaleSince says since
	// when); readers of the store find a stale director by its age.
	State      string     `json:"state" yaml:"state"`
	StaleSince *time.Time `json:"staleSince,omitempty" yaml:"staleSince,omitempty"`
	// Document is the key (below the prefix) of the applied document,
	// Revision its revision; both empty before the first one.
	Document string `json:"document,omitempty" yaml:"document,omitempty"`
	Revision int64  `json:"revision" yaml:"revision"`
	// WantDocument and WantRevision are the document addressed to the
	// director as it last saw the store.
	WantDocument string `json:"wantDocument,omitempty" yaml:"wantDocument,omitempty"`
	WantRevision int64  `json:"wantRevision" yaml:"wantRevision"`
	// Rejected is the last document that failed validation (cleared by
	// the next one that passes); Problem says why no document could be
	// chosen; LastError is the kernel's last refusal.
	Rejected  *Rejected `json:"rejected,omitempty" yaml:"rejected,omitempty"`
	Problem   string    `json:"problem,omitempty" yaml:"problem,omitempty"`
	LastError string    `json:"lastError,omitempty" yaml:"lastError,omitempty"`
	// SyncDaemons is the sync-daemon roles taken from daemons/NAME (nil:
	// no such key seen).
	SyncDaemons *SyncDaemons `json:"syncDaemons,omitempty" yaml:"syncDaemons,omitempty"`
	// Services and Servers count the document's services and checked
	// servers; Unhealthy lists the servers whose checks fail.
	Services  int         `json:"services" yaml:"services"`
	Servers   int         `json:"servers" yaml:"servers"`
	Unhealthy []Unhealthy `json:"unhealthy" yaml:"unhealthy"`
	// Unchecked counts the checked servers without a result yet (a new
	// document's servers, until their first checks end).
	Unchecked int `json:"unchecked" yaml:"unchecked"`
	// Requests counts the write requests sent since the agent started,
	// Errors the refused ones, Flips the health changes handled.
	Requests int `json:"requests" yaml:"requests"`
	Errors   int `json:"errors" yaml:"errors"`
	Flips    int `json:"flips" yaml:"flips"`
	// DriftChecks counts the periodic checks, DriftRepaired the changes
	// they undid.
	DriftChecks   int `json:"driftChecks" yaml:"driftChecks"`
	DriftRepaired int `json:"driftRepaired" yaml:"driftRepaired"`
	// Reconnects counts the times etcd was lost and found again;
	// LastOutage is the last time it was lost.
	Reconnects int     `json:"reconnects" yaml:"reconnects"`
	LastOutage *Outage `json:"lastOutage,omitempty" yaml:"lastOutage,omitempty"`
	// StartedAt is when the agent started, ReportedAt when it wrote this,
	// ReportIntervalSeconds how often it writes.
	StartedAt             time.Time `json:"startedAt" yaml:"startedAt"`
	ReportedAt            time.Time `json:"reportedAt" yaml:"reportedAt"`
	ReportIntervalSeconds float64   `json:"reportIntervalSeconds" yaml:"reportIntervalSeconds"`
}

// Rejected is a document that failed validation: it was not applied.
type Rejected struct {
	Document string `json:"document" yaml:"document"`
	Revision int64  `json:"revision" yaml:"revision"`
	Error    string `json:"error" yaml:"error"`
}

// SyncDaemons is the state of a director's sync-daemon roles.
type SyncDaemons struct {
	// Revision is the revision of daemons/NAME applied; Roles the daemons
	// it asks for ("master eth0 syncid 1"); Error why they are not running
	// as asked (a refused document or the kernel's refusal).
	Revision int64    `json:"revision" yaml:"revision"`
	Roles    []string `json:"roles" yaml:"roles"`
	Error    string   `json:"error,omitempty" yaml:"error,omitempty"`
}

// Unhealthy is a server whose check fails.
type Unhealthy struct {
	Service string     `json:"service" yaml:"service"`
	Server  string     `json:"server" yaml:"server"`
	Error   string     `json:"error,omitempty" yaml:"error,omitempty"`
	Since   *time.Time `json:"since,omitempty" yaml:"since,omitempty"`
}

// Outage is a time the director could not reach etcd.
type Outage struct {
	From    time.Time `json:"from" yaml:"from"`
	To      time.Time `json:"to" yaml:"to"`
	Seconds float64   `json:"seconds" yaml:"seconds"`
}

// fillFromAgent copies the agent's counters and failing servers.
func (s *DirectorStatus) fillFromAgent(a *agent.Status) {
	s.Services = a.Services
	s.Requests, s.Errors, s.Flips = a.Requests, a.Errors, a.Flips
	s.DriftChecks, s.DriftRepaired = a.DriftChecks, a.DriftRepaired
	s.LastError = a.LastError
	s.Servers, s.Unchecked, s.Unhealthy = 0, 0, []Unhealthy{}
	for _, sv := range a.Servers {
		if sv.Sorry {
			continue
		}
		s.Servers++
		if sv.Health == healthcheck.Unknown.String() {
			s.Unchecked++
		}
		if sv.Health == healthcheck.Down.String() {
			s.Unhealthy = append(s.Unhealthy, Unhealthy{Service: sv.Service, Server: sv.Server, Error: sv.LastError, Since: sv.Since})
		}
	}
}

// newHeader returns the apiVersion and kind of a value.
func newHeader(kind string) (string, string) { return ipvsconfig.APIVersion, kind }
