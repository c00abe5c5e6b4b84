package fleet

import (
	"strings"
	"time"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fleet"
	"github.com/spf13/pflag"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// StoreFlags are the flags that reach the fleet's etcd, shared by ipvsctl
// fleet and ipvsctl agent --etcd.
type StoreFlags struct {
	Endpoints string
	Prefix    string
	Client    fleet.ClientOptions
	// RequestTimeout bounds each request of ipvsctl fleet (its
	// --etcd-timeout; the agent has its own bounds).
	RequestTimeout time.Duration
}

// Add registers --etcd, --prefix and the TLS and auth flags on fs.
func (s *StoreFlags) Add(fs *pflag.FlagSet) {
	fs.StringVar(&s.Endpoints, "etcd", "", "etcd's client `URLS`, comma-separated (http://10.0.0.5:2379)")
	fs.StringVar(&s.Prefix, "prefix", fleet.DefaultPrefix, "the fleet's key `PREFIX` in etcd")
	fs.StringVar(&s.Client.CACert, "etcd-cacert", "", "verify etcd's certificate with this CA `FILE` (PEM)")
	fs.StringVar(&s.Client.Cert, "etcd-cert", "", "client certificate `FILE` (PEM) for etcd's --client-cert-auth")
	fs.StringVar(&s.Client.Key, "etcd-key", "", "the client certificate's key `FILE` (PEM)")
	fs.StringVar(&s.Client.User, "etcd-user", "", "etcd user `NAME` (etcd auth)")
	fs.StringVar(&s.Client.PasswordFile, "etcd-password-file", "", "read the etcd user's password from the first line of `FILE`")
}

// Connect checks the flags and returns a client and the key layout. The
// client connects lazily: a store that is down shows at the first request.
func (s *StoreFlags) Connect() (*clientv3.Client, fleet.Layout, error) {
	if s.Endpoints == "" {
		return nil, fleet.Layout{}, cmdutil.FlagErrorf("give etcd's address with --etcd URLS")
	}
	l, err := fleet.NewLayout(s.Prefix)
	if err != nil {
		return nil, fleet.Layout{}, cmdutil.FlagErrorf("--prefix: %v", err)
	}
	o := s.Client
	for _, e := range strings.Split(s.Endpoints, ",") {
		if e = strings.TrimSpace(e); e != "" {
			o.Endpoints = append(o.Endpoints, e)
		}
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = 5 * time.Second
	}
	c, err := fleet.Connect(o)
	if err != nil {
		return nil, fleet.Layout{}, err
	}
	return c, l, nil
}
