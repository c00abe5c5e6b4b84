package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// udp sends c.Send and waits for a reply (one matching c.Expect when set).
func (p *prober) udp() error {
	return p.exchange([]byte(p.c.Send), func(reply []byte) (bool, error) {
		if p.c.Expect != nil && !p.c.Expect.Match(reply) {
			return false, &probeError{fmt.Sprintf("reply does not match %q", p.c.Expect.String()), nil}
		}
		return true, nil
	})
}

// QueryTypes lists the DNS query types a dns check may ask for.
var QueryTypes = []string{"A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT"}

var queryTypes = map[string]dnsmessage.Type{
	"A":     dnsmessage.TypeA,
	"AAAA":  dnsmessage.TypeAAAA,
	"CNAME": dnsmessage.TypeCNAME,
	"MX":    dnsmessage.TypeMX,
	"NS":    dnsmessage.TypeNS,
	"PTR":   dnsmessage.TypePTR,
	"SOA":   dnsmessage.TypeSOA,
	"SRV":   dnsmessage.TypeSRV,
	"TXT":   dnsmessage.TypeTXT,
}

// rcodes names the DNS response codes as operators know them.
var rcodes = map[dnsmessage.RCode]string{
	dnsmessage.RCodeSuccess:        "NOERROR",
	dnsmessage.RCodeFormatError:    "FORMERR",
	dnsmessage.RCodeServerFailure:  "SERVFAIL",
	dnsmessage.RCodeNameError:      "NXDOMAIN",
	dnsmessage.RCodeNotImplemented: "NOTIMP",
	dnsmessage.RCodeRefused:        "REFUSED",
}

// dns asks for c.Query (type c.QueryType) over UDP and passes on an answer
// with the query's ID and rcode NOERROR or NXDOMAIN.
func (p *prober) dns() error {
	name, qtype := p.c.Query, p.c.QueryType
	if name == "" {
		name = DefaultQuery
	}
	if qtype == "" {
		qtype = DefaultQType
	}
	t, ok := queryTypes[strings.ToUpper(qtype)]
	if !ok {
		return &probeError{fmt.Sprintf("unknown query type %q", qtype), nil}
	}
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	n, err := dnsmessage.NewName(name)
	if err != nil {
		return &probeError{fmt.Sprintf("bad query name %q", name), err}
	}
	id := uint16(rand.Uint32())
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, RecursionDesired: true})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return err
	}
	if err := b.Question(dnsmessage.Question{Name: n, Type: t, Class: dnsmessage.ClassINET}); err != nil {
		return &probeError{fmt.Sprintf("bad query %q: %v", name, err), err}
	}
	query, err := b.Finish()
	if err != nil {
		return &probeError{fmt.Sprintf("bad query %q: %v", name, err), err}
	}
	return p.exchange(query, func(reply []byte) (bool, error) {
		var parser dnsmessage.Parser
		h, err := parser.Start(reply)
		if err != nil {
			return false, &probeError{"malformed reply", err}
		}
		if h.ID != id || !h.Response {
			return false, &probeError{"reply to another query", nil}
		}
		if h.RCode != dnsmessage.RCodeSuccess && h.RCode != dnsmessage.RCodeNameError {
			if s, ok := rcodes[h.RCode]; ok {
				return true, &probeError{"rcode " + s, nil}
			}
			return true, &probeError{fmt.Sprintf("rcode %d", h.RCode), nil}
		}
		return true, nil
	})
}

// exchange sends msg to the target over UDP and reads replies until check
// decides (done: its error, nil for a pass, is the outcome) or the probe
// times out. A reply check skips (not done) is remembered: a timeout then
// reports check's error rather than "no reply".
func (p *prober) exchange(msg []byte, check func(reply []byte) (done bool, err error)) error {
	conn, err := p.dial(p.ctx, "udp", p.target.String())
	if err != nil {
		return p.fail(err)
	}
	defer conn.Close()
	if d, ok := p.ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	// A cancel of the caller's context ends the wait too.
	stop := context.AfterFunc(p.ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()

	if _, err := conn.Write(msg); err != nil {
		return p.udpFail(err, nil)
	}
	buf := make([]byte, maxRead)
	var last error // the last reply check refused
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return p.udpFail(err, last)
		}
		done, err := check(buf[:n])
		if done {
			return err
		}
		last = err
	}
}

// udpFail words a UDP read or write error: an ICMP port unreachable is
// "port unreachable", a timeout is "no reply" (or why the replies that came
// did not pass).
func (p *prober) udpFail(err, last error) error {
	var ne net.Error
	switch {
	case p.parent.Err() != nil:
		return &probeError{"canceled", err}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &probeError{"port unreachable", err}
	case p.ctx.Err() != nil, errors.As(err, &ne) && ne.Timeout():
		if last != nil {
			return last
		}
		return &probeError{"no reply", err}
	}
	return p.fail(err)
}
