package agent

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/healthcheck"
)

// scaleDoc is services × perService servers drawn from pool, checked by
// tcp, as the side-by-side benchmark's scale run.
func scaleDoc(services, perService, pool int) string {
	var b strings.Builder
	b.WriteString("apiVersion: ipvsctl/v1\nservices:\n")
	for i := range services {
		fmt.Fprintf(&b, "  - protocol: tcp\n    address: 10.60.%d.%d\n    port: 80\n    healthCheck: {type: tcp, interval: 1s, rise: 1, fall: 2}\n    destinations:\n", i/250, i%250+1)
		for j := range perService {
			s := (i*perService + j) % pool
			fmt.Fprintf(&b, "      - {address: 10.50.%d.%d, forward: masq}\n", s/250, s%250+2)
		}
	}
	return b.String()
}

// BenchmarkFlipsAtScale: 1,000 services × 10 servers from 200, every
// server's first result (up) handled: 200 flips of 50 requests each.
func BenchmarkFlipsAtScale(b *testing.B) {
	doc := scaleDoc(1000, 10, 200)
	for range b.N {
		b.StopTimer()
		k := fakeipvs.New()
		h := start(&testing.T{}, k, parse(&testing.T{}, doc, 1), Options{})
		var targets []healthcheck.Target
		h.p.mu.Lock()
		targets = append(targets, h.p.targets...)
		h.p.mu.Unlock()
		b.StartTimer()
		t0 := time.Now()
		for _, tg := range targets {
			h.a.Transition(h.ctx, healthcheck.Transition{Key: tg.Key(), Target: tg, To: healthcheck.Up, Weight: -1})
		}
		h.settle()
		b.ReportMetric(float64(time.Since(t0).Microseconds())/float64(len(targets)), "µs/flip")
		h.cancel()
		<-h.done
	}
}
