package netlinkipvs

import (
	"testing"

	"github.com/ipvs-tools/ipvs"
	"github.com/mdlayher/netlink"
)

// BenchmarkDecodeDest decodes one destination of a 6.1 dump (all
// attributes, 32- and 64-bit stats): the per-destination cost of every
// exact table read, which ipvsadm-restore makes 100,000s of.
func BenchmarkDecodeDest(b *testing.B) {
	ae := netlink.NewAttributeEncoder()
	if err := dest61Attrs(ae); err != nil {
		b.Fatal(err)
	}
	buf, err := ae.Encode()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := decodeDestNest(buf, ipvs.AFInet); err != nil {
			b.Fatal(err)
		}
	}
}
