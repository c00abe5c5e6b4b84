package root

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"github.com/ipvs-tools/ipvs/ipvssysctl"
)

type result struct {
	out, err string
	code     int
}

func run(t *testing.T, fake *fakeipvs.Fake, stdin string, args ...string) result {
	t.Helper()
	ios, in, stdout, stderr := iostreams.Test()
	in.WriteString(stdin)
	f := factory.NewTest(ios, fake)
	code := cmdutil.Execute(NewCmdRoot(f), args, stdout, stderr)
	return result{stdout.String(), stderr.String(), code}
}

func mustRun(t *testing.T, fake *fakeipvs.Fake, args ...string) string {
	t.Helper()
	r := run(t, fake, "", args...)
	if r.code != 0 {
		t.Fatalf("ipvsctl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.out, r.err)
	}
	return r.out
}

// TestGoldenOutputs pins the table, JSON and YAML outputs.
func TestGoldenOutputs(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"list.txt", []string{"list", "--numeric"}},
		{"list-stats.txt", []string{"list", "--numeric", "--stats"}},
		{"list-rate.txt", []string{"list", "--numeric", "--rate"}},
		{"list.json", []string{"list", "-o", "json"}},
		{"list.yaml", []string{"list", "-o", "yaml"}},
		{"get.txt", []string{"get", "--numeric", "fwmark:7"}},
		{"get.json", []string{"get", "-o", "json", "udp:[2001:db8::1]:53"}},
		{"save.yaml", []string{"save"}},
		{"save.json", []string{"save", "-o", "json"}},
		{"save.rules", []string{"save", "-o", "rules"}},
		{"save-complete.rules", []string{"save", "-o", "rules", "--complete"}},
		{"timeout.txt", []string{"timeout", "get"}},
		{"timeout.json", []string{"timeout", "get", "-o", "json"}},
		{"list-scope.txt", []string{"list", "--numeric", "--scope", "fwmark=1-10"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			testutil.Golden(t, tt.name, []byte(mustRun(t, testutil.Sample(), tt.args...)))
		})
	}
}

// TestSaveRestoreRoundTrip: save | restore | save is stable and a
// restore of the saved table sends no request.
func TestSaveRestoreRoundTrip(t *testing.T) {
	for _, format := range []string{"yaml", "json"} {
		fake := testutil.Sample()
		saved := mustRun(t, fake, "save", "-o", format)
		dir := t.TempDir()
		file := filepath.Join(dir, "saved."+format)
		if err := os.WriteFile(file, []byte(saved), 0o644); err != nil {
			t.Fatal(err)
		}
		fake.ResetWrites()
		mustRun(t, fake, "restore", "-f", file)
		if n := len(fake.Writes); n != 0 {
			t.Errorf("%s: restoring the saved table sent %d requests, want 0", format, n)
		}
		// Into an empty table: everything comes back.
		empty := fakeipvs.New()
		mustRun(t, empty, "restore", "-f", file)
		if again := mustRun(t, empty, "save", "-o", format); again != saved {
			t.Errorf("%s: save | restore | save differs:\n--- first\n%s--- second\n%s", format, saved, again)
		}
	}
}

func TestVersionNeedsNoBackend(t *testing.T) {
	ios, _, stdout, stderr := iostreams.Test()
	f := factory.NewTest(ios, nil)
	opened := false
	f.IPVS = nil // any use would panic
	code := cmdutil.Execute(NewCmdRoot(f), []string{"version"}, stdout, stderr)
	if code != 0 || !strings.HasPrefix(stdout.String(), "ipvsctl test") || opened {
		t.Fatalf("version: exit %d, %q %q", code, stdout, stderr)
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		stdout.Reset()
		if code := cmdutil.Execute(NewCmdRoot(f), []string{"completion", sh}, stdout, stderr); code != 0 || !strings.Contains(stdout.String(), "ipvsctl") {
			t.Errorf("completion %s: exit %d", sh, code)
		}
	}
	// A flag error never reaches the backend either.
	stderr.Reset()
	if code := cmdutil.Execute(NewCmdRoot(f), []string{"list", "--bogus"}, stdout, stderr); code != 1 ||
		!strings.Contains(stderr.String(), "unknown flag: --bogus") || !strings.Contains(stderr.String(), "Usage: ipvsctl list") {
		t.Errorf("flag error: exit %d, %q", code, stderr)
	}
}

// TestSaveSysctlsAndRestore: save --sysctls writes the writable sysctls
// (numbers as numbers, two-number values with one blank), and restore
// sets the ones that differ.
func TestSaveSysctlsAndRestore(t *testing.T) {
	dir := t.TempDir()
	for n, v := range map[string]string{"drop_entry": "2", "sync_threshold": "3\t50", "conntrack": "1", "sync_qlen_max": "100"} {
		mode := os.FileMode(0o644)
		if n == "sync_qlen_max" {
			mode = 0o444
		}
		os.WriteFile(filepath.Join(dir, n), []byte(v+"\n"), mode)
	}
	fake := testutil.Sample()
	ios, _, stdout, stderr := iostreams.Test()
	f := factory.NewTest(ios, fake)
	f.Sysctls = func() (backend.Sysctls, error) { return ipvssysctl.New(ipvssysctl.WithDir(dir)), nil }
	if code := cmdutil.Execute(NewCmdRoot(f), []string{"save", "--sysctls", "-o", "json"}, stdout, stderr); code != 0 {
		t.Fatalf("save: %s", stderr)
	}
	testutil.Golden(t, "save-sysctls.json", stdout.Bytes())
	file := filepath.Join(t.TempDir(), "s.json")
	os.WriteFile(file, stdout.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "conntrack"), []byte("0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "drop_entry"), []byte("1\n"), 0o644) // the kernel flipped the auto mode back
	stdout.Reset()
	if code := cmdutil.Execute(NewCmdRoot(f), []string{"restore", "-f", file, "--dry-run"}, stdout, stderr); code != 0 {
		t.Fatalf("restore: %s", stderr)
	}
	if stdout.String() != "~ set sysctl conntrack: 0 → 1\nPlan: 0 to add, 1 to change, 0 to delete (0 kernel requests).\n" {
		t.Errorf("restore plan:\n%s", stdout)
	}
}

func TestNetnsPID(t *testing.T) {
	r := run(t, fakeipvs.New(), "", "--netns", "pid:x", "list")
	if r.code != 1 || !strings.Contains(r.err, "want a process ID") {
		t.Errorf("%+v", r)
	}
}

// TestColorFlag checks --color: always colours a table that is no
// terminal, never and auto (on test streams, no terminal) do not, and a
// bad value is a usage error that names the choices.
func TestColorFlag(t *testing.T) {
	for _, tt := range []struct {
		name     string
		args     []string
		code     int
		colour   bool
		errorHas string
	}{
		{"always", []string{"--color=always", "list"}, 0, true, ""},
		{"never", []string{"--color", "never", "list"}, 0, false, ""},
		{"auto off a terminal", []string{"list"}, 0, false, ""},
		{"always leaves JSON alone", []string{"--color=always", "list", "-o", "json"}, 0, false, ""},
		{"bad value", []string{"--color=sometimes", "list"}, 1, false, "--color sometimes: want auto, always or never\nUsage:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, testutil.Sample(), "", tt.args...)
			if r.code != tt.code || !strings.Contains(r.err, tt.errorHas) {
				t.Fatalf("exit %d, want %d; stderr %q, want it to hold %q", r.code, tt.code, r.err, tt.errorHas)
			}
			if got := strings.Contains(r.out, "\x1b["); got != tt.colour {
				t.Errorf("colour = %v, want %v:\n%s", got, tt.colour, r.out)
			}
		})
	}
}
