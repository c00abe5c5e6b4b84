package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/dns/dnsmessage"
)

// outcome is what a test checks of a Result: not its latency.
type outcome struct {
	OK     bool
	Err    string
	Weight int
}

func outcomeOf(r Result) outcome {
	o := outcome{OK: r.OK, Weight: r.Weight}
	if r.Err != nil {
		o.Err = r.Err.Error()
	}
	return o
}

var (
	pass = outcome{OK: true, Weight: -1}
)

func fail(msg string) outcome { return outcome{Err: msg, Weight: -1} }

// closedPort returns a loopback port nothing listens on (network "tcp" or
// "udp").
func closedPort(t *testing.T, network string) netip.AddrPort {
	t.Helper()
	var addr net.Addr
	switch network {
	case "tcp":
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = l.Addr()
		l.Close()
	default:
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = c.LocalAddr()
		c.Close()
	}
	return netip.MustParseAddrPort(addr.String())
}

// listenTCP starts a listener accepting (and closing) connections.
func listenTCP(t *testing.T, addr string) netip.AddrPort {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("listen %s: %v", addr, err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return netip.MustParseAddrPort(l.Addr().String())
}

// blackhole is an Env whose Dial waits for the context to end.
var blackhole = Env{Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
	<-ctx.Done()
	return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
}}

func TestProbeTCP(t *testing.T) {
	up := listenTCP(t, "127.0.0.1:0")
	for _, c := range []struct {
		name   string
		env    Env
		check  Check
		target netip.AddrPort
		want   outcome
	}{
		{name: "connects", target: up, want: pass},
		{name: "refused", target: closedPort(t, "tcp"), want: fail("connection refused")},
		{name: "side port", check: Check{Port: up.Port()}, target: netip.AddrPortFrom(up.Addr(), 1), want: pass},
		{name: "timeout", env: blackhole, check: Check{Timeout: 50 * time.Millisecond}, target: up, want: fail("timed out after 50ms")},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.check.Type = TCP
			if diff := cmp.Diff(c.want, outcomeOf(Probe(t.Context(), c.env, &c.check, c.target))); diff != "" {
				t.Errorf("Probe (-want +got):\n%s", diff)
			}
		})
	}
}

// TestProbeIPv6: IPv6 targets (bracketed in URLs), where the host has an
// IPv6 loopback.
func TestProbeIPv6(t *testing.T) {
	up := listenTCP(t, "[::1]:0")
	t.Run("tcp", func(t *testing.T) {
		r := Probe(t.Context(), Env{}, &Check{Type: TCP}, up)
		if diff := cmp.Diff(pass, outcomeOf(r)); diff != "" {
			t.Errorf("Probe (-want +got):\n%s", diff)
		}
	})
	t.Run("http", func(t *testing.T) {
		l, err := net.Listen("tcp", "[::1]:0")
		if err != nil {
			t.Fatal(err)
		}
		h := &httpServer{}
		s := httptest.NewUnstartedServer(h)
		s.Listener.Close()
		s.Listener = l
		s.Start()
		defer s.Close()
		r := Probe(t.Context(), Env{}, &Check{Type: HTTP, Path: "/v6"}, serverAddr(t, s))
		if diff := cmp.Diff(pass, outcomeOf(r)); diff != "" {
			t.Errorf("Probe (-want +got):\n%s", diff)
		}
		want := []request{{Method: "GET", Path: "/v6", Host: l.Addr().String(), Close: true}}
		if diff := cmp.Diff(want, h.requests()); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
	})
}

// TestProbeErrorWraps: the operator's words keep the cause.
func TestProbeErrorWraps(t *testing.T) {
	r := Probe(t.Context(), Env{}, &Check{Type: TCP}, closedPort(t, "tcp"))
	if !errors.Is(r.Err, syscall.ECONNREFUSED) {
		t.Errorf("errors.Is(%v, ECONNREFUSED) = false", r.Err)
	}
	if r.Latency <= 0 {
		t.Errorf("Latency = %v", r.Latency)
	}
}

// TestProbeCanceled: the caller's cancel ends a probe at once.
func TestProbeCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := Probe(ctx, blackhole, &Check{Type: TCP, Timeout: time.Minute}, netip.MustParseAddrPort("127.0.0.1:1"))
	if diff := cmp.Diff(fail("canceled"), outcomeOf(r)); diff != "" {
		t.Errorf("Probe (-want +got):\n%s", diff)
	}
}

// request is what an HTTP test server saw.
type request struct {
	Method, Path, Host, SNI string
	Close                   bool
}

// httpServer records the requests it answers; /status/N answers N, /slow
// waits for the client to go, /redirect redirects to /, anything else
// answers 200 "ok".
type httpServer struct {
	mu   sync.Mutex
	seen []request
}

func (s *httpServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := request{Method: r.Method, Path: r.URL.Path, Host: r.Host, Close: r.Close}
	if r.TLS != nil {
		req.SNI = r.TLS.ServerName
	}
	s.mu.Lock()
	s.seen = append(s.seen, req)
	s.mu.Unlock()
	var status int
	switch {
	case r.URL.Path == "/slow":
		<-r.Context().Done()
		return
	case r.URL.Path == "/redirect":
		http.Redirect(w, r, "/", http.StatusFound)
		return
	case scanStatus(r.URL.Path, &status):
		w.WriteHeader(status)
		fmt.Fprint(w, "status")
		return
	}
	fmt.Fprint(w, "ok")
}

// scanStatus reads N off a path /status/N.
func scanStatus(path string, status *int) bool {
	n, err := fmt.Sscanf(path, "/status/%d", status)
	return n == 1 && err == nil
}

func (s *httpServer) requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.seen
	s.seen = nil
	return r
}

func serverAddr(t *testing.T, s *httptest.Server) netip.AddrPort {
	t.Helper()
	return netip.MustParseAddrPort(s.Listener.Addr().String())
}

func TestProbeHTTP(t *testing.T) {
	h := &httpServer{}
	plain := httptest.NewServer(h)
	defer plain.Close()
	secure := httptest.NewUnstartedServer(h)
	secure.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake of "https verified"
	secure.StartTLS()
	defer secure.Close()
	var dials int
	counting := Env{Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		dials++
		var d net.Dialer
		return d.DialContext(ctx, network, address)
	}}

	for _, c := range []struct {
		name   string
		env    Env
		server *httptest.Server
		check  Check
		want   outcome
		seen   []request
		dials  int
	}{{
		name:   "get",
		server: plain,
		check:  Check{Type: HTTP},
		want:   pass,
		seen:   []request{{Method: "GET", Path: "/", Host: plain.Listener.Addr().String(), Close: true}},
	}, {
		name:   "method path host",
		server: plain,
		check:  Check{Type: HTTP, Method: "HEAD", Path: "/health", Host: "www.example.com"},
		want:   pass,
		seen:   []request{{Method: "HEAD", Path: "/health", Host: "www.example.com", Close: true}},
	}, {
		name:   "bad status",
		server: plain,
		check:  Check{Type: HTTP, Path: "/status/503"},
		want:   fail("status 503 (want 200-399)"),
		seen:   []request{{Method: "GET", Path: "/status/503", Host: plain.Listener.Addr().String(), Close: true}},
	}, {
		name:   "expected status",
		server: plain,
		check:  Check{Type: HTTP, Path: "/status/503", ExpectStatus: []int{200, 503}},
		want:   pass,
		seen:   []request{{Method: "GET", Path: "/status/503", Host: plain.Listener.Addr().String(), Close: true}},
	}, {
		name:   "unexpected status",
		server: plain,
		check:  Check{Type: HTTP, ExpectStatus: []int{204}},
		want:   fail("status 200 (want 204)"),
		seen:   []request{{Method: "GET", Path: "/", Host: plain.Listener.Addr().String(), Close: true}},
	}, {
		name:   "redirect not followed",
		server: plain,
		check:  Check{Type: HTTP, Path: "/redirect", ExpectStatus: []int{302}},
		want:   pass,
		seen:   []request{{Method: "GET", Path: "/redirect", Host: plain.Listener.Addr().String(), Close: true}},
	}, {
		name:   "body matches",
		server: plain,
		check:  Check{Type: HTTP, ExpectBody: regexp.MustCompile("^ok$")},
		want:   pass,
		seen:   []request{{Method: "GET", Path: "/", Host: plain.Listener.Addr().String(), Close: true}},
	}, {
		name:   "body does not match",
		server: plain,
		check:  Check{Type: HTTP, ExpectBody: regexp.MustCompile("healthy")},
		want:   fail(`body does not match "healthy"`),
		seen:   []request{{Method: "GET", Path: "/", Host: plain.Listener.Addr().String(), Close: true}},
	}, {
		name:   "timeout",
		server: plain,
		check:  Check{Type: HTTP, Path: "/slow", Timeout: 100 * time.Millisecond},
		want:   fail("timed out after 100ms"),
		seen:   []request{{Method: "GET", Path: "/slow", Host: plain.Listener.Addr().String(), Close: true}},
	}, {
		name:   "through env.Dial",
		env:    counting,
		server: plain,
		check:  Check{Type: HTTP},
		want:   pass,
		seen:   []request{{Method: "GET", Path: "/", Host: plain.Listener.Addr().String(), Close: true}},
		dials:  1,
	}, {
		name:   "https",
		server: secure,
		check:  Check{Type: HTTPS},
		want:   pass,
		seen:   []request{{Method: "GET", Path: "/", Host: secure.Listener.Addr().String(), Close: true}},
	}, {
		name:   "https sni from host",
		server: secure,
		check:  Check{Type: HTTPS, Host: "www.example.com:8443"},
		want:   pass,
		seen:   []request{{Method: "GET", Path: "/", Host: "www.example.com:8443", SNI: "www.example.com", Close: true}},
	}, {
		name:   "https sni",
		server: secure,
		check:  Check{Type: HTTPS, Host: "www.example.com", SNI: "api.example.com"},
		want:   pass,
		seen:   []request{{Method: "GET", Path: "/", Host: "www.example.com", SNI: "api.example.com", Close: true}},
	}, {
		name:   "https verified",
		server: secure,
		check:  Check{Type: HTTPS, TLSVerify: true},
		want:   fail("tls: failed to verify certificate: x509: certificate signed by unknown authority"),
	}, {
		name:   "plain to tls",
		server: plain,
		check:  Check{Type: HTTPS},
		want:   fail("not TLS: the server answered in plain text (an http port?)"),
	}} {
		t.Run(c.name, func(t *testing.T) {
			h.requests()
			dials = 0
			r := Probe(t.Context(), c.env, &c.check, serverAddr(t, c.server))
			if diff := cmp.Diff(c.want, outcomeOf(r)); diff != "" {
				t.Errorf("Probe (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.seen, h.requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if dials != c.dials {
				t.Errorf("env.Dial called %d times, want %d", dials, c.dials)
			}
		})
	}
}

// TestProbeHTTPConnectionsClosed: every probe opens a connection and
// closes it.
func TestProbeHTTPConnectionsClosed(t *testing.T) {
	var mu sync.Mutex
	states := map[http.ConnState]int{}
	s := httptest.NewUnstartedServer(&httpServer{})
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		mu.Lock()
		states[st]++
		mu.Unlock()
	}
	s.Start()
	defer s.Close()
	for range 3 {
		if r := Probe(t.Context(), Env{}, &Check{Type: HTTP}, serverAddr(t, s)); !r.OK {
			t.Fatal(r.Err)
		}
	}
	want := map[http.ConnState]int{http.StateNew: 3, http.StateActive: 3, http.StateClosed: 3}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		diff := cmp.Diff(want, states)
		mu.Unlock()
		if diff == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("connection states (-want +got):\n%s", diff)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// udpServer answers each datagram with reply(datagram); a nil reply is
// no answer.
func udpServer(t *testing.T, reply func([]byte) []byte) netip.AddrPort {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			if r := reply(buf[:n]); r != nil {
				c.WriteTo(r, from)
			}
		}
	}()
	return netip.MustParseAddrPort(c.LocalAddr().String())
}

func TestProbeUDP(t *testing.T) {
	echo := udpServer(t, func(b []byte) []byte { return append([]byte("echo:"), b...) })
	silent := udpServer(t, func([]byte) []byte { return nil })
	for _, c := range []struct {
		name   string
		check  Check
		target netip.AddrPort
		want   outcome
	}{
		{name: "any reply", check: Check{Send: "ping"}, target: echo, want: pass},
		{name: "empty datagram", target: echo, want: pass},
		{name: "reply matches", check: Check{Send: "ping", Expect: regexp.MustCompile("^echo:ping$")}, target: echo, want: pass},
		{name: "reply does not match", check: Check{Send: "ping", Expect: regexp.MustCompile("pong"), Timeout: 100 * time.Millisecond}, target: echo, want: fail(`reply does not match "pong"`)},
		{name: "no reply", check: Check{Send: "ping", Timeout: 100 * time.Millisecond}, target: silent, want: fail("no reply")},
		{name: "port unreachable", check: Check{Send: "ping"}, target: closedPort(t, "udp"), want: fail("port unreachable")},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.check.Type = UDP
			if diff := cmp.Diff(c.want, outcomeOf(Probe(t.Context(), Env{}, &c.check, c.target))); diff != "" {
				t.Errorf("Probe (-want +got):\n%s", diff)
			}
		})
	}
}

// dnsQuestion is what the test DNS server was asked.
type dnsQuestion struct {
	Name string
	Type dnsmessage.Type
	RD   bool
}

// dnsServer answers a query for name N with the rcode named by N's first
// label ("noerror.", "nxdomain.", "servfail.", "refused."); "wrongid."
// gets an answer with another ID and "garbage." a malformed one, both
// followed by a NOERROR answer when the second label is "then".
func dnsServer(t *testing.T, asked chan<- dnsQuestion) netip.AddrPort {
	t.Helper()
	return udpServer(t, func(b []byte) []byte {
		var p dnsmessage.Parser
		h, err := p.Start(b)
		if err != nil {
			t.Errorf("dns server: %v", err)
			return nil
		}
		q, err := p.Question()
		if err != nil {
			t.Errorf("dns server: %v", err)
			return nil
		}
		asked <- dnsQuestion{Name: q.Name.String(), Type: q.Type, RD: h.RecursionDesired}
		answer := func(id uint16, rcode dnsmessage.RCode) []byte {
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, Response: true, RCode: rcode})
			b.StartQuestions()
			b.Question(q)
			m, err := b.Finish()
			if err != nil {
				t.Errorf("dns server: %v", err)
			}
			return m
		}
		switch q.Name.String() {
		case "noerror.", ".":
			return answer(h.ID, dnsmessage.RCodeSuccess)
		case "nxdomain.":
			return answer(h.ID, dnsmessage.RCodeNameError)
		case "servfail.":
			return answer(h.ID, dnsmessage.RCodeServerFailure)
		case "refused.":
			return answer(h.ID, dnsmessage.RCodeRefused)
		case "wrongid.":
			return answer(h.ID+1, dnsmessage.RCodeSuccess)
		case "garbage.":
			return []byte{1, 2, 3}
		}
		return nil
	})
}

func TestProbeDNS(t *testing.T) {
	asked := make(chan dnsQuestion, 1)
	server := dnsServer(t, asked)
	for _, c := range []struct {
		name  string
		check Check
		want  outcome
		asked dnsQuestion
	}{
		{name: "default", want: pass, asked: dnsQuestion{Name: ".", Type: dnsmessage.TypeA, RD: true}},
		{name: "noerror", check: Check{Query: "noerror", QueryType: "AAAA"}, want: pass, asked: dnsQuestion{Name: "noerror.", Type: dnsmessage.TypeAAAA, RD: true}},
		{name: "nxdomain", check: Check{Query: "nxdomain.", QueryType: "soa"}, want: pass, asked: dnsQuestion{Name: "nxdomain.", Type: dnsmessage.TypeSOA, RD: true}},
		{name: "servfail", check: Check{Query: "servfail.", QueryType: "TXT"}, want: fail("rcode SERVFAIL"), asked: dnsQuestion{Name: "servfail.", Type: dnsmessage.TypeTXT, RD: true}},
		{name: "refused", check: Check{Query: "refused.", QueryType: "NS"}, want: fail("rcode REFUSED"), asked: dnsQuestion{Name: "refused.", Type: dnsmessage.TypeNS, RD: true}},
		{name: "wrong id", check: Check{Query: "wrongid.", Timeout: 100 * time.Millisecond}, want: fail("reply to another query"), asked: dnsQuestion{Name: "wrongid.", Type: dnsmessage.TypeA, RD: true}},
		{name: "malformed", check: Check{Query: "garbage.", Timeout: 100 * time.Millisecond}, want: fail("malformed reply"), asked: dnsQuestion{Name: "garbage.", Type: dnsmessage.TypeA, RD: true}},
		{name: "no reply", check: Check{Query: "silent.", Timeout: 100 * time.Millisecond}, want: fail("no reply"), asked: dnsQuestion{Name: "silent.", Type: dnsmessage.TypeA, RD: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.check.Type = DNS
			if diff := cmp.Diff(c.want, outcomeOf(Probe(t.Context(), Env{}, &c.check, server))); diff != "" {
				t.Errorf("Probe (-want +got):\n%s", diff)
			}
			select {
			case q := <-asked:
				if diff := cmp.Diff(c.asked, q); diff != "" {
					t.Errorf("question (-want +got):\n%s", diff)
				}
			case <-time.After(5 * time.Second):
				t.Error("the server was not asked")
			}
		})
	}

	t.Run("unknown type", func(t *testing.T) {
		r := Probe(t.Context(), Env{}, &Check{Type: DNS, QueryType: "BOGUS"}, server)
		if diff := cmp.Diff(fail(`unknown query type "BOGUS"`), outcomeOf(r)); diff != "" {
			t.Errorf("Probe (-want +got):\n%s", diff)
		}
	})
	t.Run("port unreachable", func(t *testing.T) {
		r := Probe(t.Context(), Env{}, &Check{Type: DNS}, closedPort(t, "udp"))
		if diff := cmp.Diff(fail("port unreachable"), outcomeOf(r)); diff != "" {
			t.Errorf("Probe (-want +got):\n%s", diff)
		}
	})
}

// TestQueryTypes: every listed query type maps to a DNS type.
func TestQueryTypes(t *testing.T) {
	for _, name := range QueryTypes {
		if _, ok := queryTypes[name]; !ok {
			t.Errorf("%s is listed but not mapped", name)
		}
	}
	if len(queryTypes) != len(QueryTypes) {
		t.Errorf("%d query types mapped, %d listed", len(queryTypes), len(QueryTypes))
	}
}

// TestProbeTCPSocketHook: the tcp check opens its socket through
// Env.Socket (the agent's way into another namespace), IPv4 and IPv6,
// and reports a refused connection in words.
func TestProbeTCPSocketHook(t *testing.T) {
	for _, network := range []string{"tcp4", "tcp6"} {
		t.Run(network, func(t *testing.T) {
			addr := "127.0.0.1:0"
			if network == "tcp6" {
				addr = "[::1]:0"
			}
			ln, err := net.Listen(network, addr)
			if err != nil {
				t.Skipf("no %s loopback: %v", network, err)
			}
			target := netip.MustParseAddrPort(ln.Addr().String())
			opened := 0
			env := Env{Socket: func(domain, typ, proto int) (int, error) {
				opened++
				return syscall.Socket(domain, typ, proto)
			}}
			c := &Check{Type: TCP, Timeout: 5 * time.Second}
			if r := Probe(t.Context(), env, c, target); !r.OK || opened != 1 {
				t.Errorf("open port: %+v, %d sockets opened", r, opened)
			}
			ln.Close()
			r := Probe(t.Context(), env, c, target)
			if r.OK || r.Err == nil || r.Err.Error() != "connection refused" {
				t.Errorf("closed port: %+v", r)
			}
		})
	}
}

// TestProbeHTTPAndUDPSocketHook: http and udp checks also open their
// socket through Env.Socket when it is set.
func TestProbeHTTPAndUDPSocketHook(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") }))
	defer srv.Close()
	uc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := uc.ReadFrom(buf)
			if err != nil {
				return
			}
			uc.WriteTo(buf[:n], from)
		}
	}()
	opened := 0
	env := Env{Socket: func(domain, typ, proto int) (int, error) {
		opened++
		return syscall.Socket(domain, typ, proto)
	}}
	for _, c := range []struct {
		check  Check
		target string
	}{
		{Check{Type: HTTP, Timeout: 5 * time.Second, ExpectBody: regexp.MustCompile("ok")}, srv.Listener.Addr().String()},
		{Check{Type: UDP, Timeout: 5 * time.Second, Send: "ping", Expect: regexp.MustCompile("ping")}, uc.LocalAddr().String()},
	} {
		if r := Probe(t.Context(), env, &c.check, netip.MustParseAddrPort(c.target)); !r.OK {
			t.Errorf("%s: %v", c.check.Type, r.Err)
		}
	}
	if opened != 2 {
		t.Errorf("%d sockets through Env.Socket, want 2", opened)
	}
}
