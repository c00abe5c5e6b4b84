package etcdtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Server is an embedded etcd that can be stopped and started again.
type Server struct {
	dir          string
	client, peer string // host:port
	e            *embed.Etcd
	// Configure, if set, changes the configuration before each start
	// (TLS, auth).
	Configure func(*embed.Config)
}

// New returns a server that is not started yet (set Configure, then Start).
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{dir: t.TempDir(), client: freePort(t), peer: freePort(t)}
	t.Cleanup(func() {
		if s.e != nil {
			s.e.Close()
		}
	})
	return s
}

// Start returns a started server.
func Start(t testing.TB) *Server {
	t.Helper()
	s := New(t)
	s.Start(t)
	return s
}

// Endpoint is the client URL (http://127.0.0.1:PORT, https with TLS).
func (s *Server) Endpoint() string { return s.scheme() + "://" + s.client }

func (s *Server) scheme() string {
	if s.e != nil && len(s.e.Config().ClientTLSInfo.CertFile) > 0 {
		return "https"
	}
	return "http"
}

// Start starts the server (again) and waits until it serves.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	if s.e != nil {
		t.Fatal("etcdtest: Start of a running server")
	}
	cfg := embed.NewConfig()
	cfg.Name = "test"
	cfg.Dir = s.dir
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cu := url.URL{Scheme: "http", Host: s.client}
	pu := url.URL{Scheme: "http", Host: s.peer}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	cfg.InitialCluster = cfg.Name + "=" + pu.String()
	if s.Configure != nil {
		s.Configure(cfg)
	}
	if !cfg.ClientTLSInfo.Empty() {
		cu.Scheme = "https"
	}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatalf("etcdtest: start: %v", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		e.Close()
		t.Fatal("etcdtest: the server was not ready within 30s")
	}
	s.e = e
}

// Stop stops the server; its data stays for the next Start.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if s.e == nil {
		return
	}
	s.e.Close()
	s.e = nil
}

// Client returns a client of the server, closed at the end of the test.
func (s *Server) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{s.Endpoint()}, DialTimeout: 5 * time.Second,
		Logger: zap.NewNop()})
	if err != nil {
		t.Fatalf("etcdtest: client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Compact compacts the store's history up to its current revision (a
// watch older than that gets ErrCompacted).
func (s *Server) Compact(t testing.TB) int64 {
	t.Helper()
	c := s.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := c.Put(ctx, "etcdtest/compact", "x")
	if err != nil {
		t.Fatalf("etcdtest: compact: %v", err)
	}
	if _, err := c.Compact(ctx, r.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		t.Fatalf("etcdtest: compact: %v", err)
	}
	return r.Header.Revision
}

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("etcdtest: %v", err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr())
}
