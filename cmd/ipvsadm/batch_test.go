package main

import (
	"bufio"
	"io"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// runBackend is runFake with any Backend.
func runBackend(t *testing.T, b Backend, stdin string, args ...string) result {
	t.Helper()
	return runFakeWith(t, func() (Backend, error) { return b, nil }, stdin, args...)
}

func runFakeWith(t testing.TB, open func() (Backend, error), stdin string, args ...string) result {
	t.Helper()
	return runFakeArgv(t, open, stdin, append([]string{"ipvsadm"}, args...))
}

// runAppArgv0 runs the fake with argv[0] alone.
func runAppArgv0(t *testing.T, f *fakeBackend, stdin, argv0 string) result {
	t.Helper()
	return runFakeArgv(t, func() (Backend, error) { return f, nil }, stdin, []string{argv0})
}

// runFakeArgv runs the program as argv with open for its backend and an
// empty connection table.
func runFakeArgv(t testing.TB, open func() (Backend, error), stdin string, argv []string) result {
	t.Helper()
	emptyConns := func(a *app) {
		a.openConn = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("")), nil }
	}
	return runAppArgv(t, emptyConns, open, stdin, argv)
}

// TestBatchedRestoreMatchesDirect runs -R inputs once with one request per
// line and once batched: stdout, stderr, their interleaving, the status and
// the final table must be the same, and the batched run must send the
// writes in batches rather than one by one.
func TestBatchedRestoreMatchesDirect(t *testing.T) {
	inputs := map[string]string{
		"errors-continue": "-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80\n-a -t 10.0.0.2:80 -r 1.2.3.4\n" +
			"-a -t 10.0.0.1:80 -r 1.2.3.4 -m\n-a -t 10.0.0.1:80 -r 1.2.3.4\n-e -t 10.0.0.1:80 -r 1.2.3.5\n-Sn\n-D -t 10.0.0.9:80\n",
		"last-ok":         "-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80\n-A -t 10.0.0.2:80\n",
		"listing-between": "-A -t 10.0.0.1:80\n-Ln\n-A -t 10.0.0.1:80\n-L --timeout\n--set 1 2 3\n-L --timeout\n",
		"fail-aborts":     "-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80\n-A -t 10.0.0.2\n-A -t 10.0.0.3:80\n",
		"popt-continues":  "-A -t 10.0.0.1:80\n-D -t 10.0.0.7:80\n-A -t 10.0.0.2:80 --bogus\n-A -t 10.0.0.4:80\n",
		"try-aborts":      "-D -t 10.0.0.7:80\n# comment\n-A -t 10.0.0.4:80\n",
		"help-ends":       "-D -t 10.0.0.7:80\n-h\n-A -t 10.0.0.4:80\n",
		"nested":          "-D -t 10.0.0.7:80\n-R\n",
		"flush-daemons":   "-A -t 10.0.0.1:80\n-C\n-D -t 10.0.0.1:80\n--start-daemon master\n--start-daemon master\n--stop-daemon backup\n-Z\n-Z -t 10.0.0.5:1\n",
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			direct := newFake()
			batched := newFake()
			want := runBackend(t, unbatched{direct}, in, "-R")
			got := runBackend(t, batched, in, "-R")
			if got != want {
				t.Errorf("batched run differs:\n got %+v\nwant %+v", got, want)
			}
			if !equalTables(direct, batched) {
				t.Errorf("tables differ: direct %v, batched %v", direct.m.Table(), batched.m.Table())
			}
			if batched.batches == 0 && strings.Contains(want.both, "-A") {
				t.Errorf("no batch sent: %v", batched.calls)
			}
			if direct.batches != 0 {
				t.Errorf("unbatched run sent %d batches", direct.batches)
			}
		})
	}
}

func equalTables(a, b *fakeBackend) bool {
	return cmp.Equal(a.m.Table(), b.m.Table(), cmpopts.EquateComparable(netip.Addr{})) &&
		a.m.Timeouts() == b.m.Timeouts() && cmp.Equal(a.m.Daemons(), b.m.Daemons(), cmpopts.EquateComparable(netip.Addr{}))
}

// TestBatchGroupsConsecutiveWrites checks that consecutive writes go out
// together: 50 lines of adds are one batch.
func TestBatchGroupsConsecutiveWrites(t *testing.T) {
	var in strings.Builder
	for i := 0; i < 50; i++ {
		in.WriteString("-A -t 10.0.1." + itoa(i) + ":80\n")
	}
	f := newFake()
	r := runBackend(t, f, in.String(), "-R")
	if r.code != 0 || f.m.Len() != 50 {
		t.Fatalf("status %d, %d services", r.code, f.m.Len())
	}
	if batches := f.batches; batches != 1 {
		t.Errorf("%d batches for 50 consecutive adds, want 1 (calls %v)", batches, f.calls)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestRestoreReaderFastPath compares the line-at-once path of the -R
// reader with the byte-by-byte emulation of fscanf on random inputs.
func TestRestoreReaderFastPath(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	alphabet := []string{" ", "\t", "\r", "\n", "\x00", "ipvsadm", "-A", "-t", "10.0.0.1:80", "x", strings.Repeat("y", 4100), "  \n"}
	for i := 0; i < 3000; i++ {
		var b strings.Builder
		for n := r.IntN(30); n > 0; n-- {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		in := b.String()
		read := func(slow bool) []string {
			rr := &restoreReader{br: bufio.NewReaderSize(strings.NewReader(in), 16+r.IntN(64)), slow: slow}
			var out []string
			for {
				argv, ok := rr.next("p")
				if !ok {
					return out
				}
				out = append(out, strings.Join(argv, "|"))
			}
		}
		if fast, slow := read(false), read(true); !slices.Equal(fast, slow) {
			t.Fatalf("input %q:\nfast %q\nslow %q", in, fast, slow)
		}
	}
}
