package doctor

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/ipvs-tools/ipvs/ipvsprobe"
)

// Severity says how much a finding matters.
type Severity string

// The severities, from harmless to blocking.
const (
	// OK: the check passed.
	OK Severity = "ok"
	// Info explains a setting or a trade-off; nothing is wrong.
	Info Severity = "info"
	// Warning: likely wrong in some setups, or the check could not run.
	Warning Severity = "warning"
	// Problem: traffic will not flow as configured (exit status 1).
	Problem Severity = "problem"
)

// ObjectKind is what a finding is about.
type ObjectKind string

// The kinds of objects findings name.
const (
	// KindService is a virtual service (tcp:VIP:PORT, fwmark:N).
	KindService ObjectKind = "service"
	// KindInterface is a network interface of the director.
	KindInterface ObjectKind = "interface"
	// KindSysctl is a sysctl, in sysctl(8)'s dotted name.
	KindSysctl ObjectKind = "sysctl"
	// KindScheduler is an IPVS scheduler (ip_vs_NAME module).
	KindScheduler ObjectKind = "scheduler"
)

// Object names what a finding is about.
type Object struct {
	// Kind is the kind of object.
	Kind ObjectKind `json:"kind" yaml:"kind"`
	// Name is its name: "tcp:10.0.0.1:80", "eth0", "net.ipv4.ip_forward".
	Name string `json:"name" yaml:"name"`
}

// String returns "KIND NAME".
func (o Object) String() string { return string(o.Kind) + " " + o.Name }

// The check identifiers.
const (
	// CheckVIP: the VIP of each service is an address of the director.
	CheckVIP = "vip-local"
	// CheckForward: IP forwarding is on where NAT real servers need it.
	CheckForward = "ip-forward"
	// CheckConntrack: net.ipv4.vs.conntrack and the conntrack table, for NAT.
	CheckConntrack = "conntrack"
	// CheckRPFilter: strict reverse-path filtering on the interfaces.
	CheckRPFilter = "rp-filter"
	// CheckScheduler: the schedulers the documents name exist in the kernel.
	CheckScheduler = "scheduler"
	// CheckSync: each sync daemon's interface exists, is up and multicast.
	CheckSync = "sync-interface"
	// CheckConnReuse: the conn_reuse_mode and expire_nodest_conn
	// trade-offs on this kernel.
	CheckConnReuse = "conn-reuse"
)

// Checks lists the check identifiers in the order Run runs them, with a
// title for people.
var Checks = []struct{ ID, Title string }{
	{CheckVIP, "Service addresses"},
	{CheckForward, "Forwarding for NAT"},
	{CheckConntrack, "Connection tracking for NAT"},
	{CheckRPFilter, "Reverse-path filtering"},
	{CheckScheduler, "Schedulers of the documents"},
	{CheckSync, "Sync daemon interfaces"},
	{CheckConnReuse, "Reused client ports and removed servers"},
}

// Finding is one result of one check.
type Finding struct {
	// Check is the check's identifier (CheckVIP, ...).
	Check string `json:"check" yaml:"check"`
	// Severity is ok, info, warning or problem.
	Severity Severity `json:"severity" yaml:"severity"`
	// Object is what the finding is about.
	Object Object `json:"object" yaml:"object"`
	// Message says what was found, in an operator's words.
	Message string `json:"message" yaml:"message"`
	// Action is the command to run next, if any.
	Action string `json:"action,omitempty" yaml:"action,omitempty"`
}

// Interface is a network interface of the director.
type Interface struct {
	// Name is the interface's name.
	Name string
	// Up, Multicast and Loopback are its IFF_UP, IFF_MULTICAST and
	// IFF_LOOPBACK flags.
	Up, Multicast, Loopback bool
	// Addrs are its addresses.
	Addrs []netip.Addr
}

// Host is what the checks read of the director besides its IPVS table.
type Host interface {
	// Kernel returns the kernel's release (uname -r).
	Kernel() string
	// Sysctl returns the value of the sysctl at path under /proc/sys
	// ("net/ipv4/ip_forward"), without surrounding space.
	Sysctl(path string) (string, error)
	// Interfaces lists the network interfaces with their addresses.
	Interfaces() ([]Interface, error)
	// IsLocal reports whether packets for a are delivered to this host:
	// a is one of its addresses or inside a local route.
	IsLocal(a netip.Addr) (bool, error)
}

// ProbeFunc tries IPVS features in a scratch namespace (ipvsprobe.Probe).
type ProbeFunc func(ipvsprobe.Request) (*ipvsprobe.Report, error)

// Document is a document given to the doctor, validated.
type Document struct {
	// Name is how the operator named it (the file).
	Name string
	// Desired is its content.
	Desired *ipvsconfig.Desired
}

// Input is what the checks examine.
type Input struct {
	// Table is the live table.
	Table []ipvs.VirtualServer
	// Daemons are the running sync daemons.
	Daemons []ipvs.Daemon
	// Documents are the documents to check along with the table.
	Documents []Document
	// NetNS is the namespace (--netns), for the commands of the actions.
	NetNS string
}

// Run runs every check and returns the findings, check by check in the
// order of Checks. probe may be nil (the schedulers of documents are
// then not tried).
func Run(in Input, h Host, probe ProbeFunc) []Finding {
	svcs := merge(in)
	var out []Finding
	out = append(out, checkVIPs(in, svcs, h)...)
	out = append(out, checkForwarding(in, svcs, h)...)
	out = append(out, checkConntrack(in, svcs, h)...)
	out = append(out, checkRPFilter(in, svcs, h)...)
	out = append(out, checkSchedulers(in, probe)...)
	out = append(out, checkSync(in, h)...)
	out = append(out, checkConnReuse(in, h)...)
	return out
}

// Count returns how many findings have severity s.
func Count(fs []Finding, s Severity) int {
	n := 0
	for _, f := range fs {
		if f.Severity == s {
			n++
		}
	}
	return n
}

// service is a service to check and where it comes from.
type service struct {
	vs ipvs.VirtualServer
	// doc names the document that lists it and the table does not have
	// yet; empty for a live service.
	doc string
}

func (s service) name() string { return ipvsconfig.FormatServiceKey(s.vs.Service.Key()) }

// where says where a service not yet in the table comes from.
func (s service) where() string {
	if s.doc == "" {
		return ""
	}
	return " (in " + s.doc + ", not yet in the table)"
}

// merge returns the live services, then those of the documents that the
// table does not have, each once, sorted by name within each group.
func merge(in Input) []service {
	seen := map[ipvs.ServiceKey]bool{}
	var out []service
	for _, vs := range in.Table {
		seen[vs.Service.Key()] = true
		out = append(out, service{vs: vs})
	}
	for _, d := range in.Documents {
		if d.Desired == nil {
			continue
		}
		for _, vs := range d.Desired.Services {
			if k := vs.Service.Key(); !seen[k] {
				seen[k] = true
				out = append(out, service{vs: vs, doc: d.Name})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b service) int {
		return cmp.Or(cmp.Compare(a.doc, b.doc), strings.Compare(a.name(), b.name()))
	})
	return out
}

// sh returns a shell command as the operator runs it in in.NetNS.
func (in Input) sh(cmd string) string {
	switch {
	case in.NetNS == "":
		return cmd
	case strings.Contains(in.NetNS, "/"):
		return "nsenter --net=" + in.NetNS + " " + cmd
	}
	return "ip netns exec " + in.NetNS + " " + cmd
}

// ctl returns an ipvsctl command line for in.NetNS.
func (in Input) ctl(args string) string {
	if in.NetNS == "" {
		return "ipvsctl " + args
	}
	return "ipvsctl --netns " + in.NetNS + " " + args
}

// sysctlName returns sysctl(8)'s name of a path under /proc/sys: dots in
// a component (eth0.100) become slashes, slashes become dots.
func sysctlName(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(p, ".", "/")
	}
	return strings.Join(parts, ".")
}

// sysctlInt reads an integer sysctl.
func sysctlInt(h Host, path string) (int, error) {
	v, err := h.Sysctl(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(v))
}

// kernelAtLeast reports whether release (uname -r: "6.1.0-18-amd64") is
// at least major.minor; ok is false when release is not understood.
func kernelAtLeast(release string, major, minor int) (atLeast, ok bool) {
	f := strings.FieldsFunc(release, func(r rune) bool { return r < '0' || r > '9' })
	if len(f) < 2 {
		return false, false
	}
	ma, err1 := strconv.Atoi(f[0])
	mi, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return false, false
	}
	return ma > major || ma == major && mi >= minor, true
}
