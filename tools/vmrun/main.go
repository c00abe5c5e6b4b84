// Command vmrun runs the project's VM tests, commands and benchmarks in a
// QEMU guest with a real IPVS kernel (see internal/vm). It is a developer
// tool, not part of the product.
//
// Usage:
//
//	vmrun test [flags] [packages]   run TestVM* tests (default ./...)
//	vmrun shell [flags]             interactive playground shell
//	vmrun exec [flags] -- CMD...    run one shell command line in the guest
//	vmrun bench [flags] SCRIPT      run a shell script in the guest
//
// Every subcommand builds the module's ./cmd/... programs (and the guest
// tools under ./tools, such as ipvsbench) statically and
// installs them in the guest's /usr/local/sbin (so the project's ipvsadm is
// /usr/local/sbin/ipvsadm and Debian's reference is /usr/sbin/ipvsadm).
//
// Flags (all subcommands):
//
//	-timeout D   bound the whole run (default 20m)
//	-mem MB      guest memory (default 2048)
//	-smp N       virtual CPUs (default 1)
//	-keep        keep the temporary directory (printed)
//	-v           stream the guest console
//	-kvm         try KVM first (falls back to TCG)
//	-ftp, -sip   load ip_vs_ftp / ip_vs_pe_sip
//	-cache DIR   kernel cache (default $IPVS_VM_CACHE, $XDG_CACHE_HOME/ipvs-vm, ~/.cache/ipvs-vm)
//
// test also takes -run REGEX, selecting TestVM tests as go test -run does,
// and -testarg ARG (repeatable), passed on to every test binary.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipvs-tools/ipvs/internal/vm"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  vmrun test [flags] [-run REGEX] [packages]
  vmrun shell [flags]
  vmrun exec [flags] -- CMD [ARGS...]
  vmrun bench [flags] SCRIPT
flags: -timeout D -mem MB -smp N -keep -v -kvm -ftp -sip -cache DIR
`

// options are the flags every subcommand takes.
type options struct {
	timeout time.Duration
	mem     int
	smp     int
	keep    bool
	verbose bool
	kvm     bool
	ftp     bool
	sip     bool
	cache   string
	run     string
	// testArgs are extra arguments for every test binary (-testarg).
	testArgs stringList
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, " ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func (o *options) register(fs *flag.FlagSet, withRun bool) {
	fs.DurationVar(&o.timeout, "timeout", 20*time.Minute, "bound the whole run")
	fs.IntVar(&o.mem, "mem", vm.DefaultMemoryMB, "guest memory in MB")
	fs.IntVar(&o.smp, "smp", 1, "virtual CPUs")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory")
	fs.BoolVar(&o.verbose, "v", false, "stream the guest console")
	fs.BoolVar(&o.kvm, "kvm", false, "try KVM before TCG")
	fs.BoolVar(&o.ftp, "ftp", false, "load ip_vs_ftp")
	fs.BoolVar(&o.sip, "sip", false, "load ip_vs_pe_sip")
	fs.StringVar(&o.cache, "cache", "", "kernel download cache directory")
	if withRun {
		fs.StringVar(&o.run, "run", "", "run only the TestVM tests matching this regular expression")
		fs.Var(&o.testArgs, "testarg", "pass this argument to every test binary (repeatable), e.g. -testarg -update")
	}
}

// run is main without the exit, for testing.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	sub, rest := args[0], args[1:]
	var o options
	fs := flag.NewFlagSet("vmrun "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch sub {
	case "test", "shell", "exec", "bench":
		o.register(fs, sub == "test")
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "vmrun: unknown subcommand %q\n%s", sub, usage)
		return 2
	}
	if err := fs.Parse(rest); err != nil {
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	var code int
	var err error
	switch sub {
	case "test":
		code, err = cmdTest(ctx, &o, fs.Args(), stdout, stderr)
	case "shell":
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "vmrun shell takes no arguments\n")
			return 2
		}
		code, err = cmdShell(ctx, &o, stderr)
	case "exec":
		if fs.NArg() == 0 {
			fmt.Fprintf(stderr, "vmrun exec: no command\n%s", usage)
			return 2
		}
		code, err = cmdExec(ctx, &o, strings.Join(fs.Args(), " "), "", "", stdout, stderr)
	case "bench":
		if fs.NArg() != 1 {
			fmt.Fprintf(stderr, "vmrun bench: want one script\n%s", usage)
			return 2
		}
		code, err = cmdBench(ctx, &o, fs.Arg(0), stdout, stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "vmrun %s: %v\n", sub, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// session is the state shared by the subcommands: the module, the temp
// directory and the built commands.
type session struct {
	opt  *options
	mod  *module
	tmp  string
	cmds []builtCmd
	log  io.Writer
}

func newSession(ctx context.Context, o *options, log io.Writer) (*session, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	m, err := findModule(ctx, wd)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "vmrun-")
	if err != nil {
		return nil, fmt.Errorf("creating temporary directory: %w", err)
	}
	s := &session{opt: o, mod: m, tmp: tmp, log: log}
	for _, d := range []string{"cmd", "tests"} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
			s.close()
			return nil, fmt.Errorf("creating temporary directory: %w", err)
		}
	}
	if s.cmds, err = buildCmds(ctx, m, filepath.Join(tmp, "cmd")); err != nil {
		s.close()
		return nil, fmt.Errorf("building commands: %w", err)
	}
	if len(s.cmds) == 0 {
		fmt.Fprintf(log, "vmrun: no ./cmd/... or ./tools/... programs; nothing goes into %s\n", vm.GuestLocalSbin)
	}
	for _, c := range s.cmds {
		fmt.Fprintf(log, "vmrun: built %s -> %s\n", c.Name, path.Join(vm.GuestLocalSbin, c.Name))
	}
	return s, nil
}

func (s *session) close() {
	if s.opt.keep {
		fmt.Fprintf(s.log, "vmrun: kept %s\n", s.tmp)
		return
	}
	os.RemoveAll(s.tmp)
}

// installCmds adds the built commands and their links to the image.
func (s *session) installCmds(im *vm.Image) error {
	for _, c := range s.cmds {
		g := path.Join(vm.GuestLocalSbin, c.Name)
		if err := im.AddFile(g, c.Host, 0o755); err != nil {
			return err
		}
		for _, l := range c.Links {
			if err := im.AddSymlink(path.Join(vm.GuestLocalSbin, l), c.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// config returns the vm.Config for this session; extra adds more files.
func (s *session) config(jobs []vm.Job, console io.Writer, extra func(*vm.Image) error) vm.Config {
	return vm.Config{
		CacheDir: s.opt.cache,
		Jobs:     jobs,
		Init:     vm.InitOptions{LoadFTP: s.opt.ftp, LoadSIP: s.opt.sip},
		MemoryMB: s.opt.mem,
		CPUs:     s.opt.smp,
		KVM:      s.opt.kvm,
		Console:  console,
		Log:      s.log,
		WorkDir:  filepath.Join(s.tmp, "vm"),
		Extra: func(im *vm.Image) error {
			if err := s.installCmds(im); err != nil {
				return err
			}
			if extra != nil {
				return extra(im)
			}
			return nil
		},
	}
}

func cmdTest(ctx context.Context, o *options, patterns []string, stdout, stderr io.Writer) (int, error) {
	start := time.Now()
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	wd, err := os.Getwd()
	if err != nil {
		return 1, err
	}
	m, err := findModule(ctx, wd)
	if err != nil {
		return 1, err
	}
	pkgs, err := findVMPackages(ctx, m, wd, patterns, o.run)
	if err != nil {
		return 1, err
	}
	if len(pkgs) == 0 {
		fmt.Fprintf(stdout, "vmrun: no TestVM tests in %s; not booting\n", strings.Join(patterns, " "))
		return 0, nil
	}
	s, err := newSession(ctx, o, stderr)
	if err != nil {
		return 1, err
	}
	defer s.close()
	testTimeout := o.timeout - time.Minute
	if testTimeout < time.Minute {
		testTimeout = time.Minute
	}
	var jobs []vm.Job
	var built []vmPackage
	hostBins := map[string]string{}
	for _, p := range pkgs {
		bin, err := buildTestBinary(ctx, wd, filepath.Join(s.tmp, "tests"), p)
		if err != nil {
			return 1, fmt.Errorf("building tests of %s: %w", p.pkg.ImportPath, err)
		}
		if bin == "" {
			fmt.Fprintf(stderr, "vmrun: %s has no test binary; skipped\n", p.rel)
			continue
		}
		hostBins[p.flat] = bin
		built = append(built, p)
		argv := []string{"/tests/" + p.flat + ".test",
			"-test.run", runPattern(p.tests, o.run),
			"-test.v", "-test.count=1",
			"-test.timeout", testTimeout.String()}
		jobs = append(jobs, vm.Job{
			Name: p.rel,
			Argv: append(argv, o.testArgs...),
			Dir:  path.Join("/src", p.rel),
		})
	}
	if len(jobs) == 0 {
		fmt.Fprintln(stdout, "vmrun: no test binaries to run")
		return 0, nil
	}
	extra := func(im *vm.Image) error {
		for _, p := range built {
			if err := im.AddFile("/tests/"+p.flat+".test", hostBins[p.flat], 0o755); err != nil {
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
	var console io.Writer = &progress{w: stderr}
	if o.verbose {
		console = stdout
	}
	fmt.Fprintf(stderr, "vmrun: booting the VM for %d package(s)\n", len(jobs))
	res, bootErr := vm.Boot(ctx, s.config(jobs, console, extra))
	failed := 0
	passedTests, failedTests := 0, 0
	if res != nil {
		for _, p := range built {
			j := res.Job(p.rel)
			v := judge(j)
			passedTests += len(v.Report.Passed)
			if v.OK {
				fmt.Fprintf(stdout, "ok  \t%s\t%d VM tests\t(%.2fs)\n", p.pkg.ImportPath, len(v.Report.Ran), j.Duration.Seconds())
				continue
			}
			failed++
			n := len(v.Report.Ran) - len(v.Report.Passed)
			if n < 1 {
				n = 1
			}
			failedTests += n
			if j != nil && !o.verbose {
				fmt.Fprintf(stdout, "=== output of %s in the VM:\n%s", p.rel, j.Output)
			}
			fmt.Fprintf(stdout, "FAIL\t%s\t%s\n", p.pkg.ImportPath, strings.Join(v.Reasons, "; "))
		}
		if len(res.ModuleFailures) > 0 {
			fmt.Fprintf(stdout, "vmrun: modules that failed to load: %s\n", strings.Join(res.ModuleFailures, " "))
			failed++
		}
		for _, k := range res.KernelErrors {
			fmt.Fprintf(stdout, "vmrun: kernel reported: %s\n", k)
		}
		fmt.Fprintf(stdout, "vmrun: VM boot to init %.1fs, whole boot %.1fs (%s), total %.1fs\n",
			res.BootTime.Seconds(), res.Duration.Seconds(), res.Accel, time.Since(start).Seconds())
	}
	if bootErr != nil {
		fmt.Fprintf(stdout, "vmtest: %d passed, %d failed\n", passedTests, failedTests+1)
		return 1, bootErr
	}
	fmt.Fprintf(stdout, "vmtest: %d passed, %d failed\n", passedTests, failedTests)
	if failed > 0 {
		return 1, nil
	}
	return 0, nil
}

func cmdShell(ctx context.Context, o *options, stderr io.Writer) (int, error) {
	s, err := newSession(ctx, o, stderr)
	if err != nil {
		return 1, err
	}
	defer s.close()
	if err := vm.Shell(ctx, s.config(nil, nil, nil), os.Stdin, os.Stdout); err != nil {
		return 1, err
	}
	return 0, nil
}

// cmdExec runs script with /bin/sh -c in the guest as one job, streaming
// its output; guestFile/hostFile optionally copy one more file in.
func cmdExec(ctx context.Context, o *options, script, guestFile, hostFile string, stdout, stderr io.Writer) (int, error) {
	s, err := newSession(ctx, o, stderr)
	if err != nil {
		return 1, err
	}
	defer s.close()
	var extra func(*vm.Image) error
	if guestFile != "" {
		extra = func(im *vm.Image) error { return im.AddFile(guestFile, hostFile, 0o755) }
	}
	const name = "exec"
	job := vm.Job{Name: name, Argv: []string{"/bin/sh", "-c", script}, Dir: "/tmp"}
	var console io.Writer = &jobFilter{w: stdout}
	if o.verbose {
		console = stdout
	}
	res, err := vm.Boot(ctx, s.config([]vm.Job{job}, console, extra))
	if res != nil {
		fmt.Fprintf(stderr, "vmrun: VM boot to init %.1fs, whole boot %.1fs (%s)\n",
			res.BootTime.Seconds(), res.Duration.Seconds(), res.Accel)
	}
	if err != nil {
		return 1, err
	}
	j := res.Job(name)
	if j == nil || !j.Finished {
		return 1, errors.New("the command did not finish")
	}
	if j.RC != 0 {
		fmt.Fprintf(stderr, "vmrun: exit status %d\n", j.RC)
	}
	return min(j.RC, 125), nil
}

func cmdBench(ctx context.Context, o *options, script string, stdout, stderr io.Writer) (int, error) {
	abs, err := filepath.Abs(script)
	if err != nil {
		return 1, err
	}
	if st, err := os.Stat(abs); err != nil || !st.Mode().IsRegular() {
		return 1, fmt.Errorf("script %s: not a readable file", script)
	}
	guest := "/bench/" + filepath.Base(abs)
	return cmdExec(ctx, o, "cd /bench && /bin/sh "+guest, guest, abs, stdout, stderr)
}

// jobFilter passes on only the console lines between a job's begin and
// end markers, so exec and bench print just the command's output live.
type jobFilter struct {
	w       io.Writer
	partial []byte
	in      bool
}

func (f *jobFilter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			f.partial = append(f.partial, p...)
			break
		}
		line := string(append(f.partial, p[:i]...))
		f.partial = f.partial[:0]
		p = p[i+1:]
		switch {
		case strings.Contains(line, vm.MarkerJobBegin):
			f.in = true
		case strings.Contains(line, vm.MarkerJobEnd):
			if before, _, _ := strings.Cut(line, vm.MarkerJobEnd); before != "" && f.in {
				fmt.Fprintln(f.w, before)
			}
			f.in = false
		case f.in:
			fmt.Fprintln(f.w, line)
		}
	}
	return n, nil
}

// progress reports each job as it starts, for runs without -v.
type progress struct {
	w       io.Writer
	partial []byte
}

func (p *progress) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			p.partial = append(p.partial, b...)
			break
		}
		line := string(append(p.partial, b[:i]...))
		p.partial = p.partial[:0]
		b = b[i+1:]
		if _, name, ok := strings.Cut(line, vm.MarkerJobBegin); ok {
			fmt.Fprintf(p.w, "vmrun: running %s in the VM\n", strings.TrimSpace(name))
		}
	}
	return n, nil
}
