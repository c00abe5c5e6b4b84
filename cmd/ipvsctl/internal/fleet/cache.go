package fleet

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// KindCache is the kind of the file MemberOptions.CacheFile names.
const KindCache = "FleetCache"

// cached is the last document a director applied, kept on its disk so
// that an agent restarted while etcd is out of reach runs it (with its
// health checks) instead of nothing.
type cached struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Key        string    `json:"key"`
	Revision   int64     `json:"revision"`
	SavedAt    time.Time `json:"savedAt"`
	Document   string    `json:"document"`
}

// saveCache writes d to file atomically (a temporary file renamed).
func saveCache(file string, d *Doc, now time.Time) error {
	c := cached{Key: d.Key, Revision: d.Revision, SavedAt: now.UTC(), Document: string(d.Value)}
	c.APIVersion, c.Kind = newHeader(KindCache)
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".fleet-cache-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// loadCache reads the document file holds (nil, nil: no file).
func loadCache(l Layout, file string) (*Doc, error) {
	b, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var c cached
	if err := json.Unmarshal(b, &c); err != nil || c.Kind != KindCache {
		return nil, fmt.Errorf("%s is not a fleet cache (kind %s)", file, KindCache)
	}
	d, ok := docOf(l, c.Key, c.Revision, []byte(c.Document))
	if !ok {
		return nil, fmt.Errorf("%s holds %s, not a document key under %s", file, c.Key, l.Prefix)
	}
	return d, nil
}
