package lvslab

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
)

// EtcdProc is a running (or stopped) tools/etcdserver: a single-member
// etcd serving clients on one address of a namespace, for the fleet's
// tests (ipvsctl agent --etcd, ipvsctl fleet).
type EtcdProc struct {
	// NS is the namespace it runs in (nil: the root namespace).
	NS *Netns
	// Addr is the client address; URL is http://Addr, the endpoint to
	// give agents and clients.
	Addr netip.AddrPort
	URL  string
	// DataDir is its data directory, kept across Stop and Start.
	DataDir string
	// LogPath is its standard error (etcd's log at level warn and the
	// "serving on" line), appended to at each start.
	LogPath string
	proc    *process
}

// StartEtcd runs EtcdServer in ns (the root namespace if nil) with the
// data directory dataDir, serving clients on addr (its peer listener is
// on a free port of 127.0.0.1 there), and waits until it serves: it has
// printed its "serving on" line and addr accepts connections from ns.
// When the test ends it stops the server, and logs its log if the test
// failed.
func StartEtcd(t testing.TB, ns *Netns, addr netip.AddrPort, dataDir string) *EtcdProc {
	t.Helper()
	e := &EtcdProc{NS: ns, Addr: addr, URL: "http://" + addr.String(), DataDir: dataDir}
	e.LogPath = filepath.Join(t.TempDir(), "etcd.log")
	t.Cleanup(func() {
		e.Stop(t)
		if t.Failed() {
			t.Logf("etcd log (%s):\n%s", e.LogPath, e.Log())
		}
	})
	e.Start(t)
	return e
}

// Start starts the server again on the same data directory (its keys and
// revisions are kept) if it is stopped, and waits until it serves, as
// StartEtcd does.
func (e *EtcdProc) Start(t testing.TB) {
	t.Helper()
	if e.proc != nil {
		return
	}
	logf, err := os.OpenFile(e.LogPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	before := strings.Count(e.Log(), "etcdserver: serving on ")
	argv := []string{EtcdServer, "--name", "lab", "--data-dir", e.DataDir,
		"--listen-client-urls", e.URL, "--listen-peer-urls", "http://127.0.0.1:0", "--log-level", "warn"}
	cmd := e.command(argv)
	cmd.Stdout, cmd.Stderr = logf, logf
	if e.proc, err = startProcess(cmd); err != nil {
		t.Fatalf("starting etcdserver: %v", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if strings.Count(e.Log(), "etcdserver: serving on ") > before {
			err := e.dial()
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("etcd on %v says it serves but refuses connections: %v", e.Addr, err)
			}
		}
		if e.proc.exited() {
			err := e.proc.err
			e.proc = nil
			t.Fatalf("etcdserver ended at start (%v); log:\n%s", err, e.Log())
		}
		if time.Now().After(deadline) {
			t.Fatalf("etcd on %v does not serve after 60s; log:\n%s", e.Addr, e.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *EtcdProc) command(argv []string) *exec.Cmd {
	if e.NS != nil {
		return e.NS.Command(argv...)
	}
	return exec.Command(argv[0], argv[1:]...)
}

// dial connects to the client address from the server's namespace.
func (e *EtcdProc) dial() error {
	return e.do(func() error {
		c, err := net.DialTimeout("tcp", e.Addr.String(), time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
}

func (e *EtcdProc) do(fn func() error) error {
	if e.NS == nil {
		return fn()
	}
	return e.NS.Do(fn)
}

// Stop sends SIGTERM and waits for the server to end (SIGKILL after 30
// s, an error of the test). A stopped server stays stopped until Start.
func (e *EtcdProc) Stop(t testing.TB) {
	t.Helper()
	if e.proc == nil {
		return
	}
	p := e.proc
	e.proc = nil
	if err := p.stop(syscall.SIGTERM, 30*time.Second); err != nil {
		t.Errorf("stopping etcdserver: %v", err)
	} else if p.err != nil {
		t.Errorf("etcdserver ended on SIGTERM with %v; log:\n%s", p.err, e.Log())
	}
}

// Kill ends the server with SIGKILL, as a crash or a lost machine
// would, and waits for it; Start recovers it from its data.
func (e *EtcdProc) Kill(t testing.TB) {
	t.Helper()
	if e.proc == nil {
		return
	}
	p := e.proc
	e.proc = nil
	if err := p.stop(syscall.SIGKILL, 10*time.Second); err != nil {
		t.Errorf("killing etcdserver: %v", err)
	}
}

// Running reports whether the server was started and has not ended.
func (e *EtcdProc) Running() bool {
	return e.proc != nil && !e.proc.exited()
}

// PID returns the server's process ID, or 0 when it is stopped.
func (e *EtcdProc) PID() int {
	if e.proc == nil {
		return 0
	}
	return e.proc.pid()
}

// Log returns what the server has logged so far, over all its starts.
func (e *EtcdProc) Log() string {
	b, err := os.ReadFile(e.LogPath)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", e.LogPath, err)
	}
	return string(b)
}

// Client returns an etcd client of the server whose connections are
// opened in the server's namespace (so the test's own process reaches
// it), closed when the test ends.
func (e *EtcdProc) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	dial := func(ctx context.Context, addr string) (net.Conn, error) {
		var c net.Conn
		err := e.do(func() error {
			var err error
			c, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
			return err
		})
		return c, err
	}
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{e.URL},
		DialTimeout: 10 * time.Second,
		DialOptions: []grpc.DialOption{grpc.WithContextDialer(dial)},
	})
	if err != nil {
		t.Fatalf("etcd client of %s: %v", e.URL, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
