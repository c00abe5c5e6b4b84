package main

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/ipvsadmfmt"
)

// TestSvcListRoundTrip: the compact form gives every service back (but
// its statistics), sorts as ipvsadmfmt.SortedOrder does, and drops
// repeats keeping the first.
func TestSvcListRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	for iter := 0; iter < 200; iter++ {
		f := randomFake(r)
		var l svcList
		var svcs []ipvs.Service
		for _, s := range f.services() {
			s.PEName = []string{"", "sip"}[r.IntN(2)]
			s.Flags |= ipvs.ServiceFlags(r.IntN(64)) &^ 2
			s.Stats64 = false // not kept: no format of ipvsadm's depends on it
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
		if l.len() != n {
			t.Fatalf("%d services after dropping repeats, want %d", l.len(), n)
		}
		for i := range svcs {
			if got := l.service(i); got != svcs[i] {
				t.Fatalf("after dropping repeats, service %d: got %+v, want %+v", i, got, svcs[i])
			}
		}
	}
}

// TestSvcListBlocks crosses block boundaries: thousands of services,
// repeats spread over blocks, and a dump that starts over (truncate(0)).
func TestSvcListBlocks(t *testing.T) {
	svc := func(i int) ipvs.Service {
		return ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP,
			Address: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), Port: 80,
			Scheduler: "wlc", Netmask: 0xffffffff}
	}
	const n = 3*blockLen + 17
	var l svcList
	for i := range 500 { // an interrupted first dump
		s := svc(i)
		l.add(&s)
	}
	l.svcs.truncate(0)
	if l.len() != 0 {
		t.Fatalf("len %d after truncate(0)", l.len())
	}
	for i := range n {
		s := svc(i)
		l.add(&s)
		if i%700 == 0 { // a repeat, dropped later
			l.add(&s)
		}
	}
	l.dropRepeats()
	if l.len() != n {
		t.Fatalf("%d services, want %d", l.len(), n)
	}
	for i := range n {
		if got, want := l.service(i), svc(i); got != want {
			t.Fatalf("service %d: got %+v, want %+v", i, got, want)
		}
	}
	// Adding after a truncate into the middle of a block continues there.
	l.svcs.truncate(blockLen + 5)
	s := svc(n)
	l.add(&s)
	if l.len() != blockLen+6 || l.service(blockLen+5) != s || l.service(blockLen+4) != svc(blockLen+4) {
		t.Fatalf("after truncate and add: len %d, last %+v", l.len(), l.service(l.len()-1))
	}
}
