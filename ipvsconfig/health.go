package ipvsconfig

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/healthcheck"
)

// HealthCheck is a check of a real server, as written in a document. Only
// the fields of its type may be set.
type HealthCheck struct {
	// Type is tcp, http, https, udp, dns or exec.
	Type string `json:"type" yaml:"type"`
	// Port is a side port: probe it instead of the server's port.
	Port uint16 `json:"port,omitempty" yaml:"port,omitempty"`
	// Interval between two probes (default 5s), Timeout of one probe
	// (default 2s, at most Interval), Grace after the start during which
	// failures do not count (default 0).
	Interval Duration `json:"interval,omitempty" yaml:"interval,omitempty"`
	Timeout  Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	Grace    Duration `json:"grace,omitempty" yaml:"grace,omitempty"`
	// Rise successes in a row bring a server up (default 2), Fall
	// failures in a row take it down (default 3).
	Rise int `json:"rise,omitempty" yaml:"rise,omitempty"`
	Fall int `json:"fall,omitempty" yaml:"fall,omitempty"`

	// Method (default GET), Path (default /) and Host of an http or https
	// check; ExpectStatus lists the statuses that pass (default
	// 200-399); ExpectBody is a regular expression the body must match.
	Method       string `json:"method,omitempty" yaml:"method,omitempty"`
	Path         string `json:"path,omitempty" yaml:"path,omitempty"`
	Host         string `json:"host,omitempty" yaml:"host,omitempty"`
	ExpectStatus []int  `json:"expectStatus,omitempty" yaml:"expectStatus,omitempty,flow"`
	ExpectBody   string `json:"expectBody,omitempty" yaml:"expectBody,omitempty"`
	// TLSVerify checks the certificate (https; default off); SNI is the
	// server name sent (default Host).
	TLSVerify bool   `json:"tlsVerify,omitempty" yaml:"tlsVerify,omitempty"`
	SNI       string `json:"sni,omitempty" yaml:"sni,omitempty"`

	// Send is the datagram of a udp check; Expect a regular expression
	// its reply must match (default: any reply).
	Send   string `json:"send,omitempty" yaml:"send,omitempty"`
	Expect string `json:"expect,omitempty" yaml:"expect,omitempty"`

	// Query and QueryType of a dns check (default "." and A).
	Query     string `json:"query,omitempty" yaml:"query,omitempty"`
	QueryType string `json:"queryType,omitempty" yaml:"queryType,omitempty"`

	// Command of an exec check, with its arguments; DynamicWeight takes
	// the server's weight from it (exit status 2..255 is weight status-2,
	// or a last output line "weight N").
	Command       []string `json:"command,omitempty" yaml:"command,omitempty,flow"`
	DynamicWeight bool     `json:"dynamicWeight,omitempty" yaml:"dynamicWeight,omitempty"`
}

// Duration is a time span written as Go writes one ("500ms", "2s", "1m30s");
// a bare number is seconds. It is checked when the document is validated,
// so that errors carry their line.
type Duration string

// UnmarshalJSON accepts a string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*d = Duration(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("a duration is a string such as \"2s\", not %s", b)
	}
	*d = Duration(n.String())
	return nil
}

// parse returns the duration, or def when d is empty.
func (d Duration) parse(def time.Duration) (time.Duration, error) {
	s := strings.TrimSpace(string(d))
	if s == "" {
		return def, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if !(f >= 0 && f <= 86400) { // NaN too
			return 0, fmt.Errorf("%s seconds is out of range 0..86400", s)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a duration (write it as 500ms, 2s or 1m)", s)
	}
	return v, nil
}

// FailureAction is what a failed check does to its server.
type FailureAction int

// Failure actions.
const (
	// Quiesce sets the weight to 0: no new connections, the existing ones
	// go on.
	Quiesce FailureAction = iota
	// Remove deletes the destination (its connections expire or, with
	// expire_nodest_conn, are dropped).
	Remove
)

var failureNames = ipvs.NameTable[FailureAction]{Quiesce: "quiesce", Remove: "remove"}

// String returns "quiesce" or "remove".
func (a FailureAction) String() string { return failureNames.Name(a, "FailureAction(%d)") }

// ServiceHealth is the health checking of one service of a Desired.
type ServiceHealth struct {
	// OnFailure is what a failure does.
	OnFailure FailureAction
	// Sorry is the sorry server, or nil.
	Sorry *ipvs.Destination
	// Quorum is the least sum of healthy weights without the sorry server.
	Quorum uint32
	// Checks[i] checks the service's Destinations[i]; nil: not checked
	// (always in the table as the document says).
	Checks []*healthcheck.Check
}

// Checked reports whether the service has a check or a sorry server: the
// agent manages its weights.
func (h *ServiceHealth) Checked() bool {
	return h.Sorry != nil || slices.ContainsFunc(h.Checks, func(c *healthcheck.Check) bool { return c != nil })
}

// convertHealth converts the health-checking fields of s, whose
// destinations are vs's. It returns nil when the service has none.
func convertHealth(c *errs, p Path, s *Service, vs *ipvs.VirtualServer) *ServiceHealth {
	any := s.HealthCheck != nil || s.SorryServer != nil || s.Quorum != nil || s.OnFailure != ""
	for i := range s.Destinations {
		any = any || s.Destinations[i].HealthCheck != nil
	}
	if !any {
		return nil
	}
	h := &ServiceHealth{Quorum: 1}
	switch s.OnFailure {
	case "", "quiesce":
	case "remove":
		h.OnFailure = Remove
	default:
		c.add(p.with("onFailure"), "%q is not a failure action (want quiesce or remove)", s.OnFailure)
	}
	if s.Quorum != nil {
		h.Quorum = *s.Quorum
		if h.Quorum > maxInt32 {
			c.add(p.with("quorum"), "%d is out of range 0..%d", h.Quorum, maxInt32)
		}
	}
	var svcCheck *healthcheck.Check
	if s.HealthCheck != nil {
		svcCheck = convertCheck(c, p.with("healthCheck"), s.HealthCheck, vs.Service.Protocol)
	}
	if s.SorryServer != nil {
		sp := p.with("sorryServer")
		if s.SorryServer.HealthCheck != nil {
			c.add(sp.with("healthCheck"), "the sorry server is not checked")
		}
		d, ok := convertDest(c, sp, &vs.Service, s.SorryServer)
		if ok {
			if i := slices.IndexFunc(vs.Destinations, func(x ipvs.Destination) bool { return x.Key() == d.Key() }); i >= 0 {
				c.addOther(sp, p.with("destinations", i), "the sorry server %s is also a destination", d.Key())
			}
			h.Sorry = &d
		}
	}
	if s.Quorum != nil && h.Quorum == 0 && s.SorryServer != nil {
		c.add(p.with("quorum"), "0 never brings the sorry server in (no healthy weight is below 0); leave quorum out for 1")
	}
	h.Checks = make([]*healthcheck.Check, len(s.Destinations))
	for i := range s.Destinations {
		cp := p.with("healthCheck")
		if hc := s.Destinations[i].HealthCheck; hc != nil {
			cp = p.with("destinations", i, "healthCheck")
			h.Checks[i] = convertCheck(c, cp, hc, vs.Service.Protocol)
		} else {
			h.Checks[i] = svcCheck
		}
		// A port-0 server (fwmark or all-ports service) has no port to
		// probe: the check needs its own.
		if k := h.Checks[i]; k != nil && k.Type != healthcheck.Exec && k.Port == 0 && i < len(vs.Destinations) && vs.Destinations[i].Port == 0 {
			c.add(cp.with("port"), "missing: server %s has no port (a fwmark or port-0 service), so the check needs one", vs.Destinations[i].Address)
		}
	}
	return h
}

var qtypes = []string{"A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT"}

// convertCheck validates one check and applies its defaults.
func convertCheck(c *errs, p Path, hc *HealthCheck, proto ipvs.Protocol) *healthcheck.Check {
	n := len(c.list)
	k := &healthcheck.Check{Type: healthcheck.Type(hc.Type), Port: hc.Port, Rise: hc.Rise, Fall: hc.Fall}
	if !slices.Contains(healthcheck.Types, k.Type) {
		if hc.Type == "" {
			c.add(p.with("type"), "missing: the kind of check (tcp, http, https, udp, dns or exec)")
		} else {
			c.add(p.with("type"), "%q is not a check type (want tcp, http, https, udp, dns or exec)", hc.Type)
		}
	}
	switch k.Type {
	case healthcheck.TCP, healthcheck.HTTP, healthcheck.HTTPS:
		if proto == ipvs.ProtoUDP && hc.Port == 0 {
			c.add(p.with("type"), "a UDP service's %s check needs a side port (port: the TCP port to probe)", hc.Type)
		}
	}
	var err error
	if k.Interval, err = hc.Interval.parse(healthcheck.DefaultInterval); err != nil {
		c.add(p.with("interval"), "%v", err)
	} else if k.Interval < 10*time.Millisecond {
		c.add(p.with("interval"), "%s is too short (at least 10ms)", k.Interval)
	}
	def := min(healthcheck.DefaultTimeout, k.Interval)
	if k.Interval <= 0 {
		def = healthcheck.DefaultTimeout // the interval's error is reported
	}
	if k.Timeout, err = hc.Timeout.parse(def); err != nil {
		c.add(p.with("timeout"), "%v", err)
	} else if k.Timeout <= 0 {
		c.add(p.with("timeout"), "must be more than 0")
	} else if k.Timeout > k.Interval && k.Interval > 0 {
		c.add(p.with("timeout"), "%s is longer than the interval %s", k.Timeout, k.Interval)
	}
	if k.Grace, err = hc.Grace.parse(0); err != nil {
		c.add(p.with("grace"), "%v", err)
	}
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{{"rise", &k.Rise, healthcheck.DefaultRise}, {"fall", &k.Fall, healthcheck.DefaultFall}} {
		switch {
		case *f.v == 0:
			*f.v = f.def
		case *f.v < 1 || *f.v > 100:
			c.add(p.with(f.name), "%d is out of range 1..100", *f.v)
		}
	}
	// only reports fields that do not belong to the check's type.
	only := func(ok bool, name string, set bool) {
		if set && !ok && slices.Contains(healthcheck.Types, k.Type) {
			c.add(p.with(name), "not used by checks of type %s", hc.Type)
		}
	}
	web := k.Type == healthcheck.HTTP || k.Type == healthcheck.HTTPS
	only(web, "method", hc.Method != "")
	only(web, "path", hc.Path != "")
	only(web, "host", hc.Host != "")
	only(web, "expectStatus", len(hc.ExpectStatus) > 0)
	only(web, "expectBody", hc.ExpectBody != "")
	only(k.Type == healthcheck.HTTPS, "tlsVerify", hc.TLSVerify)
	only(k.Type == healthcheck.HTTPS, "sni", hc.SNI != "")
	only(k.Type == healthcheck.UDP, "send", hc.Send != "")
	only(k.Type == healthcheck.UDP, "expect", hc.Expect != "")
	only(k.Type == healthcheck.DNS, "query", hc.Query != "")
	only(k.Type == healthcheck.DNS, "queryType", hc.QueryType != "")
	only(k.Type == healthcheck.Exec, "command", len(hc.Command) > 0)
	only(k.Type == healthcheck.Exec, "dynamicWeight", hc.DynamicWeight)
	only(k.Type != healthcheck.Exec, "port", hc.Port != 0)
	switch k.Type {
	case healthcheck.HTTP, healthcheck.HTTPS:
		k.Method, k.Path, k.Host, k.SNI, k.TLSVerify = hc.Method, hc.Path, hc.Host, hc.SNI, hc.TLSVerify
		if k.Method == "" {
			k.Method = healthcheck.DefaultMethod
		} else if strings.ToUpper(k.Method) != k.Method || strings.ContainsAny(k.Method, " \t/") {
			c.add(p.with("method"), "%q is not an HTTP method (GET, HEAD, ...)", hc.Method)
		}
		if k.Path == "" {
			k.Path = healthcheck.DefaultPath
		} else if !strings.HasPrefix(k.Path, "/") {
			c.add(p.with("path"), "%q must start with /", hc.Path)
		}
		for i, st := range hc.ExpectStatus {
			if st < 100 || st > 599 {
				c.add(p.with("expectStatus", i), "%d is not an HTTP status (100..599)", st)
			}
		}
		k.ExpectStatus = slices.Clone(hc.ExpectStatus)
		k.ExpectBody = compile(c, p.with("expectBody"), hc.ExpectBody)
	case healthcheck.UDP:
		k.Send = hc.Send
		k.Expect = compile(c, p.with("expect"), hc.Expect)
	case healthcheck.DNS:
		k.Query, k.QueryType = hc.Query, strings.ToUpper(hc.QueryType)
		if k.Query == "" {
			k.Query = healthcheck.DefaultQuery
		}
		if k.QueryType == "" {
			k.QueryType = healthcheck.DefaultQType
		} else if !slices.Contains(qtypes, k.QueryType) {
			c.add(p.with("queryType"), "%q is not a query type we send (want one of %s)", hc.QueryType, strings.Join(qtypes, ", "))
		}
	case healthcheck.Exec:
		if len(hc.Command) == 0 || hc.Command[0] == "" {
			c.add(p.with("command"), "missing: the program to run and its arguments, e.g. [/usr/local/bin/check, --fast]")
		}
		k.Command, k.DynamicWeight = slices.Clone(hc.Command), hc.DynamicWeight
	}
	if len(c.list) != n {
		return nil
	}
	return k
}

func compile(c *errs, p Path, expr string) *regexp.Regexp {
	if expr == "" {
		return nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		c.add(p, "not a regular expression: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		return nil
	}
	return re
}

// CheckTarget is the address and port a check of d probes.
func CheckTarget(d ipvs.Destination) netip.AddrPort { return netip.AddrPortFrom(d.Address, d.Port) }
