package fleet

import (
	"context"
	"fmt"
	"io"
	"maps"
	"strings"
	"time"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/apply"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fleet"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// DefaultRequestTimeout bounds each request to etcd.
const DefaultRequestTimeout = 5 * time.Second

// NewCmdFleet returns ipvsctl fleet and its subcommands, which share the
// store flags (--etcd, --prefix, TLS and auth).
func NewCmdFleet(f *factory.Factory) *cobra.Command { return newCmdFleet(f, nil) }

// newCmdFleet is NewCmdFleet with rollout's work replaced by runRollout
// when not nil (tests poll faster).
func newCmdFleet(f *factory.Factory, runRollout func(*RolloutOptions) error) *cobra.Command {
	store := &StoreFlags{}
	cmd := &cobra.Command{
		Use:   "fleet",
		Short: "Push documents to many directors through etcd, and watch them apply them",
		Long: `Manage the directors whose agents run with --etcd (ipvsctl agent --etcd URLS
--name NAME): every director takes the document addressed to it by name,
else by a label selector, else the default one, and reports its status.
See docs/fleet.md for the key layout and the status schema.

  push      store a document (compare-and-swap on the revision read)
  status    every director: document, revision applied, health, last report
  diff      what a document would change on each director it addresses
  rollout   push to canary directors, wait until they are healthy, then to the rest`,
		Example: `  ipvsctl fleet --etcd http://10.0.0.5:2379 status
  ipvsctl fleet --etcd http://10.0.0.5:2379 diff -f lb.yaml
  ipvsctl fleet --etcd http://10.0.0.5:2379 rollout -f lb.yaml --canary d1`,
	}
	store.Add(cmd.PersistentFlags())
	cmd.PersistentFlags().DurationVar(&store.RequestTimeout, "etcd-timeout", DefaultRequestTimeout, "give up on an etcd request after `DURATION`")
	cmd.AddCommand(NewCmdPush(f, store, nil), NewCmdStatus(f, store, nil), NewCmdDiff(f, store, nil), NewCmdRollout(f, store, runRollout))
	return cmd
}

// Common is what every fleet command's options hold: the streams, the
// store flags and the clock.
type Common struct {
	IO    *iostreams.IOStreams
	Store *StoreFlags
	// Now is the clock (a fixed one in tests).
	Now func() time.Time
}

func newCommon(f *factory.Factory, store *StoreFlags) Common {
	return Common{IO: f.IOStreams, Store: store, Now: f.Now}
}

// connect checks the store flags and returns a client and the key
// layout.
func (c *Common) connect() (*clientv3.Client, fleet.Layout, error) {
	if c.Now == nil {
		c.Now = time.Now
	}
	return c.Store.Connect()
}

// request returns a context bounded by the request timeout.
func (c *Common) request() (context.Context, context.CancelFunc) {
	d := c.Store.RequestTimeout
	if d <= 0 {
		d = DefaultRequestTimeout
	}
	return context.WithTimeout(context.Background(), d)
}

// read reads the whole fleet, saying what to check when etcd does not
// answer.
func (c *Common) read(cl *clientv3.Client, l fleet.Layout) (*fleet.Snapshot, error) {
	ctx, cancel := c.request()
	defer cancel()
	s, err := fleet.Read(ctx, cl, l)
	if err != nil {
		return nil, unreachable(err)
	}
	return s, nil
}

// open connects and reads the whole fleet; the caller closes the client.
func (c *Common) open() (*clientv3.Client, fleet.Layout, *fleet.Snapshot, error) {
	cl, l, err := c.connect()
	if err != nil {
		return nil, l, nil, err
	}
	snap, err := c.read(cl, l)
	if err != nil {
		cl.Close()
		return nil, l, nil, err
	}
	return cl, l, snap, nil
}

// unreachable adds the next step to an error of etcd.
func unreachable(err error) error {
	return fmt.Errorf("%v (is etcd running? check --etcd and the TLS and auth flags)", err)
}

// loadDocument reads and validates -f FILE as an agent would (format
// detected, no scope), printing each problem as FILE:LINE.
func loadDocument(c *Common, file, outcome string) (*ipvsconfig.Desired, []byte, string, error) {
	want, data, err := apply.LoadDocument(file, "", c.IO.In, c.IO.ErrOut, nil, outcome)
	name := file
	if file == "-" {
		name = "<stdin>"
	}
	return want, data, name, err
}

// docName is how messages name a document key: "documents/default".
func docName(d *fleet.Doc) string { return "documents/" + d.Path }

// withDoc returns a copy of docs with d in place of the key it has.
func withDoc(docs map[string]*fleet.Doc, d *fleet.Doc) map[string]*fleet.Doc {
	out := maps.Clone(docs)
	out[d.Key] = d
	return out
}

// addressed returns the directors of s that take the document key when
// docs are the store's documents, and the problems of those whose
// selectors are ambiguous.
func addressed(s *fleet.Snapshot, docs map[string]*fleet.Doc, key string) (names []string, problems []string) {
	for _, n := range s.Names() {
		d, err := fleet.Select(docs, n, s.Labels(n))
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if d != nil && d.Key == key {
			names = append(names, n)
		}
	}
	return names, problems
}

// list joins names as "a, b, c" ("none" when empty).
func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// warn writes a warning line.
func warn(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "warning: "+format+"\n", args...)
}
