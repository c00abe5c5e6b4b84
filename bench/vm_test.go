package bench

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
)

// runScript runs a benchmark script with /bin/sh in the guest, with extra
// environment entries, and fails unless it exits 0 having printed done.
func runScript(tb testing.TB, script, done string, limit time.Duration, env ...string) string {
	tb.Helper()
	vmtest.MustShell(tb, vmtest.IPFull+" link set lo up")
	vmtest.Reset(tb)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", script)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	tb.Logf("output:\n%s", out)
	if err != nil {
		tb.Fatalf("script failed: %v", err)
	}
	if !strings.Contains(string(out), done) {
		tb.Fatalf("script did not print %q", done)
	}
	return string(out)
}

// TestVMRestoreBench runs vm-restore.sh with 300 services x 4
// destinations and 20 single invocations: every equality check of the
// benchmark (same table after -R, identical -Ln/-Sn/--nosort output,
// ipvsadm-restore reaching the file's table) must pass; what a restore
// sends is counted by cmd/ipvsadm's TestVMRestoreScriptCost.
//
//vmtest:budget 2m
func TestVMRestoreBench(t *testing.T) {
	vmtest.Require(t)
	runScript(t, RestoreScript, "vm-restore: all checks passed", 2*time.Minute, "SERVICES=300", "DESTS=4", "SINGLE=20")
}

// BenchmarkVMRestore runs vm-restore.sh at full size: 10,000 services x 10
// destinations (the 110,000-line file), 200 single invocations. Its ratios
// against ipvsadm 1.31 are in the output.
//
//vmtest:budget 40m
func BenchmarkVMRestore(b *testing.B) {
	vmtest.Require(b)
	runScript(b, RestoreScript, "vm-restore: all checks passed", 40*time.Minute)
}

// BenchmarkVMFoundation runs vm-foundation.sh: 10,000 services x 10
// destinations listed through the library and by ipvsadm -Ln.
//
//vmtest:budget 15m
func BenchmarkVMFoundation(b *testing.B) {
	vmtest.Require(b)
	runScript(b, FoundationScript, "ratio ipvsadm/library", 15*time.Minute)
}
