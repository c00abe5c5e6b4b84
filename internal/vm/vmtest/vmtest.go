// Package vmtest helps tests that run inside the IPVS test VM (see package
// internal/vm and tools/vmrun).
//
// A VM test is a function named TestVM... that starts with Require:
//
//	func TestVMAddService(t *testing.T) {
//		vmtest.Require(t)
//		vmtest.Reset(t)
//		ref := vmtest.Ref(t, "-A", "-t", "10.0.0.1:80")
//		ours := vmtest.Ours(t, "-A", "-t", "10.0.0.1:80")
//		...
//	}
//
// On the host such tests skip (the host kernel has no IPVS). go run
// ./tools/vmrun test builds every package that has them, runs them in the
// guest, and counts a skip there as a failure.
package vmtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs/internal/vm"
)

// Guest paths of the programs the tests compare and use.
const (
	// RefPath is Debian's ipvsadm 1.31, the reference implementation.
	RefPath = "/usr/sbin/ipvsadm"
	// OursPath is the project's ipvsadm, installed by vmrun.
	OursPath = "/usr/local/sbin/ipvsadm"
	// IPFull is iproute2's ip (busybox's ip applet lacks ip netns).
	IPFull = "/usr/sbin/ip-full"
	// EnvVar is set to "1" in the guest.
	EnvVar = vm.EnvInVM
)

// Kernel returns the pinned name of the kernel the guest runs ("5.10",
// "6.1", "6.12"; see internal/vm/kernels.txt), or "" outside the VM.
func Kernel() string {
	return os.Getenv(vm.EnvKernel)
}

// DefaultKernel is the kernel whose results golden files hold first.
const DefaultKernel = vm.DefaultKernel

// CommandTimeout bounds each command run by Run.
var CommandTimeout = 5 * time.Minute

// SetCommandTimeout makes Run's bound d until the end of test t, so that
// a command that hangs fails the test, naming itself, well before the
// test's budget runs out.
func SetCommandTimeout(t testing.TB, d time.Duration) {
	old := CommandTimeout
	CommandTimeout = d
	t.Cleanup(func() { CommandTimeout = old })
}

// InVM reports whether the process runs inside the test VM.
func InVM() bool {
	return os.Getenv(EnvVar) == "1"
}

// Require skips the test unless it runs inside the test VM.
func Require(t testing.TB) {
	t.Helper()
	if !InVM() {
		t.Skip("needs the IPVS test VM (IPVS_VM=1): run go run ./tools/vmrun test")
	}
}

// Result is the outcome of one command.
type Result struct {
	// Stdout and Stderr are what the command printed.
	Stdout, Stderr string
	// Code is the exit status (-1 if the command was killed by a signal).
	Code int
}

// String formats the result for test failure messages.
func (r Result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout:\n%s--- stderr:\n%s", r.Code, r.Stdout, r.Stderr)
}

// Run runs the program at path with argv[0] set to argv0, the given
// standard input (none if empty) and args, and returns what it printed and
// its exit status. A non-zero exit status is not a failure; a program that
// cannot be started, or runs longer than CommandTimeout, fails the test.
func Run(t testing.TB, path, argv0, stdin string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), CommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path)
	cmd.Args = append([]string{argv0}, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	// A command that hangs says where before it goes: every thread's
	// kernel stack, then SIGQUIT, on which a Go program prints its
	// goroutines (anything else dies of it, or is killed after WaitDelay).
	var where string
	cmd.Cancel = func() error {
		where = stuckAt(cmd.Process.Pid)
		return cmd.Process.Signal(syscall.SIGQUIT)
	}
	cmd.WaitDelay = 3 * time.Second
	err := cmd.Run()
	r := Result{Stdout: out.String(), Stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		r.Code = -1
		r.Stderr = compactGoroutines(r.Stderr)
		t.Fatalf("%s %s: timed out after %v\n%s\n%s", path, strings.Join(args, " "), CommandTimeout, r, where)
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	default:
		t.Fatalf("running %s: %v", path, err)
	}
	return r
}

// stuckAt describes where process pid waits: each thread's state, kernel
// wait channel and kernel stack (root can read them in the guest), threads
// with the same stack named together.
func stuckAt(pid int) string {
	read := func(name string) string {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, name))
		if err != nil {
			return "(" + err.Error() + ")"
		}
		return strings.TrimSpace(string(b))
	}
	tids, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return fmt.Sprintf("process %d: %v", pid, err)
	}
	var order []string
	byStack := map[string][]string{}
	for _, e := range tids {
		task := "task/" + e.Name() + "/"
		state := ""
		for _, l := range strings.Split(read(task+"status"), "\n") {
			if v, ok := strings.CutPrefix(l, "State:"); ok {
				state = strings.TrimSpace(v)
			}
		}
		key := fmt.Sprintf("state %s, waiting in %s; kernel stack:\n%s", state, read(task+"wchan"), read(task+"stack"))
		if _, ok := byStack[key]; !ok {
			order = append(order, key)
		}
		byStack[key] = append(byStack[key], e.Name())
	}
	var b strings.Builder
	fmt.Fprintf(&b, "process %d, %d threads:", pid, len(tids))
	for _, key := range order {
		fmt.Fprintf(&b, "\nthreads %s: %s", strings.Join(byStack[key], " "), key)
	}
	return b.String()
}

// compactGoroutines shortens the goroutine dump a Go program prints on
// SIGQUIT: one line a frame ("function  file:line"), and goroutines that
// run only the runtime's own code (the scheduler, the collector) and the
// registers left out.
// The rest of text stays as it is.
func compactGoroutines(text string) string {
	lines := strings.Split(text, "\n")
	var out, block []string
	runtimeOnly, hidden := true, 0
	endBlock := func() {
		if len(block) > 0 && runtimeOnly {
			hidden++
		} else {
			out = append(out, block...)
		}
		block, runtimeOnly = nil, true
	}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "goroutine ") && strings.HasSuffix(l, ":"):
			endBlock()
			block = append(block, l)
		case block != nil && l == "":
			endBlock()
			out = append(out, l)
		case block != nil:
			if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "\t") {
				file := strings.TrimSpace(lines[i+1])
				if j := strings.LastIndex(file, " +0x"); j >= 0 {
					file = file[:j]
				}
				file = file[strings.LastIndex(file, "/")+1:]
				i++
				if j := strings.LastIndex(l, "("); j > 0 && strings.HasSuffix(l, ")") {
					l = l[:j]
				}
				if !strings.HasPrefix(l, "runtime.") && !strings.HasPrefix(l, "created by runtime.") {
					runtimeOnly = false
				}
				l = "  " + l + "  " + file
			}
			block = append(block, l)
		default:
			out = append(out, l)
		}
	}
	endBlock()
	// Blank lines once; the registers of the signalled thread say nothing
	// a reader can use.
	kept := out[:0]
	for _, l := range out {
		f := strings.Fields(l)
		register := len(f) == 2 && strings.HasPrefix(f[1], "0x") && len(f[0]) <= 6 && !strings.ContainsAny(f[0], ".:()")
		if register || l == "" && len(kept) > 0 && kept[len(kept)-1] == "" {
			continue
		}
		kept = append(kept, l)
	}
	out = kept
	if hidden > 0 {
		out = append(out, fmt.Sprintf("(%d goroutines of the runtime's own not shown)", hidden))
	}
	return strings.Join(out, "\n")
}

// Ref runs the reference ipvsadm with args.
func Ref(t testing.TB, args ...string) Result {
	t.Helper()
	return Run(t, RefPath, "ipvsadm", "", args...)
}

// RefInput runs the reference ipvsadm with args and standard input stdin.
func RefInput(t testing.TB, stdin string, args ...string) Result {
	t.Helper()
	return Run(t, RefPath, "ipvsadm", stdin, args...)
}

// Ours runs the project's ipvsadm with args.
func Ours(t testing.TB, args ...string) Result {
	t.Helper()
	return Run(t, OursPath, "ipvsadm", "", args...)
}

// OursInput runs the project's ipvsadm with args and standard input stdin.
func OursInput(t testing.TB, stdin string, args ...string) Result {
	t.Helper()
	return Run(t, OursPath, "ipvsadm", stdin, args...)
}

// Reset clears the kernel's IPVS state with the reference ipvsadm: it
// flushes the table, restores the default timeouts (900 120 300) and stops
// both sync daemons (a daemon that is not running is fine). It runs now and
// again when the test ends.
func Reset(t testing.TB) {
	t.Helper()
	reset(t)
	t.Cleanup(func() { reset(t) })
}

func reset(t testing.TB) {
	t.Helper()
	if r := Ref(t, "-C"); r.Code != 0 {
		t.Fatalf("ipvsadm -C: %s", r)
	}
	if r := Ref(t, "--set", "900", "120", "300"); r.Code != 0 {
		t.Fatalf("ipvsadm --set 900 120 300: %s", r)
	}
	for _, d := range []string{"master", "backup"} {
		// Stopping a daemon that is not running fails with ESRCH
		// ("No such process"); that is the state we want.
		Ref(t, "--stop-daemon", d)
	}
}

// MustShell runs script with /bin/sh -c and fails the test if it exits
// non-zero. It returns the combined output.
func MustShell(t testing.TB, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), CommandTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/bin/sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("shell script failed: %v\nscript:\n%s\noutput:\n%s", err, script, out)
	}
	return string(out)
}
