// Package scripts holds the project's shell entry points; these tests run
// install.sh into temporary DESTDIRs and check the tree it builds.
package scripts_test

import (
	"bytes"
	"debug/elf"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func install(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("./install.sh", args...)
	cmd.Env = append(os.Environ(), "PATH=/usr/local/go/bin:"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("install.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// tree lists DESTDIR: "MODE path" for files and directories,
// "link path -> target" for links.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out = append(out, "link /"+rel+" -> "+target)
		case info.IsDir():
		default:
			out = append(out, info.Mode().Perm().String()+" /"+rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// repoPages are the man pages the repository has (hand-written and
// generated), by base name.
func repoPages(t *testing.T) map[string]string {
	t.Helper()
	pages := map[string]string{}
	for _, pat := range []string{"../man/*.8", "../man/*/*.8"} {
		m, _ := filepath.Glob(pat)
		for _, p := range m {
			pages[filepath.Base(p)] = p
		}
	}
	if len(pages) < 3 {
		t.Fatalf("only %d man pages", len(pages))
	}
	return pages
}

func hasIpvsctl() bool {
	_, err := os.Stat("../cmd/ipvsctl")
	return err == nil
}

func TestInstallUsr(t *testing.T) {
	dest := t.TempDir()
	install(t, "DESTDIR="+dest, "PREFIX=/usr")
	want := []string{
		"-rwxr-xr-x /usr/sbin/ipvsadm",
		"link /usr/sbin/ipvsadm-save -> ipvsadm",
		"link /usr/sbin/ipvsadm-restore -> ipvsadm",
		"-rw-r--r-- /usr/share/bash-completion/completions/ipvsadm",
		"link /usr/share/bash-completion/completions/ipvsadm-save -> ipvsadm",
		"link /usr/share/bash-completion/completions/ipvsadm-restore -> ipvsadm",
		"-rw-r--r-- /usr/share/zsh/vendor-completions/_ipvsadm",
		"-rw-r--r-- /usr/share/fish/vendor_completions.d/ipvsadm.fish",
		"link /usr/share/fish/vendor_completions.d/ipvsadm-save.fish -> ipvsadm.fish",
		"link /usr/share/fish/vendor_completions.d/ipvsadm-restore.fish -> ipvsadm.fish",
		"-rw-r--r-- /usr/lib/systemd/system/ipvsadm.service",
		"-rw-r--r-- /usr/lib/systemd/system/ipvsctl-agent.service",
		"-rw-r--r-- /usr/lib/systemd/system/ipvsadm-sync.service",
		"-rwxr-xr-x /usr/libexec/ipvs-tools/ipvsadm-service",
		"-rw-r--r-- /etc/default/ipvsadm",
		"-rw-r--r-- /etc/ipvsadm.rules",
	}
	pages := repoPages(t)
	for name := range pages {
		want = append(want, "-rw-r--r-- /usr/share/man/man8/"+name)
	}
	if hasIpvsctl() {
		want = append(want, "-rwxr-xr-x /usr/sbin/ipvsctl")
		for _, c := range []struct{ src, dst string }{
			{"ipvsctl.bash", "/usr/share/bash-completion/completions/ipvsctl"},
			{"_ipvsctl", "/usr/share/zsh/vendor-completions/_ipvsctl"},
			{"ipvsctl.fish", "/usr/share/fish/vendor_completions.d/ipvsctl.fish"},
		} {
			if _, err := os.Stat("../completions/" + c.src); err == nil {
				want = append(want, "-rw-r--r-- "+c.dst)
			}
		}
	}
	got := tree(t, dest)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("installed tree\n got: %q\nwant: %q", got, want)
	}

	// Copies are byte for byte.
	same := map[string]string{
		"/usr/share/bash-completion/completions/ipvsadm":    "../completions/ipvsadm.bash",
		"/usr/share/zsh/vendor-completions/_ipvsadm":        "../completions/_ipvsadm",
		"/usr/share/fish/vendor_completions.d/ipvsadm.fish": "../completions/ipvsadm.fish",
	}
	for name, src := range pages {
		same["/usr/share/man/man8/"+name] = src
	}
	for dst, src := range same {
		a, _ := os.ReadFile(filepath.Join(dest, dst))
		b, _ := os.ReadFile(src)
		if !bytes.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s differs from %s", dst, src)
		}
	}
	// With PREFIX=/usr and SYSCONFDIR=/etc the units, the helper and the
	// settings keep their built-in paths.
	for dst, src := range map[string]string{
		"/usr/lib/systemd/system/ipvsadm.service":       "../dist/ipvsadm.service",
		"/usr/lib/systemd/system/ipvsadm-sync.service":  "../dist/ipvsadm-sync.service",
		"/usr/lib/systemd/system/ipvsctl-agent.service": "../dist/ipvsctl-agent.service",
		"/usr/libexec/ipvs-tools/ipvsadm-service":       "../dist/ipvsadm-service",
		"/etc/default/ipvsadm":                          "../dist/default.ipvsadm",
		"/etc/ipvsadm.rules":                            "../dist/ipvsadm.rules",
	} {
		a, _ := os.ReadFile(filepath.Join(dest, dst))
		b, _ := os.ReadFile(src)
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from %s", dst, src)
		}
	}

	// The programs are static (no ELF interpreter) and run.
	for _, p := range []string{"ipvsadm", "ipvsctl"} {
		path := filepath.Join(dest, "usr/sbin", p)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		f, err := elf.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				t.Errorf("%s is dynamically linked", p)
			}
		}
		f.Close()
	}
	out, err := exec.Command(filepath.Join(dest, "usr/sbin/ipvsadm"), "-v").Output()
	if err != nil || !strings.HasPrefix(string(out), "ipvsadm v1.31 ") {
		t.Errorf("installed ipvsadm -v: %v %q", err, out)
	}

	// The units verify, with their helper where it was installed
	// (systemd-analyze --root would also need systemd's own units there).
	if sa, err := exec.LookPath("systemd-analyze"); err == nil {
		dir := t.TempDir()
		for _, u := range []string{"ipvsadm.service", "ipvsadm-sync.service"} {
			b, err := os.ReadFile(filepath.Join(dest, "usr/lib/systemd/system", u))
			if err != nil {
				t.Fatal(err)
			}
			b = bytes.ReplaceAll(b, []byte("=/usr/libexec/"), []byte("="+dest+"/usr/libexec/"))
			p := filepath.Join(dir, u)
			os.WriteFile(p, b, 0o644)
			out, err := exec.Command(sa, "verify", "--man=no", p).CombinedOutput()
			if err != nil || len(out) > 0 {
				t.Errorf("systemd-analyze verify %s: %v\n%s", u, err, out)
			}
		}
	} else {
		t.Logf("systemd-analyze not installed; units not verified here: %v", err)
	}
}

// TestInstallLocalPrefix: the default PREFIX=/usr/local puts everything
// under it, except the settings in /etc, and rewrites the paths the units
// and the helper use.
func TestInstallLocalPrefix(t *testing.T) {
	dest := t.TempDir()
	install(t, "DESTDIR="+dest)
	for _, p := range []string{
		"/usr/local/sbin/ipvsadm", "/usr/local/share/man/man8/ipvsadm.8",
		"/usr/local/share/bash-completion/completions/ipvsadm",
		"/usr/local/share/zsh/site-functions/_ipvsadm",
		"/usr/local/share/fish/vendor_completions.d/ipvsadm.fish",
		"/usr/local/lib/systemd/system/ipvsadm.service",
		"/usr/local/libexec/ipvs-tools/ipvsadm-service",
		"/etc/default/ipvsadm",
	} {
		if _, err := os.Lstat(filepath.Join(dest, p)); err != nil {
			t.Errorf("missing %s", p)
		}
	}
	unit, _ := os.ReadFile(filepath.Join(dest, "/usr/local/lib/systemd/system/ipvsadm.service"))
	if !bytes.Contains(unit, []byte("ExecStart=/usr/local/libexec/ipvs-tools/ipvsadm-service restore\n")) {
		t.Errorf("unit runs the wrong helper:\n%s", unit)
	}
	helper, _ := os.ReadFile(filepath.Join(dest, "/usr/local/libexec/ipvs-tools/ipvsadm-service"))
	if !bytes.Contains(helper, []byte("sbin=${IPVSADM_SBIN:-/usr/local/sbin}\n")) {
		t.Errorf("helper does not run /usr/local/sbin's programs")
	}

	// Custom directories, settings elsewhere.
	dest = t.TempDir()
	install(t, "DESTDIR="+dest, "PREFIX=/opt/ipvs", "SYSCONFDIR=/opt/ipvs/etc", "MANDIR=/opt/man",
		"BASHCOMPDIR=/opt/bc", "ZSHCOMPDIR=/opt/zc", "FISHCOMPDIR=/opt/fc", "SYSTEMDUNITDIR=/opt/units")
	for _, p := range []string{"/opt/ipvs/sbin/ipvsadm", "/opt/man/man8/ipvsadm.8", "/opt/bc/ipvsadm", "/opt/zc/_ipvsadm",
		"/opt/fc/ipvsadm.fish", "/opt/units/ipvsadm.service", "/opt/ipvs/etc/default/ipvsadm", "/opt/ipvs/etc/ipvsadm.rules"} {
		if _, err := os.Lstat(filepath.Join(dest, p)); err != nil {
			t.Errorf("missing %s", p)
		}
	}
	helper, _ = os.ReadFile(filepath.Join(dest, "/opt/ipvs/libexec/ipvs-tools/ipvsadm-service"))
	for _, want := range []string{"IPVSADM_DEFAULTS:-/opt/ipvs/etc/default/ipvsadm}", "RULES=/opt/ipvs/etc/ipvsadm.rules"} {
		if !bytes.Contains(helper, []byte(want)) {
			t.Errorf("helper lacks %q", want)
		}
	}
	def, _ := os.ReadFile(filepath.Join(dest, "/opt/ipvs/etc/default/ipvsadm"))
	if !bytes.Contains(def, []byte("\nRULES=/opt/ipvs/etc/ipvsadm.rules\n")) {
		t.Errorf("settings name the wrong rules file")
	}
}

// TestReinstallKeepsSettingsUninstall: a second install keeps edited
// settings; --uninstall removes everything else; prebuilt BINARIES work.
func TestReinstallKeepsSettingsUninstall(t *testing.T) {
	dest := t.TempDir()
	install(t, "DESTDIR="+dest, "PREFIX=/usr")
	def := filepath.Join(dest, "etc/default/ipvsadm")
	os.WriteFile(def, []byte("DAEMON=master\n"), 0o644)
	bins := t.TempDir()
	b, _ := os.ReadFile(filepath.Join(dest, "usr/sbin/ipvsadm"))
	os.WriteFile(filepath.Join(bins, "ipvsadm"), b, 0o755)
	if hasIpvsctl() {
		b, _ := os.ReadFile(filepath.Join(dest, "usr/sbin/ipvsctl"))
		os.WriteFile(filepath.Join(bins, "ipvsctl"), b, 0o755)
	}
	out := install(t, "DESTDIR="+dest, "PREFIX=/usr", "BINARIES="+bins)
	if strings.Contains(out, "building") {
		t.Errorf("built despite BINARIES:\n%s", out)
	}
	if got, _ := os.ReadFile(def); string(got) != "DAEMON=master\n" {
		t.Errorf("reinstall overwrote the settings: %q", got)
	}
	install(t, "--uninstall", "DESTDIR="+dest, "PREFIX=/usr")
	left := tree(t, dest)
	want := []string{"-rw-r--r-- /etc/default/ipvsadm", "-rw-r--r-- /etc/ipvsadm.rules"}
	if !slices.Equal(left, want) {
		t.Errorf("after --uninstall: %q, want %q", left, want)
	}
}

func TestInstallArguments(t *testing.T) {
	for _, args := range [][]string{{"FOO=1"}, {"--bogus"}, {"PREFIX=relative"}} {
		cmd := exec.Command("./install.sh", args...)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Errorf("install.sh %v: %v %q, want exit 2", args, err, out)
		}
	}
	out, err := exec.Command("./install.sh", "--help").Output()
	if err != nil || !strings.Contains(string(out), "DESTDIR") || strings.Contains(string(out), "set -euo") {
		t.Errorf("--help: %v %q", err, out)
	}
	list, err := exec.Command("./install.sh", "--list", "PREFIX=/usr").Output()
	if err != nil || !strings.Contains(string(list), "link /usr/sbin/ipvsadm-save ipvsadm\n") {
		t.Errorf("--list: %v %q", err, list)
	}
}
