package reconcile

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs/ipvsconfig"
)

// bigDoc is a document of n services with m real servers each.
func bigDoc(n, m int) []byte {
	var b strings.Builder
	b.WriteString(`{"apiVersion": "ipvsctl/v1", "services": [`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n{\"protocol\": \"tcp\", \"address\": \"10.%d.%d.%d\", \"port\": 80, \"scheduler\": \"rr\", \"destinations\": [", 1+i/65536, i/256%256, i%256)
		for j := range m {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, `{"address": "192.168.%d.%d", "port": 8080, "forward": "masq", "weight": %d}`, i%200, 1+j, 1+j)
		}
		b.WriteString("]}")
	}
	b.WriteString("\n]}\n")
	return []byte(b.String())
}

// BenchmarkLoadPlanApply10k measures the client-side cost of an apply of
// 10k services x 5 servers: parse, validate, plan (into an empty table and
// as a no-op).
func BenchmarkLoadPlan10k(b *testing.B) {
	data := bigDoc(10000, 5)
	for b.Loop() {
		doc, err := ipvsconfig.Parse("x.json", data, "")
		if err != nil {
			b.Fatal(err)
		}
		want, err := doc.Desired()
		if err != nil {
			b.Fatal(err)
		}
		p, err := Compute(&State{}, want, Options{})
		if err != nil || p.Requests() != 60000 {
			b.Fatal(err)
		}
		p, err = Compute(&State{Services: want.Services}, want, Options{Prune: true})
		if err != nil || !p.Empty() {
			b.Fatal(err)
		}
	}
}
