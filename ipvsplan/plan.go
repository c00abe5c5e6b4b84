// Package ipvsplan computes the difference between the live IPVS table and
// a desired one as an ordered list of changes, and the requests that carry
// them out, so that a restore or a declarative apply sends only what
// differs (nothing at all when the tables agree) and never empties the
// table on the way.
//
// Services are matched by identity (family, protocol, address, port or
// fwmark) and destinations by (family, address, port) within their
// service. A desired service owns its destination list: destinations it
// does not list are removed. Services absent from the desired table are
// removed only with Options.Prune, and only those inside Options.Scope.
//
// A Plan can also produce its own undo: the inverse changes, computed from
// the pre-image the plan was made from, for a best-effort rollback.
package ipvsplan

import (
	"fmt"

	"github.com/ipvs-tools/ipvs"
)

// Kind is the kind of a change.
type Kind int

// Kinds of change.
const (
	AddService Kind = iota
	UpdateService
	DeleteService
	AddDest
	UpdateDest
	DeleteDest
)

var kindNames = [...]string{"add service", "update service", "delete service", "add destination", "update destination", "delete destination"}

// String returns e.g. "add service".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Change is one change to the table. Old and New hold the object before
// and after (Old is the zero value for additions, New for deletions).
type Change struct {
	Kind    Kind
	Service ipvs.ServiceKey
	// OldService and NewService are set for service changes.
	OldService, NewService ipvs.Service
	// OldDest and NewDest are set for destination changes.
	OldDest, NewDest ipvs.Destination
	// Dests are the destinations removed with a deleted service (for its
	// undo).
	Dests []ipvs.Destination
}

// String describes the change for people, e.g.
// "add destination 192.168.0.1:80 to TCP 10.0.0.1:80".
func (c Change) String() string {
	switch c.Kind {
	case AddService, UpdateService, DeleteService:
		return fmt.Sprintf("%s %s", c.Kind, c.Service)
	case AddDest:
		return fmt.Sprintf("add destination %s to %s", c.NewDest.Key(), c.Service)
	case UpdateDest:
		return fmt.Sprintf("update destination %s of %s", c.NewDest.Key(), c.Service)
	case DeleteDest:
		return fmt.Sprintf("delete destination %s from %s", c.OldDest.Key(), c.Service)
	}
	return c.Kind.String()
}

// Op returns the request that carries the change out.
func (c Change) Op() ipvs.Op {
	svc := c.Service.Service()
	switch c.Kind {
	case AddService:
		return ipvs.Op{Cmd: ipvs.CmdNewService, Service: c.NewService}
	case UpdateService:
		return ipvs.Op{Cmd: ipvs.CmdSetService, Service: c.NewService}
	case DeleteService:
		return ipvs.Op{Cmd: ipvs.CmdDelService, Service: svc}
	case AddDest:
		return ipvs.Op{Cmd: ipvs.CmdNewDest, Service: svc, Destination: c.NewDest}
	case UpdateDest:
		return ipvs.Op{Cmd: ipvs.CmdSetDest, Service: svc, Destination: c.NewDest}
	case DeleteDest:
		return ipvs.Op{Cmd: ipvs.CmdDelDest, Service: svc, Destination: c.OldDest}
	}
	panic(fmt.Sprintf("ipvsplan: unknown change kind %d", c.Kind))
}

// Inverse returns the changes that undo c.
func (c Change) Inverse() []Change {
	switch c.Kind {
	case AddService:
		return []Change{{Kind: DeleteService, Service: c.Service, OldService: c.NewService}}
	case UpdateService:
		return []Change{{Kind: UpdateService, Service: c.Service, OldService: c.NewService, NewService: c.OldService}}
	case DeleteService:
		out := []Change{{Kind: AddService, Service: c.Service, NewService: c.OldService}}
		for _, d := range c.Dests {
			out = append(out, Change{Kind: AddDest, Service: c.Service, NewDest: d})
		}
		return out
	case AddDest:
		return []Change{{Kind: DeleteDest, Service: c.Service, OldDest: c.NewDest}}
	case UpdateDest:
		return []Change{{Kind: UpdateDest, Service: c.Service, OldDest: c.NewDest, NewDest: c.OldDest}}
	case DeleteDest:
		return []Change{{Kind: AddDest, Service: c.Service, NewDest: c.OldDest}}
	}
	return nil
}

// Scope selects the services a plan may add, change or delete; nil means
// every service.
type Scope func(ipvs.ServiceKey) bool

// Options tune Diff.
type Options struct {
	// Prune deletes services that are in scope but not desired.
	Prune bool
	// Scope limits what the plan touches. A desired service outside the
	// scope is an error.
	Scope Scope
}

// Plan is an ordered list of changes.
type Plan struct {
	Changes []Change
}

// Empty reports whether nothing needs to change.
func (p Plan) Empty() bool { return len(p.Changes) == 0 }

// Ops returns the requests for the changes, in order (ops[i] carries out
// Changes[i]).
func (p Plan) Ops() []ipvs.Op {
	ops := make([]ipvs.Op, len(p.Changes))
	for i, c := range p.Changes {
		ops[i] = c.Op()
	}
	return ops
}

// Undo returns the plan that reverts the first n changes of p (those that
// were applied), newest first.
func (p Plan) Undo(n int) Plan {
	var out Plan
	for i := min(n, len(p.Changes)) - 1; i >= 0; i-- {
		out.Changes = append(out.Changes, p.Changes[i].Inverse()...)
	}
	return out
}

// Counts returns how many changes of each kind p holds.
func (p Plan) Counts() map[Kind]int {
	m := make(map[Kind]int)
	for _, c := range p.Changes {
		m[c.Kind]++
	}
	return m
}

// Diff returns the changes that turn current into desired. Order: new
// services with their destinations first, then changed services (new
// destinations before removed ones, so a service being changed keeps
// serving), then deletions of whole services. It fails if desired lists a
// service or a destination twice, or a service outside opts.Scope.
func Diff(current, desired []ipvs.VirtualServer, opts Options) (Plan, error) {
	inScope := func(k ipvs.ServiceKey) bool { return opts.Scope == nil || opts.Scope(k) }
	cur := make(map[ipvs.ServiceKey]*ipvs.VirtualServer, len(current))
	for i := range current {
		cur[current[i].Service.Key()] = &current[i]
	}
	want := make(map[ipvs.ServiceKey]bool, len(desired))
	for _, vs := range desired {
		k := vs.Service.Key()
		if want[k] {
			return Plan{}, fmt.Errorf("service %s is listed twice", k)
		}
		want[k] = true
		if !inScope(k) {
			return Plan{}, fmt.Errorf("service %s is outside the scope", k)
		}
		seen := make(map[ipvs.DestKey]bool, len(vs.Destinations))
		for _, d := range vs.Destinations {
			if seen[d.Key()] {
				return Plan{}, fmt.Errorf("destination %s of service %s is listed twice", d.Key(), k)
			}
			seen[d.Key()] = true
		}
	}

	// The changes to existing services come first, usually few; then the
	// result is allocated once at its exact size (a Change is large and
	// tables can be too) and filled with additions, updates, deletions.
	var updates []Change
	nAdd, nDel := 0, 0
	for _, vs := range desired {
		k := vs.Service.Key()
		old, exists := cur[k]
		if !exists {
			nAdd += 1 + len(vs.Destinations)
			continue
		}
		updates = appendUpdates(updates, k, old, vs)
	}
	if opts.Prune {
		for _, vs := range current {
			if k := vs.Service.Key(); !want[k] && inScope(k) {
				nDel++
			}
		}
	}
	p := Plan{Changes: make([]Change, 0, nAdd+len(updates)+nDel)}
	for _, vs := range desired {
		if _, exists := cur[vs.Service.Key()]; !exists {
			p.Changes = AppendServiceChanges(p.Changes, nil, vs)
		}
	}
	p.Changes = append(p.Changes, updates...)
	if opts.Prune {
		for _, vs := range current {
			if k := vs.Service.Key(); !want[k] && inScope(k) {
				p.Changes = append(p.Changes, Change{Kind: DeleteService, Service: k, OldService: vs.Service, Dests: vs.Destinations})
			}
		}
	}
	return p, nil
}

// AppendServiceChanges appends to out the changes that turn one service,
// old (nil if it does not exist), into vs, which has the same identity:
// the service's creation with its destinations, or its settings, new and
// changed destinations, then removed ones. It is Diff for one service, for
// callers that go through a table service by service.
func AppendServiceChanges(out []Change, old *ipvs.VirtualServer, vs ipvs.VirtualServer) []Change {
	k := vs.Service.Key()
	if old == nil {
		out = append(out, Change{Kind: AddService, Service: k, NewService: vs.Service})
		for _, d := range vs.Destinations {
			out = append(out, Change{Kind: AddDest, Service: k, NewDest: d})
		}
		return out
	}
	return appendUpdates(out, k, old, vs)
}

// appendUpdates appends the changes that turn the existing old into vs:
// its settings, then new and changed destinations, then removed ones.
func appendUpdates(out []Change, k ipvs.ServiceKey, old *ipvs.VirtualServer, vs ipvs.VirtualServer) []Change {
	if !SameService(old.Service, vs.Service) {
		out = append(out, Change{Kind: UpdateService, Service: k, OldService: old.Service, NewService: vs.Service})
	}
	oldDests := make(map[ipvs.DestKey]ipvs.Destination, len(old.Destinations))
	for _, d := range old.Destinations {
		oldDests[d.Key()] = d
	}
	for _, d := range vs.Destinations {
		od, ok := oldDests[d.Key()]
		switch {
		case !ok:
			out = append(out, Change{Kind: AddDest, Service: k, NewDest: d})
		case !SameDest(od, d):
			out = append(out, Change{Kind: UpdateDest, Service: k, OldDest: od, NewDest: d})
		}
		delete(oldDests, d.Key())
	}
	for _, d := range old.Destinations {
		if _, gone := oldDests[d.Key()]; gone {
			out = append(out, Change{Kind: DeleteDest, Service: k, OldDest: d})
		}
	}
	return out
}

// SameService reports whether two services with the same identity have the
// same settings (everything SET_SERVICE can change).
func SameService(a, b ipvs.Service) bool {
	return a.Scheduler == b.Scheduler && a.Flags&^ipvs.SvcHashed == b.Flags&^ipvs.SvcHashed &&
		a.Timeout == b.Timeout && a.Netmask == b.Netmask && a.PEName == b.PEName
}

// SameDest reports whether two destinations with the same identity have
// the same settings (everything SET_DEST can change).
func SameDest(a, b ipvs.Destination) bool {
	return a.ForwardMethod == b.ForwardMethod && a.Weight == b.Weight &&
		a.UpperThreshold == b.UpperThreshold && a.LowerThreshold == b.LowerThreshold &&
		a.TunnelType == b.TunnelType && a.TunnelPort == b.TunnelPort && a.TunnelFlags == b.TunnelFlags
}
