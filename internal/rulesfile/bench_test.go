package rulesfile

import (
	"bytes"
	"io"
	"testing"

	"github.com/ipvs-tools/ipvs/internal/rulesfile/rulesfiletest"
)

// bigFile is the 110,000-line file of bench/vm-restore.sh: 10,000 services
// with 10 destinations each, as ipvsadm -Sn prints it.
func bigFile() []byte { return []byte(rulesfiletest.Table(2, 10000, 10)) }

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
