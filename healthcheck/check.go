package healthcheck

import (
	"context"
	"net"
	"net/netip"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Type is the kind of a check.
type Type string

// The check types.
const (
	// TCP connects and closes: the server passes when the handshake
	// completes within the timeout.
	TCP Type = "tcp"
	// HTTP sends one request and checks the status (and optionally the
	// body).
	HTTP Type = "http"
	// HTTPS is HTTP over TLS; the certificate is verified only when asked.
	HTTPS Type = "https"
	// UDP sends a datagram and passes when a reply comes (matching Expect
	// when set); an ICMP port unreachable fails at once.
	UDP Type = "udp"
	// DNS sends a query over UDP and passes on an answer with rcode
	// NOERROR (or NXDOMAIN when the name does not exist: the server is up).
	DNS Type = "dns"
	// Exec runs a command; its exit status decides.
	Exec Type = "exec"
)

// Types lists every check type, in documentation order.
var Types = []Type{TCP, HTTP, HTTPS, UDP, DNS, Exec}

// Defaults for the fields a document leaves out.
const (
	DefaultInterval = 5 * time.Second
	DefaultTimeout  = 2 * time.Second
	DefaultRise     = 2
	DefaultFall     = 3
	DefaultPath     = "/"
	DefaultMethod   = "GET"
	DefaultQuery    = "."
	DefaultQType    = "A"
)

// Check is a validated check: what to probe and how often, without the
// server it is pointed at. Two servers with equal Keys (same check, same
// target) are probed once.
type Check struct {
	Type Type
	// Port is a side port: probe this port instead of the server's.
	Port uint16
	// Interval is the time between two probes of one target; Timeout
	// bounds one probe (Timeout <= Interval).
	Interval, Timeout time.Duration
	// Rise consecutive successes bring a server up, Fall consecutive
	// failures take it down.
	Rise, Fall int
	// Grace is a start-up grace: failures in the first Grace after the
	// check starts do not count.
	Grace time.Duration

	// HTTP and HTTPS.
	Method, Path, Host string
	// ExpectStatus lists the statuses that pass; empty means 200-399.
	ExpectStatus []int
	// ExpectBody, when set, must match the body (its first 64 KiB).
	ExpectBody *regexp.Regexp
	// TLSVerify verifies the certificate chain and name (HTTPS).
	TLSVerify bool
	// SNI is the TLS server name (default: Host, else none).
	SNI string

	// UDP: Send is the payload (default empty); Expect, when set, must
	// match the reply.
	Send   string
	Expect *regexp.Regexp

	// DNS: the name and type asked for (default "." and A).
	Query, QueryType string

	// Exec: the command and its arguments; the server's address and port
	// are in the environment as IPVS_SERVER_ADDRESS and IPVS_SERVER_PORT.
	Command []string
	// DynamicWeight takes the weight from the command, as keepalived's
	// misc_dynamic: exit status 0 passes, 1 fails, 2..255 passes with
	// weight status-2; a last output line "weight N" also sets it.
	DynamicWeight bool
}

// Key identifies the probe of c against target: the check's settings and
// the address and port actually probed. Servers that share a Key share
// one probe.
func (c *Check) Key(target netip.AddrPort) string {
	if c.Port != 0 {
		target = netip.AddrPortFrom(target.Addr(), c.Port)
	}
	var b strings.Builder
	b.WriteString(string(c.Type))
	b.WriteByte(' ')
	b.WriteString(target.String())
	for _, f := range []string{c.Interval.String(), c.Timeout.String(), strconv.Itoa(c.Rise), strconv.Itoa(c.Fall), c.Grace.String(),
		c.Method, c.Path, c.Host, ints(c.ExpectStatus), re(c.ExpectBody), strconv.FormatBool(c.TLSVerify), c.SNI,
		strconv.Quote(c.Send), re(c.Expect), c.Query, c.QueryType, strconv.Quote(strings.Join(c.Command, "\x00")), strconv.FormatBool(c.DynamicWeight)} {
		b.WriteByte('|')
		b.WriteString(f)
	}
	return b.String()
}

func ints(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func re(r *regexp.Regexp) string {
	if r == nil {
		return ""
	}
	return strconv.Quote(r.String())
}

// Target returns the address and port c probes for a server at addr.
func (c *Check) Target(addr netip.AddrPort) netip.AddrPort {
	if c.Port != 0 {
		return netip.AddrPortFrom(addr.Addr(), c.Port)
	}
	return addr
}

// Result is the outcome of one probe.
type Result struct {
	// OK reports whether the server passed.
	OK bool
	// Err says why it did not (nil when OK), in words for an operator:
	// "connection refused", "status 503 (want 200)", "timed out after 500ms".
	Err error
	// Latency is the time the probe took.
	Latency time.Duration
	// Weight is the weight an exec check with DynamicWeight asked for, or
	// -1.
	Weight int
}

// Env is where probes run: how they open connections and start commands.
// The zero value uses the caller's network namespace.
type Env struct {
	// Dial opens a connection ("tcp", "udp"); nil uses a net.Dialer.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// Start starts a command; nil uses cmd.Start.
	Start func(cmd *exec.Cmd) error
	// Socket opens a socket (socket(2)'s arguments) for a tcp check when
	// Dial is nil; nil uses socket(2) in the caller's namespace. A
	// socket stays in the namespace it was opened in, so this is all a
	// tcp check needs to probe from another one.
	Socket func(domain, typ, proto int) (int, error)
}
