package fleet

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
)

// ClientOptions say how to reach etcd.
type ClientOptions struct {
	// Endpoints are etcd's client URLs (http://10.0.0.5:2379).
	Endpoints []string
	// CACert verifies the servers' certificates; Cert and Key are the
	// client's (etcd's --client-cert-auth).
	CACert, Cert, Key string
	// User and Password authenticate (etcd's auth); PasswordFile holds
	// the password on its first line, so it is not on a command line.
	User, Password, PasswordFile string
	// DialTimeout bounds the first connection (default 5s).
	DialTimeout time.Duration
}

// Connect returns a client. clientv3 connects lazily and reconnects by
// itself; callers bound each request with a context.
func Connect(o ClientOptions) (*clientv3.Client, error) {
	if len(o.Endpoints) == 0 {
		return nil, fmt.Errorf("no etcd endpoint given")
	}
	for _, e := range o.Endpoints {
		if !strings.HasPrefix(e, "http://") && !strings.HasPrefix(e, "https://") && !strings.HasPrefix(e, "unix://") {
			return nil, fmt.Errorf("etcd endpoint %q: want a URL (http://HOST:2379, https://HOST:2379)", e)
		}
	}
	cfg := clientv3.Config{
		Endpoints:            o.Endpoints,
		DialTimeout:          o.DialTimeout,
		DialKeepAliveTime:    5 * time.Second,
		DialKeepAliveTimeout: 3 * time.Second,
		AutoSyncInterval:     0,
		Logger:               zap.NewNop(),
		// Let etcd's --max-request-bytes (1.5 MiB unless raised) decide
		// how large a document may be, not the client's 2 MiB default.
		MaxCallSendMsgSize: 64 << 20,
		// gRPC waits up to 2 minutes between two attempts to reconnect;
		// a director should see etcd within seconds of its return.
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 500 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 3 * time.Second},
			MinConnectTimeout: 3 * time.Second,
		})},
		Username: o.User,
		Password: o.Password,
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if o.PasswordFile != "" {
		if o.User == "" {
			return nil, fmt.Errorf("--etcd-password-file needs --etcd-user")
		}
		b, err := os.ReadFile(o.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("etcd password: %w", err)
		}
		cfg.Password, _, _ = strings.Cut(strings.TrimRight(string(b), "\r\n"), "\n")
	}
	if cfg.Password != "" && cfg.Username == "" {
		return nil, fmt.Errorf("an etcd password needs --etcd-user")
	}
	if o.CACert != "" || o.Cert != "" || o.Key != "" || anyHTTPS(o.Endpoints) {
		t, err := tlsConfig(o)
		if err != nil {
			return nil, err
		}
		cfg.TLS = t
	}
	c, err := clientv3.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("etcd %s: %w", strings.Join(o.Endpoints, ","), err)
	}
	return c, nil
}

func anyHTTPS(eps []string) bool {
	for _, e := range eps {
		if strings.HasPrefix(e, "https://") {
			return true
		}
	}
	return false
}

func tlsConfig(o ClientOptions) (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if (o.Cert == "") != (o.Key == "") {
		return nil, fmt.Errorf("give both --etcd-cert and --etcd-key, or neither")
	}
	if o.Cert != "" {
		pair, err := tls.LoadX509KeyPair(o.Cert, o.Key)
		if err != nil {
			return nil, fmt.Errorf("etcd client certificate %s: %w", o.Cert, err)
		}
		t.Certificates = []tls.Certificate{pair}
	}
	if o.CACert != "" {
		b, err := os.ReadFile(o.CACert)
		if err != nil {
			return nil, fmt.Errorf("etcd CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("etcd CA %s: no PEM certificate in it", o.CACert)
		}
		t.RootCAs = pool
	}
	return t, nil
}
