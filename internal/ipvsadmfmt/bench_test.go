package ipvsadmfmt

import (
	"io"
	"net/netip"
	"testing"

	"github.com/ipvs-tools/ipvs"
)

// bigSnapshot is 10,000 services with 10 destinations each (110,000 rows).
func bigSnapshot() []ServiceEntry {
	out := make([]ServiceEntry, 10000)
	for i := range out {
		s := ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP,
			Address: netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}), Port: 80, Scheduler: "wlc", Netmask: 0xffffffff}
		ds := make([]ipvs.Destination, 10)
		for j := range ds {
			ds[j] = ipvs.Destination{Family: ipvs.AFInet, Address: netip.AddrFrom4([4]byte{192, 168, byte(9 - j), 1}),
				Port: 8080, Weight: 1, ActiveConns: uint32(j), InactiveConns: uint32(i)}
		}
		out[i] = ServiceEntry{Service: s, Dests: ds}
	}
	return out
}

func benchmarkListing(b *testing.B, f Format) {
	entries := bigSnapshot()
	svcs := make([]ipvs.Service, len(entries))
	for i := range entries {
		svcs[i] = entries[i].Service
	}
	var (
		sc  Scratch
		buf []byte
	)
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		n = 0
		for _, i := range SortedOrder(svcs) {
			buf = AppendService(buf[:0], &entries[i], f, nil, &sc)
			n += int64(len(buf))
			io.Discard.Write(buf)
		}
	}
	b.SetBytes(n)
}

// BenchmarkListLn110k formats ipvsadm -Ln of a 110,000-row snapshot.
func BenchmarkListLn110k(b *testing.B) { benchmarkListing(b, Format{Numeric: true}) }

// BenchmarkListSn110k formats ipvsadm -Sn of a 110,000-row snapshot.
func BenchmarkListSn110k(b *testing.B) { benchmarkListing(b, Format{Numeric: true, Rule: true}) }
