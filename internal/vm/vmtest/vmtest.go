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
	err := cmd.Run()
	r := Result{Stdout: out.String(), Stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		t.Fatalf("%s %s: timed out after %v\n%s", path, strings.Join(args, " "), CommandTimeout, r)
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	default:
		t.Fatalf("running %s: %v", path, err)
	}
	return r
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
