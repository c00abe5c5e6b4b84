package lvslab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
)

// RequireKeepalived skips the test on the host, like vmtest.Require, and
// fails it in a guest without Keepalived: the image has keepalived only if
// the host that built it has (apt-get install keepalived; scripts/test.sh
// installs it), and a benchmark beside keepalived must not pass silently
// without it.
func RequireKeepalived(t testing.TB) {
	t.Helper()
	vmtest.Require(t)
	if _, err := os.Stat(Keepalived); err != nil {
		t.Fatalf("the guest has no %s: the host that built the image lacks keepalived "+
			"(apt-get install keepalived, or run scripts/test.sh, which installs it): %v", Keepalived, err)
	}
}

// KeepalivedProc is a running keepalived with only its health checker
// (-C): a parent process, which reads the configuration and restarts the
// checker, and the checker child, which runs the checks and writes IPVS.
type KeepalivedProc struct {
	// Dir holds the configuration, the PID files and the log.
	Dir string
	// Conf and LogPath are the configuration file and the log (its
	// standard output and error with -l -D: every check's outcome).
	Conf, LogPath string
	proc          *process
	checker       int
}

// StartKeepalived writes conf (see Config.Text) to a temporary directory
// and runs keepalived -n -l -D -G -C -f CONF with its PID files there and
// extraArgs last, then waits until its checker child has started. When
// the test ends it stops keepalived, which removes the virtual services
// it added, and logs keepalived's log if the test failed.
func StartKeepalived(t testing.TB, conf string, extraArgs ...string) *KeepalivedProc {
	t.Helper()
	return StartKeepalivedIn(t, nil, conf, extraArgs...)
}

// StartKeepalivedIn is StartKeepalived in the namespace ns (through ip
// netns exec, which execs keepalived: the PID is keepalived's): a director
// of its own, whose IPVS table and connections no other test sees.
func StartKeepalivedIn(t testing.TB, ns *Netns, conf string, extraArgs ...string) *KeepalivedProc {
	t.Helper()
	k := &KeepalivedProc{Dir: t.TempDir()}
	k.Conf = filepath.Join(k.Dir, "keepalived.conf")
	k.LogPath = filepath.Join(k.Dir, "keepalived.log")
	if err := os.WriteFile(k.Conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(k.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	args := append([]string{
		"-n",             // no fork: the parent is the process started here
		"-l", "-D", "-G", // log details to the console (the log file), not syslog
		"-C", // the health checker only: no VRRP
		"-f", k.Conf,
		"-p", k.pidFile("keepalived"), "-c", k.pidFile("checkers"),
		"-r", k.pidFile("vrrp"), "-b", k.pidFile("bfd"),
	}, extraArgs...)
	cmd := exec.Command(Keepalived, args...)
	if ns != nil {
		cmd = ns.Command(append([]string{Keepalived}, args...)...)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if k.proc, err = startProcess(cmd); err != nil {
		t.Fatalf("starting keepalived: %v", err)
	}
	t.Cleanup(func() {
		k.Stop(t)
		if t.Failed() {
			t.Logf("keepalived log (%s):\n%s", k.LogPath, k.Log())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for k.checker == 0 {
		if k.proc.exited() {
			t.Fatalf("keepalived ended at start (%v); log:\n%s", k.proc.err, k.Log())
		}
		if time.Now().After(deadline) {
			t.Fatalf("keepalived has no checker child after 30s; log:\n%s", k.Log())
		}
		time.Sleep(20 * time.Millisecond)
		b, err := os.ReadFile(k.pidFile("checkers"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			continue // being written
		}
		if st, err := readStat(pid); err == nil && st.ppid == k.PID() {
			k.checker = pid
		}
	}
	return k
}

func (k *KeepalivedProc) pidFile(name string) string {
	return filepath.Join(k.Dir, name+".pid")
}

// PID returns the parent's process ID.
func (k *KeepalivedProc) PID() int { return k.proc.pid() }

// CheckerPID returns the checker child's process ID (from the PID file
// it wrote at start). keepalived restarts a checker that dies; this is
// the first one.
func (k *KeepalivedProc) CheckerPID() int { return k.checker }

// Usage returns the usage of the parent and its descendants (the
// checker), parent first.
func (k *KeepalivedProc) Usage(t testing.TB) []Usage {
	t.Helper()
	us, err := TreeUsage(k.PID())
	if err != nil {
		t.Fatalf("keepalived usage: %v", err)
	}
	return us
}

// Log returns what keepalived has logged so far.
func (k *KeepalivedProc) Log() string {
	b, err := os.ReadFile(k.LogPath)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", k.LogPath, err)
	}
	return string(b)
}

// Stop sends SIGTERM and waits for keepalived (parent and checker) to
// end; it removes the virtual services of its configuration first. A
// stopped keepalived stays stopped.
func (k *KeepalivedProc) Stop(t testing.TB) {
	t.Helper()
	if err := k.proc.stop(syscall.SIGTERM, 30*time.Second); err != nil {
		t.Errorf("stopping keepalived: %v", err)
	}
	if k.checker != 0 && alive(k.checker) {
		syscall.Kill(k.checker, syscall.SIGKILL)
		// An overloaded keepalived "forces the termination" of its checker
		// and may leave it behind: noted, not a failure of the test.
		t.Logf("keepalived's checker %d outlived its parent; killed", k.checker)
	}
}

// CheckConfig runs keepalived --config-test on conf and returns what it
// printed and its exit status (non-zero when it found errors).
func CheckConfig(t testing.TB, conf string) vmtest.Result {
	t.Helper()
	p := filepath.Join(t.TempDir(), "keepalived.conf")
	if err := os.WriteFile(p, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return vmtest.Run(t, Keepalived, "keepalived", "", "--config-test", "-f", p)
}

// LogCount returns how many times substr occurs in the log so far.
func (k *KeepalivedProc) LogCount(substr string) int {
	return strings.Count(k.Log(), substr)
}

// WaitLog waits until substr occurs in the log at least n times and
// fails the test after timeout.
func (k *KeepalivedProc) WaitLog(t testing.TB, substr string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for k.LogCount(substr) < n {
		if time.Now().After(deadline) {
			t.Fatalf("keepalived did not log %q %d times within %v; log:\n%s", substr, n, timeout, k.Log())
		}
		if k.proc.exited() {
			t.Fatalf("keepalived ended (%v) before logging %q %d times; log:\n%s", k.proc.err, substr, n, k.Log())
		}
		time.Sleep(PollInterval)
	}
}
