package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/printers"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
)

// Snapshot is the whole fleet at one revision of the store.
type Snapshot struct {
	// Revision is the store's revision the snapshot was read at.
	Revision  int64
	Documents map[string]*Doc
	Directors map[string]*Director
	Statuses  map[string]*DirectorStatus
	// Bad lists keys under the prefix that could not be read (a value
	// that is not JSON, a document key of no known form).
	Bad []string
}

// Read reads every key under the layout's prefix in one request, so the
// snapshot is consistent.
func Read(ctx context.Context, c *clientv3.Client, l Layout) (*Snapshot, error) {
	resp, err := c.Get(ctx, l.Prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, StoreError(c, err)
	}
	s := &Snapshot{Revision: resp.Header.Revision, Documents: map[string]*Doc{},
		Directors: map[string]*Director{}, Statuses: map[string]*DirectorStatus{}}
	for _, kv := range resp.Kvs {
		k := string(kv.Key)
		switch {
		case strings.HasPrefix(k, l.Documents()):
			d, ok := docOf(l, k, kv.ModRevision, kv.Value)
			if !ok {
				s.Bad = append(s.Bad, k)
				continue
			}
			s.Documents[k] = d
		case strings.HasPrefix(k, l.Directors()):
			var d Director
			if json.Unmarshal(kv.Value, &d) != nil || d.Name == "" {
				s.Bad = append(s.Bad, k)
				continue
			}
			s.Directors[d.Name] = &d
		case strings.HasPrefix(k, l.Statuses()):
			var st DirectorStatus
			if json.Unmarshal(kv.Value, &st) != nil || st.Name == "" {
				s.Bad = append(s.Bad, k)
				continue
			}
			s.Statuses[st.Name] = &st
		}
	}
	return s, nil
}

// docOf makes a Doc of a key below documents/ (ok false: not a known form).
func docOf(l Layout, key string, rev int64, value []byte) (*Doc, bool) {
	p := strings.TrimPrefix(key, l.Documents())
	t, ok := targetOfPath(p)
	if !ok {
		return nil, false
	}
	return &Doc{Key: key, Path: p, Target: t, Revision: rev, Value: value}, true
}

// Names returns every director the snapshot knows (registered or
// reporting), sorted.
func (s *Snapshot) Names() []string {
	seen := map[string]bool{}
	var names []string
	for n := range s.Directors {
		seen[n] = true
		names = append(names, n)
	}
	for n := range s.Statuses {
		if !seen[n] {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// Labels returns a director's labels: from its status, else its
// registration.
func (s *Snapshot) Labels(name string) map[string]string {
	if st := s.Statuses[name]; st != nil {
		return st.Labels
	}
	if d := s.Directors[name]; d != nil {
		return d.Labels
	}
	return nil
}

// FleetStatus is ipvsctl fleet status -o json: every director as the store
// shows it.
type FleetStatus struct {
	// TypeMeta makes it an output kind of ipvsctl's printers (registered
	// by ipvsctl fleet status).
	printers.TypeMeta `json:",inline" yaml:",inline"`
	// Revision is the store revision read.
	Revision  int64         `json:"revision" yaml:"revision"`
	Directors []DirectorRow `json:"directors" yaml:"directors"`
}

// DirectorRow is one director in FleetStatus.
type DirectorRow struct {
	Name   string            `json:"name" yaml:"name"`
	Labels map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
	// State is the director's own, or stale when its reports stopped.
	State string `json:"state" yaml:"state"`
	// Document and WantRevision are the document addressed to it now;
	// Revision is the revision it applied.
	Document     string `json:"document,omitempty" yaml:"document,omitempty"`
	WantRevision int64  `json:"wantRevision" yaml:"wantRevision"`
	Revision     int64  `json:"revision" yaml:"revision"`
	// InSync: it reports that document at that revision, applied without
	// error, and its report is fresh.
	InSync    bool        `json:"inSync" yaml:"inSync"`
	Requests  int         `json:"requests" yaml:"requests"`
	Unhealthy []Unhealthy `json:"unhealthy" yaml:"unhealthy"`
	// LastReportSeconds is the age of its last report (-1: none left in
	// the store).
	LastReportSeconds float64   `json:"lastReportSeconds" yaml:"lastReportSeconds"`
	LastError         string    `json:"lastError,omitempty" yaml:"lastError,omitempty"`
	Problem           string    `json:"problem,omitempty" yaml:"problem,omitempty"`
	Rejected          *Rejected `json:"rejected,omitempty" yaml:"rejected,omitempty"`
	Version           string    `json:"version,omitempty" yaml:"version,omitempty"`
	// SyncDaemons is the director's sync-daemon roles (daemons/NAME).
	SyncDaemons *SyncDaemons `json:"syncDaemons,omitempty" yaml:"syncDaemons,omitempty"`
}

// StaleAfter is how many report intervals a report may age before readers
// call the director stale.
const StaleAfter = 3

// Status computes the fleet's status at time now.
func (s *Snapshot) Status(now time.Time) *FleetStatus {
	fs := &FleetStatus{Revision: s.Revision, Directors: []DirectorRow{}}
	fs.APIVersion, fs.Kind = newHeader(KindFleetStatus)
	for _, name := range s.Names() {
		row := DirectorRow{Name: name, Labels: s.Labels(name), LastReportSeconds: -1, Unhealthy: []Unhealthy{}}
		want, err := Select(s.Documents, name, row.Labels)
		if err != nil {
			row.Problem = err.Error()
		} else if want != nil {
			row.Document, row.WantRevision = "documents/"+want.Path, want.Revision
		}
		st := s.Statuses[name]
		if d := s.Directors[name]; d != nil {
			row.Version = d.Version
		}
		if st == nil {
			row.State = StateStale
			fs.Directors = append(fs.Directors, row)
			continue
		}
		row.Version = st.Version
		row.State = st.State
		row.Revision = st.Revision
		row.Requests = st.Requests
		if st.Unhealthy != nil {
			row.Unhealthy = st.Unhealthy
		}
		row.LastError, row.Rejected = st.LastError, st.Rejected
		row.SyncDaemons = st.SyncDaemons
		if st.Problem != "" {
			row.Problem = st.Problem
		}
		age := now.Sub(st.ReportedAt).Seconds()
		if age < 0 {
			age = 0
		}
		row.LastReportSeconds = age
		interval := st.ReportIntervalSeconds
		if interval <= 0 {
			interval = 5
		}
		if age > StaleAfter*interval+2 {
			row.State = StateStale
		}
		row.InSync = row.State == StateInSync && want != nil && st.Document == row.Document &&
			st.Revision == want.Revision && st.Rejected == nil && st.LastError == ""
		fs.Directors = append(fs.Directors, row)
	}
	return fs
}

// ConflictError says a push found the document at another revision than
// the one it expected: someone pushed in between.
type ConflictError struct {
	Key string
	// Expected is the revision the push read or was given (0: absent);
	// Found the one it has now.
	Expected, Found int64
}

func (e *ConflictError) Error() string {
	switch {
	case e.Found == 0:
		return fmt.Sprintf("%s was deleted since revision %d", e.Key, e.Expected)
	case e.Expected == 0:
		return fmt.Sprintf("%s was pushed (revision %d) since it was read as absent", e.Key, e.Found)
	}
	return fmt.Sprintf("%s was pushed again (revision %d) since revision %d", e.Key, e.Found, e.Expected)
}

// Put writes value at key if the key is still at revision expect (0:
// absent), or unconditionally when force is set, and returns the new
// revision.
func Put(ctx context.Context, c *clientv3.Client, key string, value []byte, expect int64, force bool) (int64, error) {
	return writeIf(ctx, c, key, clientv3.OpPut(key, string(value)), expect, force)
}

// Delete removes key if it is still at revision expect, or whatever its
// revision when force is set, and returns the store's revision after.
// With expect 0 (read as absent) it succeeds, deleting nothing, only if
// the key is still absent.
func Delete(ctx context.Context, c *clientv3.Client, key string, expect int64, force bool) (int64, error) {
	return writeIf(ctx, c, key, clientv3.OpDelete(key), expect, force)
}

// WriteIf runs ops in one transaction if key is at revision expect (0:
// absent), and returns the store's revision after; a key at another
// revision is a *ConflictError naming the revision found. (Put and Delete
// are WriteIf of one operation; a rollout writes its target's document
// and deletes the canaries' in one.)
func WriteIf(ctx context.Context, c *clientv3.Client, key string, expect int64, ops ...clientv3.Op) (int64, error) {
	resp, err := c.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", expect)).
		Then(ops...).Else(clientv3.OpGet(key)).Commit()
	if err != nil {
		return 0, StoreError(c, err)
	}
	if !resp.Succeeded {
		found := int64(0)
		if r := resp.Responses[0].GetResponseRange(); r != nil && len(r.Kvs) > 0 {
			found = r.Kvs[0].ModRevision
		}
		return 0, &ConflictError{Key: key, Expected: expect, Found: found}
	}
	return resp.Header.Revision, nil
}

// writeIf is WriteIf of op, or op unconditionally with force.
func writeIf(ctx context.Context, c *clientv3.Client, key string, op clientv3.Op, expect int64, force bool) (int64, error) {
	if !force {
		return WriteIf(ctx, c, key, expect, op)
	}
	resp, err := c.Do(ctx, op)
	if err != nil {
		return 0, StoreError(c, err)
	}
	if op.IsDelete() {
		return resp.Del().Header.Revision, nil
	}
	return resp.Put().Header.Revision, nil
}

// StoreError words an error of clientv3 for people: it names the
// endpoints, and a request without an answer or one too large says so.
func StoreError(c *clientv3.Client, err error) error {
	if err == context.DeadlineExceeded || strings.Contains(err.Error(), "context deadline exceeded") {
		return fmt.Errorf("etcd %s did not answer in time", strings.Join(c.Endpoints(), ","))
	}
	if errors.Is(err, rpctypes.ErrRequestTooLarge) || grpcstatus.Code(err) == codes.ResourceExhausted {
		return fmt.Errorf("etcd %s refused the request as too large: a value may not exceed its --max-request-bytes (1.5 MiB unless raised); push the document as compact JSON or raise that limit",
			strings.Join(c.Endpoints(), ","))
	}
	return fmt.Errorf("etcd %s: %w", strings.Join(c.Endpoints(), ","), err)
}
