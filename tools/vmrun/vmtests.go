package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ipvs-tools/ipvs/internal/vm"
)

// jobGrace is how long past its budget a job may run before its guest is
// taken as stuck and stopped. The test binary's own -test.timeout is the
// budget, so a test that hangs fails with its goroutines' stacks first and
// the guest goes on with the next job; the grace is for a guest that hangs
// as a whole.
const jobGrace = 30 * time.Second

// setupAllowance is what a run of test or bench may take besides its jobs
// (downloading and extracting kernels, boots) before it is stopped, when
// -timeout does not say.
const setupAllowance = 15 * time.Minute

// vmJob is one TestVM (BenchmarkVM) function run in a guest of one kernel.
type vmJob struct {
	kernel vm.Kernel
	pkg    *vmPackage
	fn     vmFunc
	index  int // in its kernel's job list

	// Filled in as the run goes.
	guest  *guestRun
	result *vm.JobResult
	lost   string // why the job has no result (its guest died, ...)
}

// name is the job's name on the guest console.
func (j *vmJob) name() string { return j.pkg.rel + ":" + j.fn.Name }

// guestRun is one guest of a run: a boot of one kernel that ran jobs until
// none were left for it.
type guestRun struct {
	id     int
	kernel vm.Kernel
	jobs   []*vmJob // handed to it, in order
	res    *vm.Result
	err    error
}

// budget is the sum of the budgets of the guest's jobs.
func (g *guestRun) budget() time.Duration {
	var d time.Duration
	for _, j := range g.jobs {
		d += j.fn.Budget
	}
	return d
}

// scheduler hands out the jobs of a run: each guest takes the next job of
// its kernel when it is done with one (the longest budgets first), and a
// slot whose guest has ended boots a guest of the kernel with the most work
// left per guest.
type scheduler struct {
	mu      sync.Mutex
	pending map[string][]*vmJob // by kernel name, longest budget first
	active  map[string]int      // guests running, by kernel name
	booting map[string]int      // guests that have not taken a job yet
	broken  map[string]error    // kernels whose guest failed before any job
	order   []vm.Kernel
}

func newScheduler(jobs []*vmJob) *scheduler {
	s := &scheduler{pending: map[string][]*vmJob{}, active: map[string]int{}, booting: map[string]int{}, broken: map[string]error{}}
	for _, j := range jobs {
		if _, ok := s.pending[j.kernel.Name]; !ok {
			s.order = append(s.order, j.kernel)
		}
		s.pending[j.kernel.Name] = append(s.pending[j.kernel.Name], j)
	}
	for _, q := range s.pending {
		sort.SliceStable(q, func(a, b int) bool { return q[a].fn.Budget > q[b].fn.Budget })
	}
	return s
}

// left is the budget of the jobs of kernel k not handed out yet.
func (s *scheduler) left(k string) time.Duration {
	var d time.Duration
	for _, j := range s.pending[k] {
		d += j.fn.Budget
	}
	return d
}

// startGuest picks the kernel for a new guest: the one with the most work
// left per guest once this one is counted, among those with more jobs
// waiting than guests still booting (which will take them). false: no
// such kernel.
func (s *scheduler) startGuest() (vm.Kernel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best vm.Kernel
	var bestWork time.Duration = -1
	for _, k := range s.order {
		// A guest that is still booting will take a job: a new one is
		// worth its boot only while jobs outnumber those guests.
		if len(s.pending[k.Name]) <= s.booting[k.Name] {
			continue
		}
		w := s.left(k.Name) / time.Duration(s.active[k.Name]+1)
		if w > bestWork {
			best, bestWork = k, w
		}
	}
	if bestWork < 0 {
		return vm.Kernel{}, false
	}
	s.active[best.Name]++
	s.booting[best.Name]++
	return best, true
}

// next hands guest g its next job, or false.
func (s *scheduler) next(g *guestRun) (*vmJob, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.pending[g.kernel.Name]
	if len(q) == 0 {
		return nil, false
	}
	j := q[0]
	s.pending[g.kernel.Name] = q[1:]
	if len(g.jobs) == 0 {
		s.booting[g.kernel.Name]--
	}
	j.guest = g
	g.jobs = append(g.jobs, j)
	return j, true
}

// endGuest records that guest g ended. A guest that failed before taking
// any job marks its kernel broken: its jobs are given up, not retried
// forever.
func (s *scheduler) endGuest(g *guestRun) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active[g.kernel.Name]--
	if len(g.jobs) == 0 {
		s.booting[g.kernel.Name]--
	}
	if g.err != nil && len(g.jobs) == 0 {
		for _, j := range s.pending[g.kernel.Name] {
			j.lost = fmt.Sprintf("not run: a guest of kernel %s failed before its first job", g.kernel.Name)
		}
		s.pending[g.kernel.Name] = nil
		s.broken[g.kernel.Name] = g.err
	}
}

// cmdTest runs the TestVM tests (bench: the BenchmarkVM benchmarks) of the
// packages matching patterns.
func cmdTest(ctx context.Context, o *options, patterns []string, bench bool, stdout, stderr io.Writer) (int, error) {
	start := time.Now()
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	prefix, what := "TestVM", "VM tests"
	if bench {
		prefix, what = "BenchmarkVM", "VM benchmarks"
	}
	wd, err := os.Getwd()
	if err != nil {
		return 1, err
	}
	m, err := findModule(ctx, wd)
	if err != nil {
		return 1, err
	}
	pkgs, err := findVMPackages(ctx, m, wd, patterns, prefix, o.run)
	if err != nil {
		return 1, err
	}
	if len(pkgs) == 0 {
		fmt.Fprintf(stdout, "vmrun: no %s in %s; not booting\n", what, strings.Join(patterns, " "))
		return 0, nil
	}
	forced, err := o.kernelList()
	if err != nil {
		return 2, err
	}
	s, err := newSession(ctx, o, stderr)
	if err != nil {
		return 1, err
	}
	defer s.close()
	bins, err := buildTestBinaries(ctx, wd, filepath.Join(s.tmp, "tests"), pkgs)
	if err != nil {
		return 1, err
	}

	// The jobs: every function on each of its kernels.
	defaultKernel, err := vm.LookupKernel(vm.DefaultKernel)
	if err != nil {
		return 1, err
	}
	var jobs []*vmJob
	perKernel := map[string][]*vmJob{}
	for i := range pkgs {
		p := &pkgs[i]
		if bins[p.flat] == "" {
			fmt.Fprintf(stderr, "vmrun: %s has no test binary; skipped\n", p.rel)
			continue
		}
		for _, fn := range p.funcs {
			ks := forced
			if ks == nil {
				ks = []vm.Kernel{defaultKernel}
				if !bench && fn.Kernels != nil {
					ks = nil
					for _, n := range fn.Kernels {
						k, err := vm.LookupKernel(n)
						if err != nil {
							return 1, err
						}
						ks = append(ks, k)
					}
				}
			}
			for _, k := range ks {
				j := &vmJob{kernel: k, pkg: p, fn: fn, index: len(perKernel[k.Name])}
				perKernel[k.Name] = append(perKernel[k.Name], j)
				jobs = append(jobs, j)
			}
		}
	}
	if len(jobs) == 0 {
		fmt.Fprintln(stdout, "vmrun: no test binaries to run")
		return 0, nil
	}
	// The jobs bound the guests; this bounds the rest (downloads, a
	// guest that never boots), generously: every job one after another.
	if o.timeout == 0 {
		limit := setupAllowance
		for _, j := range jobs {
			limit += j.fn.Budget + jobGrace
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	// Every kernel is fetched before the first guest boots, one at a
	// time (they share the cache lock).
	for _, k := range kernelsOf(jobs) {
		if _, err := vm.PrepareAssets(ctx, vm.AssetOptions{CacheDir: o.cache, Kernel: k, Log: stderr}); err != nil {
			return 1, err
		}
	}

	guests := o.guestCount()
	if bench {
		// Timings are only comparable without a second guest
		// competing for the host.
		guests = 1
	}
	sched := newScheduler(jobs)
	fmt.Fprintf(stderr, "vmrun: %d jobs (%s) on kernel(s) %s in up to %d guest(s) at once\n",
		len(jobs), what, kernelNames(kernelsOf(jobs)), guests)
	var (
		mu     sync.Mutex
		runs   []*guestRun
		nextID = 1
		wg     sync.WaitGroup
		out    = &lockedWriter{w: stdout}
		errOut = &lockedWriter{w: stderr}
	)
	for range guests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k, ok := sched.startGuest()
				if !ok {
					return
				}
				mu.Lock()
				g := &guestRun{id: nextID, kernel: k}
				nextID++
				runs = append(runs, g)
				mu.Unlock()
				s.runGuest(ctx, g, sched, perKernel[k.Name], bins, bench, out, errOut)
				sched.endGuest(g)
			}
		}()
	}
	wg.Wait()
	return report(stdout, jobs, runs, bench, time.Since(start)), nil
}

// runGuest boots guest g and lets it take jobs of its kernel from sched
// until none are left.
func (s *session) runGuest(ctx context.Context, g *guestRun, sched *scheduler, kernelJobs []*vmJob,
	bins map[string]string, bench bool, stdout, stderr io.Writer) {
	o := s.opt
	catalogue := make([]vm.Job, len(kernelJobs))
	inImage := map[string]*vmPackage{}
	for i, j := range kernelJobs {
		catalogue[i] = vm.Job{
			Name:    j.name(),
			Argv:    append(testArgv(j, o.run, bench), o.testArgs...),
			Dir:     path.Join("/src", j.pkg.rel),
			Timeout: j.fn.Budget + jobGrace,
		}
		inImage[j.pkg.flat] = j.pkg
	}
	extra := func(im *vm.Image) error {
		for _, p := range inImage {
			if err := im.AddFile("/tests/"+p.flat+".test", bins[p.flat], 0o755); err != nil {
				return err
			}
			srcDir := path.Join("/src", p.rel)
			if err := im.AddDir(srcDir, 0o755); err != nil {
				return err
			}
			td := filepath.Join(p.pkg.Dir, "testdata")
			if st, err := os.Stat(td); err == nil && st.IsDir() {
				if err := im.AddTree(path.Join(srcDir, "testdata"), td); err != nil {
					return err
				}
			}
		}
		return nil
	}
	tag := fmt.Sprintf("[g%d %s]", g.id, g.kernel.Name)
	console := progress(stderr, tag)
	if o.verbose {
		console = prefixWriter(stdout, tag+" ")
	}
	cfg := s.config(g.kernel, fmt.Sprintf("vm-g%d", g.id), catalogue, console, extra)
	cfg.Log = prefixWriter(stderr, "vmrun: "+tag+" ")
	cfg.Next = func() (int, bool) {
		if bench && len(g.jobs) > 0 {
			// A benchmark gets a guest of its own: what one leaves in
			// the kernel (a flushed table's destinations wait in its
			// trash list, which every new destination walks) must not
			// slow the next.
			return 0, false
		}
		j, ok := sched.next(g)
		if !ok {
			return 0, false
		}
		return j.index, true
	}
	g.res, g.err = vm.Boot(ctx, cfg)
	if g.res != nil {
		for _, j := range g.jobs {
			j.result = g.res.Job(j.name())
		}
	}
	if g.err != nil {
		for _, j := range g.jobs {
			if j.result == nil || !j.result.Finished {
				first, _, _ := strings.Cut(g.err.Error(), "\n")
				j.lost = "its guest failed: " + first
			}
		}
		fmt.Fprintf(stderr, "vmrun: %s guest failed: %v\n", tag, g.err)
	}
}

// testArgv is the test binary's command line for job j.
func testArgv(j *vmJob, userRun string, bench bool) []string {
	argv := []string{"/tests/" + j.pkg.flat + ".test"}
	if bench {
		argv = append(argv, "-test.run", "^$", "-test.bench", runPattern([]string{j.fn.Name}, userRun),
			"-test.benchtime", "1x", "-test.benchmem")
	} else {
		argv = append(argv, "-test.run", runPattern([]string{j.fn.Name}, userRun), "-test.count=1")
	}
	return append(argv, "-test.v", "-test.timeout", j.fn.Budget.String())
}

// kernelsOf returns the kernels of jobs, in the order of kernels.txt.
func kernelsOf(jobs []*vmJob) []vm.Kernel {
	have := map[string]bool{}
	for _, j := range jobs {
		have[j.kernel.Name] = true
	}
	var ks []vm.Kernel
	for _, k := range vm.Kernels() {
		if have[k.Name] {
			ks = append(ks, k)
		}
	}
	return ks
}

func kernelNames(ks []vm.Kernel) string {
	var n []string
	for _, k := range ks {
		n = append(n, k.Name)
	}
	return strings.Join(n, ", ")
}

// report prints every job's outcome, each guest's time against its
// budget, the kernels and the totals. It returns the exit status.
func report(w io.Writer, jobs []*vmJob, runs []*guestRun, bench bool, total time.Duration) int {
	failed, passed := 0, 0
	var failures []*vmJob
	for _, j := range jobs {
		status, detail, dur := "ok", "", time.Duration(0)
		if j.result != nil {
			dur = j.result.Duration
		}
		var v verdict
		switch {
		case j.lost != "":
			status, detail = "FAIL", j.lost
		case bench:
			v = judgeBench(j.result, j.fn.Name)
		default:
			v = judge(j.result)
		}
		if j.lost == "" && !v.OK {
			status, detail = "FAIL", strings.Join(v.Reasons, "; ")
		}
		guest := "-"
		if j.guest != nil {
			guest = fmt.Sprintf("g%d", j.guest.id)
		}
		fmt.Fprintf(w, "%-4s  %-5s %-22s %-32s %7.1fs  %s", status, j.kernel.Name, j.pkg.rel, j.fn.Name, dur.Seconds(), guest)
		if detail != "" {
			fmt.Fprintf(w, "  %s", detail)
		}
		fmt.Fprintln(w)
		if status == "ok" {
			passed++
		} else {
			failed++
			failures = append(failures, j)
		}
	}
	for _, j := range failures {
		if j.result != nil {
			fmt.Fprintf(w, "=== output of %s on kernel %s:\n%s", j.name(), j.kernel.Name, j.result.Output)
		}
	}
	if bench {
		for _, j := range jobs {
			if j.result != nil && !slices.Contains(failures, j) {
				fmt.Fprintf(w, "=== %s on kernel %s:\n%s", j.name(), j.kernel, j.result.Output)
			}
		}
	}
	var slowest *guestRun
	for _, g := range runs {
		if g.res == nil {
			fmt.Fprintf(w, "guest g%d: kernel %s did not boot: %v\n", g.id, g.kernel, g.err)
			continue
		}
		b := g.budget()
		pct := 0.0
		if b > 0 {
			pct = 100 * g.res.Duration.Seconds() / b.Seconds()
		}
		note := ""
		if pct > 50 {
			note = "  (over half of its budget: raise the //vmtest:budget of its slow jobs or make them faster)"
		}
		fmt.Fprintf(w, "guest g%d: kernel %s: %d jobs in %.1fs (boot to init %.1fs), budget %v: %.0f%%%s\n",
			g.id, g.kernel.Name, len(g.jobs), g.res.Duration.Seconds(), g.res.BootTime.Seconds(), b, pct, note)
		if slowest == nil || g.res.Duration > slowest.res.Duration {
			slowest = g
		}
	}
	if slowest != nil {
		fmt.Fprintf(w, "slowest guest: g%d (kernel %s), %.1fs\n", slowest.id, slowest.kernel.Name, slowest.res.Duration.Seconds())
	}
	seen := map[string]bool{}
	for _, g := range runs {
		if g.res == nil || seen[g.kernel.Name] || g.res.KernelRelease == "" {
			continue
		}
		seen[g.kernel.Name] = true
		build := g.res.KernelBuild
		if i := strings.Index(build, "#"); i >= 0 {
			build = build[i:]
		}
		fmt.Fprintf(w, "kernel %s: %s %s (sha256 %s…), booted %s %s\n", g.kernel.Name, g.kernel.Package, g.kernel.Version,
			g.kernel.SHA256[:12], g.res.KernelRelease, build)
	}
	for _, j := range failures {
		if j.result != nil {
			fmt.Fprintf(w, "=== %s on kernel %s failed; its last lines (goroutine stacks cut to their _test.go frames):\n", j.name(), j.kernel.Name)
			for _, l := range digest(j.result.Lines()) {
				fmt.Fprintln(w, l)
			}
		}
	}
	fmt.Fprintf(w, "vmtest: %d passed, %d failed in %.1fs\n", passed, failed, total.Seconds())
	if failed > 0 {
		return 1
	}
	return 0
}

// buildTestBinaries builds the packages' static test binaries into outDir,
// two at a time, and returns them by flat name ("" for a package without
// one).
func buildTestBinaries(ctx context.Context, dir, outDir string, pkgs []vmPackage) (map[string]string, error) {
	bins := map[string]string{}
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for _, p := range pkgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			bin, err := buildTestBinary(ctx, dir, outDir, p)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("building tests of %s: %w", p.pkg.ImportPath, err)
			}
			bins[p.flat] = bin
		}()
	}
	wg.Wait()
	return bins, firstErr
}

// lockedWriter serialises writes from several guests.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// prefixWriter returns a writer that writes whole lines to w, each with a
// prefix (the guest's tag), so that the consoles of several guests can
// share one output.
func prefixWriter(w io.Writer, prefix string) io.Writer {
	return &vm.LineWriter{Line: func(line string) { io.WriteString(w, prefix+line+"\n") }}
}

// progress returns a writer that reports each job as it ends, for runs
// without -v.
func progress(w io.Writer, tag string) io.Writer {
	var began time.Time
	return &vm.LineWriter{Line: func(line string) {
		if strings.Contains(line, vm.MarkerJobBegin) {
			began = time.Now()
		} else if _, rest, ok := strings.Cut(line, vm.MarkerJobEnd); ok {
			if f := strings.Fields(rest); len(f) == 2 {
				word := "done"
				if f[1] != "rc=0" {
					word = "FAILED (" + f[1] + ")"
				}
				fmt.Fprintf(w, "vmrun: %s %s %s in %.1fs\n", tag, f[0], word, time.Since(began).Seconds())
			}
		}
	}}
}
