package healthcheck

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

// BenchmarkHTTPProbe measures one http check against a local server: the
// CPU a probe costs the agent (the server's share is in the same
// process, so compare runs, not absolute values).
func BenchmarkHTTPProbe(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") }))
	defer srv.Close()
	target := netip.MustParseAddrPort(srv.Listener.Addr().(*net.TCPAddr).String())
	c := &Check{Type: HTTP, Timeout: time.Second, Interval: time.Second}
	b.ReportAllocs()
	for b.Loop() {
		if r := Probe(context.Background(), Env{}, c, target); !r.OK {
			b.Fatal(r.Err)
		}
	}
}

// BenchmarkTCPProbe compares the tcp check through net.Dialer (as with an
// Env.Dial) with its own system calls (connectOnly), against a local
// listener.
func BenchmarkTCPProbe(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	target := netip.MustParseAddrPort(ln.Addr().String())
	c := &Check{Type: TCP, Timeout: time.Second, Interval: time.Second}
	var d net.Dialer
	for _, bc := range []struct {
		name string
		env  Env
	}{{"dialer", Env{Dial: d.DialContext}}, {"syscalls", Env{}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r := Probe(context.Background(), bc.env, c, target); !r.OK {
					b.Fatal(r.Err)
				}
			}
		})
	}
}
