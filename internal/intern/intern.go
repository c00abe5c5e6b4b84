// Package intern keeps one copy of the names that parsers of kernel
// output meet on every line (protocols, connection states, schedulers), so
// that scanning a known name allocates nothing.
package intern

// Table maps each known name to itself.
type Table map[string]string

// New returns a table holding names.
func New(names ...string) Table {
	t := make(Table, len(names))
	for _, s := range names {
		t[s] = s
	}
	return t
}

// Get returns b as a string: the table's copy when b is a known name
// (without allocating), a new string otherwise.
func (t Table) Get(b []byte) string {
	if s, ok := t[string(b)]; ok {
		return s
	}
	return string(b)
}
