package vm

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultMemoryMB is the guest memory when Config.MemoryMB is 0.
const DefaultMemoryMB = 2048

// DefaultAppend is the kernel command line; Config.Append is added to it.
const DefaultAppend = "console=ttyS0 quiet panic=-1"

// DefaultKVMTimeout is how long a KVM boot may take to reach the init
// script before Boot falls back to TCG.
const DefaultKVMTimeout = 20 * time.Second

// DefaultBootTimeout is how long a guest may take from QEMU's start to its
// first request for a job when Config.BootTimeout is 0.
const DefaultBootTimeout = 3 * time.Minute

// doneGrace is how long QEMU may take to exit after the init script printed
// its last marker.
const doneGrace = 15 * time.Second

// Config describes one boot.
type Config struct {
	// Assets is the kernel to boot. Nil means PrepareAssets with CacheDir
	// and Log.
	Assets *Assets
	// CacheDir and Kernel are passed to PrepareAssets when Assets is
	// nil.
	CacheDir string
	Kernel   Kernel
	// Jobs are the jobs the guest can run (ignored by Shell): in order,
	// or as Next chooses.
	Jobs []Job
	// Next, if not nil, chooses the job the guest runs next. It is called
	// each time the guest is ready for one, from a goroutine of Boot's,
	// and returns an index into Jobs, or false to end the boot. Several
	// guests booted at once can share one Next and so one queue of work.
	// Nil runs every job once, in order.
	Next func() (int, bool)
	// Init chooses extra modules.
	Init InitOptions
	// Extra, if not nil, adds the caller's files to the initramfs (test
	// binaries, programs for /usr/local/sbin, data).
	Extra func(*Image) error
	// MemoryMB is the guest memory; 0 means DefaultMemoryMB.
	MemoryMB int
	// CPUs is the number of virtual CPUs; 0 means 1. Under TCG each
	// is a host thread (multi-threaded TCG), so more than the host's
	// cores only slows the guest down.
	CPUs int
	// KVM tries hardware acceleration first, falling back to TCG if the
	// init script has not started within KVMTimeout or QEMU fails before
	// it. Off by default: on this project's machines nested KVM hangs
	// after the boot loader, and QEMU aborts on an MSR with -cpu max.
	KVM bool
	// KVMTimeout bounds the KVM attempt; 0 means DefaultKVMTimeout.
	KVMTimeout time.Duration
	// BootTimeout bounds the time from QEMU's start until the guest asks
	// for its first job; 0 means DefaultBootTimeout.
	BootTimeout time.Duration
	// Append is added to the kernel command line.
	Append string
	// QEMU is the emulator binary; empty means qemu-system-x86_64.
	QEMU string
	// Console, if not nil, receives the console output live, with "\r"
	// and terminal escape sequences removed (Boot only; Shell uses its
	// own terminal).
	Console io.Writer
	// Log, if not nil, receives progress messages.
	Log io.Writer
	// WorkDir holds the initramfs. Empty means a temporary directory
	// that is removed afterwards.
	WorkDir string
}

// Result is the outcome of a boot.
type Result struct {
	// Jobs holds the jobs seen on the console, in order.
	Jobs []JobResult
	// Done reports whether the init script reached its end.
	Done bool
	// Panic is the kernel panic line, if the kernel panicked.
	Panic string
	// KernelErrors are console lines reporting a kernel BUG, Oops or
	// WARNING.
	KernelErrors []string
	// ModuleFailures names the modules insmod failed to load.
	ModuleFailures []string
	// Tail is the last lines of the console.
	Tail []string
	// BootTime is the time from starting QEMU to the init script's first
	// marker.
	BootTime time.Duration
	// Duration is the time from starting QEMU until it exited.
	Duration time.Duration
	// Accel is the accelerator that ran the guest: "tcg" or "kvm".
	Accel string
	// ImageBytes is the size of the compressed initramfs.
	ImageBytes int64
	// Kernel is the pinned kernel the guest booted.
	Kernel Kernel
	// KernelRelease and KernelBuild are what the guest's kernel said of
	// itself: uname -r and /proc/version. Boot fails when the release is
	// not the pinned kernel's.
	KernelRelease, KernelBuild string
	// Handed lists the indexes of the jobs handed to the guest, in order.
	Handed []int
	// Stuck names the job that ran past its Timeout, if one did.
	Stuck string
	// NoControl reports that the guest could not open its control port.
	NoControl bool
}

// Job returns the result of the named job, or nil.
func (r *Result) Job(name string) *JobResult {
	for i := range r.Jobs {
		if r.Jobs[i].Name == name {
			return &r.Jobs[i]
		}
	}
	return nil
}

// TailText returns the console tail as one string.
func (r *Result) TailText() string {
	return strings.Join(r.Tail, "\n")
}

// prepare resolves the assets and writes the initramfs. It returns the
// initramfs path and a cleanup function.
func (c *Config) prepare(ctx context.Context, shell bool) (*Assets, string, int64, func(), error) {
	a := c.Assets
	if a == nil {
		var err error
		a, err = PrepareAssets(ctx, AssetOptions{CacheDir: c.CacheDir, Kernel: c.Kernel, Log: c.Log})
		if err != nil {
			return nil, "", 0, nil, err
		}
	}
	dir := c.WorkDir
	cleanup := func() {}
	if dir == "" {
		d, err := os.MkdirTemp("", "ipvs-vm-")
		if err != nil {
			return nil, "", 0, nil, fmt.Errorf("creating VM work directory: %w", err)
		}
		dir = d
		cleanup = func() { os.RemoveAll(d) }
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", 0, nil, fmt.Errorf("creating VM work directory: %w", err)
	}
	im, err := buildImage(ctx, a, c.Init, c.Jobs, shell, c.Extra)
	if err != nil {
		cleanup()
		return nil, "", 0, nil, err
	}
	initrd := filepath.Join(dir, "initrd.gz")
	if err := im.WriteFile(initrd); err != nil {
		cleanup()
		return nil, "", 0, nil, err
	}
	st, err := os.Stat(initrd)
	if err != nil {
		cleanup()
		return nil, "", 0, nil, fmt.Errorf("initramfs: %w", err)
	}
	logf(c.Log, "vm: initramfs %s (%.1f MiB), kernel %s\n", initrd, float64(st.Size())/(1<<20), a.Kernel)
	if !im.Has(GuestKeepalived) {
		logf(c.Log, "vm: the host has no %s (apt-get install keepalived): the guest has none, "+
			"and the tests that run it fail\n", HostKeepalived)
	}
	return a, initrd, st.Size(), cleanup, nil
}

// qemuArgs returns the QEMU command line. The console is the first serial
// port, on QEMU's standard input and output (with its monitor on Ctrl-A c);
// if control is not empty, the second serial port is connected to the Unix
// socket at that path.
func (c *Config) qemuArgs(a *Assets, initrd, accel, control string) []string {
	mem := c.MemoryMB
	if mem <= 0 {
		mem = DefaultMemoryMB
	}
	cpus := max(c.CPUs, 1)
	appendLine := DefaultAppend
	if c.Append != "" {
		appendLine += " " + c.Append
	}
	args := []string{
		"-accel", accel, "-cpu", "max", "-smp", strconv.Itoa(cpus), "-m", strconv.Itoa(mem),
		"-nographic", "-no-reboot", "-nic", "none", "-serial", "mon:stdio",
	}
	if control != "" {
		args = append(args, "-chardev", "socket,id=vmctl,path="+control, "-serial", "chardev:vmctl")
	}
	return append(args, "-kernel", a.Vmlinuz, "-initrd", initrd, "-append", appendLine)
}

func (c *Config) qemuBinary() string {
	if c.QEMU != "" {
		return c.QEMU
	}
	return "qemu-system-x86_64"
}

// Boot builds the initramfs, boots the guest, runs cfg.Jobs in it and
// returns what they printed. ctx bounds the whole boot: when it ends QEMU is
// killed. The returned error is non-nil if the guest did not get through all
// jobs (kernel panic, timeout, QEMU failure); the Result is returned even
// then, with the console tail. A job's non-zero exit status is not an
// error: look at JobResult.RC.
func Boot(ctx context.Context, cfg Config) (*Result, error) {
	a, initrd, size, cleanup, err := cfg.prepare(ctx, false)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if cfg.Next == nil {
		cfg.Next = inOrder(len(cfg.Jobs))
	}
	if cfg.KVM {
		if _, err := os.Stat("/dev/kvm"); err == nil {
			res, err := cfg.run(ctx, a, initrd, "kvm")
			if res != nil {
				res.ImageBytes = size
			}
			// Fall back if the KVM guest never reached the init
			// script: it stalled (nested KVM hangs after the boot
			// loader) or QEMU failed (an MSR it cannot set).
			if err == nil || (res != nil && res.BootTime > 0 && !errors.Is(err, errKVMStalled)) {
				return res, err
			}
			logf(cfg.Log, "vm: KVM guest did not reach init (%v); retrying with TCG\n", firstLine(err.Error()))
		} else {
			logf(cfg.Log, "vm: /dev/kvm unavailable; using TCG\n")
		}
	}
	res, err := cfg.run(ctx, a, initrd, "tcg")
	if res != nil {
		res.ImageBytes = size
	}
	return res, err
}

var errKVMStalled = errors.New("KVM guest stalled before init")

// inOrder returns a Next function that hands out jobs 0 to n-1 once each.
func inOrder(n int) func() (int, bool) {
	i := 0
	return func() (int, bool) {
		if i >= n {
			return 0, false
		}
		i++
		return i - 1, true
	}
}

// firstLine returns s up to its first newline.
func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func (c *Config) kvmTimeout() time.Duration {
	if c.KVMTimeout > 0 {
		return c.KVMTimeout
	}
	return DefaultKVMTimeout
}

// consoleCleaner copies console bytes to w with "\r" and terminal escape
// sequences (SeaBIOS clears the screen and resets the terminal) removed.
// It keeps state across writes, so a sequence split between two writes is
// still removed.
type consoleCleaner struct {
	w     io.Writer
	state byte // 0 normal, 1 after ESC, 2 inside ESC [ ... (CSI)
	buf   []byte
}

// Write copies p without "\r" and escape sequences.
func (c *consoleCleaner) Write(p []byte) (int, error) {
	c.buf = c.buf[:0]
	for _, b := range p {
		switch c.state {
		case 0:
			switch b {
			case '\r':
			case 0x1b:
				c.state = 1
			default:
				c.buf = append(c.buf, b)
			}
		case 1:
			if b == '[' {
				c.state = 2
			} else {
				c.state = 0
			}
		case 2:
			if b >= 0x40 && b <= 0x7e {
				c.state = 0
			}
		}
	}
	if len(c.buf) > 0 {
		if _, err := c.w.Write(c.buf); err != nil {
			return len(p), err
		}
	}
	return len(p), nil
}

// run boots once with the given accelerator.
func (c *Config) run(ctx context.Context, a *Assets, initrd, accel string) (*Result, error) {
	parser := NewConsoleParser(nil)
	events := make(chan string, 64)
	parser.notify = func(e string) {
		if e != "init" && e != "done" {
			return
		}
		select {
		case events <- e:
		default:
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ctl, err := listenControl(filepath.Dir(initrd))
	if err != nil {
		return nil, err
	}
	defer ctl.Close()
	handed := make(chan handout, 1)
	ctlDone := make(chan error, 1)
	go func() { ctlDone <- c.serveControl(runCtx, ctl, handed) }()
	cmd := exec.CommandContext(runCtx, c.qemuBinary(), c.qemuArgs(a, initrd, accel, ctl.Addr().String())...)
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	var out io.Writer = parser
	if c.Console != nil {
		out = io.MultiWriter(parser, c.Console)
	}
	out = &consoleCleaner{w: out}
	// A pipe we read ourselves (rather than cmd.Stdout) so that the
	// events arrive while QEMU runs.
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("starting qemu: %w", err)
	}
	cmd.Stdout = pw
	start := time.Now()
	logf(c.Log, "vm: booting (%s, %d MB)\n", accel, c.memory())
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("starting %s: %w", c.qemuBinary(), err)
	}
	pw.Close()
	var copyWG sync.WaitGroup
	copyWG.Add(1)
	go func() {
		defer copyWG.Done()
		io.Copy(out, pr)
		pr.Close()
	}()
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()

	var kvmTimer <-chan time.Time
	if accel == "kvm" {
		t := time.NewTimer(c.kvmTimeout())
		defer t.Stop()
		kvmTimer = t.C
	}
	bootLimit := c.BootTimeout
	if bootLimit <= 0 {
		bootLimit = DefaultBootTimeout
	}
	bootTimer := time.NewTimer(bootLimit)
	defer bootTimer.Stop()
	var doneTimer, jobTimer <-chan time.Time
	var werr error
	var handedJobs []int
	var current handout
	stalled, timedOut, killedAfterDone, stuck, bootStuck := false, false, false, false, false
loop:
	for {
		select {
		case werr = <-waitErr:
			break loop
		case h := <-handed:
			bootTimer.Stop()
			current, jobTimer = h, nil
			if h.index >= 0 {
				handedJobs = append(handedJobs, h.index)
				if t := c.Jobs[h.index].Timeout; t > 0 {
					jobTimer = time.After(t)
				}
			}
		case <-jobTimer:
			stuck = true
			cancel()
		case <-bootTimer.C:
			bootStuck = true
			cancel()
		case e := <-events:
			switch e {
			case "init":
				kvmTimer = nil
			case "done":
				if doneTimer == nil {
					doneTimer = time.After(doneGrace)
				}
			}
		case <-kvmTimer:
			stalled = true
			cancel()
		case <-doneTimer:
			killedAfterDone = true
			cancel()
		case <-ctx.Done():
			timedOut = true
			cancel()
		}
	}
	copyWG.Wait()
	parser.Close()
	cancel()
	ctlErr := <-ctlDone
	res := parser.Result()
	res.Duration = time.Since(start)
	res.Accel = accel
	res.Kernel = a.Kernel
	res.Handed = handedJobs
	switch {
	case stuck:
		res.Stuck = c.Jobs[current.index].Name
		return res, fmt.Errorf("job %s ran past its time limit of %v: the guest was stopped%s",
			res.Stuck, c.Jobs[current.index].Timeout, describeEnd(res))
	case stalled && !res.Done:
		return res, errKVMStalled
	case bootStuck:
		return res, fmt.Errorf("the guest did not ask for work within %v of starting%s", bootLimit, describeEnd(res))
	case res.NoControl:
		return res, fmt.Errorf("the guest could not open its control port %s%s", GuestControlPort, describeEnd(res))
	case !res.Done && ctlErr != nil && res.BootTime > 0:
		return res, fmt.Errorf("control channel: %w%s", ctlErr, describeEnd(res))
	case timedOut && !res.Done:
		return res, fmt.Errorf("VM timed out (%v) after %v%s", ctx.Err(), res.Duration.Round(time.Millisecond), describeEnd(res))
	case res.Panic != "":
		return res, fmt.Errorf("kernel panic in the VM: %s%s", res.Panic, describeEnd(res))
	case !res.Done:
		msg := "QEMU exited before the VM finished"
		if werr != nil {
			msg += " (" + werr.Error() + ")"
		}
		if s := strings.TrimSpace(stderr.String()); s != "" {
			msg += "; qemu stderr: " + tail(s, 10)
		}
		return res, fmt.Errorf("%s%s", msg, describeEnd(res))
	case res.KernelRelease != a.KernelVersion:
		// Results must come from the pinned kernel, and say so.
		return res, fmt.Errorf("the guest booted %q, not the pinned kernel %s (%s)", res.KernelRelease, a.KernelVersion, a.Kernel)
	case werr != nil && !killedAfterDone:
		// The guest finished but QEMU reported an error on exit.
		if s := strings.TrimSpace(stderr.String()); s != "" {
			logf(c.Log, "vm: qemu: %s\n", tail(s, 5))
		}
	}
	return res, nil
}

func (c *Config) memory() int {
	if c.MemoryMB > 0 {
		return c.MemoryMB
	}
	return DefaultMemoryMB
}

// describeEnd tells where the guest stopped, for error messages.
func describeEnd(r *Result) string {
	var b strings.Builder
	if n := len(r.Jobs); n > 0 && !r.Jobs[n-1].Finished {
		fmt.Fprintf(&b, "; job %s was running", r.Jobs[n-1].Name)
	}
	if len(r.ModuleFailures) > 0 {
		fmt.Fprintf(&b, "; modules failed: %s", strings.Join(r.ModuleFailures, " "))
	}
	fmt.Fprintf(&b, "\nconsole tail:\n%s", r.TailText())
	return b.String()
}

// Shell builds the same initramfs as Boot but ends the init script in an
// interactive shell on the console, with QEMU attached to stdin and stdout
// (normally the caller's terminal). It returns when the guest powers off
// (poweroff -f) or QEMU is left with Ctrl-A x. cfg.Jobs and cfg.Console are
// ignored.
func Shell(ctx context.Context, cfg Config, stdin io.Reader, stdout io.Writer) error {
	a, initrd, _, cleanup, err := cfg.prepare(ctx, true)
	if err != nil {
		return err
	}
	defer cleanup()
	accel := "tcg"
	if cfg.KVM {
		if _, err := os.Stat("/dev/kvm"); err == nil {
			accel = "kvm"
		}
	}
	cmd := exec.CommandContext(ctx, cfg.qemuBinary(), cfg.qemuArgs(a, initrd, accel, "")...)
	cmd.Stdin = stdin
	cmd.Stdout = stdout
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	logf(cfg.Log, "vm: booting playground (%s); leave with 'poweroff -f' or Ctrl-A x\n", accel)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("qemu: %w: %s", err, tail(stderr.String(), 10))
	}
	return nil
}

// handout is a job handed to the guest (index -1: told to stop).
type handout struct {
	index int
}

// listenControl makes the Unix socket QEMU connects the guest's control
// port to, in dir.
func listenControl(dir string) (*net.UnixListener, error) {
	p := filepath.Join(dir, "control.sock")
	os.Remove(p)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return ln, nil
}

// serveControl answers the guest's requests for work on the control
// channel: each request is answered with the index Next chooses, or with
// stop. Every answer is reported on handed. It returns when the guest has
// been told to stop, the connection ends or ctx is done.
func (c *Config) serveControl(ctx context.Context, ln *net.UnixListener, handed chan<- handout) error {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	conn, err := ln.AcceptUnix()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("accepting QEMU's connection: %w", err)
	}
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	defer conn.Close()
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if ctx.Err() != nil || err == io.EOF {
				return nil
			}
			return err
		}
		if strings.TrimSpace(strings.ReplaceAll(line, "\r", "")) != controlNext {
			continue
		}
		i, ok := c.Next()
		if ok && (i < 0 || i >= len(c.Jobs)) {
			return fmt.Errorf("Next chose job %d of %d", i, len(c.Jobs))
		}
		answer := controlStop
		if ok {
			answer = strconv.Itoa(i)
		} else {
			i = -1
		}
		select {
		case handed <- handout{index: i}:
		case <-ctx.Done():
			return nil
		}
		if _, err := io.WriteString(conn, answer+"\n"); err != nil {
			return fmt.Errorf("answering the guest: %w", err)
		}
		if !ok {
			return nil
		}
	}
}
