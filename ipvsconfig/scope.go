package ipvsconfig

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/ipvs-tools/ipvs"
)

// Scope limits which services a command may create, change or delete, so
// that ipvsctl can share the table with other managers (kube-proxy,
// keepalived, Docker). It is written as comma-separated KEY=VALUE terms:
//
//	vip=CIDR       the service address is inside CIDR (10.96.0.0/12,
//	               fd00::/64; a plain address means a /32 or /128)
//	port=N|A-B     the service port is N or in A..B
//	proto=P        the protocol is tcp, udp or sctp
//	fwmark=N|A-B   the firewall mark is N or in A..B
//	family=F       inet or inet6 (both kinds of service)
//
// Matching rule. Terms with the same key are alternatives (OR); different
// keys must all hold (AND). A protocol service (tcp/udp/sctp) is in scope
// only if at least one of vip, port and proto is given and each of those
// given matches it. A firewall-mark service is in scope only if fwmark is
// given and matches it. family, if given, must match either kind, and
// when it is the only key it selects both kinds. So
// "vip=10.96.0.0/12,fwmark=100-199" takes the protocol services on
// 10.96.0.0/12 and the fwmark services 100..199, and nothing else. The
// zero Scope (no terms) matches every service.
type Scope struct {
	VIPs     []netip.Prefix
	Ports    []Range
	Protos   []ipvs.Protocol
	FWMarks  []Range
	Families []ipvs.AddressFamily
	text     string
}

// Range is an inclusive range of numbers.
type Range struct{ Lo, Hi uint32 }

// Contains reports whether v is in r.
func (r Range) Contains(v uint32) bool { return v >= r.Lo && v <= r.Hi }

func (r Range) String() string {
	if r.Lo == r.Hi {
		return strconv.FormatUint(uint64(r.Lo), 10)
	}
	return fmt.Sprintf("%d-%d", r.Lo, r.Hi)
}

// ParseScope parses the --scope syntax; several flags' values may be
// joined with commas.
func ParseScope(s string) (*Scope, error) {
	sc := &Scope{text: s}
	for term := range strings.SplitSeq(s, ",") {
		term = strings.TrimSpace(term)
		if term == "" {
			continue
		}
		k, v, ok := strings.Cut(term, "=")
		if !ok {
			return nil, fmt.Errorf("scope term %q: want KEY=VALUE with KEY vip, port, proto, fwmark or family", term)
		}
		switch strings.ToLower(k) {
		case "vip", "addr", "address":
			p, err := netip.ParsePrefix(v)
			if err != nil {
				a, aerr := netip.ParseAddr(v)
				if aerr != nil {
					return nil, fmt.Errorf("scope term %q: %q is not a CIDR or an address", term, v)
				}
				p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
			}
			sc.VIPs = append(sc.VIPs, p.Masked())
		case "port":
			r, err := parseRange(v, 65535)
			if err != nil {
				return nil, fmt.Errorf("scope term %q: %v", term, err)
			}
			sc.Ports = append(sc.Ports, r)
		case "proto", "protocol":
			p, err := ParseProtocol(v)
			if err != nil {
				return nil, fmt.Errorf("scope term %q: %v", term, err)
			}
			sc.Protos = append(sc.Protos, p)
		case "fwmark", "mark":
			r, err := parseRange(v, 1<<32-1)
			if err != nil {
				return nil, fmt.Errorf("scope term %q: %v", term, err)
			}
			sc.FWMarks = append(sc.FWMarks, r)
		case "family", "af":
			f, err := parseFamily(v)
			if err != nil || f == ipvs.AFUnspec {
				return nil, fmt.Errorf("scope term %q: want inet or inet6", term)
			}
			sc.Families = append(sc.Families, f)
		default:
			return nil, fmt.Errorf("scope term %q: unknown key %q (want vip, port, proto, fwmark or family)", term, k)
		}
	}
	return sc, nil
}

func parseRange(s string, max uint64) (Range, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := strconv.ParseUint(lo, 10, 64)
	if err != nil || a > max {
		return Range{}, fmt.Errorf("%q is not a number 0..%d", lo, max)
	}
	b := a
	if isRange {
		b, err = strconv.ParseUint(hi, 10, 64)
		if err != nil || b > max {
			return Range{}, fmt.Errorf("%q is not a number 0..%d", hi, max)
		}
		if b < a {
			return Range{}, fmt.Errorf("range %s is empty", s)
		}
	}
	return Range{uint32(a), uint32(b)}, nil
}

// IsZero reports whether the scope has no terms (and matches everything).
func (s *Scope) IsZero() bool {
	return s == nil || len(s.VIPs)+len(s.Ports)+len(s.Protos)+len(s.FWMarks)+len(s.Families) == 0
}

// String returns the scope as given.
func (s *Scope) String() string {
	if s.IsZero() {
		return "everything"
	}
	return s.text
}

// Match reports whether service k is in scope.
func (s *Scope) Match(k ipvs.ServiceKey) bool {
	if s.IsZero() {
		return true
	}
	if len(s.Families) > 0 && !contains(s.Families, k.Family) {
		return false
	}
	if k.IsFWMark() {
		if len(s.FWMarks) == 0 {
			// Only family terms select fwmark services too.
			return len(s.VIPs)+len(s.Ports)+len(s.Protos) == 0
		}
		for _, r := range s.FWMarks {
			if r.Contains(k.FWMark) {
				return true
			}
		}
		return false
	}
	if len(s.VIPs)+len(s.Ports)+len(s.Protos) == 0 {
		// Only family (and maybe fwmark) terms: family alone selects
		// protocol services too.
		return len(s.FWMarks) == 0
	}
	if len(s.VIPs) > 0 {
		ok := false
		for _, p := range s.VIPs {
			if p.Contains(k.Address) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(s.Ports) > 0 {
		ok := false
		for _, r := range s.Ports {
			if r.Contains(uint32(k.Port)) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(s.Protos) > 0 && !contains(s.Protos, k.Protocol) {
		return false
	}
	return true
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Func returns s as a predicate for ipvsplan.Options.Scope (nil for the
// zero scope).
func (s *Scope) Func() func(ipvs.ServiceKey) bool {
	if s.IsZero() {
		return nil
	}
	return s.Match
}
