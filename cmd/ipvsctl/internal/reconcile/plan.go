// Package reconcile turns the live IPVS state and a desired document into
// a plan (services and destinations through ipvsplan, plus timeouts, sync
// daemons and sysctls), and applies it in batches with a best-effort
// rollback from the pre-image when the kernel refuses a request.
package reconcile

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/ipvs-tools/ipvs/ipvsplan"
	"github.com/ipvs-tools/ipvs/ipvsprobe"
	"github.com/ipvs-tools/ipvs/ipvssysctl"
)

// State is the part of the live state a plan is computed from (its
// pre-image).
type State struct {
	Services []ipvs.VirtualServer
	Timeouts ipvs.Timeouts
	Daemons  []ipvs.Daemon
	// Sysctls holds the current values of the sysctls the document names.
	Sysctls map[string]string
}

// Read fetches the state that want refers to (its pre-image): the
// services the plan can touch with their destinations, and the timeouts,
// daemons and sysctls only when want manages them.
//
// The kernel lists destinations one service at a time, so Read dumps them
// only for the services that matter: those want lists and, with
// opts.Prune, those in opts.Scope (their destinations are needed to undo
// a deletion). Applying a small document next to a large foreign table
// (kube-proxy's) costs one service dump and a few destination dumps.
func Read(b backend.IPVS, sys func() (backend.Sysctls, error), want *ipvsconfig.Desired, opts Options) (*State, error) {
	st := &State{}
	listed := make(map[ipvs.ServiceKey]bool, len(want.Services))
	for _, vs := range want.Services {
		listed[vs.Service.Key()] = true
	}
	var err error
	st.Services, err = ipvs.ReadTable(b, func(k ipvs.ServiceKey) bool {
		return listed[k] || (opts.Prune && opts.Scope.Match(k))
	})
	if err != nil {
		return nil, err
	}
	if want.Timeouts != nil {
		if st.Timeouts, err = b.Timeouts(); err != nil {
			return nil, err
		}
	}
	if want.ManageDaemons {
		if st.Daemons, err = b.Daemons(); err != nil {
			return nil, err
		}
	}
	if len(want.Sysctls) > 0 {
		s, err := sys()
		if err != nil {
			return nil, fmt.Errorf("the document sets sysctls: %w", err)
		}
		st.Sysctls = map[string]string{}
		for _, name := range slices.Sorted(maps.Keys(want.Sysctls)) {
			v, err := s.Get(name)
			if err != nil {
				return nil, fmt.Errorf("sysctl %s: %w", name, err)
			}
			st.Sysctls[name] = v
		}
	}
	return st, nil
}

// Options tune Compute and Apply.
type Options struct {
	// Prune deletes in-scope services the document does not list.
	Prune bool
	// Scope limits the services touched (nil: all).
	Scope *ipvsconfig.Scope
	// BatchSize is the number of requests per Batch call (default 2000).
	BatchSize int
	// NoRollback keeps going past kernel errors instead of stopping and
	// rolling back.
	NoRollback bool
	// Stop, once closed (an interrupt), makes Apply send no further
	// request after the batch in flight (Result.Interrupted);
	// RollbackOnStop then undoes what was applied, as after a refusal.
	Stop           <-chan struct{}
	RollbackOnStop bool
	// Progress, if set, is called after each batch of service changes
	// with the number answered so far.
	Progress func(answered int)
}

// SysctlChange is a sysctl to set.
type SysctlChange struct{ Name, Old, New string }

// Plan is everything to change.
type Plan struct {
	Services ipvsplan.Plan
	// OldTimeouts/NewTimeouts are set when the timeouts change.
	OldTimeouts, NewTimeouts *ipvs.Timeouts
	// DaemonStops are running daemons to stop (removed or changed),
	// DaemonStarts daemons to start.
	DaemonStops, DaemonStarts []ipvs.Daemon
	Sysctls                   []SysctlChange
}

// KernelNeeds returns the schedulers, persistence engines and tunnel types
// the plan asks the kernel for that it may lack: those of services it adds
// or whose scheduler or engine it changes, and the non-IPIP encapsulations
// of tunnelling destinations it adds or changes.
func (p *Plan) KernelNeeds() ipvsprobe.Request {
	var req ipvsprobe.Request
	for _, c := range p.Services.Changes {
		switch c.Kind {
		case ipvsplan.AddService, ipvsplan.UpdateService:
			add := c.Kind == ipvsplan.AddService
			if add || c.NewService.Scheduler != c.OldService.Scheduler {
				req.Schedulers = append(req.Schedulers, c.NewService.Scheduler)
			}
			if pe := c.NewService.PEName; pe != "" && (add || pe != c.OldService.PEName) {
				req.PEs = append(req.PEs, pe)
			}
		case ipvsplan.AddDest, ipvsplan.UpdateDest:
			d := c.NewDest
			if d.ForwardMethod == ipvs.FwdTunnel && d.TunnelType != ipvs.TunnelIPIP &&
				(c.Kind == ipvsplan.AddDest || c.OldDest.TunnelType != d.TunnelType) {
				req.Tunnels = append(req.Tunnels, d.TunnelType)
			}
		}
	}
	return req
}

// Compute returns the plan that turns cur into want.
func Compute(cur *State, want *ipvsconfig.Desired, opts Options) (*Plan, error) {
	p := &Plan{}
	var err error
	p.Services, err = ipvsplan.Diff(cur.Services, want.Services, ipvsplan.Options{Prune: opts.Prune, Scope: opts.Scope.Func()})
	if err != nil {
		return nil, err
	}
	if t := want.Timeouts; t != nil {
		n := cur.Timeouts
		if t.TCP != 0 {
			n.TCP = t.TCP
		}
		if t.TCPFin != 0 {
			n.TCPFin = t.TCPFin
		}
		if t.UDP != 0 {
			n.UDP = t.UDP
		}
		if n != cur.Timeouts {
			old := cur.Timeouts
			p.OldTimeouts, p.NewTimeouts = &old, &n
		}
	}
	if want.ManageDaemons {
		for _, c := range cur.Daemons {
			i := slices.IndexFunc(want.Daemons, func(d ipvs.Daemon) bool { return d.State == c.State })
			if i < 0 || !DaemonMatches(c, want.Daemons[i]) {
				p.DaemonStops = append(p.DaemonStops, c)
			}
		}
		for _, d := range want.Daemons {
			i := slices.IndexFunc(cur.Daemons, func(c ipvs.Daemon) bool { return c.State == d.State })
			if i < 0 || !DaemonMatches(cur.Daemons[i], d) {
				p.DaemonStarts = append(p.DaemonStarts, d)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want.Sysctls)) {
		nv, ov := want.Sysctls[name], cur.Sysctls[name]
		if !sameSysctl(name, nv, ov) {
			p.Sysctls = append(p.Sysctls, SysctlChange{Name: name, Old: normSysctl(ov), New: normSysctl(nv)})
		}
	}
	return p, nil
}

func normSysctl(v string) string { return strings.Join(strings.Fields(v), " ") }

// sameSysctl compares values; for the DoS defence modes 1 and 2 are the
// same setting (the kernel flips between them with memory pressure).
func sameSysctl(name, a, b string) bool {
	a, b = normSysctl(a), normSysctl(b)
	if a == b {
		return true
	}
	if info, ok := ipvssysctl.Lookup(name); ok && info.Kind == ipvssysctl.KindDefense {
		auto := func(v string) bool { return v == "1" || v == "2" }
		return auto(a) && auto(b)
	}
	return false
}

// DaemonMatches reports whether the running daemon cur satisfies want:
// same role, interface and sync ID, and the optional settings want gives.
func DaemonMatches(cur, want ipvs.Daemon) bool {
	return cur.State == want.State && cur.Interface == want.Interface && cur.SyncID == want.SyncID &&
		(want.SyncMaxLen == 0 || want.SyncMaxLen == cur.SyncMaxLen) &&
		(!want.Group.IsValid() || want.Group == cur.Group) &&
		(want.Port == 0 || want.Port == cur.Port) &&
		(want.TTL == 0 || want.TTL == cur.TTL)
}

// Empty reports whether nothing needs to change.
func (p *Plan) Empty() bool {
	return p.Services.Empty() && p.NewTimeouts == nil && len(p.DaemonStops)+len(p.DaemonStarts)+len(p.Sysctls) == 0
}

// Requests is the number of kernel write requests the plan needs (sysctl
// writes are not netlink requests and not counted).
func (p *Plan) Requests() int {
	n := len(p.Services.Changes) + len(p.DaemonStops) + len(p.DaemonStarts)
	if p.NewTimeouts != nil {
		n++
	}
	return n
}

// Change is one change for display and for -o json.
type Change struct {
	Action      string `json:"action" yaml:"action"` // add, update, delete
	Object      string `json:"object" yaml:"object"` // service, destination, timeouts, daemon, sysctl
	Service     string `json:"service,omitempty" yaml:"service,omitempty"`
	Destination string `json:"destination,omitempty" yaml:"destination,omitempty"`
	Name        string `json:"name,omitempty" yaml:"name,omitempty"`
	Description string `json:"description" yaml:"description"`
	Before      any    `json:"before,omitempty" yaml:"before,omitempty"`
	After       any    `json:"after,omitempty" yaml:"after,omitempty"`
}

// Len is the number of changes.
func (p *Plan) Len() int {
	n := len(p.DaemonStops) + len(p.Services.Changes) + len(p.DaemonStarts) + len(p.Sysctls)
	if p.NewTimeouts != nil {
		n++
	}
	return n
}

// Change returns change i (0 <= i < Len) in the order changes are applied:
// daemons to stop, services and destinations, timeouts, daemons to
// start, sysctls. Descriptions are built on demand, so large plans cost
// nothing to describe unless they are shown.
func (p *Plan) Change(i int) Change {
	if i < len(p.DaemonStops) {
		return daemonChange(p.DaemonStops[i], false)
	}
	i -= len(p.DaemonStops)
	if i < len(p.Services.Changes) {
		return serviceChange(p.Services.Changes[i])
	}
	i -= len(p.Services.Changes)
	if p.NewTimeouts != nil {
		if i == 0 {
			return Change{Action: "update", Object: "timeouts",
				Before: ipvsconfig.FromKernelTimeouts(*p.OldTimeouts), After: ipvsconfig.FromKernelTimeouts(*p.NewTimeouts),
				Description: "set timeouts: " + timeoutsDiff(*p.OldTimeouts, *p.NewTimeouts)}
		}
		i--
	}
	if i < len(p.DaemonStarts) {
		return daemonChange(p.DaemonStarts[i], true)
	}
	i -= len(p.DaemonStarts)
	s := p.Sysctls[i]
	return Change{Action: "update", Object: "sysctl", Name: s.Name, Before: s.Old, After: s.New,
		Description: fmt.Sprintf("set sysctl %s: %s → %s", s.Name, s.Old, s.New)}
}

// Changes lists every change in the order they are applied.
func (p *Plan) Changes() []Change {
	out := make([]Change, p.Len())
	for i := range out {
		out[i] = p.Change(i)
	}
	return out
}

// daemonChange describes starting (start) or stopping daemon d.
func daemonChange(d ipvs.Daemon, start bool) Change {
	c := Change{Action: "delete", Object: "daemon", Name: d.State.String()}
	dm := (*ipvsconfig.FromKernelDaemons([]ipvs.Daemon{d}))[0]
	verb := "stop"
	if start {
		c.Action, c.After, verb = "add", dm, "start"
	} else {
		c.Before = dm
	}
	c.Description = fmt.Sprintf("%s %s sync daemon (%s)", verb, d.State, daemonText(d))
	return c
}

func daemonText(d ipvs.Daemon) string {
	s := fmt.Sprintf("interface %s, syncid %d", d.Interface, d.SyncID)
	if d.SyncMaxLen != 0 {
		s += fmt.Sprintf(", maxlen %d", d.SyncMaxLen)
	}
	if d.Group.IsValid() {
		s += ", group " + d.Group.String()
	}
	if d.Port != 0 {
		s += fmt.Sprintf(", port %d", d.Port)
	}
	if d.TTL != 0 {
		s += fmt.Sprintf(", ttl %d", d.TTL)
	}
	return s
}

func timeoutsDiff(a, b ipvs.Timeouts) string {
	var parts []string
	for _, f := range []struct {
		n    string
		o, v uint32
	}{{"tcp", a.TCP, b.TCP}, {"tcpFin", a.TCPFin, b.TCPFin}, {"udp", a.UDP, b.UDP}} {
		if f.o != f.v {
			parts = append(parts, fmt.Sprintf("%s %d → %d", f.n, f.o, f.v))
		}
	}
	return strings.Join(parts, ", ")
}

func serviceChange(c ipvsplan.Change) Change {
	svc := ipvsconfig.FormatServiceKey(c.Service)
	opts := ipvsconfig.FromOptions{}
	switch c.Kind {
	case ipvsplan.AddService:
		after := ipvsconfig.FromKernelService(c.NewService, opts)
		after.Destinations = nil
		return Change{Action: "add", Object: "service", Service: svc, After: after,
			Description: fmt.Sprintf("add service %s (%s)", svc, strings.Join(serviceFields(after), ", "))}
	case ipvsplan.UpdateService:
		before, after := ipvsconfig.FromKernelService(c.OldService, opts), ipvsconfig.FromKernelService(c.NewService, opts)
		before.Destinations, after.Destinations = nil, nil
		return Change{Action: "update", Object: "service", Service: svc, Before: before, After: after,
			Description: fmt.Sprintf("update service %s: %s", svc, fieldDiff(serviceFields(before), serviceFields(after)))}
	case ipvsplan.DeleteService:
		before := ipvsconfig.FromKernelService(c.OldService, opts)
		before.Destinations = nil
		desc := fmt.Sprintf("delete service %s", svc)
		if n := len(c.Dests); n > 0 {
			desc += fmt.Sprintf(" (and its %d destination%s)", n, cmdutil.Plural(n))
		}
		return Change{Action: "delete", Object: "service", Service: svc, Before: before, Description: desc}
	case ipvsplan.AddDest:
		after := ipvsconfig.FromKernelDest(c.NewDest, opts)
		return Change{Action: "add", Object: "destination", Service: svc, Destination: destName(c.NewDest), After: after,
			Description: fmt.Sprintf("add destination %s to %s (%s)", destName(c.NewDest), svc, strings.Join(destFields(after), ", "))}
	case ipvsplan.UpdateDest:
		before, after := ipvsconfig.FromKernelDest(c.OldDest, opts), ipvsconfig.FromKernelDest(c.NewDest, opts)
		return Change{Action: "update", Object: "destination", Service: svc, Destination: destName(c.NewDest), Before: before, After: after,
			Description: fmt.Sprintf("update destination %s of %s: %s", destName(c.NewDest), svc, fieldDiff(destFields(before), destFields(after)))}
	case ipvsplan.DeleteDest:
		before := ipvsconfig.FromKernelDest(c.OldDest, opts)
		return Change{Action: "delete", Object: "destination", Service: svc, Destination: destName(c.OldDest), Before: before,
			Description: fmt.Sprintf("delete destination %s from %s", destName(c.OldDest), svc)}
	}
	return Change{Action: "?", Description: c.String()}
}

func destName(d ipvs.Destination) string { return d.Key().String() }

// serviceFields are "name value" settings of a service for messages.
func serviceFields(s ipvsconfig.Service) []string {
	f := []string{"scheduler " + s.Scheduler}
	if len(s.SchedFlags) > 0 {
		f = append(f, "flags "+strings.Join(s.SchedFlags, ","))
	}
	if s.OnePacket {
		f = append(f, "one-packet on")
	}
	if p := s.Persistence; p != nil {
		f = append(f, fmt.Sprintf("persistence %ds", p.Timeout))
		if p.PrefixLength != nil {
			f = append(f, fmt.Sprintf("prefix /%d", *p.PrefixLength))
		}
		if p.Netmask != "" {
			f = append(f, "netmask "+p.Netmask)
		}
	} else {
		f = append(f, "persistence off")
	}
	if s.PE != "" {
		f = append(f, "pe "+s.PE)
	}
	return f
}

func destFields(d ipvsconfig.Destination) []string {
	f := []string{"forward " + d.Forward, fmt.Sprintf("weight %d", *d.Weight)}
	if d.UpperThreshold != 0 || d.LowerThreshold != 0 {
		f = append(f, fmt.Sprintf("thresholds %d/%d", d.UpperThreshold, d.LowerThreshold))
	}
	if t := d.Tunnel; t != nil {
		s := "tunnel " + t.Type
		if t.Port != 0 {
			s += fmt.Sprintf(":%d", t.Port)
		}
		if t.Checksum != "nocsum" {
			s += " " + t.Checksum
		}
		f = append(f, s)
	}
	return f
}

// fieldDiff describes what changed between two field lists whose entries
// are "name value".
func fieldDiff(a, b []string) string {
	key := func(s string) string { k, _, _ := strings.Cut(s, " "); return k }
	am := map[string]string{}
	for _, s := range a {
		am[key(s)] = s
	}
	var parts []string
	seen := map[string]bool{}
	for _, s := range b {
		k := key(s)
		seen[k] = true
		if o, ok := am[k]; !ok {
			parts = append(parts, s)
		} else if o != s {
			parts = append(parts, fmt.Sprintf("%s → %s", o, strings.TrimPrefix(s, k+" ")))
		}
	}
	for _, s := range a {
		if !seen[key(s)] {
			parts = append(parts, "no "+s)
		}
	}
	if len(parts) == 0 {
		return "settings"
	}
	return strings.Join(parts, ", ")
}

// Counts returns how many changes there are by action (add, update,
// delete), without describing them.
func (p *Plan) Counts() map[string]int {
	m := map[string]int{"add": len(p.DaemonStarts), "update": len(p.Sysctls), "delete": len(p.DaemonStops)}
	if p.NewTimeouts != nil {
		m["update"]++
	}
	for _, c := range p.Services.Changes {
		switch c.Kind {
		case ipvsplan.AddService, ipvsplan.AddDest:
			m["add"]++
		case ipvsplan.UpdateService, ipvsplan.UpdateDest:
			m["update"]++
		default:
			m["delete"]++
		}
	}
	return m
}
