package scripts_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestPlaygroundNeedsTerminal: without a terminal the interactive mode
// refuses at once (before installing or booting anything) and points to
// --demo.
func TestPlaygroundNeedsTerminal(t *testing.T) {
	cmd := exec.Command("./playground.sh")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "use --demo") {
		t.Errorf("playground.sh without a terminal: %v %q", err, out)
	}
}

// TestPlaygroundDemo runs the scripted tour as CI would: no terminal, no
// input. It boots the VM (about 15 s with TCG) and fails if any of the
// demo's comparisons between our ipvsadm and Debian's differ.
func TestPlaygroundDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a VM; skipped with -short")
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skipf("qemu-system-x86_64 is not installed (scripts/deps.sh installs it): %v", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("the playground installs packages and boots QEMU as root, like scripts/test.sh")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "./playground.sh", "--demo")
	cmd.Stdin = nil // /dev/null: no terminal
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("demo took %v", time.Since(start).Round(time.Second))
	if err != nil {
		t.Fatalf("playground.sh --demo: %v\n%s", err, out)
	}
	for _, want := range []string{
		"=== A table built with Debian's ipvsadm, listed by both",
		"-> the same bytes and exit status (0) as Debian's ipvsadm",
		"-> the same bytes and exit status (2) as Debian's ipvsadm",
		"Debian's ipvsadm -Sn prints the same 11 lines after ours restored the rules",
		"=== ipvsctl: declarative changes",
		`"apiVersion": "ipvsctl/v1"`,
		"No changes: the live table matches the document.",
		"every comparison matched",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the demo's output lacks %q", want)
		}
	}
	if strings.Contains(string(out), "DIFFERENT") {
		t.Errorf("the demo found differences:\n%s", out)
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}
