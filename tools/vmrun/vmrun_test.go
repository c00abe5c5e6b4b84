package main

import (
	"bytes"
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs/internal/vm"
)

func TestParseTestOutputAndJudge(t *testing.T) {
	out := `=== RUN   TestVMA
--- PASS: TestVMA (0.01s)
=== RUN   TestVMB
=== RUN   TestVMB/sub
    x_test.go:3: skipping
    --- SKIP: TestVMB/sub (0.00s)
--- PASS: TestVMB (0.00s)
=== RUN   TestVMC
    x_test.go:9: boom
--- FAIL: TestVMC (0.00s)
FAIL
`
	j := &vm.JobResult{Name: "p", Output: out, RC: 1, Finished: true}
	v := judge(j)
	if v.OK {
		t.Fatal("failing package judged ok")
	}
	r := v.Report
	if !slices.Equal(r.Ran, []string{"TestVMA", "TestVMB", "TestVMC"}) ||
		!slices.Equal(r.Passed, []string{"TestVMA", "TestVMB"}) ||
		!slices.Equal(r.Failed, []string{"TestVMC"}) ||
		!slices.Equal(r.Skipped, []string{"TestVMB/sub"}) {
		t.Fatalf("report %+v", r)
	}
	if len(v.Reasons) != 3 {
		t.Errorf("reasons %q", v.Reasons)
	}

	cases := []struct {
		name string
		j    *vm.JobResult
		ok   bool
	}{
		{"pass", &vm.JobResult{Output: "=== RUN   TestVMA\n--- PASS: TestVMA (0.00s)\nPASS\n", Finished: true}, true},
		{"skip with rc 0", &vm.JobResult{Output: "=== RUN   TestVMA\n--- SKIP: TestVMA (0.00s)\nPASS\n", Finished: true}, false},
		{"nothing ran", &vm.JobResult{Output: "testing: warning: no tests to run\nPASS\n", Finished: true}, false},
		{"rc only", &vm.JobResult{Output: "=== RUN   TestVMA\n--- PASS: TestVMA (0.00s)\n", RC: 2, Finished: true}, false},
		{"unfinished", &vm.JobResult{Output: "=== RUN   TestVMA\n", RC: -1}, false},
		{"missing", nil, false},
	}
	for _, c := range cases {
		if v := judge(c.j); v.OK != c.ok {
			t.Errorf("%s: ok=%v reasons %q", c.name, v.OK, v.Reasons)
		}
	}
}

func TestRunPatternAndFilter(t *testing.T) {
	names := []string{"TestVMA", "TestVMAb", "TestVMNetns"}
	got, err := filterNames(names, "A")
	if err != nil || !slices.Equal(got, []string{"TestVMA", "TestVMAb"}) {
		t.Errorf("filter A: %v %v", got, err)
	}
	got, _ = filterNames(names, "Netns/sub")
	if !slices.Equal(got, []string{"TestVMNetns"}) {
		t.Errorf("filter Netns/sub: %v", got)
	}
	if got, _ := filterNames(names, ""); len(got) != 3 {
		t.Errorf("empty filter: %v", got)
	}
	if _, err := filterNames(names, "("); err == nil {
		t.Error("bad regexp accepted")
	}
	if p := runPattern([]string{"TestVMA", "TestVMB"}, ""); p != "^(TestVMA|TestVMB)$" {
		t.Errorf("pattern %q", p)
	}
	if p := runPattern([]string{"TestVMNetns"}, "Netns/veth"); p != "^(TestVMNetns)$/veth" {
		t.Errorf("pattern %q", p)
	}
	if flatName("internal/vm/vmtest") != "internal_vm_vmtest" || flatName(".") != "root" {
		t.Error("flatName")
	}
}

func TestJobFilter(t *testing.T) {
	var out bytes.Buffer
	f := &jobFilter{w: &out}
	in := "SeaBIOS\n@@@VM-INIT\n@@@VMJOB-BEGIN exec\nhello\nno newline@@@VMJOB-END exec rc=0\n@@@VM-DONE\n[ 4.3] reboot\n"
	for i := 0; i < len(in); i += 3 {
		f.Write([]byte(in[i:min(i+3, len(in))]))
	}
	if out.String() != "hello\nno newline\n" {
		t.Errorf("got %q", out.String())
	}
}

// writeModule lays out a throwaway module for the listing tests.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func needGo(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
}

func TestListAndBuildCmds(t *testing.T) {
	needGo(t)
	if testing.Short() {
		t.Skip("builds programs")
	}
	dir := writeModule(t, map[string]string{
		"go.mod":                "module example.com/m\n\ngo 1.22\n",
		"cmd/ipvsadm/main.go":   "package main\n\nfunc main() {}\n",
		"cmd/other/main.go":     "package main\n\nfunc main() {}\n",
		"cmd/internal/lib/l.go": "package lib\n",
	})
	ctx := context.Background()
	m, err := findModule(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Path != "example.com/m" {
		t.Fatalf("module %+v", m)
	}
	cmds, err := listCmds(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) != 2 || cmds[0].Name != "ipvsadm" || cmds[1].Name != "other" {
		t.Fatalf("cmds %+v", cmds)
	}
	out := t.TempDir()
	built, err := buildCmds(ctx, m, out)
	if err != nil {
		t.Fatal(err)
	}
	if len(built) != 2 || !slices.Equal(built[0].Links, []string{"ipvsadm-save", "ipvsadm-restore"}) || built[1].Links != nil {
		t.Fatalf("built %+v", built)
	}
	for _, b := range built {
		f, err := elf.Open(b.Host)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s is dynamically linked", b.Name)
			}
		}
		f.Close()
	}
	// They go into the guest's /usr/local/sbin with their links.
	im := vm.NewImage()
	s := &session{cmds: built}
	if err := s.installCmds(im); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/usr/local/sbin/ipvsadm", "/usr/local/sbin/ipvsadm-save",
		"/usr/local/sbin/ipvsadm-restore", "/usr/local/sbin/other"} {
		if !im.Has(p) {
			t.Errorf("image lacks %s", p)
		}
	}

	// A module without cmd/ has no commands, and that is no error.
	bare := writeModule(t, map[string]string{"go.mod": "module example.com/bare\n\ngo 1.22\n", "a.go": "package bare\n"})
	m, err = findModule(ctx, bare)
	if err != nil {
		t.Fatal(err)
	}
	if cmds, err := buildCmds(ctx, m, t.TempDir()); err != nil || len(cmds) != 0 {
		t.Fatalf("bare module: %v %v", cmds, err)
	}
}

func TestFindVMPackages(t *testing.T) {
	needGo(t)
	if testing.Short() {
		t.Skip("builds test binaries")
	}
	dir := writeModule(t, map[string]string{
		"go.mod":           "module example.com/m\n\ngo 1.22\n",
		"a/a.go":           "package a\n",
		"a/a_test.go":      "package a\n\nimport \"testing\"\n\nfunc TestVMOne(t *testing.T) {}\nfunc TestVMTwo(t *testing.T) {}\nfunc TestHost(t *testing.T) {}\n",
		"a/testdata/f.txt": "x\n",
		"b/b.go":           "package b\n",
		"b/b_test.go":      "package b\n\nimport \"testing\"\n\nfunc TestHost(t *testing.T) {}\n",
		"c/c.go":           "package c\n",
		"d/d.go":           "package d\n",
		"d/d_ext_test.go":  "package d_test\n\nimport \"testing\"\n\nfunc TestVMExt(t *testing.T) {}\n",
		"e/e.go":           "package e\n\ntype T struct{}\n",
		"e/e_test.go":      "package e\n\nimport \"testing\"\n\nfunc (T) TestVMMethod(t *testing.T) {}\n",
	})
	ctx := context.Background()
	m, err := findModule(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := findVMPackages(ctx, m, dir, []string{"./..."}, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pkgs {
		got = append(got, p.rel+":"+strings.Join(p.tests, ","))
	}
	if want := []string{"a:TestVMOne,TestVMTwo", "d:TestVMExt"}; !slices.Equal(got, want) {
		t.Fatalf("packages %v, want %v", got, want)
	}
	pkgs, err = findVMPackages(ctx, m, dir, []string{"./..."}, "Two")
	if err != nil || len(pkgs) != 1 || !slices.Equal(pkgs[0].tests, []string{"TestVMTwo"}) {
		t.Fatalf("-run Two: %+v %v", pkgs, err)
	}
	bin, err := buildTestBinary(ctx, dir, t.TempDir(), pkgs[0])
	if err != nil || bin == "" {
		t.Fatalf("test binary: %q %v", bin, err)
	}
	out, err := exec.Command(bin, "-test.run", runPattern(pkgs[0].tests, ""), "-test.v").CombinedOutput()
	if err != nil {
		t.Fatalf("running %s: %v\n%s", bin, err, out)
	}
	if rep := parseTestOutput(strings.Split(string(out), "\n")); !slices.Equal(rep.Ran, []string{"TestVMTwo"}) {
		t.Fatalf("ran %v:\n%s", rep.Ran, out)
	}
}

func TestRunUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(nil, &out, &errb); code != 2 {
		t.Errorf("no args: %d", code)
	}
	if code := run([]string{"frobnicate"}, &out, &errb); code != 2 {
		t.Errorf("unknown subcommand: %d", code)
	}
	if code := run([]string{"exec"}, &out, &errb); code != 2 {
		t.Errorf("exec without command: %d", code)
	}
	if code := run([]string{"bench", "a", "b"}, &out, &errb); code != 2 {
		t.Errorf("bench with two scripts: %d", code)
	}
	if code := run([]string{"help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "vmrun test") {
		t.Errorf("help: %d %q", code, out.String())
	}
}
