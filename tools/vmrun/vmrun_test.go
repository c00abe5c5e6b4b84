package main

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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
	funcs := []vmFunc{{Name: "TestVMA"}, {Name: "TestVMAb"}, {Name: "TestVMNetns"}}
	got, err := filterFuncs(funcs, "A")
	if err != nil || !slices.Equal(funcNames(got), []string{"TestVMA", "TestVMAb"}) {
		t.Errorf("filter A: %v %v", got, err)
	}
	got, _ = filterFuncs(funcs, "Netns/sub")
	if !slices.Equal(funcNames(got), []string{"TestVMNetns"}) {
		t.Errorf("filter Netns/sub: %v", got)
	}
	if got, _ := filterFuncs(funcs, ""); len(got) != 3 {
		t.Errorf("empty filter: %v", got)
	}
	if _, err := filterFuncs(funcs, "("); err == nil {
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

func TestDirectives(t *testing.T) {
	for _, c := range []struct {
		name    string
		lines   []string
		kernels []string
		budget  time.Duration
		err     string
	}{
		{"none", []string{"// TestVMX does things."}, nil, defaultBudget, ""},
		{"all kernels", []string{"//vmtest:kernels all"}, []string{"5.10", "6.1", "6.12"}, defaultBudget, ""},
		{"some kernels and a budget", []string{"// Doc.", "//", "//vmtest:kernels 5.10 6.12", "//vmtest:budget 90s"}, []string{"5.10", "6.12"}, 90 * time.Second, ""},
		{"unknown kernel", []string{"//vmtest:kernels 4.19"}, nil, 0, `no kernel "4.19"`},
		{"bad budget", []string{"//vmtest:budget soon"}, nil, 0, "want one positive duration"},
		{"negative budget", []string{"//vmtest:budget -1m"}, nil, 0, "want one positive duration"},
		{"unknown directive", []string{"//vmtest:kernal all"}, nil, 0, `unknown directive "//vmtest:kernal all"`},
		{"no argument", []string{"//vmtest:budget"}, nil, 0, "with arguments"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fn := vmFunc{Name: "TestVMX", Budget: defaultBudget}
			var err error
			for _, l := range c.lines {
				if err = fn.directive(l); err != nil {
					break
				}
			}
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(fn.Kernels, c.kernels) || fn.Budget != c.budget {
				t.Errorf("kernels %v budget %v, want %v %v", fn.Kernels, fn.Budget, c.kernels, c.budget)
			}
		})
	}
}

// schedJobs makes jobs of the given budgets (in minutes) on kernel k.
func schedJobs(k vm.Kernel, minutes ...int) []*vmJob {
	var jobs []*vmJob
	for i, m := range minutes {
		jobs = append(jobs, &vmJob{kernel: k, pkg: &vmPackage{rel: "p"},
			fn: vmFunc{Name: fmt.Sprintf("TestVM%d", i), Budget: time.Duration(m) * time.Minute}, index: i})
	}
	return jobs
}

func TestScheduler(t *testing.T) {
	k510, _ := vm.LookupKernel("5.10")
	k61, _ := vm.LookupKernel("6.1")
	jobs := append(schedJobs(k61, 1, 5, 2, 1, 3), schedJobs(k510, 5)...)
	s := newScheduler(jobs)
	// The first guest goes to the kernel with the most work (6.1: 12m),
	// the second to the one with the most work per guest then (5.10: 5m,
	// against 12m/2 = 6m for a second 6.1 guest: 6.1 again), the third
	// to 5.10 (5m against 12m/3).
	var kernels []string
	var guests []*guestRun
	for range 3 {
		k, ok := s.startGuest()
		if !ok {
			t.Fatal("no kernel for a new guest")
		}
		kernels = append(kernels, k.Name)
		guests = append(guests, &guestRun{kernel: k})
	}
	if !slices.Equal(kernels, []string{"6.1", "6.1", "5.10"}) {
		t.Errorf("guests booted %v", kernels)
	}
	// A guest takes its kernel's jobs, longest budget first.
	var took []string
	for {
		j, ok := s.next(guests[0])
		if !ok {
			break
		}
		took = append(took, j.fn.Name)
	}
	if want := []string{"TestVM1", "TestVM4", "TestVM2", "TestVM0", "TestVM3"}; !slices.Equal(took, want) {
		t.Errorf("took %v, want %v", took, want)
	}
	if len(guests[0].jobs) != 5 || guests[0].budget() != 12*time.Minute {
		t.Errorf("guest jobs %d budget %v", len(guests[0].jobs), guests[0].budget())
	}
	// A kernel with no more jobs waiting than guests still booting gets
	// no new guest; once those guests are busy, it does.
	two := newScheduler(schedJobs(k510, 1, 1))
	var g1, g2 *guestRun
	for _, g := range []**guestRun{&g1, &g2} {
		k, ok := two.startGuest()
		if !ok {
			t.Fatal("no guest for two jobs")
		}
		*g = &guestRun{kernel: k}
	}
	if k, ok := two.startGuest(); ok {
		t.Errorf("a third guest for two jobs: %v", k)
	}
	if _, ok := two.next(g1); !ok {
		t.Fatal("g1 got no job")
	}
	two.endGuest(g2) // g2 ended without a job (it failed to boot, say)
	if k, ok := two.startGuest(); !ok || k.Name != "5.10" {
		t.Errorf("the job left waiting got no guest while g1 is busy: %v %v", k, ok)
	}
	// A guest that fails before its first job gives its kernel's work
	// up, rather than booting again and again.
	guests[2].err = fmt.Errorf("boom")
	s.endGuest(guests[2])
	if jobs[5].lost == "" {
		t.Error("the 5.10 job was not given up")
	}
	if _, ok := s.startGuest(); ok {
		t.Error("a guest started with no work left")
	}
}

func TestJudgeBench(t *testing.T) {
	ok := "goos: linux\nBenchmarkVMX \t       1\t123 ns/op\t  4.20 x-ratio\n    x_test.go:9: MEASURE\nPASS\n"
	for _, c := range []struct {
		name string
		j    *vm.JobResult
		ok   bool
	}{
		{"pass", &vm.JobResult{Output: ok, Finished: true}, true},
		{"with cpus", &vm.JobResult{Output: strings.Replace(ok, "BenchmarkVMX ", "BenchmarkVMX-2 ", 1), Finished: true}, true},
		{"failed", &vm.JobResult{Output: "--- FAIL: BenchmarkVMX\n    x_test.go:3: boom\nFAIL\n", RC: 1, Finished: true}, false},
		{"skipped", &vm.JobResult{Output: "--- SKIP: BenchmarkVMX\nPASS\n", Finished: true}, false},
		{"no result", &vm.JobResult{Output: "PASS\n", Finished: true}, false},
		{"unfinished", &vm.JobResult{Output: ok}, false},
		{"missing", nil, false},
	} {
		if v := judgeBench(c.j, "BenchmarkVMX"); v.OK != c.ok {
			t.Errorf("%s: ok=%v reasons %q", c.name, v.OK, v.Reasons)
		}
	}
}

func TestJobFilter(t *testing.T) {
	var out bytes.Buffer
	f := jobFilter(&out)
	in := "SeaBIOS\n@@@VM-INIT\n@@@VMJOB-BEGIN exec\nhello\nno newline@@@VMJOB-END exec rc=0\n@@@VM-DONE\n[ 4.3] reboot\n"
	for i := 0; i < len(in); i += 3 {
		f.Write([]byte(in[i:min(i+3, len(in))]))
	}
	if out.String() != "hello\nno newline\n" {
		t.Errorf("got %q", out.String())
	}
}

func TestPrefixAndProgress(t *testing.T) {
	var out bytes.Buffer
	w := prefixWriter(&out, "[g2 6.12] ")
	for _, chunk := range []string{"one\ntw", "o\n", "three"} {
		w.Write([]byte(chunk))
	}
	if out.String() != "[g2 6.12] one\n[g2 6.12] two\n" {
		t.Errorf("prefixWriter: %q", out.String())
	}
	out.Reset()
	p := progress(&out, "[g1 6.1]")
	p.Write([]byte("noise\n@@@VMJOB-BEGIN pkg:TestVMA\n=== RUN TestVMA\n@@@VMJOB-END pkg:TestVMA rc=0\n" +
		"@@@VMJOB-BEGIN pkg:TestVMB\n@@@VMJOB-END pkg:TestVMB rc=1\n"))
	got := out.String()
	if !strings.Contains(got, "vmrun: [g1 6.1] pkg:TestVMA done in ") || !strings.Contains(got, "vmrun: [g1 6.1] pkg:TestVMB FAILED (rc=1) in ") ||
		strings.Count(got, "\n") != 2 {
		t.Errorf("progress:\n%s", got)
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
		"go.mod": "module example.com/m\n\ngo 1.22\n",
		"a/a.go": "package a\n",
		"a/a_test.go": "package a\n\nimport \"testing\"\n\nfunc TestVMOne(t *testing.T) {}\n\n// TestVMTwo is two.\n//\n//vmtest:kernels 5.10 6.12\n//vmtest:budget 3m\nfunc TestVMTwo(t *testing.T) {}\nfunc TestHost(t *testing.T) {}\n" +
			"func BenchmarkVMBig(b *testing.B) {}\n",
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
	pkgs, err := findVMPackages(ctx, m, dir, []string{"./..."}, "TestVM", "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pkgs {
		got = append(got, p.rel+":"+strings.Join(funcNames(p.funcs), ","))
	}
	if want := []string{"a:TestVMOne,TestVMTwo", "d:TestVMExt"}; !slices.Equal(got, want) {
		t.Fatalf("packages %v, want %v", got, want)
	}
	if two := pkgs[0].funcs[1]; !slices.Equal(two.Kernels, []string{"5.10", "6.12"}) || two.Budget != 3*time.Minute {
		t.Errorf("directives of TestVMTwo: %+v", two)
	}
	if bench, err := findVMPackages(ctx, m, dir, []string{"./..."}, "BenchmarkVM", ""); err != nil || len(bench) != 1 ||
		!slices.Equal(funcNames(bench[0].funcs), []string{"BenchmarkVMBig"}) {
		t.Errorf("benchmarks: %+v %v", bench, err)
	}
	pkgs, err = findVMPackages(ctx, m, dir, []string{"./..."}, "TestVM", "Two")
	if err != nil || len(pkgs) != 1 || !slices.Equal(funcNames(pkgs[0].funcs), []string{"TestVMTwo"}) {
		t.Fatalf("-run Two: %+v %v", pkgs, err)
	}
	bin, err := buildTestBinary(ctx, dir, t.TempDir(), pkgs[0])
	if err != nil || bin == "" {
		t.Fatalf("test binary: %q %v", bin, err)
	}
	out, err := exec.Command(bin, "-test.run", runPattern(funcNames(pkgs[0].funcs), ""), "-test.v").CombinedOutput()
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
	if code := run([]string{"bench", "a.sh", "b.sh"}, &out, &errb); code != 2 {
		t.Errorf("bench with two scripts: %d", code)
	}
	if code := run([]string{"test", "-kernel", "4.19"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `no kernel "4.19"`) {
		t.Errorf("unknown kernel: %d %q", code, errb.String())
	}
	if code := run([]string{"exec", "-kernel", "5.10,6.1", "--", "true"}, &out, &errb); code != 2 {
		t.Errorf("exec on two kernels: %d", code)
	}
	if code := run([]string{"help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "vmrun test") {
		t.Errorf("help: %d %q", code, out.String())
	}
}

func TestDigest(t *testing.T) {
	timeout := `=== RUN   TestVMSlow
    slow_vm_test.go:20: case a: 1s
    slow_vm_test.go:20: case b: 1s
panic: test timed out after 2m0s
	running tests:
		TestVMSlow (2m0s)

goroutine 7 [running]:
testing.(*M).startAlarm.func1()
	/usr/local/go/src/testing/testing.go:2484 +0x394
created by time.goFunc
	/usr/local/go/src/time/sleep.go:215 +0x2d

goroutine 6 [syscall]:
os/exec.(*Cmd).Wait(0xc000)
	/usr/local/go/src/os/exec/exec.go:900 +0x45
example/p.run(0xc000)
	/src/p/helpers_test.go:40 +0x10
example/p.TestVMSlow(0xc000)
	/src/p/slow_vm_test.go:19 +0x20
testing.tRunner(0xc000, 0x1)
	/usr/local/go/src/testing/testing.go:1792 +0xf4

goroutine 9 [IO wait]:
os.(*File).Read(0xc000)
	/usr/local/go/src/os/file.go:144 +0x4f
`
	cases := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"timeout", strings.Split(timeout, "\n"), []string{
			"=== RUN   TestVMSlow",
			"    slow_vm_test.go:20: case a: 1s",
			"    slow_vm_test.go:20: case b: 1s",
			"panic: test timed out after 2m0s",
			"\trunning tests:",
			"\t\tTestVMSlow (2m0s)",
			"",
			"",
			"goroutine 6 [syscall]:",
			"example/p.run(0xc000)",
			"\t/src/p/helpers_test.go:40 +0x10",
			"example/p.TestVMSlow(0xc000)",
			"\t/src/p/slow_vm_test.go:19 +0x20",
		}},
		{"plain failure", []string{"=== RUN   TestVMA", "    a_test.go:3: boom", "--- FAIL: TestVMA (0.00s)", "FAIL"},
			[]string{"=== RUN   TestVMA", "    a_test.go:3: boom", "--- FAIL: TestVMA (0.00s)", "FAIL"}},
		{"nothing", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, digest(c.lines)); diff != "" {
				t.Errorf("digest (-want +got):\n%s", diff)
			}
		})
	}
	long := make([]string, 100)
	for i := range long {
		long[i] = fmt.Sprint(i)
	}
	if got := digest(long); len(got) != digestLines || got[0] != fmt.Sprint(100-digestLines) {
		t.Errorf("digest of 100 lines: %d lines from %q, want the last %d", len(got), got[0], digestLines)
	}
}
