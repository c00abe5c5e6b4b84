package main

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	rpmutils "github.com/sassoftware/go-rpmutils"
)

func TestDescribeVersion(t *testing.T) {
	commit := time.Date(2026, 12, 3, 23, 30, 0, 0, time.FixedZone("UTC-2", -2*3600)) // the 4th in UTC
	for _, tc := range []struct{ describe, want, wantErr string }{
		{describe: "v1.2.3", want: "1.2.3"},
		{describe: "1.2.3\n", want: "1.2.3"},
		{describe: "v1.2.3-dirty", want: "1.2.3+dirty"},
		{describe: "v1.2.3-rc1", want: "1.2.3~rc1"},
		{describe: "v1.2.3-4-gdeadbeef", want: "1.2.3+4.gdeadbeef"},
		{describe: "v1.2.3-rc1-4-gdeadbeef-dirty", want: "1.2.3~rc1+4.gdeadbeef.dirty"},
		{describe: "f5dd2b4", want: "0.0~git20261204.f5dd2b4"},
		{describe: "f5dd2b4-dirty", want: "0.0~git20261204.f5dd2b4.dirty"},
		{describe: "release_one", wantErr: `git describe says "release_one", which makes no package version`},
		{describe: "v1:2", wantErr: `which makes no package version`},
		{describe: "", wantErr: `which makes no package version`},
	} {
		t.Run(tc.describe, func(t *testing.T) {
			got, err := describeVersion(tc.describe, commit)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("describeVersion = %q, %v; want an error with %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("describeVersion = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestParseManifest(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []entry
		wantErr    string
	}{
		{name: "all kinds", text: "file 0755 /usr/sbin/ipvsadm bin:ipvsadm\nlink /usr/sbin/ipvsadm-save ipvsadm\nconf /etc/ipvsadm.rules dist/ipvsadm.rules\n",
			want: []entry{
				{Kind: "file", Path: "/usr/sbin/ipvsadm", Mode: 0o755},
				{Kind: "link", Path: "/usr/sbin/ipvsadm-save", Target: "ipvsadm"},
				{Kind: "conf", Path: "/etc/ipvsadm.rules", Mode: 0o644},
			}},
		{name: "unknown kind", text: "dir /usr/x\n", wantErr: `line 1 "dir /usr/x": unknown kind "dir"`},
		{name: "bad mode", text: "file 0799 /usr/x src\n", wantErr: "not octal permissions"},
		{name: "mode too big", text: "file 17777 /usr/x src\n", wantErr: "not octal permissions"},
		{name: "short file", text: "file 0755 /usr/x\n", wantErr: "want file MODE PATH SOURCE"},
		{name: "relative path", text: "link usr/x y\n", wantErr: "not absolute and clean"},
		{name: "unclean path", text: "conf /etc/../x y\n", wantErr: "not absolute and clean"},
		{name: "empty", text: "", wantErr: "line 1 \"\": empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseManifest(tc.text)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseManifest = %v, %v; want an error with %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseManifest (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunArguments(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "extra argument", args: []string{"deb"}, wantErr: `usage: go run ./tools/pkg`},
		{name: "unknown flag", args: []string{"-format", "deb"}, wantErr: `usage: go run ./tools/pkg`},
		{name: "architecture", args: []string{"-arch", "mips"}, wantErr: `cannot package for architecture "mips": amd64 and arm64 only`},
		{name: "version with a revision", args: []string{"-version", "1.0-1", "-o", t.TempDir()}, wantErr: `version "1.0-1" cannot name a package`},
		{name: "version with an epoch", args: []string{"-version", "1:1.0", "-o", t.TempDir()}, wantErr: `version "1:1.0" cannot name a package`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut strings.Builder
			err := run(tc.args, &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("run(%q) = %v; want an error with %q", tc.args, err, tc.wantErr)
			}
			if out.Len() > 0 {
				t.Errorf("run(%q) printed %q before failing", tc.args, out.String())
			}
		})
	}
}

// manifestLines describes the manifest as the tests see packages:
// "file MODE PATH", "link PATH -> TARGET", "conf PATH".
func manifestLines(entries []entry) []string {
	var lines []string
	for _, e := range entries {
		switch e.Kind {
		case "file":
			lines = append(lines, fmt.Sprintf("file %04o %s", e.Mode, e.Path))
		case "link":
			lines = append(lines, "link "+e.Path+" -> "+e.Target)
		case "conf":
			lines = append(lines, "conf "+e.Path)
		}
	}
	slices.Sort(lines)
	return lines
}

// packages builds the packages once for the tests below, with stand-in
// programs, into a temporary directory.
func packages(t *testing.T) (b build, deb, rpm string) {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	bins := filepath.Join(tmp, "bin")
	os.Mkdir(bins, 0o755)
	for _, p := range []string{"ipvsadm", "ipvsctl"} {
		if err := os.WriteFile(filepath.Join(bins, p), []byte("#!/bin/sh\necho stand-in "+p+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b = build{Version: "1.2.3~test", Arch: "amd64", MTime: time.Unix(1764720000, 0).UTC(), Stage: filepath.Join(tmp, "stage")}
	if b.Entries, err = stage(root, b.Stage, bins); err != nil {
		t.Fatal(err)
	}
	paths, err := b.write(filepath.Join(tmp, "out"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(tmp, "out", "ipvs-tools_1.2.3~test_amd64.deb"), filepath.Join(tmp, "out", "ipvs-tools-1.2.3~test.x86_64.rpm")}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Fatalf("package files (-want +got):\n%s", diff)
	}
	return b, paths[0], paths[1]
}

// TestPackages builds the packages from install.sh's staging of stand-in
// programs; installs the .deb with dpkg into an empty Debian root, where
// it first meets a stand-in of Debian's ipvsadm, and compares what landed
// with the manifest; and reads the .rpm's header.
func TestPackages(t *testing.T) {
	b, deb, rpm := packages(t)
	want := manifestLines(b.Entries)
	for _, w := range []string{"file 0755 /usr/sbin/ipvsadm", "link /usr/sbin/ipvsadm-restore -> ipvsadm", "conf /etc/ipvsadm.rules",
		"file 0644 /usr/share/man/man8/ipvsadm.8", "file 0644 /usr/lib/systemd/system/ipvsadm.service"} {
		if !slices.Contains(want, w) {
			t.Fatalf("install.sh's manifest lacks %q: %q", w, want)
		}
	}
	t.Run("deb", func(t *testing.T) { checkDeb(t, b, deb, want) })
	t.Run("rpm", func(t *testing.T) { checkRPM(t, b, rpm, want) })
}

func checkDeb(t *testing.T, b build, deb string, want []string) {
	for _, p := range []string{"dpkg", "dpkg-deb"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s is not installed, so the .deb is not checked here (Debian's CI has it): %v", p, err)
		}
	}
	home := t.TempDir() // dpkg reads ~/.dpkg.cfg
	dpkg := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "HOME="+home, "LC_ALL=C")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	// The control fields: no Replaces (see the command's documentation).
	fields := dpkg("dpkg-deb", "-f", deb, "Package", "Version", "Architecture", "Provides", "Conflicts", "Replaces", "Depends")
	wantFields := "Package: ipvs-tools\nVersion: 1.2.3~test\nArchitecture: amd64\nProvides: ipvsadm\nConflicts: ipvsadm\n"
	if diff := cmp.Diff(wantFields, fields); diff != "" {
		t.Errorf("dpkg-deb -f (-want +got):\n%s", diff)
	}
	conffiles := strings.Fields(dpkg("dpkg-deb", "--info", deb, "conffiles"))
	slices.Sort(conffiles)

	// An empty root with a merged /usr, as Debian 12's: dpkg --root is
	// --instdir and --admindir=ROOT/var/lib/dpkg. The packages have no
	// maintainer scripts, so nothing runs chrooted; --force-not-root lets
	// a user run the test.
	root := t.TempDir()
	admin := filepath.Join(root, "var/lib/dpkg")
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "usr/sbin"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"status", "available"} {
		if err := os.WriteFile(filepath.Join(admin, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("usr/sbin", filepath.Join(root, "sbin")); err != nil {
		t.Fatal(err)
	}
	install := []string{"dpkg", "--root=" + root, "--log=/dev/null", "--force-not-root", "--force-script-chrootless", "--install"}

	// Debian's ipvsadm installed (a stand-in with its /sbin paths): ours
	// is refused, and the old program stays.
	old := filepath.Join(t.TempDir(), "ipvsadm")
	for name, text := range map[string]string{
		"DEBIAN/control": "Package: ipvsadm\nVersion: 1:1.31-1\nArchitecture: amd64\nMaintainer: Test <test@example.com>\nDescription: stand-in\n",
		"sbin/ipvsadm":   "#!/bin/sh\necho old\n",
	} {
		os.MkdirAll(filepath.Dir(filepath.Join(old, name)), 0o755)
		if err := os.WriteFile(filepath.Join(old, name), []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("ipvsadm", filepath.Join(old, "sbin/ipvsadm-save")); err != nil {
		t.Fatal(err)
	}
	dpkg("dpkg-deb", "--root-owner-group", "--build", old, old+".deb")
	dpkg(append(install, old+".deb")...)
	cmd := exec.Command(install[0], append(install[1:], deb)...)
	cmd.Env = append(os.Environ(), "HOME="+home, "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "ipvs-tools conflicts with ipvsadm") {
		t.Errorf("dpkg -i over ipvsadm: %v, want a refusal naming the conflict:\n%s", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(root, "usr/sbin/ipvsadm")); string(b) != "#!/bin/sh\necho old\n" {
		t.Errorf("after the refusal /usr/sbin/ipvsadm is %q, %v; want the old one", b, err)
	}

	// With ipvsadm removed, ours installs.
	dpkg("dpkg", "--root="+root, "--log=/dev/null", "--force-not-root", "--remove", "ipvsadm")
	dpkg(append(install, deb)...)
	if st := dpkg("dpkg-query", "--admindir="+admin, "-W", "-f=${Status} ${Version}", "ipvs-tools"); st != "install ok installed 1.2.3~test" {
		t.Errorf("dpkg-query -W: %q", st)
	}

	// What landed, described as the manifest is: dpkg -L's paths that are
	// not directories, with their kind and mode in the root.
	var got []string
	for _, p := range strings.Split(strings.TrimSpace(dpkg("dpkg", "--root="+root, "-L", "ipvs-tools")), "\n") {
		info, err := os.Lstat(filepath.Join(root, p))
		switch {
		case err != nil:
			t.Errorf("dpkg -L lists %s, which is not in the root: %v", p, err)
		case info.IsDir():
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(filepath.Join(root, p))
			got = append(got, "link "+p+" -> "+target)
		case slices.Contains(conffiles, p):
			got = append(got, "conf "+p)
			if info.Mode().Perm() != 0o644 {
				t.Errorf("%s has mode %v", p, info.Mode())
			}
		default:
			got = append(got, fmt.Sprintf("file %04o %s", info.Mode().Perm(), p))
		}
	}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dpkg --root -L ipvs-tools against install.sh's manifest (-want +got):\n%s", diff)
	}
	// The files are the staged ones.
	for _, p := range []string{"/usr/sbin/ipvsadm", "/usr/lib/systemd/system/ipvsadm.service", "/etc/default/ipvsadm"} {
		a, _ := os.ReadFile(filepath.Join(root, p))
		s, _ := os.ReadFile(filepath.Join(b.Stage, p))
		if len(a) == 0 || string(a) != string(s) {
			t.Errorf("installed %s differs from the staged one", p)
		}
	}
}

func checkRPM(t *testing.T, b build, path string, want []string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := rpmutils.ReadRpm(f)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	nevra, err := r.Header.GetNEVRA()
	if err != nil {
		t.Fatal(err)
	}
	if got := nevra.Name + " " + nevra.Version + "-" + nevra.Release + "." + nevra.Arch; got != "ipvs-tools 1.2.3~test-1.x86_64" {
		t.Errorf("rpm name, version, arch: %q", got)
	}
	for _, tag := range []struct {
		name string
		tag  int
	}{{"Provides", rpmutils.PROVIDENAME}, {"Conflicts", rpmutils.CONFLICTNAME}, {"Obsoletes", rpmutils.OBSOLETENAME}} {
		names, err := r.Header.GetStrings(tag.tag)
		if err != nil || !slices.Contains(names, "ipvsadm") {
			t.Errorf("rpm %s: %q, %v; want ipvsadm among them", tag.name, names, err)
		}
	}
	files, err := r.Header.GetFiles()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, fi := range files {
		mode := fs.FileMode(fi.Mode() & 0o7777)
		switch typ := fi.Mode() & 0o170000; {
		case typ == 0o040000:
		case typ == 0o120000:
			got = append(got, "link "+fi.Name()+" -> "+fi.Linkname())
		case fi.Flags()&rpmutils.RPMFILE_CONFIG != 0:
			got = append(got, "conf "+fi.Name())
			if fi.Flags()&rpmutils.RPMFILE_NOREPLACE == 0 || mode != 0o644 {
				t.Errorf("%s: flags %#x, mode %v; want %%config(noreplace), 0644", fi.Name(), fi.Flags(), mode)
			}
		default:
			got = append(got, fmt.Sprintf("file %04o %s", mode, fi.Name()))
		}
	}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the rpm's files against install.sh's manifest (-want +got):\n%s", diff)
	}
	if rpmCmd, err := exec.LookPath("rpm"); err == nil {
		out, err := exec.Command(rpmCmd, "-qpl", path).Output()
		if err != nil {
			t.Fatalf("rpm -qpl: %v", err)
		}
		var wantPaths []string
		for _, e := range b.Entries {
			wantPaths = append(wantPaths, e.Path)
		}
		slices.Sort(wantPaths)
		gotPaths := strings.Fields(string(out))
		slices.Sort(gotPaths)
		if diff := cmp.Diff(wantPaths, gotPaths); diff != "" {
			t.Errorf("rpm -qpl against install.sh's manifest (-want +got):\n%s", diff)
		}
	} else {
		t.Logf("rpm is not installed; the rpm was read with go-rpmutils only")
	}
}
