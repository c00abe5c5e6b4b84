package rulesfile

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// bigFile is the 110,000-line file of bench/vm-restore.sh: 10,000 services
// with 10 destinations each, as ipvsadm -Sn prints it.
func bigFile() []byte {
	var b bytes.Buffer
	for i := 0; i < 10000; i++ {
		s := fmt.Sprintf("10.2.%d.%d:80", i/256, i%256)
		fmt.Fprintf(&b, "-A -t %s -s wlc\n", s)
		for j := 0; j < 10; j++ {
			fmt.Fprintf(&b, "-a -t %s -r 192.168.%d.1:8080 -m -w 1\n", s, j)
		}
	}
	return b.Bytes()
}

func BenchmarkParse110k(b *testing.B) {
	in := bigFile()
	names := guestNames(b)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := Parse(bytes.NewReader(in), "bench", WithNames(names))
		if err != nil || len(f.Rules) != 110000 {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormatSaveNumeric110k(b *testing.B) {
	in := bigFile()
	f, err := Parse(bytes.NewReader(in), "bench", WithNames(guestNames(b)))
	if err != nil {
		b.Fatal(err)
	}
	table, err := f.Table()
	if err != nil {
		b.Fatal(err)
	}
	var out bytes.Buffer
	Format(&out, table, true, nil)
	if !bytes.Equal(out.Bytes(), in) {
		b.Fatal("-Sn of the parsed file differs from the file")
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		Format(io.Discard, table, true, nil)
	}
}
