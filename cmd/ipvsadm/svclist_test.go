package main

import (
	"math/rand/v2"
	"testing"

	"github.com/ipvs-tools/ipvs/ipvsadmfmt"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
)

// TestSvcListRoundTrip: the compact form gives every service back (but
// its statistics), sorts as ipvsadmfmt.SortedOrder does, and drops
// repeats keeping the first.
func TestSvcListRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	for iter := 0; iter < 200; iter++ {
		f := randomFake(r)
		var l svcList
		var svcs []netlinkipvs.Service
		for i := range f.svcs {
			s := f.svcs[i]
			if s.FWMark != 0 {
				s.Protocol = 0
			}
			s.PEName = []string{"", "sip"}[r.IntN(2)]
			s.Flags |= netlinkipvs.ServiceFlags(r.IntN(64)) &^ 2
			svcs = append(svcs, s)
			l.add(&s)
		}
		for i := range svcs {
			if got := l.service(i); got != svcs[i] {
				t.Fatalf("service %d: got %+v, want %+v", i, got, svcs[i])
			}
		}
		want := ipvsadmfmt.SortedOrder(svcs)
		got := l.sortedOrder()
		for i := range want {
			if want[i] != got[i] {
				t.Fatalf("order %v, want %v", got, want)
			}
		}
		// Repeats: append copies of random services.
		n := len(svcs)
		for k := r.IntN(4); k > 0; k-- {
			l.add(&svcs[r.IntN(n)])
		}
		l.dropRepeats()
		if len(l.svcs) != n {
			t.Fatalf("%d services after dropping repeats, want %d", len(l.svcs), n)
		}
		for i := range svcs {
			if got := l.service(i); got != svcs[i] {
				t.Fatalf("after dropping repeats, service %d: got %+v, want %+v", i, got, svcs[i])
			}
		}
	}
}
