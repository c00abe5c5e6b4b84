package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
)

// restoreCase is a start table (reference -R input) and an
// ipvsadm-restore input.
type restoreCase struct {
	name, start, input string
}

func restoreCases() []restoreCase {
	base := "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 192.168.0.1:8080 -m -w 3\n-a -t 10.0.0.1:80 -r 192.168.0.2:8080 -m\n" +
		"-A -u 10.0.0.1:53 -s sh -b sh-port\n-a -u 10.0.0.1:53 -r 192.168.0.3 -g\n-A -f 7 -6 -p 60\n" +
		"-a -f 7 -6 -r [2001:db8::10]:0 -m\n-A -t 10.0.0.5:443 -p 300 -M 255.255.255.0\n" +
		"-a -t 10.0.0.5:443 -r 192.168.0.9 -i --tun-type gue --tun-port 6080 --tun-csum\n"
	cases := []restoreCase{
		{"same", base, base},
		{"same-with-comments", base, "# saved\n" + base + "# end\n"},
		{"empty-input", base, ""},
		{"only-comments", base, "# nothing\n#\n"},
		{"one-changed", base, strings.Replace(base, "-w 3", "-w 4", 1)},
		{"into-empty", "", base},
		{"reorder-and-drop", base, "-A -u 10.0.0.1:53 -s sh -b sh-port\n-A -t 10.0.0.1:80 -s wlc\n-a -t 10.0.0.1:80 -r 192.168.0.2:8080 -m\n"},
		{"kernel-errors", base, base + "-A -t 10.0.0.1:80\n-a -t 10.0.0.9:80 -r 1.2.3.4\n-a -t 10.0.0.1:80 -r 192.168.0.1:8080\n" +
			"-e -t 10.0.0.1:80 -r 192.168.0.7\n-d -t 10.0.0.1:80 -r 192.168.0.7\n-E -t 10.0.0.9:80\n-D -t 10.0.0.9:80\n"},
		{"unknown-scheduler-and-pe", base, "-A -t 10.0.0.2:80 -s nosuch\n-a -t 10.0.0.2:80 -r 192.168.0.1\n" +
			"-A -t 10.0.0.3:80 -p --pe nosuchpe\n-A -t 10.0.0.4:80 -p --pe sip\n-E -t 10.0.0.4:80 -s nosuch2\n-A -t 10.0.0.6:80 -s mh\n"},
		{"bad-addresses", base, "-A -t 10.0.0.2:80\n-a -t 10.0.0.2:80 -r 224.0.0.1\n-a -t 10.0.0.2:80 -r 0.0.0.0\n" +
			"-a -t 10.0.0.2:80 -r 255.255.255.255\n-a -t 10.0.0.2:80 -r 0.1.2.3\n-a -t 10.0.0.2:80 -r 240.0.0.1\n" +
			"-A -t [2001:db8::1]:80\n-a -t [2001:db8::1]:80 -r [ff02::1]:80\n-a -t [2001:db8::1]:80 -r [fe80::1]:80\n" +
			"-a -t [2001:db8::1]:80 -r [::ffff:1.2.3.4]:80\n-a -t [2001:db8::1]:80 -r [::1]:80\n-a -t [2001:db8::1]:80 -r [::]:80\n"},
		{"thresholds", base, "-A -t 10.0.0.2:80\n-a -t 10.0.0.2:80 -r 192.168.0.1 -y 10\n-a -t 10.0.0.2:80 -r 192.168.0.2 -x 10 -y 5\n" +
			"-e -t 10.0.0.2:80 -r 192.168.0.2 -x 1 -y 2\n"},
		{"thresholds-reset", base + "-a -t 10.0.0.1:80 -r 192.168.0.4:80 -m -x 100 -y 10\n" +
			"-e -t 10.0.0.1:80 -r 192.168.0.2:8080 -m -x 50\n",
			base + "-a -t 10.0.0.1:80 -r 192.168.0.4:80 -m -w 1\n"},
		{"flush-inside", base, "-A -t 10.0.0.2:80\n-C\n-A -t 10.0.0.3:80\n-D -t 10.0.0.2:80\n"},
		{"listings-inside", base, "-A -t 10.0.0.2:80\n-Ln\n-Sn\n-C\n-Ln\n-A -t 10.0.0.1:80\n-L -t 10.0.0.1:80 -n\n-L -n --stats\n"},
		{"zero-and-timeouts", base, "-A -t 10.0.0.2:80\n-Z -t 10.0.0.2:80\n-Z -t 10.0.0.8:80\n--set 10 20 30\n-Z\n-L --timeout\n"},
		// The master starts in the start table, not in the input: a daemon
		// stopped right after it started can leave the kernel's answer
		// unsent (kthread_stop's EINTR), and Debian's ipvsadm then waits
		// forever (TestVMDaemonStopRightAfterStart in netlinkipvs).
		{"sync-daemon-mixed-af", base + "--start-daemon master --mcast-interface dummy0\n", "-A -t 10.0.0.2:80\n" +
			"-a -t 10.0.0.2:80 -r [2001:db8::5]:80 -i\n--stop-daemon master\n-a -t 10.0.0.2:80 -r [2001:db8::6]:80 -i\n" +
			"--start-daemon backup --mcast-interface dummy0\n-L --daemon\n"},
		{"abort-fail", base, "-A -t 10.0.0.2:80\n-A -t 10.0.0.3\n-A -t 10.0.0.4:80\n"},
		{"abort-try", base, "-A -t 10.0.0.2:80\n  # not a comment\n-A -t 10.0.0.4:80\n"},
		{"popt-continues", base, "-A -t 10.0.0.2:80 --bogus\n-A -t 10.0.0.4:80\n"},
		{"last-line-error", base, "-A -t 10.0.0.2:80\n-A -t 10.0.0.2:80"},
		{"last-line-two-blanks", base, "-A -t 10.0.0.2:80\n-A -t 10.0.0.3:80  "},
		{"help-inside", base, "-A -t 10.0.0.2:80\n-h\n-A -t 10.0.0.3:80\n"},
		{"nested-restore", base, "-A -t 10.0.0.2:80\n-R\n"},
		{"signed-fwmark-save", "-A -f 2882430849 -p\n-a -f 2882430849 -r 1.2.3.4 -m\n", "-A -f -1412536447 -s wlc -p 360\n-a -f -1412536447 -r 1.2.3.4:0 -m -w 1\n"},
		{"edit-keeps-dests", base, base + "-E -t 10.0.0.1:80 -s wrr -p 10\n-e -t 10.0.0.5:443 -r 192.168.0.9 -i\n"},
	}
	r := rand.New(rand.NewPCG(41, 42))
	for i := 0; i < 60; i++ {
		start, input := randomVMRestore(r), randomVMRestore(r)
		cases = append(cases, restoreCase{fmt.Sprintf("random-%02d", i), start, input})
	}
	return cases
}

func randomVMRestore(r *rand.Rand) string {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	svc := func() string {
		return pick("-t 10.0.0.1:80", "-t 10.0.0.2:80", "-u 10.0.0.1:53", "-f 7", "-f 7 -6", "-t [2001:db8::1]:443", "-f 2882430849")
	}
	real := func() string {
		return pick("-r 192.168.0.1", "-r 192.168.0.2:8080", "-r [2001:db8::10]:80", "-r 10.0.0.5", "-r 224.0.0.9", "-r [fe80::7]:80")
	}
	var lines []string
	for n := 1 + r.IntN(10); n > 0; n-- {
		var l string
		switch r.IntN(12) {
		case 0, 1, 2:
			l = "-A " + svc() + " " + pick("", "-s rr", "-s sh -b sh-port", "-p 60", "-s wrr -o", "-s nosuch", "-p --pe sip", "-s mh -b flag-3")
		case 3:
			l = "-E " + svc() + " " + pick("", "-s rr", "-p", "-s nosuch")
		case 4:
			l = "-D " + svc()
		case 5, 6, 7:
			l = "-a " + svc() + " " + real() + " " + pick("", "-m", "-w 3", "-i", "-m -w 0", "-i --tun-type gre", "-m -x 5 -y 9", "-m -x 9 -y 5")
		case 8:
			l = "-e " + svc() + " " + real() + " " + pick("", "-m -w 9", "-i", "-i --tun-type gue --tun-port 9")
		case 9:
			l = "-d " + svc() + " " + real()
		case 10:
			l = pick("-C", "-Sn", "-Ln", "# comment", "", "--set 1 2 3", "-Z", "-L --timeout")
		default:
			l = pick("-A -t 10.0.0.9", "-a -t 10.0.0.1:80 --bogus", "-A -t 10.0.0.3:80")
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n") + pick("\n", "", "\n\n")
}

// setupTable makes the start table with the reference and resets the
// timeouts and daemons.
func setupTable(t *testing.T, start string) {
	t.Helper()
	vmtest.RefInput(t, resetInput+start, "-R")
	if strings.Contains(start, "--start-daemon") {
		waitSyncThreads(t)
	}
}

// waitSyncThreads waits until every sync daemon thread (ipvs-m:*, ipvs-b:*)
// runs its loop, so that a stop that follows is answered (the kernel sends
// no answer when it stops a thread that has not run yet).
func waitSyncThreads(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		waiting := ""
		procs, _ := filepath.Glob("/proc/[0-9]*/comm")
		for _, p := range procs {
			comm, err := os.ReadFile(p)
			if err != nil || !strings.HasPrefix(string(comm), "ipvs-") {
				continue
			}
			wchan, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "wchan"))
			if !strings.HasPrefix(string(wchan), "sync_thread_") {
				waiting = fmt.Sprintf("%s (wchan %q)", strings.TrimSpace(string(comm)), wchan)
			}
		}
		if waiting == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sync daemon thread %s has not started its loop after 5s", waiting)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestVMRestoreScript: for every case, our ipvsadm-restore and Debian's
// script, from the same start table, print the same, exit the same and
// leave the same kernel state (reference -Sn, --timeout, --daemon).
//
//vmtest:budget 2m
func TestVMRestoreScript(t *testing.T) {
	vmtest.Require(t)
	guestSetup(t)
	defer reset(t)
	// Every command here takes well under a second: one that hangs
	// fails the test, naming itself and where it waits, within the budget.
	vmtest.SetCommandTimeout(t, 20*time.Second)
	var differing []string // "case (what)", for the summary: CI shows a log's tail
	current := ""
	defer func() {
		if current != "" {
			t.Logf("stopped in case %s", current)
		}
	}()
	cases := restoreCases()
	for _, c := range cases {
		current = c.name
		// Logged as it goes, so that a case that hangs is named.
		t0 := time.Now()
		setupTable(t, c.start)
		ref := vmtest.Run(t, scriptRestore, scriptRestore, c.input)
		refState := vmtest.RefInput(t, stateInput, "-R")
		setupTable(t, c.start)
		ours := vmtest.Run(t, oursRestore, oursRestore, c.input)
		oursState := vmtest.RefInput(t, stateInput, "-R")
		t.Logf("case %s: %v", c.name, time.Since(t0).Round(time.Millisecond))
		if ref != ours {
			differing = append(differing, c.name+" (output)")
			t.Errorf("%s: ipvsadm-restore output differs (- script, + ours)\nstart:\n%s\ninput:\n%s\n%s", c.name, c.start, c.input, lineDiff(ref.String(), ours.String()))
		}
		if refState != oursState {
			differing = append(differing, c.name+" (state)")
			t.Errorf("%s: state after ipvsadm-restore differs (- script, + ours)\nstart:\n%s\ninput:\n%s\n%s", c.name, c.start, c.input, lineDiff(refState.String(), oursState.String()))
		}
	}
	current = ""
	fmt.Printf("restore script: %d cases, %d differences\n", len(cases), len(differing))
	if len(differing) > 0 {
		t.Errorf("differing cases (details above): %s", strings.Join(differing, ", "))
	}
}

// restoreCostServices is the size of TestVMRestoreScriptCost's table: the
// request counts it checks grow with it (exact reads) or stay constant
// (writes, fast reads), which a few hundred services show as well as
// 10,000 (bench/vm-restore.sh times that size).
const restoreCostServices = 500

// TestVMRestoreScriptCost: from a table of 500 services, a restore that
// changes one service reads the table with one destination dump per
// service (O(1) requests with IPVSADM_RESTORE_FAST) and writes only the
// change; the result is the file's table.
func TestVMRestoreScriptCost(t *testing.T) {
	vmtest.Require(t)
	guestSetup(t)
	reset(t)
	defer reset(t)
	const n = restoreCostServices
	var b strings.Builder
	for i := 0; i < n; i++ {
		s := fmt.Sprintf("10.4.%d.%d:80", i/256, i%256)
		fmt.Fprintf(&b, "-A -t %s -s wlc\n-a -t %s -r 192.168.0.1:8080 -m -w 1\n-a -t %s -r 192.168.1.1:8080 -m -w 1\n", s, s, s)
	}
	rules := b.String()
	if r := vmtest.OursInput(t, rules, "-R"); r.Code != 0 || r.Stderr != "" {
		t.Fatalf("setup: %s", r)
	}
	changed := strings.Replace(rules, "-A -t 10.4.0.7:80 -s wlc\n-a -t 10.4.0.7:80 -r 192.168.0.1:8080 -m -w 1",
		"-A -t 10.4.0.7:80 -s rr\n-a -t 10.4.0.7:80 -r 192.168.0.1:8080 -m -w 5", 1)
	if changed == rules {
		t.Fatal("the change to service 10.4.0.7:80 did not apply to the rules")
	}
	parse := func(counts string) (reads, writes, procReads int) {
		m := regexp.MustCompile(`^reads=(\d+) writes=(\d+) procreads=(\d+)$`).FindStringSubmatch(counts)
		if m == nil {
			t.Fatalf("counts %q", counts)
		}
		reads, _ = strconv.Atoi(m[1])
		writes, _ = strconv.Atoi(m[2])
		procReads, _ = strconv.Atoi(m[3])
		return
	}
	// By default the live table is read exactly (one destination dump per
	// service, which sees thresholds); only the difference is written.
	counts := countRequests(t, restoreName, changed)
	reads, writes, procReads := parse(counts)
	t.Logf("ipvsadm-restore of %d services, 1 changed: %s", n, counts)
	if writes != 2 || procReads != 0 || reads > n+3 {
		t.Errorf("requests %s: want 2 writes (the service and its destination), 1 + %d reads", counts, n)
	}
	if got := vmtest.Ref(t, "-Sn"); got.Stdout != changed {
		t.Errorf("table after the restore is not the file's:\n%s", lineDiff(changed, got.Stdout))
	}
	// With IPVSADM_RESTORE_FAST the reads are constant too.
	changed2 := strings.Replace(changed, "-A -t 10.4.1.9:80 -s wlc", "-A -t 10.4.1.9:80 -s sh", 1)
	if changed2 == changed {
		t.Fatal("the change to service 10.4.1.9:80 did not apply to the rules")
	}
	t.Setenv(fastReadEnv, "1")
	counts = countRequests(t, restoreName, changed2)
	os.Unsetenv(fastReadEnv)
	reads, writes, procReads = parse(counts)
	t.Logf("IPVSADM_RESTORE_FAST=1 ipvsadm-restore of %d services, 1 changed: %s", n, counts)
	if writes != 1 || reads > 3 || procReads != 1 {
		t.Errorf("requests %s: want 1 write (the service), at most 3 reads, 1 read of /proc/net/ip_vs", counts)
	}
	if got := vmtest.Ref(t, "-Sn"); got.Stdout != changed2 {
		t.Errorf("table after the fast restore is not the file's:\n%s", lineDiff(changed2, got.Stdout))
	}
	changed = changed2
	// Nothing changed: nothing written.
	if counts := countRequests(t, restoreName, changed); !strings.Contains(counts, " writes=0 ") {
		t.Errorf("restoring the live table again: %s, want no writes", counts)
	}
}
