package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
)

// update makes TestVMGolden print regenerated golden files (captured from
// the reference ipvsadm) instead of comparing; see testdata/README.md.
var update = flag.Bool("update", false, "print regenerated golden files between @@@GOLDEN markers")

const goldenDir = "testdata/ipvsadm"

// guestSetup prepares the guest once: loopback up (destinations need it)
// and a dummy interface with an address for the sync daemons.
func guestSetup(t *testing.T) {
	t.Helper()
	vmtest.MustShell(t, `
ip=`+vmtest.IPFull+`
$ip link set lo up
$ip link show dummy0 >/dev/null 2>&1 || {
	$ip link add dummy0 type dummy
	$ip addr add 10.200.0.1/24 dev dummy0
	$ip link set dummy0 up
}
`)
}

// resetInput restores the kernel's initial state through one -R run of
// the reference (stopping a daemon that is not running only prints an
// error, which -R survives).
const resetInput = "-C\n--set 900 120 300\n--stop-daemon master\n--stop-daemon backup\n"

func reset(t *testing.T) {
	t.Helper()
	r := vmtest.RefInput(t, resetInput, "-R")
	if r.Stdout != "" {
		t.Fatalf("reset: %s", r)
	}
}

// stateInput dumps the whole kernel state with the reference.
// stateInput reads the kernel state with the reference: the table (with
// the destination thresholds, which -S does not show), timeouts, daemons.
const stateInput = "-Sn\n-Ln --thresholds\n-L --timeout\n-L --daemon\n"

// runSetup runs a setup script with /bin/sh, "ipvsadm" being the
// reference. A script of nothing but ipvsadm command lines is fed to one
// "ipvsadm -R" of the reference instead (which drops the "ipvsadm"
// tokens), which is much faster in the emulated VM; it must then succeed
// without a message.
func runSetup(t *testing.T, script string) {
	t.Helper()
	if strings.TrimSpace(script) == "" {
		return
	}
	var lines []string
	onlyIpvsadm := true
	for _, l := range strings.Split(script, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if !strings.HasPrefix(l, "ipvsadm ") || strings.ContainsAny(l, "|&;<>$`\"'\\") {
			onlyIpvsadm = false
			break
		}
		lines = append(lines, l)
	}
	if onlyIpvsadm {
		r := vmtest.RefInput(t, strings.Join(lines, "\n")+"\n", "-R")
		if r.Code != 0 || r.Stderr != "" {
			t.Fatalf("setup failed: %s\ninput:\n%s", r, strings.Join(lines, "\n"))
		}
		return
	}
	vmtest.MustShell(t, "set -e\nipvsadm() { "+vmtest.RefPath+" \"$@\"; }\n"+script)
}

// goldenCase is one testdata/ipvsadm/<name> case.
type goldenCase struct {
	name  string
	args  []string
	setup string
	stdin string
}

// readSetup reads a .setup file; a line "#include NAME" is replaced by the
// file NAME.inc of the same directory.
func readSetup(dir, file string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return "", err
	}
	var out strings.Builder
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "#include "); ok {
			inc, err := readSetup(dir, strings.TrimSpace(name)+".inc")
			if err != nil {
				return "", err
			}
			out.WriteString(inc)
			continue
		}
		out.WriteString(line)
	}
	return out.String(), nil
}

// loadGoldenCases reads every <name>.args of dir. An args file holds one
// argument per line (an empty file: no arguments).
func loadGoldenCases(dir string) ([]goldenCase, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.args"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var cases []goldenCase
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".args")
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		c := goldenCase{name: name}
		if s := strings.TrimSuffix(string(b), "\n"); s != "" || len(b) > 1 {
			c.args = strings.Split(s, "\n")
		}
		if _, err := os.Stat(filepath.Join(dir, name+".setup")); err == nil {
			if c.setup, err = readSetup(dir, name+".setup"); err != nil {
				return nil, err
			}
		}
		if b, err := os.ReadFile(filepath.Join(dir, name+".stdin")); err == nil {
			c.stdin = string(b)
		}
		cases = append(cases, c)
	}
	return cases, nil
}

// TestVMGolden runs every case of testdata/ipvsadm with the reference
// (which must print the golden file) and with ours (which must too), on
// every pinned kernel; see testdata/README.md.
//
//vmtest:kernels all
//vmtest:budget 2m
func TestVMGolden(t *testing.T) {
	vmtest.Require(t)
	guestSetup(t)
	cases, err := loadGoldenCases(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no golden cases")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reset(t)
			runSetup(t, c.setup)
			ref := vmtest.Run(t, vmtest.RefPath, "ipvsadm", c.stdin, c.args...)
			rel := filepath.Join(goldenDir, c.name+".golden")
			if *update {
				vmtest.PrintGolden(rel, ref)
				return
			}
			want := vmtest.WantGolden(t, rel)
			if ref != want {
				t.Errorf("the reference ipvsadm on kernel %s no longer matches %s:\n%s", vmtest.Kernel(), rel, diffResults(want, ref))
			}
			reset(t)
			runSetup(t, c.setup)
			ours := vmtest.Run(t, vmtest.OursPath, "ipvsadm", c.stdin, c.args...)
			if ours != want {
				t.Errorf("ipvsadm %s: ours differs from %s:\n%s", strings.Join(c.args, " "), rel, diffResults(want, ours))
			}
		})
	}
	reset(t)
}

// diffResults describes how got differs from want, line by line.
func diffResults(want, got vmtest.Result) string {
	var b strings.Builder
	if want.Code != got.Code {
		fmt.Fprintf(&b, "exit status: want %d, got %d\n", want.Code, got.Code)
	}
	for _, p := range []struct{ name, w, g string }{{"stdout", want.Stdout, got.Stdout}, {"stderr", want.Stderr, got.Stderr}} {
		if p.w == p.g {
			continue
		}
		fmt.Fprintf(&b, "%s:\n%s", p.name, lineDiff(p.w, p.g))
	}
	return b.String()
}

// lineDiff marks the lines of want and got that differ ("-" want, "+" got),
// with the end of every line shown as "$".
func lineDiff(want, got string) string {
	wl := strings.SplitAfter(want, "\n")
	gl := strings.SplitAfter(got, "\n")
	var b strings.Builder
	show := func(prefix, l string) {
		fmt.Fprintf(&b, "%s %s$\n", prefix, strings.TrimSuffix(l, "\n"))
	}
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w == g {
			if w != "" {
				show(" ", w)
			}
			continue
		}
		if w != "" {
			show("-", w)
		}
		if g != "" {
			show("+", g)
		}
	}
	return b.String()
}
