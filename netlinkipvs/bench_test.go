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
	ae.Bytes(destAttrAddr, addr16("10.9.9.9"))
	ae.Bytes(destAttrPort, be16(443))
	ae.Uint32(destAttrFwdMethod, 2)
	ae.Uint32(destAttrWeight, 1)
	ae.Uint8(destAttrTunType, 2)
	ae.Bytes(destAttrTunPort, be16(0))
	ae.Uint16(destAttrTunFlags, 2)
	ae.Uint32(destAttrUThresh, 0)
	ae.Uint32(destAttrLThresh, 0)
	ae.Uint32(destAttrActiveConns, 5)
	ae.Uint32(destAttrInactConns, 6)
	ae.Uint32(destAttrPersistConns, 7)
	ae.Uint16(destAttrAddrFamily, uint16(ipvs.AFInet))
	ae.Nested(destAttrStats, statsNest(false, 0))
	ae.Nested(destAttrStats64, statsNest(true, 1<<40))
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
