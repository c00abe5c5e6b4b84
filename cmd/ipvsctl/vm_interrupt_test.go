package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
)

// bigRules is an ipvsadm rules file, exactly as ipvsadm -Sn writes it, of
// services TCP services with dests NAT servers each, weight w.
func bigRules(services, dests, w int) string {
	var b strings.Builder
	for s := range services {
		v := fmt.Sprintf("10.%d.%d.%d:80", s/65536+1, s/256%256, s%256)
		fmt.Fprintf(&b, "-A -t %s -s wlc\n", v)
		for d := 1; d <= dests; d++ {
			fmt.Fprintf(&b, "-a -t %s -r 192.168.%d.%d:80 -m -w %d\n", v, d, s%250+1, w)
		}
	}
	return b.String()
}

// freshNS makes network namespace name with lo up. Each round of these
// tests takes a namespace of its own: a flushed table's destinations stay
// a minute in the kernel's trash list, which every later addition walks.
func freshNS(t *testing.T, name string) {
	t.Helper()
	vmtest.MustShell(t, vmtest.IPFull+" netns add "+name+" && "+vmtest.IPFull+" -n "+name+" link set lo up")
	t.Cleanup(func() { vmtest.MustShell(t, vmtest.IPFull+" netns delete "+name) })
}

// nsTable returns namespace ns's table as ipvsadm -Sn lines, sorted,
// read by our ipvsadm: 5 s for 110,000 lines where Debian's takes 13 s,
// and its -Sn is held to Debian's byte for byte (TestVMDifferential,
// TestVMGolden). nsTableRef reads with Debian's, for the oracle's word.
func nsTable(t *testing.T, ns string) []string {
	t.Helper()
	return nsTableWith(t, ns, vmtest.OursPath)
}

// nsTableRef is nsTable read by Debian's ipvsadm.
func nsTableRef(t *testing.T, ns string) []string {
	t.Helper()
	return nsTableWith(t, ns, vmtest.RefPath)
}

func nsTableWith(t *testing.T, ns, ipvsadm string) []string {
	t.Helper()
	r := vmtest.Run(t, vmtest.IPFull, "ip", "", "netns", "exec", ns, ipvsadm, "-Sn")
	if r.Code != 0 {
		t.Fatalf("ipvsadm -Sn in %s: %s", ns, r)
	}
	lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
	if r.Stdout == "" {
		lines = nil
	}
	slices.Sort(lines)
	return lines
}

// signalled runs ipvsctl with args, sends it sigs, the first after
// delay and each other 100ms later, and returns its exit status and
// output.
func signalled(t *testing.T, args []string, delay time.Duration, sigs ...syscall.Signal) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(ctlPath, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(delay)
	defer timer.Stop()
	var err error
	select {
	case err = <-done:
	case <-timer.C:
		for i, s := range sigs {
			if i > 0 {
				time.Sleep(100 * time.Millisecond)
			}
			_ = cmd.Process.Signal(s)
		}
		err = <-done
	}
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

// prefixOf checks that table (sorted) is the first len(table) lines of
// the rules, in any order: what a run stopped anywhere leaves, since the
// kernel carries out requests in order.
func prefixOf(t *testing.T, what string, table, lines []string) {
	t.Helper()
	if len(table) > len(lines) {
		t.Fatalf("%s: %d lines in the table, more than the file's %d", what, len(table), len(lines))
	}
	want := slices.Sorted(slices.Values(lines[:len(table)]))
	if !slices.Equal(table, want) {
		for i := range want {
			if table[i] != want[i] {
				t.Fatalf("%s: the table is not the file's first %d lines: first difference %q, want %q", what, len(table), table[i], want[i])
			}
		}
	}
}

// TestVMInterruptedApply: a 110,000-line apply (10,000 services × 10
// servers) signalled at random points stops at a batch's end and leaves
// exactly the changes it reports as applied: the file's first lines. A
// restore signalled at a random point rolls back to the table it found.
// Two signals abort at once; the table is still a prefix of the file.
//
//vmtest:budget 5m
func TestVMInterruptedApply(t *testing.T) {
	vmtest.Require(t)
	rules := bigRules(10000, 10, 1)
	lines := strings.Split(strings.TrimSuffix(rules, "\n"), "\n")
	if len(lines) != 110000 {
		t.Fatalf("%d lines", len(lines))
	}
	file := writeFile(t, "big.rules", rules)
	seed := time.Now().UnixNano()
	t.Logf("random points from seed %d", seed)
	r := rand.New(rand.NewPCG(uint64(seed), 15))

	// How long a whole apply takes, to draw the points in.
	freshNS(t, "intr0")
	t0 := time.Now()
	mustCtl(t, "--netns", "intr0", "apply", "-f", file)
	full := time.Since(t0)
	if got, want := nsTableRef(t, "intr0"), slices.Sorted(slices.Values(lines)); !slices.Equal(got, want) {
		t.Fatalf("whole apply: Debian's ipvsadm -Sn lists %d lines, not the file's %d (or other lines)", len(got), len(want))
	}
	t.Logf("a whole apply of %d lines: %v", len(lines), full.Round(time.Millisecond))
	vmtest.MustShell(t, vmtest.IPFull+" netns delete intr0 && "+vmtest.IPFull+" netns add intr0")

	last := ""
	for i, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		ns := fmt.Sprintf("intr%d", i+1)
		freshNS(t, ns)
		at := time.Duration(r.Int64N(int64(full)))
		code, stdout, stderr := signalled(t, []string{"--netns", ns, "apply", "-f", file, "-o", "json"}, at, sig)
		table := nsTable(t, ns)
		t.Logf("apply %s after %v: exit %d, %d lines in the table", sig, at.Round(time.Millisecond), code, len(table))
		prefixOf(t, ns, table, lines)
		if code == 0 {
			if len(table) != len(lines) {
				t.Errorf("%s: finished (exit 0) with %d of %d lines", ns, len(table), len(lines))
			}
			continue
		}
		if code == -1 {
			// Killed by the signal itself: it came before ipvsctl
			// installed its handler, which it does before it opens the
			// table, so nothing may have been applied.
			if len(table) != 0 || stdout != "" {
				t.Errorf("%s: killed by %s, yet the table has %d lines (stdout %.200q)", ns, sig, len(table), stdout)
			}
			continue
		}
		if code != 128+int(sig) {
			t.Fatalf("%s: exit %d, want %d\n%s", ns, code, 128+int(sig), stderr)
		}
		var res struct {
			Interrupted bool `json:"interrupted"`
			Applied     int  `json:"applied"`
			Unsent      int  `json:"unsent"`
		}
		if stdout != "" {
			if err := json.Unmarshal([]byte(stdout), &res); err != nil {
				t.Fatalf("%s: %v\n%.500s", ns, err, stdout)
			}
		}
		switch {
		case stdout == "" && len(table) != 0:
			t.Errorf("%s: stopped before applying (no result) but the table has %d lines:\n%s", ns, len(table), stderr)
		case stdout != "" && (!res.Interrupted || res.Applied != len(table) || res.Applied+res.Unsent != len(lines) || res.Applied%2000 != 0):
			t.Errorf("%s: result %+v for a table of %d lines: want interrupted, applied = the table, applied + unsent = %d, a whole number of batches of 2000\n%s",
				ns, res, len(table), len(lines), stderr)
		case stdout != "" && !strings.Contains(stderr, fmt.Sprintf("applied %d of %d changes", res.Applied, len(lines))):
			t.Errorf("%s: stderr does not say what was applied:\n%s", ns, stderr)
		}
		last = ns
	}

	// restore from a part-way table, signalled: back to that table.
	if last == "" {
		last = "intr1"
	}
	before := nsTable(t, last)
	at := time.Duration(r.Int64N(int64(full)))
	code, _, stderr := signalled(t, []string{"--netns", last, "restore", "-f", file}, at, syscall.SIGTERM)
	after := nsTable(t, last)
	t.Logf("restore SIGTERM after %v: exit %d, %d lines before, %d after", at.Round(time.Millisecond), code, len(before), len(after))
	switch code {
	case 0:
		if len(after) != len(lines) {
			t.Errorf("restore finished (exit 0) with %d of %d lines", len(after), len(lines))
		}
	case 143, -1: // -1: killed before its handler was installed, table untouched
		if !slices.Equal(before, after) {
			t.Errorf("interrupted restore: %d lines before, %d after; want the table as it was\n%s", len(before), len(after), stderr)
		}
	default:
		t.Errorf("restore: exit %d\n%s", code, stderr)
	}

	// Two signals: the second aborts at once, with the first's status;
	// whatever was sent is still a prefix.
	freshNS(t, "intr9")
	at = full / 2
	code, _, stderr = signalled(t, []string{"--netns", "intr9", "apply", "-f", file}, at, syscall.SIGINT, syscall.SIGTERM)
	table := nsTable(t, "intr9")
	t.Logf("apply SIGINT+SIGTERM after %v: exit %d, %d lines", at.Round(time.Millisecond), code, len(table))
	prefixOf(t, "intr9", table, lines)
	if code != 0 && (code != 130 || !strings.Contains(stderr, "SIGTERM again: aborting at once")) {
		t.Errorf("two signals: exit %d, want 130 and the abort said\n%s", code, stderr)
	}
}

// TestVMConcurrentWriters: two applies of 5,000 services × 4 servers
// started together on an empty table (weights 2 and 3) both succeed: the
// second waits for the first's lock, says whom it waits for, and its plan
// is made against the first's table. Then ipvsadm-restore waits for an
// apply the same way.
//
//vmtest:budget 3m
func TestVMConcurrentWriters(t *testing.T) {
	vmtest.Require(t)
	freshNS(t, "lock1")
	two := writeFile(t, "w2.rules", bigRules(5000, 4, 2))
	three := writeFile(t, "w3.rules", bigRules(5000, 4, 3))
	type run struct {
		cmd        *exec.Cmd
		err        bytes.Buffer
		exit       error
		weight     string
		finishedAt time.Time
	}
	start := func(weight, file string) *run {
		r := &run{weight: weight, cmd: exec.Command(ctlPath, "--netns", "lock1", "apply", "-f", file, "--wait")}
		r.cmd.Stderr = &r.err
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := start("2", two), start("3", three)
	for _, r := range []*run{a, b} {
		r.exit = r.cmd.Wait()
		r.finishedAt = time.Now()
	}
	for _, r := range []*run{a, b} {
		if r.exit != nil {
			t.Fatalf("apply of weight %s: %v\n%s", r.weight, r.exit, r.err.String())
		}
	}
	var waited []*run
	for _, r := range []*run{a, b} {
		if strings.Contains(r.err.String(), "ipvsctl: waiting for the IPVS table lock, held by pid ") {
			waited = append(waited, r)
		}
	}
	if len(waited) != 1 {
		t.Fatalf("%d of the two applies said they waited for the lock, want 1:\n2: %s\n3: %s", len(waited), a.err.String(), b.err.String())
	}
	if !strings.Contains(waited[0].err.String(), "(ipvsctl --netns lock1 apply -f ") {
		t.Errorf("the waiting message does not name the holder's command: %s", waited[0].err.String())
	}
	table := nsTableRef(t, "lock1")
	if want := sortedRules(5000, 4, atoi(t, waited[0].weight)); !slices.Equal(table, want) {
		t.Errorf("the table is not the second apply's (weight %s): %d lines", waited[0].weight, len(table))
	}

	// ipvsadm-restore behind an apply.
	c := exec.Command(ctlPath, "--netns", "lock1", "apply", "-f", two)
	var cerr bytes.Buffer
	c.Stderr = &cerr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	// Once the apply holds the lock (its file names its pid), the
	// restore must wait for it.
	holder := fmt.Sprintf("%d ", c.Process.Pid)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		out := vmtest.MustShell(t, "cat /run/ipvs-tools/net-*.lock 2>/dev/null || true")
		if strings.Contains(out, holder) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the apply (pid %d) never held the lock: %q", c.Process.Pid, out)
		}
	}
	rr := vmtest.Run(t, vmtest.IPFull, "ip", bigRules(5000, 4, 3), "netns", "exec", "lock1", "/usr/local/sbin/ipvsadm-restore", "-w")
	if err := c.Wait(); err != nil {
		t.Fatalf("apply: %v\n%s", err, cerr.String())
	}
	if rr.Code != 0 {
		t.Fatalf("ipvsadm-restore -w: %s", rr)
	}
	if !strings.HasPrefix(rr.Stderr, "ipvsadm-restore: waiting for the IPVS table lock, held by pid "+holder) {
		t.Errorf("ipvsadm-restore did not say whom it waited for: %q", rr.Stderr)
	}
	if got := nsTableRef(t, "lock1"); !slices.Equal(got, sortedRules(5000, 4, 3)) {
		t.Errorf("after ipvsadm-restore, the table is not its input (%d lines)", len(got))
	}
}

// sortedRules is bigRules as sorted lines, as nsTable returns a table.
func sortedRules(services, dests, w int) []string {
	return slices.Sorted(slices.Values(strings.Split(strings.TrimSuffix(bigRules(services, dests, w), "\n"), "\n")))
}

func atoi(t *testing.T, s string) int {
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}
