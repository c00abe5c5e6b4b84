package ipvsproc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadAheadCopiesInput(t *testing.T) {
	data := make([]byte, 3*DefaultReadAheadBlock+12345)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	readers := map[string]func() io.Reader{
		"whole":    func() io.Reader { return bytes.NewReader(data) },
		"onebyte":  func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) },
		"half":     func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) },
		"dataerr":  func() io.Reader { return iotest.DataErrReader(bytes.NewReader(data)) },
		"pagewise": func() io.Reader { return &limitedReads{r: bytes.NewReader(data), max: 4096} },
	}
	for name, mk := range readers {
		for _, block := range []int{0, 1, 1000, 1 << 20} {
			ra := ReadAhead(mk(), block)
			got, err := io.ReadAll(ra)
			if err != nil {
				t.Errorf("%s/%d: ReadAll: %v", name, block, err)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("%s/%d: got %d bytes, want the %d of the input", name, block, len(got), len(data))
			}
			// The end is sticky.
			if n, err := ra.Read(make([]byte, 10)); n != 0 || err != io.EOF {
				t.Errorf("%s/%d: Read after the end = %d, %v; want 0, EOF", name, block, n, err)
			}
			if err := ra.Close(); err != nil {
				t.Errorf("%s/%d: Close: %v", name, block, err)
			}
		}
	}
}

// limitedReads returns at most max bytes per Read, as the kernel's
// seq_file does (one page).
type limitedReads struct {
	r   io.Reader
	max int
}

func (l *limitedReads) Read(p []byte) (int, error) {
	if len(p) > l.max {
		p = p[:l.max]
	}
	return l.r.Read(p)
}

func TestReadAheadErrorAfterData(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("some data"), iotest.ErrReader(boom))
	ra := ReadAhead(r, 4)
	got, err := io.ReadAll(ra)
	if string(got) != "some data" || !errors.Is(err, boom) {
		t.Errorf("ReadAll = %q, %v; want the data, then %v", got, err, boom)
	}
	ra.Close()
}

// endless never ends and counts its reads.
type endless struct{ reads chan struct{} }

func (e *endless) Read(p []byte) (int, error) {
	select {
	case e.reads <- struct{}{}:
	default:
	}
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

func TestReadAheadCloseStopsReading(t *testing.T) {
	e := &endless{reads: make(chan struct{}, 1)}
	ra := ReadAhead(e, 16)
	buf := make([]byte, 5)
	if n, err := ra.Read(buf); n != 5 || err != nil || string(buf) != "xxxxx" {
		t.Fatalf("Read = %d, %v (%q)", n, err, buf)
	}
	ra.Close() // returns only once the goroutine has
	select {
	case <-e.reads: // one left from before Close, perhaps
	default:
	}
	select {
	case <-e.reads:
		t.Error("reads went on after Close")
	default:
	}
	if _, err := ra.Read(buf); err == nil {
		t.Error("Read after Close succeeded")
	}
	if err := ra.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// stuck returns no data and no error forever.
type stuck struct{}

func (stuck) Read(p []byte) (int, error) { return 0, nil }

func TestReadAheadNoProgress(t *testing.T) {
	ra := ReadAhead(stuck{}, 0)
	defer ra.Close()
	if _, err := io.ReadAll(ra); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("ReadAll = %v, want io.ErrNoProgress", err)
	}
}

func TestReadAheadFeedsScanServices(t *testing.T) {
	text := servicesText(300, 7)
	want := mustServices(t, strings.NewReader(text))
	ra := ReadAhead(&limitedReads{r: strings.NewReader(text), max: 4096}, 1024)
	defer ra.Close()
	got := mustServices(t, ra)
	if len(got.Services) != len(want.Services) || len(got.Services) != 300 {
		t.Fatalf("got %d services, want %d (300)", len(got.Services), len(want.Services))
	}
	for i := range want.Services {
		if len(got.Services[i].Dests) != len(want.Services[i].Dests) || got.Services[i].Address != want.Services[i].Address {
			t.Fatalf("service %d differs: %+v vs %+v", i, got.Services[i], want.Services[i])
		}
	}
}

// servicesText is /proc/net/ip_vs for n TCP services with m
// destinations each.
func servicesText(n, m int) string {
	var b strings.Builder
	b.WriteString("IP Virtual Server version 1.2.1 (size=4096)\n" +
		"Prot LocalAddress:Port Scheduler Flags\n" +
		"  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n")
	for i := range n {
		fmt.Fprintf(&b, "TCP  0A02%04X:0050 wlc \n", i)
		for j := range m {
			fmt.Fprintf(&b, "  -> C0A8%02X01:1F90      Masq    1      %-10d %-10d\n", j, i, j)
		}
	}
	return b.String()
}
