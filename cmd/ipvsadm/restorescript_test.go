package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs/internal/rulesfile/rulesfiletest"
)

// scriptRun is what Debian's ipvsadm-restore does, on the fake kernel:
// grep -v '^#', ipvsadm -C, ipvsadm -R.
func scriptRun(t *testing.T, f *fakeBackend, input string) result {
	t.Helper()
	f.Flush()
	return runBackend(t, unbatched{f}, string(scriptInput([]byte(input))), "-R")
}

func sortedTable(f *fakeBackend) string {
	var lines []string
	for _, s := range f.services() {
		var ds []string
		for _, d := range f.dests(s.Key()) {
			ds = append(ds, fmt.Sprintf("%+v", d))
		}
		slices.Sort(ds)
		lines = append(lines, fmt.Sprintf("%+v %v", s, ds))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func randomRestoreInput(r *rand.Rand) string {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	svc := func() string {
		return pick("-t 10.0.0.1:80", "-t 10.0.0.2:80", "-u 10.0.0.1:53", "-f 7", "-f 7 -6", "-t [2001:db8::1]:443")
	}
	real := func() string {
		return pick("-r 192.168.0.1", "-r 192.168.0.2:8080", "-r [2001:db8::10]:80", "-r 10.0.0.5")
	}
	var lines []string
	for n := 1 + r.IntN(12); n > 0; n-- {
		var l string
		switch r.IntN(12) {
		case 0, 1, 2:
			l = "-A " + svc() + " " + pick("", "-s rr", "-s sh -b sh-port", "-p 60", "-s wrr -o")
		case 3:
			l = "-E " + svc() + " " + pick("", "-s rr", "-p")
		case 4:
			l = "-D " + svc()
		case 5, 6, 7:
			l = "-a " + svc() + " " + real() + " " + pick("", "-m", "-w 3", "-i", "-m -w 0")
		case 8:
			l = "-e " + svc() + " " + real() + " " + pick("", "-m -w 9", "-i")
		case 9:
			l = "-d " + svc() + " " + real()
		case 10:
			l = pick("-C", "-Sn", "-Ln", "# comment", "", "-L --timeout", "--set 1 2 3")
		default:
			l = pick("-A -t 10.0.0.9", "-a -t 10.0.0.1:80 --bogus", "-A -t 10.0.0.3:80")
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n") + pick("\n", "", "\n\n")
}

// TestRestoreScriptMatchesScript compares our ipvsadm-restore with the
// script's flush-and-restore on the fake kernel, from random live tables
// with random inputs: the same output, status and final table.
func TestRestoreScriptMatchesScript(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for i := 0; i < 500; i++ {
		start := randomRestoreInput(r)
		input := randomRestoreInput(r)
		ref, ours := newFake(), newFake()
		runBackend(t, unbatched{ref}, start, "-R")
		runBackend(t, unbatched{ours}, start, "-R")
		want := scriptRun(t, ref, input)
		got := runRestoreScript(t, ours, input)
		if got != want || sortedTable(ref) != sortedTable(ours) {
			t.Fatalf("start\n%s\ninput\n%s\ngot  %+v\nwant %+v\ntable got\n%s\nwant\n%s", start, input, got, want, sortedTable(ours), sortedTable(ref))
		}
	}
}

func runRestoreScript(t *testing.T, f *fakeBackend, input string) result {
	t.Helper()
	return runAppArgv0(t, f, input, "ipvsadm-restore")
}

// TestRestoreScriptSendsOnlyChanges: restoring the table the kernel
// already has, with one service changed, writes only that change and
// reads the table once.
func TestRestoreScriptSendsOnlyChanges(t *testing.T) {
	in := rulesfiletest.Table(1, 300, 3)
	f := newFake()
	runBackend(t, f, in, "-R")
	changed := strings.Replace(in, "-A -t 10.1.0.7:80 -s wlc", "-A -t 10.1.0.7:80 -s rr", 1)
	f.calls, f.batches = nil, 0
	res := runRestoreScript(t, f, changed)
	if res.code != 0 || res.both != "" {
		t.Fatalf("restore: %+v", res)
	}
	var writes, reads []string
	for _, c := range f.calls {
		switch c {
		case "info", "services", "dests", "service", "timeouts", "daemons":
			reads = append(reads, c)
		default:
			writes = append(writes, c)
		}
	}
	if !slices.Equal(writes, []string{"set-service"}) {
		t.Errorf("writes %v, want one set-service", writes)
	}
	// The fake has no /proc file here: one destination dump per service.
	if len(reads) != 2+300 {
		t.Errorf("%d reads", len(reads))
	}
	if f.batches != 1 {
		t.Errorf("%d batches", f.batches)
	}
}

// TestRestoreScriptChangesAfterFlush: changes to destinations after a
// listing (which brings the live table up to date) must reach the kernel.
func TestRestoreScriptChangesAfterFlush(t *testing.T) {
	for _, input := range []string{
		"-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 192.168.0.1 -w 1\n-a -t 10.0.0.1:80 -r 192.168.0.2\n-Ln\n-e -t 10.0.0.1:80 -r 192.168.0.1 -w 5\n",
		"-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 192.168.0.1 -w 1\n-a -t 10.0.0.1:80 -r 192.168.0.2\n-Sn\n-d -t 10.0.0.1:80 -r 192.168.0.1\n-Sn\n",
		"-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 192.168.0.1\n-L --timeout\n-Ln\n-a -t 10.0.0.1:80 -r 192.168.0.3\n-d -t 10.0.0.1:80 -r 192.168.0.1\n",
	} {
		ref, ours := newFake(), newFake()
		want := scriptRun(t, ref, input)
		got := runRestoreScript(t, ours, input)
		if got != want || sortedTable(ref) != sortedTable(ours) {
			t.Errorf("input\n%s\ngot  %+v\nwant %+v\ntable got\n%s\nwant\n%s", input, got, want, sortedTable(ours), sortedTable(ref))
		}
	}
}
