package ipvsadmfmt

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// connTable returns a /proc/net/ip_vs_conn with n IPv4 entries and a few
// IPv6, template and PE rows.
func connTable(n int) []byte {
	var b bytes.Buffer
	b.WriteString("Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "TCP %08X %04X 0A460001 0050 0A470002 0050 ESTABLISHED %7d\n", 0x0A450000+i/60000, 1024+i%60000, 3000+i%600)
	}
	b.WriteString("TCP 2001:0db8:0000:0000:0000:0000:0000:0064 D431 2001:0db8:0000:0000:0000:0000:0000:0001 01BB 0A090909 01BB FIN_WAIT          7\n")
	b.WriteString("IP  C0A80067 0000 00000007 0000 C0A80009 0000 NONE           3599\n")
	b.WriteString("UDP 0A00000A 13C4 0A000001 13C4 C0A80004 13C4 UDP             179 sip 3f1b2c@host\n")
	return b.Bytes()
}

func BenchmarkWriteConnections(b *testing.B) {
	in := connTable(100000)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteConnections(io.Discard, bytes.NewReader(in), Format{Numeric: true}, nil); err != nil {
			b.Fatal(err)
		}
	}
}
