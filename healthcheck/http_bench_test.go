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
