package ipvsconfig

import (
	"fmt"
	"strings"
)

// Path names a value in a document: field names and list indexes, e.g.
// services[3].destinations[0].weight.
type Path []any

// String returns the path in dotted form.
func (p Path) String() string {
	var b strings.Builder
	for _, e := range p {
		switch v := e.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", v)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, v)
		}
	}
	return b.String()
}

func (p Path) with(e ...any) Path {
	out := make(Path, 0, len(p)+len(e))
	return append(append(out, p...), e...)
}

// Error is a problem with one value of a document. Error() reads
// "FILE:LINE: message" when the document came from a file.
type Error struct {
	File string
	Line int // 0 if unknown
	Path Path
	Msg  string
	// Other is a second place the message refers to (the first listing
	// of a duplicate).
	Other Path
}

func (e *Error) Error() string {
	var pre string
	switch {
	case e.File != "" && e.Line > 0:
		pre = fmt.Sprintf("%s:%d: ", e.File, e.Line)
	case e.File != "":
		pre = e.File + ": "
	case e.Line > 0:
		pre = fmt.Sprintf("line %d: ", e.Line)
	}
	if len(e.Path) > 0 {
		return fmt.Sprintf("%s%s: %s", pre, e.Path, e.Msg)
	}
	return pre + e.Msg
}

// ErrorList is every problem found in a document, in document order.
type ErrorList []*Error

// Unwrap returns the errors one by one.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// errs collects errors while converting a document.
type errs struct {
	list ErrorList
}

func (c *errs) addOther(p, other Path, format string, args ...any) {
	c.list = append(c.list, &Error{Path: p, Other: other, Msg: fmt.Sprintf(format, args...)})
}

func (c *errs) add(p Path, format string, args ...any) {
	c.list = append(c.list, &Error{Path: p, Msg: fmt.Sprintf(format, args...)})
}

// err returns the collected errors with file and line filled in from d,
// or nil.
func (c *errs) err(d *Document) error {
	if len(c.list) == 0 {
		return nil
	}
	for _, e := range c.list {
		if d != nil && d.loc != nil {
			e.File = d.loc.file
			e.Line = d.loc.line(e.Path)
		}
		if e.Other != nil {
			if d != nil && d.loc != nil {
				e.Msg += fmt.Sprintf(" (first at line %d)", d.loc.line(e.Other))
			} else {
				e.Msg += fmt.Sprintf(" (first at %s)", e.Other)
			}
		}
	}
	return c.list
}

// Position returns the file and line of the value at p (line 0 if
// unknown), for errors found outside this package.
func (d *Document) Position(p Path) (file string, line int) {
	if d == nil || d.loc == nil {
		return "", 0
	}
	return d.loc.file, d.loc.line(p)
}
