// Package factory gives commands what they need: the streams, the global
// options and lazily created backends, so that commands that never talk
// to the kernel (version, completion, a flag error) never open netlink.
package factory

import (
	"errors"
	"sync"
	"time"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/ipvsprobe"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
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

	// Now and Sleep are the clock (faked in tests).
	Now   func() time.Time
	Sleep func(time.Duration)

	mu     sync.Mutex
	closer func() error
}

// Common is what the options of most commands embed: the streams and the
// kernel backends of this invocation, opened on first use.
type Common struct {
	IO      *iostreams.IOStreams
	IPVS    func() (backend.IPVS, error)
	Sysctls func() (backend.Sysctls, error)
}

// Common returns the streams and backends for a command's options.
func (f *Factory) Common() Common {
	return Common{IO: f.IOStreams, IPVS: f.IPVS, Sysctls: f.Sysctls}
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
	return f
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
	return f
}

// Close releases the backend if one was opened.
func (f *Factory) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closer != nil {
		return f.closer()
	}
	return nil
}
