package main

import (
	"io"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/rulesfile/rulesfiletest"
)

// nullKernel accepts every batch without doing anything: what is left is
// ipvsadm's own cost of -R.
type nullKernel struct{ *fakeBackend }

func (nullKernel) Batch(ops []ipvs.Op) ([]error, error) { return make([]error, len(ops)), nil }

// restoreInput110k is the 110,000-line input of bench/vm-restore.sh.
func restoreInput110k() string { return rulesfiletest.Table(2, 10000, 10) }

// BenchmarkRestore110k is -R of 110,000 lines without the kernel's part.
func BenchmarkRestore110k(b *testing.B) {
	in := restoreInput110k()
	k := nullKernel{newFake()}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if r := runFakeWith(b, func() (Backend, error) { return k, nil }, in, "-R"); r.code != 0 {
			b.Fatal(r)
		}
	}
}

// bigFake is 10,000 services with 10 destinations each, and its
// /proc/net/ip_vs text.
func bigFake(b *testing.B) (*fakeBackend, string) {
	f := newFake()
	runFakeWith(b, func() (Backend, error) { return f, nil }, restoreInput110k(), "-R")
	return f, procText(f, nil, nil)
}

// BenchmarkListLn110k is -Ln of 110,000 rows without the kernel's part:
// the service list, parsing /proc/net/ip_vs, joining, sorting, formatting.
func BenchmarkListLn110k(b *testing.B) {
	f, text := bigFake(b)
	b.ReportAllocs()
	for b.Loop() {
		f.calls = nil
		r := runApp(b, func(a *app) {
			a.openProc = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(text)), nil }
		}, f, "", "-Ln")
		if r.code != 0 || len(r.out) < 5000000 {
			b.Fatal(r.code, len(r.out))
		}
	}
}

// BenchmarkProcTable110k reads a 110,000-row /proc/net/ip_vs into the
// packed form.
func BenchmarkProcTable110k(b *testing.B) {
	_, text := bigFake(b)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := readProcTable(strings.NewReader(text)); err != nil {
			b.Fatal(err)
		}
	}
}
