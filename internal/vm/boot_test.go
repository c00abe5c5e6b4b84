package vm

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeQEMUEnv makes the test binary act as QEMU (see fakeQEMU).
const fakeQEMUEnv = "VM_TEST_FAKE_QEMU"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeQEMUEnv); mode != "" {
		os.Exit(fakeQEMU(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeQEMU stands in for a guest: it prints the init markers on its
// standard output (the console), connects to the control socket named by
// -chardev, and runs the jobs the host hands it. A job's behaviour comes
// from its name in the comma-separated list of VM_TEST_FAKE_JOBS: a name
// containing "hang" never ends, "fail" ends with status 3. Mode "noinit"
// prints nothing and waits to be killed.
func fakeQEMU(mode string, args []string) int {
	if mode == "noinit" {
		time.Sleep(time.Hour)
		return 0
	}
	var sock string
	for i, a := range args {
		if a == "-chardev" && i+1 < len(args) {
			for _, kv := range strings.Split(args[i+1], ",") {
				if p, ok := strings.CutPrefix(kv, "path="); ok {
					sock = p
				}
			}
		}
	}
	fmt.Println("SeaBIOS noise")
	fmt.Println(MarkerInit)
	fmt.Println(MarkerKernel + "6.1.0-99-amd64 Linux version 6.1.0-99-amd64 #1 SMP Debian 6.1.999-1")
	conn, err := net.Dial("unix", sock)
	if err != nil {
		fmt.Println(MarkerNoControl)
		fmt.Println(MarkerDone)
		return 0
	}
	names := strings.Split(os.Getenv("VM_TEST_FAKE_JOBS"), ",")
	r := bufio.NewReader(conn)
	for {
		fmt.Fprintln(conn, controlNext)
		line, err := r.ReadString('\n')
		if err != nil {
			return 1
		}
		line = strings.TrimSpace(line)
		if line == controlStop {
			break
		}
		i, _ := strconv.Atoi(line)
		name := names[i]
		fmt.Println(MarkerJobBegin + name)
		fmt.Println("output of " + name)
		if strings.Contains(name, "hang") {
			time.Sleep(time.Hour)
		}
		rc := 0
		if strings.Contains(name, "fail") {
			rc = 3
		}
		fmt.Printf("%s%s rc=%d\n", MarkerJobEnd, name, rc)
	}
	fmt.Println(MarkerDone)
	return 0
}

// fakeBoot runs one fake guest in mode over jobs (by name) with next. It
// may run on several goroutines at once if they use the same mode and
// names.
func fakeBoot(t *testing.T, mode string, names []string, timeout time.Duration, next func() (int, bool)) (*Result, error) {
	return fakeBootRelease(t, mode, names, timeout, next, "6.1.0-99-amd64")
}

// fakeBootRelease is fakeBoot with the pinned kernel's release (what the
// fake guest must say it booted).
func fakeBootRelease(t *testing.T, mode string, names []string, timeout time.Duration, next func() (int, bool), release string) (*Result, error) {
	t.Helper()
	if os.Getenv(fakeQEMUEnv) != mode || os.Getenv("VM_TEST_FAKE_JOBS") != strings.Join(names, ",") {
		t.Fatalf("set the fake QEMU's environment first (setFake)")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var jobs []Job
	for _, n := range names {
		jobs = append(jobs, Job{Name: n, Argv: []string{"x"}, Timeout: timeout})
	}
	if next == nil {
		next = inOrder(len(jobs))
	}
	c := &Config{QEMU: exe, Jobs: jobs, Next: next, BootTimeout: 2 * time.Second}
	dir := t.TempDir()
	a := &Assets{Kernel: Kernel{Name: "6.1"}, KernelVersion: release, Vmlinuz: filepath.Join(dir, "vmlinuz")}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.run(ctx, a, filepath.Join(dir, "initrd.gz"), "tcg")
}

// setFake sets the fake QEMU's mode and jobs for the rest of the test.
func setFake(t *testing.T, mode string, names []string) []string {
	t.Setenv(fakeQEMUEnv, mode)
	t.Setenv("VM_TEST_FAKE_JOBS", strings.Join(names, ","))
	return names
}

func jobNames(r *Result) []string {
	var n []string
	for _, j := range r.Jobs {
		n = append(n, fmt.Sprintf("%s:%d", j.Name, j.RC))
	}
	return n
}

func TestBootControl(t *testing.T) {
	t.Run("in order", func(t *testing.T) {
		res, err := fakeBoot(t, "run", setFake(t, "run", []string{"a", "b-fail", "c"}), time.Minute, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := jobNames(res); !slices.Equal(got, []string{"a:0", "b-fail:3", "c:0"}) {
			t.Errorf("jobs %v", got)
		}
		if !slices.Equal(res.Handed, []int{0, 1, 2}) || !res.Done || res.Stuck != "" {
			t.Errorf("handed %v done %v stuck %q", res.Handed, res.Done, res.Stuck)
		}
		if res.KernelRelease != "6.1.0-99-amd64" || !strings.Contains(res.KernelBuild, "Debian 6.1.999-1") {
			t.Errorf("kernel %q %q", res.KernelRelease, res.KernelBuild)
		}
		if j := res.Job("a"); j == nil || j.Output != "output of a\n" {
			t.Errorf("job a: %+v", j)
		}
	})
	t.Run("chosen by Next", func(t *testing.T) {
		order := []int{2, 0}
		next := func() (int, bool) {
			if len(order) == 0 {
				return 0, false
			}
			i := order[0]
			order = order[1:]
			return i, true
		}
		res, err := fakeBoot(t, "run", setFake(t, "run", []string{"a", "b", "c"}), time.Minute, next)
		if err != nil {
			t.Fatal(err)
		}
		if got := jobNames(res); !slices.Equal(got, []string{"c:0", "a:0"}) {
			t.Errorf("jobs %v", got)
		}
	})
	t.Run("two guests share one queue", func(t *testing.T) {
		names := setFake(t, "run", []string{"j0", "j1", "j2", "j3", "j4", "j5", "j6", "j7"})
		var mu sync.Mutex
		i := 0
		next := func() (int, bool) {
			mu.Lock()
			defer mu.Unlock()
			if i >= len(names) {
				return 0, false
			}
			i++
			return i - 1, true
		}
		var wg sync.WaitGroup
		results := make([]*Result, 2)
		errs := make([]error, 2)
		for g := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[g], errs[g] = fakeBoot(t, "run", names, time.Minute, next)
			}()
		}
		wg.Wait()
		var all []int
		for g, r := range results {
			if errs[g] != nil {
				t.Fatal(errs[g])
			}
			all = append(all, r.Handed...)
			if len(r.Jobs) != len(r.Handed) {
				t.Errorf("guest %d: %d jobs ran, %d handed", g, len(r.Jobs), len(r.Handed))
			}
		}
		slices.Sort(all)
		if !slices.Equal(all, []int{0, 1, 2, 3, 4, 5, 6, 7}) {
			t.Errorf("jobs handed %v, want each once", all)
		}
	})
	t.Run("stuck job", func(t *testing.T) {
		start := time.Now()
		res, err := fakeBoot(t, "run", setFake(t, "run", []string{"a", "hang", "c"}), 500*time.Millisecond, nil)
		if err == nil || !strings.Contains(err.Error(), "job hang ran past its time limit of 500ms") ||
			!strings.Contains(err.Error(), "console tail:\n") || !strings.Contains(err.Error(), "output of hang") {
			t.Fatalf("error %v", err)
		}
		if res.Stuck != "hang" || !slices.Equal(res.Handed, []int{0, 1}) {
			t.Errorf("stuck %q handed %v", res.Stuck, res.Handed)
		}
		if j := res.Job("a"); j == nil || !j.Finished {
			t.Errorf("the job before the stuck one lost its result: %+v", res.Jobs)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("stopping the stuck guest took %v", d)
		}
	})
	t.Run("another kernel than the pinned one", func(t *testing.T) {
		res, err := fakeBootRelease(t, "run", setFake(t, "run", []string{"a"}), time.Minute, nil, "6.1.0-57-amd64")
		if err == nil || !strings.Contains(err.Error(), `the guest booted "6.1.0-99-amd64", not the pinned kernel 6.1.0-57-amd64`) {
			t.Fatalf("error %v", err)
		}
		if j := res.Job("a"); j == nil || !j.Finished {
			t.Errorf("the job's result is lost: %+v", res.Jobs)
		}
	})
	t.Run("no first request", func(t *testing.T) {
		_, err := fakeBoot(t, "noinit", setFake(t, "noinit", []string{"a"}), time.Minute, nil)
		if err == nil || !strings.Contains(err.Error(), "the guest did not ask for work within 2s of starting") {
			t.Fatalf("error %v", err)
		}
	})
}
