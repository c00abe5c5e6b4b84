package lvslab

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// HTTPServer is a busybox httpd serving one directory on one address and
// port in a namespace: a real server that can be stopped and started
// again.
type HTTPServer struct {
	NS   *Netns
	Addr netip.AddrPort
	// Dir is the document root: index.html says the address.
	Dir  string
	proc *process
}

// ServeHTTP starts busybox httpd -f -p ADDR:PORT -h DIR in ns and waits
// until it accepts connections. It is stopped when the test ends.
func ServeHTTP(t testing.TB, ns *Netns, addr netip.AddrPort) *HTTPServer {
	t.Helper()
	s := &HTTPServer{NS: ns, Addr: addr, Dir: t.TempDir()}
	if err := os.WriteFile(filepath.Join(s.Dir, "index.html"), []byte(addr.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(t) })
	s.Start(t)
	return s
}

// Start starts the server if it is stopped and waits until it accepts
// connections.
func (s *HTTPServer) Start(t testing.TB) {
	t.Helper()
	if s.proc != nil {
		return
	}
	p, err := startProcess(s.NS.Command(Busybox, "httpd", "-f", "-p", s.Addr.String(), "-h", s.Dir))
	if err != nil {
		t.Fatalf("starting httpd on %v in %s: %v", s.Addr, s.NS.Name, err)
	}
	s.proc = p
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := s.dial()
		if err == nil {
			return
		}
		if p.exited() {
			s.proc = nil
			t.Fatalf("httpd on %v in %s ended at start (%v): %v", s.Addr, s.NS.Name, p.err, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("httpd on %v in %s does not accept connections: %v", s.Addr, s.NS.Name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dial connects to the server from its namespace and closes the
// connection.
func (s *HTTPServer) dial() error {
	return s.NS.Do(func() error {
		c, err := net.DialTimeout("tcp", s.Addr.String(), time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
}

// Stop kills the server (SIGKILL: it goes down at once, as in a crash;
// the connections it is serving end with their short-lived children)
// and waits until it has ended and its port refuses connections. A
// stopped server stays stopped.
func (s *HTTPServer) Stop(t testing.TB) {
	t.Helper()
	if s.proc == nil {
		return
	}
	p := s.proc
	s.proc = nil
	if err := p.stop(syscall.SIGKILL, 10*time.Second); err != nil {
		t.Fatalf("stopping httpd on %v in %s: %v", s.Addr, s.NS.Name, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.dial() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("httpd on %v in %s: still accepting connections after it ended", s.Addr, s.NS.Name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Running reports whether the server was started and has not ended.
func (s *HTTPServer) Running() bool {
	return s.proc != nil && !s.proc.exited()
}

// PID returns the server's process ID, or 0 when it is stopped.
func (s *HTTPServer) PID() int {
	if s.proc == nil {
		return 0
	}
	return s.proc.pid()
}
