// Command vmrun runs the project's VM tests, benchmarks and commands in
// QEMU guests with real IPVS kernels (see internal/vm). It is a developer
// tool, not part of the product.
//
// Usage:
//
//	vmrun test [flags] [packages]        run TestVM* tests (default ./...)
//	vmrun bench [flags] [packages]       run BenchmarkVM* benchmarks, one at a time
//	vmrun bench [flags] SCRIPT.sh        run a shell script in the guest
//	vmrun shell [flags]                  interactive playground shell
//	vmrun exec [flags] -- CMD...         run one shell command line in the guest
//	vmrun kernels [-cache DIR]           the pinned kernels and what Debian offers now
//	vmrun kernels -fetch [-cache DIR]    download and extract every pinned kernel now
//
// Every subcommand builds the module's ./cmd/... programs (and the guest
// tools under ./tools, such as ipvsbench) statically and installs them in
// the guest's /usr/local/sbin (so the project's ipvsadm is
// /usr/local/sbin/ipvsadm and Debian's reference is /usr/sbin/ipvsadm).
//
// test runs every selected test as a job of its own, in parallel guests
// (-guests, default one per host CPU) that each ask for their next job when
// they are done with one, so the guests finish close together. A test runs
// on the kernels its //vmtest:kernels directive names (the default kernel,
// 6.1, if it has none), or on the kernels -kernel names; its
// //vmtest:budget directive (default 1m) is its time limit. A guest
// whose job runs past its limit is stopped and its console tail shown;
// the other guests go on.
//
// Flags (all subcommands but kernels):
//
//	-kernel K[,K]  kernels to boot: 5.10, 6.1, 6.12 or all (test: default
//	               each test's own; others: 6.1)
//	-timeout D     bound the whole run (default for test and bench: 15m
//	               plus every job's budget; 20m otherwise)
//	-mem MB        guest memory (default 2048)
//	-smp N         virtual CPUs per guest (default 1)
//	-keep          keep the temporary directory (printed)
//	-v             stream the guest console
//	-kvm           try KVM first (falls back to TCG)
//	-ftp, -sip     load ip_vs_ftp / ip_vs_pe_sip
//	-cache DIR     kernel cache (default $IPVS_VM_CACHE, $XDG_CACHE_HOME/ipvs-vm, ~/.cache/ipvs-vm)
//
// test and bench also take -run REGEX, selecting functions as go test -run
// does, -guests N (test only) and -testarg ARG (repeatable), passed on to
// every test binary.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ipvs-tools/ipvs/internal/vm"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  vmrun test [flags] [-run REGEX] [-guests N] [packages]
  vmrun bench [flags] [-run REGEX] [packages]
  vmrun bench [flags] SCRIPT.sh
  vmrun shell [flags]
  vmrun exec [flags] -- CMD [ARGS...]
  vmrun kernels [-fetch] [-cache DIR]
flags: -kernel K[,K]|all -timeout D -mem MB -smp N -keep -v -kvm -ftp -sip -cache DIR
`

// options are the flags every subcommand takes.
type options struct {
	kernels  string
	timeout  time.Duration
	mem      int
	smp      int
	guests   int
	keep     bool
	verbose  bool
	kvm      bool
	ftp      bool
	sip      bool
	cache    string
	run      string
	testArgs stringList // extra arguments for every test binary (-testarg)
	fetch    bool       // kernels: prepare the pinned kernels in the cache
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, " ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func (o *options) register(fs *flag.FlagSet, sub string) {
	fs.StringVar(&o.cache, "cache", "", "kernel download cache directory")
	if sub == "kernels" {
		fs.BoolVar(&o.fetch, "fetch", false, "download and extract every pinned kernel into the cache (what test does on first use), and ask Debian nothing else")
		return
	}
	fs.StringVar(&o.kernels, "kernel", "", "kernels to boot: "+strings.Join(vm.KernelNames(), ", ")+" or all, comma-separated")
	fs.DurationVar(&o.timeout, "timeout", 0, "bound the whole run (0: for test and bench 15m plus every job's budget; 20m otherwise)")
	fs.IntVar(&o.mem, "mem", vm.DefaultMemoryMB, "guest memory in MB")
	fs.IntVar(&o.smp, "smp", 1, "virtual CPUs per guest")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory")
	fs.BoolVar(&o.verbose, "v", false, "stream the guest console")
	fs.BoolVar(&o.kvm, "kvm", false, "try KVM before TCG")
	fs.BoolVar(&o.ftp, "ftp", false, "load ip_vs_ftp")
	fs.BoolVar(&o.sip, "sip", false, "load ip_vs_pe_sip")
	if sub == "test" || sub == "bench" {
		fs.StringVar(&o.run, "run", "", "run only the functions matching this regular expression")
		fs.Var(&o.testArgs, "testarg", "pass this argument to every test binary (repeatable), e.g. -testarg -update")
	}
	if sub == "test" {
		fs.IntVar(&o.guests, "guests", 0, "guests at once (0: one per host CPU, divided by -smp)")
	}
}

// kernelList returns the kernels -kernel names (nil if the flag is empty).
func (o *options) kernelList() ([]vm.Kernel, error) {
	if o.kernels == "" {
		return nil, nil
	}
	names := strings.Split(o.kernels, ",")
	if o.kernels == "all" {
		names = vm.KernelNames()
	}
	var ks []vm.Kernel
	for _, n := range names {
		k, err := vm.LookupKernel(strings.TrimSpace(n))
		if err != nil {
			return nil, err
		}
		ks = append(ks, k)
	}
	return ks, nil
}

// oneKernel returns the one kernel a single-guest subcommand boots.
func (o *options) oneKernel() (vm.Kernel, error) {
	ks, err := o.kernelList()
	if err != nil {
		return vm.Kernel{}, err
	}
	switch len(ks) {
	case 0:
		return vm.LookupKernel(vm.DefaultKernel)
	case 1:
		return ks[0], nil
	}
	return vm.Kernel{}, errors.New("this subcommand boots one kernel: give -kernel one name")
}

// guestCount is how many guests test runs at once.
func (o *options) guestCount() int {
	if o.guests > 0 {
		return o.guests
	}
	return max(1, runtime.NumCPU()/max(1, o.smp))
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
	case "test", "shell", "exec", "bench", "kernels":
		o.register(fs, sub)
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
	if _, err := o.kernelList(); err != nil {
		fmt.Fprintf(stderr, "vmrun %s: %v\n", sub, err)
		return 2
	}
	timeout := o.timeout
	if timeout == 0 && sub != "test" && sub != "bench" {
		timeout = 20 * time.Minute
	}
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var code int
	var err error
	switch sub {
	case "test":
		code, err = cmdTest(ctx, &o, fs.Args(), false, stdout, stderr)
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
		if fs.NArg() == 1 && strings.HasSuffix(fs.Arg(0), ".sh") {
			code, err = cmdBenchScript(ctx, &o, fs.Arg(0), stdout, stderr)
		} else {
			for _, a := range fs.Args() {
				if strings.HasSuffix(a, ".sh") {
					fmt.Fprintf(stderr, "vmrun bench: one script at a time, without packages\n%s", usage)
					return 2
				}
			}
			code, err = cmdTest(ctx, &o, fs.Args(), true, stdout, stderr)
		}
	case "kernels":
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "vmrun kernels takes no arguments\n")
			return 2
		}
		code, err = cmdKernels(ctx, &o, stdout, stderr)
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
	var names []string
	for _, c := range s.cmds {
		names = append(names, c.Name)
	}
	if len(names) > 0 {
		fmt.Fprintf(log, "vmrun: built %s into the guest's %s\n", strings.Join(names, ", "), vm.GuestLocalSbin)
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

// config returns the vm.Config of one guest of kernel k; workDir names its
// working directory under the session's; extra adds more files.
func (s *session) config(k vm.Kernel, workDir string, jobs []vm.Job, console io.Writer, extra func(*vm.Image) error) vm.Config {
	return vm.Config{
		CacheDir: s.opt.cache,
		Kernel:   k,
		Jobs:     jobs,
		Init:     vm.InitOptions{LoadFTP: s.opt.ftp, LoadSIP: s.opt.sip},
		MemoryMB: s.opt.mem,
		CPUs:     s.opt.smp,
		KVM:      s.opt.kvm,
		Console:  console,
		Log:      s.log,
		WorkDir:  filepath.Join(s.tmp, workDir),
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

// startOne starts a session for the one kernel o names. On an error, code
// is the exit status: 2 when the options name no single kernel, 1 when the
// session does not start.
func startOne(ctx context.Context, o *options, stderr io.Writer) (k vm.Kernel, s *session, code int, err error) {
	if k, err = o.oneKernel(); err != nil {
		return k, nil, 2, err
	}
	if s, err = newSession(ctx, o, stderr); err != nil {
		return k, nil, 1, err
	}
	return k, s, 0, nil
}

func cmdShell(ctx context.Context, o *options, stderr io.Writer) (int, error) {
	k, s, code, err := startOne(ctx, o, stderr)
	if err != nil {
		return code, err
	}
	defer s.close()
	if err := vm.Shell(ctx, s.config(k, "vm", nil, nil, nil), os.Stdin, os.Stdout); err != nil {
		return 1, err
	}
	return 0, nil
}

// cmdExec runs script with /bin/sh -c in the guest as one job, streaming
// its output; guestFile/hostFile optionally copy one more file in.
func cmdExec(ctx context.Context, o *options, script, guestFile, hostFile string, stdout, stderr io.Writer) (int, error) {
	k, s, code, err := startOne(ctx, o, stderr)
	if err != nil {
		return code, err
	}
	defer s.close()
	var extra func(*vm.Image) error
	if guestFile != "" {
		extra = func(im *vm.Image) error { return im.AddFile(guestFile, hostFile, 0o755) }
	}
	const name = "exec"
	job := vm.Job{Name: name, Argv: []string{"/bin/sh", "-c", script}, Dir: "/tmp"}
	console := jobFilter(stdout)
	if o.verbose {
		console = stdout
	}
	res, err := vm.Boot(ctx, s.config(k, "vm", []vm.Job{job}, console, extra))
	if res != nil {
		fmt.Fprintf(stderr, "vmrun: kernel %s, booted %s; boot to init %.1fs, whole boot %.1fs (%s)\n",
			res.Kernel, res.KernelRelease, res.BootTime.Seconds(), res.Duration.Seconds(), res.Accel)
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

func cmdBenchScript(ctx context.Context, o *options, script string, stdout, stderr io.Writer) (int, error) {
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

// cmdKernels prints the pinned kernels and what Debian's archive offers now
// for each suite, as lines for internal/vm/kernels.txt.
func cmdKernels(ctx context.Context, o *options, stdout, stderr io.Writer) (int, error) {
	if o.fetch {
		for _, k := range vm.Kernels() {
			if _, err := vm.PrepareAssets(ctx, vm.AssetOptions{Kernel: k, CacheDir: o.cache, Log: stderr}); err != nil {
				return 1, err
			}
		}
		fmt.Fprintf(stdout, "vmrun: %d pinned kernels in the cache\n", len(vm.Kernels()))
		return 0, nil
	}
	fmt.Fprintln(stdout, "pinned (internal/vm/kernels.txt):")
	for _, k := range vm.Kernels() {
		fmt.Fprintln(stdout, "  "+vm.FormatKernelLine(k))
	}
	fmt.Fprintln(stderr, "vmrun: asking Debian's archive for the current kernels")
	latest, err := vm.LatestKernels(ctx, o.cache)
	if err != nil {
		return 1, err
	}
	fmt.Fprintln(stdout, "offered now by Debian:")
	changed := 0
	for i, l := range latest {
		mark := "  "
		if p := vm.Kernels()[i]; p.Package != l.Package || p.Version != l.Version || p.SHA256 != l.SHA256 {
			mark = "* "
			changed++
		}
		fmt.Fprintln(stdout, mark+vm.FormatKernelLine(l))
	}
	if changed > 0 {
		fmt.Fprintf(stdout, "%d kernel(s) marked * differ from the pins: paste the line over the pin to move, then run scripts/test.sh.\n", changed)
	} else {
		fmt.Fprintln(stdout, "the pins are current.")
	}
	return 0, nil
}

// jobFilter returns a writer that passes on only the console lines between
// a job's begin and end markers, so exec and bench print just the
// command's output live.
func jobFilter(w io.Writer) io.Writer {
	in := false
	return &vm.LineWriter{Line: func(line string) {
		switch {
		case strings.Contains(line, vm.MarkerJobBegin):
			in = true
		case strings.Contains(line, vm.MarkerJobEnd):
			if before, _, _ := strings.Cut(line, vm.MarkerJobEnd); before != "" && in {
				fmt.Fprintln(w, before)
			}
			in = false
		case in:
			fmt.Fprintln(w, line)
		}
	}}
}
