package ipvsproc

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/ipvs-tools/ipvs/netns"
)

// Names of the IPVS files in /proc/net.
const (
	ConnFile        = "ip_vs_conn"
	ConnSyncFile    = "ip_vs_conn_sync"
	ServicesFile    = "ip_vs"
	StatsFile       = "ip_vs_stats"
	StatsPerCPUFile = "ip_vs_stats_percpu"
)

// Option configures the functions that open the files.
type Option func(*options)

type options struct {
	netns string
	dir   string
}

// WithNetNS reads the files of the network namespace nameOrPath: a name
// under /run/netns ("ip netns add NAME") or a path to a namespace file
// such as /proc/PID/ns/net. The file is opened on a thread switched into
// the namespace (package netns) and read from the caller's goroutine; no
// other goroutine or thread changes namespace.
func WithNetNS(nameOrPath string) Option {
	return func(o *options) { o.netns = nameOrPath }
}

// WithDir reads the files from dir instead of the calling thread's
// /proc/thread-self/net (for tests, or a /proc/PID/net of another
// process).
func WithDir(dir string) Option {
	return func(o *options) { o.dir = dir }
}

// defaultDir is /proc/thread-self/net where it exists (Linux 3.17+); it
// names the namespace of the thread that opens the file, unlike /proc/net
// (/proc/self/net), which names the main thread's.
var defaultDir = sync.OnceValue(func() string {
	if _, err := os.Stat("/proc/thread-self/net"); err == nil {
		return "/proc/thread-self/net"
	}
	return "/proc/net"
})

// Open opens the file name (ConnFile, ServicesFile, ...) of the namespace
// chosen by the options. A missing file (no ip_vs module loaded, or a
// kernel without the file) gives an error that matches os.ErrNotExist.
func Open(name string, opts ...Option) (*os.File, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	dir := o.dir
	if dir == "" {
		dir = defaultDir()
	}
	p := filepath.Join(dir, name)
	f, err := netns.OpenFile(o.netns, p, os.O_RDONLY, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && o.dir == "" {
			return nil, fmt.Errorf("%w (is the ip_vs module loaded?)", err)
		}
		return nil, err
	}
	return f, nil
}

// ReadConns calls fn for every entry of /proc/net/ip_vs_conn (see
// ScanConns; the *Conn is reused).
func ReadConns(fn func(*Conn) error, opts ...Option) error {
	return readConnFile(ConnFile, fn, opts)
}

// ReadSyncConns calls fn for every entry of /proc/net/ip_vs_conn_sync,
// whose entries carry their Origin (LOCAL or SYNC).
func ReadSyncConns(fn func(*Conn) error, opts ...Option) error {
	return readConnFile(ConnSyncFile, fn, opts)
}

func readConnFile(name string, fn func(*Conn) error, opts []Option) error {
	f, err := Open(name, opts...)
	if err != nil {
		return err
	}
	defer f.Close()
	return ScanConns(f, fn)
}

// readFile opens the file name and returns what parse makes of it (the
// zero T when it cannot be opened).
func readFile[T any](name string, opts []Option, parse func(io.Reader) (T, error)) (T, error) {
	f, err := Open(name, opts...)
	if err != nil {
		var zero T
		return zero, err
	}
	defer f.Close()
	return parse(f)
}

// AllConns returns every entry of /proc/net/ip_vs_conn.
func AllConns(opts ...Option) ([]Conn, error) {
	return readFile(ConnFile, opts, ReadAllConns)
}

// AllSyncConns returns every entry of /proc/net/ip_vs_conn_sync.
func AllSyncConns(opts ...Option) ([]Conn, error) {
	return readFile(ConnSyncFile, opts, ReadAllConns)
}

// ReadServices reads /proc/net/ip_vs.
func ReadServices(opts ...Option) (*ServiceTable, error) {
	return readFile(ServicesFile, opts, ParseServices)
}

// ReadStats reads /proc/net/ip_vs_stats.
func ReadStats(opts ...Option) (Stats, error) {
	return readFile(StatsFile, opts, ParseStats)
}

// ReadStatsPerCPU reads /proc/net/ip_vs_stats_percpu.
func ReadStatsPerCPU(opts ...Option) ([]CPUStats, Stats, error) {
	f, err := Open(StatsPerCPUFile, opts...)
	if err != nil {
		return nil, Stats{}, err
	}
	defer f.Close()
	return ParseStatsPerCPU(f)
}
