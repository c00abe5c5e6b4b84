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

// TestVMRestoreBench runs vm-restore.sh with 300 services x 4
// destinations and 20 single invocations: every equality check of the
// benchmark (same table after -R, identical -Ln/-Sn/--nosort output,
// ipvsadm-restore reaching the script's table with O(1) writes) must pass.
func TestVMRestoreBench(t *testing.T) {
	vmtest.Require(t)
	vmtest.MustShell(t, vmtest.IPFull+" link set lo up")
	vmtest.Reset(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", RestoreScript)
	cmd.Env = append(os.Environ(), "SERVICES=300", "DESTS=4", "SINGLE=20")
	out, err := cmd.CombinedOutput()
	t.Logf("vm-restore.sh:\n%s", out)
	if err != nil {
		t.Fatalf("vm-restore.sh failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "vm-restore: all checks passed") {
		t.Fatalf("vm-restore.sh did not finish:\n%s", out)
	}
}
