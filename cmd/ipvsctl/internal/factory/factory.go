// Package factory gives commands what they need: the streams, the global
// options and lazily created backends, so that commands that never talk
// to the kernel (version, completion, a flag error) never open netlink.
package factory

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/doctor"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/ipvslock"
	"github.com/ipvs-tools/ipvs/ipvsprobe"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
	"github.com/ipvs-tools/ipvs/netns"
	"github.com/spf13/cobra"
)

// Options are the global flags.
type Options struct {
	// NetNS is the network namespace (name under /run/netns or a path)
	// for netlink, /proc and sysctls; empty for the caller's.
	NetNS string
	// Numeric disables name resolution in table output.
	Numeric bool
	// Verbose adds statistics lines on standard error.
	Verbose bool
	// Timeout bounds each kernel request.
	Timeout time.Duration
	// Color is --color: auto, always or never.
	Color string
}

// ResolveNetNS turns --netns pid:PID into the namespace file of that
// process; a PID that is not a positive number is a usage error.
func (o *Options) ResolveNetNS() error {
	if pid, ok := strings.CutPrefix(o.NetNS, "pid:"); ok {
		n, err := strconv.Atoi(pid)
		if err != nil || n <= 0 {
			return cmdutil.FlagErrorf("--netns pid:%s: want a process ID", pid)
		}
		o.NetNS = netns.PIDPath(n)
	}
	return nil
}

// Factory is shared by all commands of one invocation.
type Factory struct {
	IOStreams *iostreams.IOStreams
	Options   *Options
	// Version is the program's version string.
	Version string

	// IPVS returns the kernel backend, creating it on first use; its
	// error is already explained (cmdutil.Explain, "connect to IPVS").
	IPVS func() (backend.IPVS, error)
	// Sysctls returns the sysctl backend for Options.NetNS.
	Sysctls func() (backend.Sysctls, error)
	// ConnFile opens /proc/net/NAME (ip_vs_conn, ip_vs_conn_sync) in
	// Options.NetNS.
	ProcFile func(name string) (ReadCloser, error)
	// Probe tries kernel features where kernels differ (ipvsprobe.Probe).
	Probe cmdutil.ProbeFunc
	// Interfaces names the network interfaces of Options.NetNS.
	Interfaces func() ([]string, error)
	// NetNSNames names the network namespaces under /run/netns.
	NetNSNames func() ([]string, error)

	// Lock takes the IPVS table lock of Options.NetNS (ipvslock), waiting
	// at most wait (ipvslock.Forever: without limit) and saying on
	// standard error whom it waits for; release gives it up. Its error is
	// explained (cmdutil.ExplainLock).
	Lock func(ctx context.Context, wait time.Duration) (release func(), err error)

	// Interrupts starts a writing command's handling of SIGINT, SIGTERM
	// and SIGHUP (cmdutil.Interrupt); the command calls Stop when done.
	Interrupts func() *cmdutil.Interrupt
	// Host reads the director in Options.NetNS for ipvsctl doctor: its
	// sysctls, interfaces and local addresses.
	Host func() doctor.Host

	// Now and Sleep are the clock (faked in tests).
	Now   func() time.Time
	Sleep func(time.Duration)

	// Locked counts the locks held (NewTest's Lock), and OnLock, if set,
	// runs as one is taken: a test's stand-in for a writer that finished
	// while the command waited.
	Locked int
	OnLock func()

	mu     sync.Mutex
	closer func() error
	held   []func() // locks taken by Writer commands
}

// Common is what the options of most commands embed: the streams and the
// kernel backends of this invocation, opened on first use.
type Common struct {
	IO      *iostreams.IOStreams
	IPVS    func() (backend.IPVS, error)
	Sysctls func() (backend.Sysctls, error)
	// Lock is Factory.Lock; Wait is how long a writing command waits for
	// the lock (its --wait flag, cmdutil.AddWaitFlag).
	Lock func(ctx context.Context, wait time.Duration) (release func(), err error)
	Wait time.Duration
}

// Common returns the streams and backends for a command's options.
func (f *Factory) Common() Common {
	return Common{IO: f.IOStreams, IPVS: f.IPVS, Sysctls: f.Sysctls, Lock: f.Lock}
}

// Writer returns the Common of a command that writes the IPVS table,
// adding its --wait flag to cmd (-w too, with short): the first use of
// its IPVS takes the table lock (Factory.Lock), waiting as --wait says,
// so that whatever the command reads is read by the table's only writer.
// The lock is held until the program ends (Factory.Close); the kernel
// drops it then, however the program ends.
func (f *Factory) Writer(cmd *cobra.Command, short bool) Common {
	c := f.Common()
	wait := new(time.Duration)
	cmdutil.AddWaitFlag(cmd, wait, short)
	var (
		once sync.Once
		lerr error
	)
	open := c.IPVS
	c.IPVS = func() (backend.IPVS, error) {
		once.Do(func() {
			var release func()
			release, lerr = f.Lock(context.Background(), *wait)
			if lerr == nil {
				f.mu.Lock()
				f.held = append(f.held, release)
				f.mu.Unlock()
			}
		})
		if lerr != nil {
			return nil, lerr
		}
		return open()
	}
	return c
}

// LockTable takes the IPVS table lock for a writing command, waiting as
// its --wait says: a command takes it before it reads the table it
// changes, so that its plan is made against what no other writer is
// changing, and holds it until it is done.
func (c Common) LockTable(ctx context.Context) (release func(), err error) {
	return c.Lock(ctx, c.Wait)
}

// Request opens the IPVS backend, sends one request with send and
// explains its error (cmdutil.Explain) in ctx.
func (c Common) Request(ctx cmdutil.Context, send func(backend.IPVS) error) error {
	b, err := c.IPVS()
	if err != nil {
		return err
	}
	return cmdutil.Explain(ctx, send(b))
}

// ReadCloser is an open /proc file.
type ReadCloser interface {
	Read([]byte) (int, error)
	Close() error
}

// New returns the factory of the real program.
func New(version string, ios *iostreams.IOStreams) *Factory {
	f := &Factory{IOStreams: ios, Options: &Options{}, Version: version,
		Now: time.Now, Sleep: time.Sleep}
	var (
		once sync.Once
		b    backend.IPVS
		err  error
	)
	f.IPVS = func() (backend.IPVS, error) {
		once.Do(func() {
			opts := []netlinkipvs.Option{}
			if f.Options.NetNS != "" {
				opts = append(opts, netlinkipvs.WithNetNS(f.Options.NetNS))
			}
			if f.Options.Timeout > 0 {
				opts = append(opts, netlinkipvs.WithTimeout(f.Options.Timeout))
			}
			var c *netlinkipvs.Client
			c, err = netlinkipvs.New(opts...)
			if err != nil {
				// Explained once here, for every command.
				err = netnsError(f.Options.NetNS, err)
				err = cmdutil.Explain(cmdutil.Context{Op: "connect to IPVS"}, err)
			} else {
				b = c
				f.mu.Lock()
				f.closer = c.Close
				f.mu.Unlock()
			}
		})
		return b, err
	}
	f.Sysctls = newSysctls(f)
	f.ProcFile = newProcFile(f)
	f.Probe = ipvsprobe.Probe
	f.Interrupts = func() *cmdutil.Interrupt { return cmdutil.NotifyInterrupt(ios.ErrOut) }
	f.Lock = func(ctx context.Context, wait time.Duration) (func(), error) {
		l, err := ipvslock.Acquire(ctx, ipvslock.Options{NetNS: f.Options.NetNS, Wait: wait, Owner: lockOwner(os.Args),
			Waiting: func(h ipvslock.Holder) {
				fmt.Fprintf(ios.ErrOut, "ipvsctl: waiting for the IPVS table lock, held by %s\n", h)
			}})
		if err != nil {
			return nil, cmdutil.ExplainLock(netnsError(f.Options.NetNS, err))
		}
		return func() { _ = l.Release() }, nil
	}
	f.Interfaces = func() ([]string, error) { return interfaces(f.Options.NetNS) }
	f.NetNSNames = netns.List
	f.Host = func() doctor.Host { return doctor.NewHost(f.Options.NetNS) }
	return f
}

// lockOwner is what a lock holder says it does: its command line, cut
// short.
func lockOwner(args []string) string {
	s := "ipvsctl"
	if len(args) > 1 {
		s += " " + strings.Join(args[1:], " ")
	}
	if len(s) > 200 {
		s = s[:197] + "..."
	}
	return s
}

// NewTest returns a factory on test streams and the given backend.
func NewTest(ios *iostreams.IOStreams, b backend.IPVS) *Factory {
	f := &Factory{IOStreams: ios, Options: &Options{Numeric: true}, Version: "test",
		IPVS: func() (backend.IPVS, error) { return b, nil },
		Now:  time.Now, Sleep: func(time.Duration) {}}
	f.Sysctls = func() (backend.Sysctls, error) { return nil, errors.New("no sysctls in this test") }
	f.ProcFile = func(string) (ReadCloser, error) { return nil, errors.New("no /proc in this test") }
	f.Probe = func(req ipvsprobe.Request) (*ipvsprobe.Report, error) {
		return &ipvsprobe.Report{Kernel: "test", Schedulers: req.Schedulers, PEs: req.PEs, Tunnels: req.Tunnels}, nil
	}
	// Never interrupted: a test that sends signals makes its own
	// (cmdutil.NewInterrupt).
	f.Interrupts = func() *cmdutil.Interrupt {
		return cmdutil.NewInterrupt(ios.ErrOut, make(chan os.Signal), func(int) { panic("no signal was sent") })
	}
	f.Lock = func(context.Context, time.Duration) (func(), error) {
		f.Locked++
		if f.OnLock != nil {
			f.OnLock()
		}
		return func() { f.Locked-- }, nil
	}
	f.Interfaces = func() ([]string, error) { return nil, errors.New("no interfaces in this test") }
	f.NetNSNames = func() ([]string, error) { return nil, errors.New("no namespaces in this test") }
	f.Host = func() doctor.Host { return noHost{} }
	return f
}

// noHost is the host of NewTest: nothing can be read.
type noHost struct{}

var errNoHost = errors.New("no host in this test")

func (noHost) Kernel() string                          { return "test" }
func (noHost) Sysctl(string) (string, error)           { return "", errNoHost }
func (noHost) Interfaces() ([]doctor.Interface, error) { return nil, errNoHost }
func (noHost) IsLocal(netip.Addr) (bool, error)        { return false, errNoHost }

// Close releases the backend if one was opened, and the table locks.
func (f *Factory) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, release := range f.held {
		release()
	}
	f.held = nil
	if f.closer != nil {
		return f.closer()
	}
	return nil
}

// netnsError words a failure to open --netns NAME: it names the file and
// says how to find the namespaces, instead of a bare errno.
func netnsError(ns string, err error) error {
	var pe *os.PathError
	if ns == "" || !errors.As(err, &pe) {
		return err
	}
	if errors.Is(pe.Err, fs.ErrNotExist) {
		return fmt.Errorf("--netns %s: there is no network namespace %s (ip netns list shows them; a path or pid:PID works too)", ns, pe.Path)
	}
	return fmt.Errorf("--netns %s: %s: %v", ns, pe.Path, pe.Err)
}
