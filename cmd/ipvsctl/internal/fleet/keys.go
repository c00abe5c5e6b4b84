package fleet

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// DefaultPrefix is the prefix of every key unless --prefix says otherwise.
const DefaultPrefix = "/ipvsctl/"

// Layout names the keys under one prefix.
type Layout struct {
	// Prefix ends with a slash.
	Prefix string
}

// NewLayout returns the layout under prefix, adding the final slash.
func NewLayout(prefix string) (Layout, error) {
	if prefix == "" {
		return Layout{}, fmt.Errorf("the prefix is empty (the default is %s)", DefaultPrefix)
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return Layout{Prefix: prefix}, nil
}

// Documents is the prefix of every document key.
func (l Layout) Documents() string { return l.Prefix + "documents/" }

// Directors is the prefix of the registrations.
func (l Layout) Directors() string { return l.Prefix + "directors/" }

// Statuses is the prefix of the status keys.
func (l Layout) Statuses() string { return l.Prefix + "status/" }

// Daemons is the key of the sync-daemon roles of the director name.
func (l Layout) Daemons(name string) string { return l.Prefix + "daemons/" + name }

// Document is the key of the document addressed to t.
func (l Layout) Document(t Target) string { return l.Documents() + t.Path() }

// Director is the registration key of the director name.
func (l Layout) Director(name string) string { return l.Directors() + name }

// Status is the status key of the director name.
func (l Layout) Status(name string) string { return l.Statuses() + name }

// Target says which directors a document is for: one by Name, those whose
// labels match Selector, or (both empty) every director not addressed
// otherwise.
type Target struct {
	Name     string
	Selector Selector
}

// ParseTarget reads --target: "" is the default document, K=V[,K=V] a
// selector, anything else a director's name.
func ParseTarget(s string) (Target, error) {
	switch {
	case s == "" || s == "default":
		return Target{}, nil
	case strings.Contains(s, "="):
		sel, err := ParseSelector(s)
		if err != nil {
			return Target{}, err
		}
		return Target{Selector: sel}, nil
	}
	if err := checkName("director name", s); err != nil {
		return Target{}, err
	}
	return Target{Name: s}, nil
}

// Path is the target's key below documents/.
func (t Target) Path() string {
	switch {
	case t.Name != "":
		return "name/" + t.Name
	case len(t.Selector) > 0:
		return "selector/" + t.Selector.String()
	}
	return "default"
}

// String names the target for people: "default", "director d1",
// "selector group=canary".
func (t Target) String() string {
	switch {
	case t.Name != "":
		return "director " + t.Name
	case len(t.Selector) > 0:
		return "selector " + t.Selector.String()
	}
	return "default"
}

// Matches reports whether the target addresses the director name with labels.
func (t Target) Matches(name string, labels map[string]string) bool {
	switch {
	case t.Name != "":
		return t.Name == name
	case len(t.Selector) > 0:
		return t.Selector.Matches(labels)
	}
	return true
}

// targetOfPath is the inverse of Target.Path (ok false: not a document key).
func targetOfPath(p string) (Target, bool) {
	switch {
	case p == "default":
		return Target{}, true
	case strings.HasPrefix(p, "name/"):
		n := strings.TrimPrefix(p, "name/")
		return Target{Name: n}, checkName("director name", n) == nil
	case strings.HasPrefix(p, "selector/"):
		sel, err := ParseSelector(strings.TrimPrefix(p, "selector/"))
		return Target{Selector: sel}, err == nil && len(sel) > 0
	}
	return Target{}, false
}

// Selector is a set of labels a director must all have (K=V, ANDed).
type Selector map[string]string

// ParseSelector reads K=V[,K=V].
func ParseSelector(s string) (Selector, error) {
	m, err := ParseLabels(s)
	if err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("empty selector: want K=V[,K=V]")
	}
	return Selector(m), nil
}

// Matches reports whether labels has every K=V of the selector.
func (s Selector) Matches(labels map[string]string) bool {
	for k, v := range s {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// String is the selector with its keys sorted, so one selector has one key.
func (s Selector) String() string { return FormatLabels(s) }

// ParseLabels reads K=V[,K=V] (--labels). Keys and values are letters,
// digits and . _ - (keys may hold a /, as in site/rack=3).
func ParseLabels(s string) (map[string]string, error) {
	m := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return nil, fmt.Errorf("label %q: want KEY=VALUE", kv)
		}
		if err := checkLabel("label key", k, true); err != nil {
			return nil, err
		}
		if err := checkLabel("label value", v, false); err != nil {
			return nil, err
		}
		if old, dup := m[k]; dup && old != v {
			return nil, fmt.Errorf("label %s given twice (%s and %s)", k, old, v)
		}
		m[k] = v
	}
	return m, nil
}

// FormatLabels writes labels as K=V,K=V with the keys sorted.
func FormatLabels(m map[string]string) string {
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + m[k])
	}
	return b.String()
}

func checkLabel(what, s string, slash bool) error {
	if s == "" {
		return fmt.Errorf("%s is empty", what)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' || slash && r == '/') {
			return fmt.Errorf("%s %q: use letters, digits and . _ -", what, s)
		}
	}
	return nil
}

// checkName accepts a director's name: letters, digits and . _ - (it is
// part of a key).
func checkName(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if len(s) > 253 {
		return fmt.Errorf("%s %q is longer than 253 characters", what, s)
	}
	return checkLabel(what, s, false)
}

// CheckName checks a director's name (--name): letters, digits and . _ -.
func CheckName(s string) error { return checkName("director name", s) }
