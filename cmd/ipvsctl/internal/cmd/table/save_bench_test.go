package table

import (
	"io"
	"net/netip"
	"testing"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	_ "github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil" // -update flag
)

func bigTable(n, m int) []ipvs.VirtualServer {
	vss := make([]ipvs.VirtualServer, n)
	for i := range vss {
		vss[i].Service = ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP,
			Address: netip.AddrFrom4([4]byte{10, byte(1 + i/65536), byte(i / 256), byte(i)}), Port: 80, Scheduler: "rr", Netmask: 0xffffffff}
		for j := range m {
			vss[i].Destinations = append(vss[i].Destinations, ipvs.Destination{Family: ipvs.AFInet,
				Address: netip.AddrFrom4([4]byte{192, 168, byte(i % 200), byte(1 + j)}), Port: 8080, Weight: uint32(j + 1)})
		}
	}
	return vss
}

// BenchmarkSaveRules10k: sorting and writing 10k services x 5 servers.
func BenchmarkSaveRules10k(b *testing.B) {
	vss := bigTable(10000, 5)
	for b.Loop() {
		cmdutil.SortTable(vss)
		if err := WriteRules(io.Discard, vss); err != nil {
			b.Fatal(err)
		}
	}
}
