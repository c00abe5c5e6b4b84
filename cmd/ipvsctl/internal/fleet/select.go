package fleet

import (
	"fmt"
	"sort"
	"strings"
)

// Doc is one document in the store.
type Doc struct {
	// Key is the full key, Path the part below documents/ ("default",
	// "name/d1", "selector/group=canary").
	Key, Path string
	Target    Target
	// Revision is the key's ModRevision: the generation directors apply.
	Revision int64
	Value    []byte
}

// Select returns the document addressed to the director name with labels:
// by name, else by the one selector that matches, else the default; nil if
// none. Two matching selectors are an error: the store does not say which
// wins.
func Select(docs map[string]*Doc, name string, labels map[string]string) (*Doc, error) {
	var def *Doc
	var sels []*Doc
	for _, d := range docs {
		switch {
		case d.Target.Name != "":
			if d.Target.Name == name {
				return d, nil
			}
		case len(d.Target.Selector) > 0:
			if d.Target.Selector.Matches(labels) {
				sels = append(sels, d)
			}
		default:
			def = d
		}
	}
	switch len(sels) {
	case 0:
		return def, nil
	case 1:
		return sels[0], nil
	}
	var paths []string
	for _, d := range sels {
		paths = append(paths, d.Path)
	}
	sort.Strings(paths)
	return nil, fmt.Errorf("documents %s all match the labels of %s; make the selectors exclusive or push a document for it by name",
		strings.Join(paths, " and "), name)
}
