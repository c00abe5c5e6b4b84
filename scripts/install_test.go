// Package scripts holds the project's shell entry points; these tests run
// install.sh into temporary DESTDIRs and check the tree it builds.
package scripts_test

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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
		"-rw-r--r-- /usr/lib/systemd/system/ipvsctl-fleet-agent.service",
		"-rw-r--r-- /usr/lib/systemd/system/ipvsadm-sync.service",
		"-rwxr-xr-x /usr/libexec/ipvs-tools/ipvsadm-service",
		"-rw-r--r-- /usr/share/doc/ipvs-tools/LICENSE",
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
		"/usr/share/doc/ipvs-tools/LICENSE":                 "../LICENSE",
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
		"/usr/lib/systemd/system/ipvsadm.service":             "../dist/ipvsadm.service",
		"/usr/lib/systemd/system/ipvsadm-sync.service":        "../dist/ipvsadm-sync.service",
		"/usr/lib/systemd/system/ipvsctl-agent.service":       "../dist/ipvsctl-agent.service",
		"/usr/lib/systemd/system/ipvsctl-fleet-agent.service": "../dist/ipvsctl-fleet-agent.service",
		"/usr/libexec/ipvs-tools/ipvsadm-service":             "../dist/ipvsadm-service",
		"/etc/default/ipvsadm":                                "../dist/default.ipvsadm",
		"/etc/ipvsadm.rules":                                  "../dist/ipvsadm.rules",
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

// fakeDpkgQuery puts on PATH a dpkg-query that, for -S, answers as
// Debian's does for the paths in owned (path -> "pkg" or "pkg1, pkg2"):
// "pkg: path" for each, an error line for the others, exit status 1 if any
// was not found. It also names every path in a diversion line, which is
// not ownership. It returns the PATH to run install.sh with.
func fakeDpkgQuery(t *testing.T, owned map[string]string) string {
	return fakePackageTools(t, owned, nil)
}

// fakePackageTools is fakeDpkgQuery, and with rpmOwned (path -> package)
// also an rpm whose database has a package: rpm -qf answers the package
// of a path in rpmOwned, or fails as rpm does.
func fakePackageTools(t *testing.T, owned, rpmOwned map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	var cases strings.Builder
	for p, pkgs := range owned {
		fmt.Fprintf(&cases, "\t%q) echo %q ;;\n", p, pkgs+": "+p)
	}
	script := "#!/bin/sh\n[ \"$1\" = -S ] || exit 2\nshift\nrc=0\nfor p; do\n" +
		"\techo \"diversion by fake from: $p\"\n\tcase $p in\n" + cases.String() +
		"\t*) echo \"dpkg-query: no path found matching pattern $p\" >&2; rc=1 ;;\n\tesac\ndone\nexit $rc\n"
	if err := os.WriteFile(filepath.Join(dir, "dpkg-query"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if rpmOwned != nil {
		cases.Reset()
		for p, pkg := range rpmOwned {
			fmt.Fprintf(&cases, "\t%q) echo %q ;;\n", p, pkg)
		}
		script := "#!/bin/sh\ncase $1 in\n-qa) echo fake-1.0-1.noarch; exit 0 ;;\n-qf) ;;\n*) exit 2 ;;\nesac\n" +
			"eval p=\\${$#}\ncase $p in\n" + cases.String() +
			"\t*) echo \"file $p is not owned by any package\"; exit 1 ;;\nesac\n"
		if err := os.WriteFile(filepath.Join(dir, "rpm"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir + ":/usr/local/go/bin:" + os.Getenv("PATH")
}

// standIns is a BINARIES directory of tiny programs, for runs that never
// execute what they install.
func standIns(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range []string{"ipvsadm", "ipvsctl"} {
		if err := os.WriteFile(filepath.Join(dir, p), []byte("#!/bin/sh\necho stand-in\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runInstall runs install.sh with PATH and answers its exit status and
// output (stdout and stderr together).
func runInstall(t *testing.T, path string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command("./install.sh", args...)
	cmd.Env = append(os.Environ(), "PATH="+path, "FORCE=")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatalf("install.sh %s: %v", strings.Join(args, " "), err)
	}
	return 0, string(out)
}

// TestInstallRefusesPackageFiles: without DESTDIR, install and uninstall
// stop before touching a file a package owns (as dpkg-query -S says),
// name the files, the packages and what to do, and change nothing; FORCE=1
// or --force goes ahead; with DESTDIR nothing is checked. The installs go
// to a temporary PREFIX, which the fake dpkg-query says a package owns.
func TestInstallRefusesPackageFiles(t *testing.T) {
	root := t.TempDir()
	prefix := filepath.Join(root, "usr")
	etc := filepath.Join(root, "etc")
	bins := standIns(t)
	vars := []string{"PREFIX=" + prefix, "SYSCONFDIR=" + etc, "BINARIES=" + bins}
	sbin := filepath.Join(prefix, "sbin")
	page := filepath.Join(prefix, "share/man/man8/ipvsadm.8")
	path := fakeDpkgQuery(t, map[string]string{
		filepath.Join(sbin, "ipvsadm"):      "ipvsadm",
		filepath.Join(sbin, "ipvsadm-save"): "ipvsadm",
		page:                                "ipvsadm, ipvsadm-doc",
	})
	refusal := []string{
		"install.sh: these files belong to installed packages; install would overwrite them:",
		"  " + sbin + "/ipvsadm (package ipvsadm)",
		"  " + sbin + "/ipvsadm-save (package ipvsadm)",
		"  " + page + " (package ipvsadm, ipvsadm-doc)",
		"Nothing was changed. Remove the package first (apt-get remove ipvsadm ipvsadm-doc, or dnf remove),",
		"or install elsewhere (PREFIX=/usr/local, the default), or run again with",
		"--force (FORCE=1) to overwrite them anyway; the package manager will not know.",
	}
	for _, tc := range []struct {
		name      string
		args      []string
		env       []string
		wantCode  int
		wantLines []string // the output's lines that say so, in order
		wantFiles bool     // whether PREFIX holds ipvsadm afterwards
	}{
		{name: "install refuses", args: vars, wantCode: 1, wantLines: refusal},
		{name: "check names them", args: append([]string{"--check"}, vars...), wantCode: 1, wantLines: []string{
			"these files belong to installed packages; install.sh would overwrite them:",
			"  " + sbin + "/ipvsadm (package ipvsadm)",
		}},
		{name: "FORCE=1 installs", args: append([]string{"FORCE=1"}, vars...), wantLines: []string{
			"install.sh: install over files of installed packages (FORCE):",
			"  " + sbin + "/ipvsadm (package ipvsadm)",
		}, wantFiles: true},
		{name: "uninstall refuses", args: append([]string{"--uninstall"}, vars...), wantCode: 1, wantLines: []string{
			"install.sh: these files belong to installed packages; uninstall would remove them:",
			"  " + sbin + "/ipvsadm (package ipvsadm)",
		}, wantFiles: true},
		{name: "uninstall --force removes", args: append([]string{"--uninstall", "--force"}, vars...), wantLines: []string{
			"removed " + sbin + "/ipvsadm",
		}},
		{name: "DESTDIR is not checked", args: append([]string{"DESTDIR=" + root + "/stage"}, vars...), wantLines: []string{
			"installed " + root + "/stage" + sbin + "/ipvsadm",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runInstall(t, path, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit status %d, want %d; output:\n%s", code, tc.wantCode, out)
			}
			if diff := cmp.Diff(tc.wantLines, inOrder(out, tc.wantLines)); diff != "" {
				t.Errorf("output lacks lines (-want +found):\n%s\noutput:\n%s", diff, out)
			}
			_, err := os.Lstat(filepath.Join(sbin, "ipvsadm"))
			if got := err == nil; got != tc.wantFiles {
				t.Errorf("%s/ipvsadm exists: %v, want %v", sbin, got, tc.wantFiles)
			}
			if !tc.wantFiles {
				// Refusing writes nothing at all; uninstall keeps the settings.
				var left []string
				for _, l := range tree(t, root) {
					if !strings.Contains(l, " /etc/") && !strings.Contains(l, " /stage/") {
						left = append(left, l)
					}
				}
				if len(left) > 0 {
					t.Errorf("left in PREFIX: %q", left)
				}
			}
		})
	}
}

// inOrder answers the lines of want that appear as whole lines of out in
// want's order.
func inOrder(out string, want []string) []string {
	var found []string
	lines := strings.Split(out, "\n")
	for _, w := range want {
		if i := slices.Index(lines, w); i >= 0 {
			found = append(found, w)
			lines = lines[i+1:]
		}
	}
	return found
}

// TestInstallCheckAliases: a package database names a file as its package
// shipped it, which may be through a symbolic link: /sbin/ipvsadm is
// /usr/sbin/ipvsadm on a merged /usr, and Debian's ipvsadm lists the
// former. --check writes nothing, so it can ask about /usr itself.
func TestInstallCheckAliases(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "real/sbin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	type check struct {
		name   string
		owned  map[string]string
		rpm    map[string]string
		args   []string
		skip   string
		want   []string
		wantRC int
	}
	checks := []check{
		{
			name:  "directory through a link",
			owned: map[string]string{root + "/real/sbin/ipvsadm": "ipvsadm"},
			args:  []string{"SBINDIR=" + root + "/link/sbin", "PREFIX=" + root + "/p", "SYSCONFDIR=" + root + "/etc"},
			want: []string{
				"these files belong to installed packages; install.sh would overwrite them:",
				"  " + root + "/link/sbin/ipvsadm (package ipvsadm, listed as " + root + "/real/sbin/ipvsadm)",
			},
			wantRC: 1,
		},
		{
			name:  "rpm database",
			owned: map[string]string{},
			rpm:   map[string]string{root + "/p/sbin/ipvsctl": "ipvs-tools"},
			args:  []string{"PREFIX=" + root + "/p", "SYSCONFDIR=" + root + "/etc"},
			want: []string{
				"these files belong to installed packages; install.sh would overwrite them:",
				"  " + root + "/p/sbin/ipvsctl (package ipvs-tools)",
			},
			wantRC: 1,
		},
		{
			name:   "nothing owned",
			owned:  map[string]string{"/nowhere/ipvsadm": "ipvsadm"},
			args:   []string{"PREFIX=" + root + "/p", "SYSCONFDIR=" + root + "/etc"},
			want:   []string{"no package owns any file install.sh would write"},
			wantRC: 0,
		},
	}
	merged := check{
		name:  "merged /usr",
		owned: map[string]string{"/sbin/ipvsadm": "ipvsadm", "/sbin/ipvsadm-restore": "ipvsadm"},
		args:  []string{"PREFIX=/usr"},
		want: []string{
			"these files belong to installed packages; install.sh would overwrite them:",
			"  /usr/sbin/ipvsadm (package ipvsadm, listed as /sbin/ipvsadm)",
			"  /usr/sbin/ipvsadm-restore (package ipvsadm, listed as /sbin/ipvsadm-restore)",
		},
		wantRC: 1,
	}
	if target, err := os.Readlink("/sbin"); err != nil || strings.TrimPrefix(target, "/") != "usr/sbin" {
		merged.skip = "/sbin is not a link to usr/sbin here (no merged /usr)"
	}
	checks = append(checks, merged)
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.skip != "" {
				t.Skip(c.skip)
			}
			code, out := runInstall(t, fakePackageTools(t, c.owned, c.rpm), append([]string{"--check"}, c.args...)...)
			if code != c.wantRC {
				t.Errorf("exit status %d, want %d", code, c.wantRC)
			}
			if diff := cmp.Diff(c.want, strings.Split(strings.TrimSuffix(out, "\n"), "\n")); diff != "" {
				t.Errorf("install.sh --check (-want +got):\n%s", diff)
			}
		})
	}
}
