package ipvsconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Format is the syntax of a configuration file.
type Format string

// Formats.
const (
	FormatJSON  Format = "json"
	FormatYAML  Format = "yaml"
	FormatRules Format = "rules" // ipvsadm -S output
)

// DetectFormat picks the format of a file from its name, then its content:
// .json, .yaml/.yml and .rules/.ipvs/.sav name a format; otherwise content
// starting with '{' is JSON, content whose first significant line starts
// with "-A", "-a" or another ipvsadm option is rules, anything else YAML.
func DetectFormat(name string, data []byte) Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return FormatJSON
	case ".yaml", ".yml":
		return FormatYAML
	case ".rules", ".ipvs", ".sav", ".save":
		return FormatRules
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		l := bytes.TrimSpace(line)
		if len(l) == 0 || l[0] == '#' {
			continue
		}
		switch {
		case l[0] == '{':
			return FormatJSON
		case l[0] == '-' && len(l) > 1 && l[1] != ' ' && l[1] != '-':
			return FormatRules // "-A -t ..." (YAML lists start "- ")
		case bytes.HasPrefix(l, []byte("--")) && !bytes.HasPrefix(l, []byte("---")):
			return FormatRules
		}
		return FormatYAML
	}
	return FormatYAML
}

// Parse reads a document in the given format (detected when empty). name
// is used in error messages as FILE in "FILE:LINE: message". The document
// is not validated: call Desired or Validate.
func Parse(name string, data []byte, format Format) (*Document, error) {
	if format == "" {
		format = DetectFormat(name, data)
	}
	switch format {
	case FormatJSON:
		return parseJSON(name, data)
	case FormatYAML:
		return parseYAML(name, data)
	case FormatRules:
		return parseRules(name, data)
	}
	return nil, fmt.Errorf("%s: unknown format %q (want json, yaml or rules)", name, format)
}

// parseJSON decodes with encoding/json (fast on large tables); line
// numbers are only computed, from a YAML parse of the same text, when an
// error has to be reported.
func parseJSON(name string, data []byte) (*Document, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var d Document
	if err := dec.Decode(&d); err != nil {
		var off int64 = -1
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		msg := err.Error()
		switch {
		case errors.As(err, &se):
			off = se.Offset
		case errors.As(err, &te):
			off = te.Offset
			field := te.Field
			if p := jsonPath(data, te.Offset); p != nil && withoutIndexes(p) == te.Field {
				field = p.String()
			}
			msg = fmt.Sprintf("%s: want %s, not %s", field, goTypeWords(te.Type.String()), jsonValueWords(te.Value))
		case errors.Is(err, io.EOF):
			msg = "empty document"
		}
		msg = strings.TrimPrefix(msg, "json: ")
		if off < 0 {
			// Unknown fields carry no offset: find the key in the text.
			if f, ok := strings.CutPrefix(msg, "unknown field "); ok {
				key := strings.Trim(f, `"`)
				if i := bytes.Index(data, []byte(`"`+key+`"`)); i >= 0 {
					off = int64(i)
				}
				msg = fmt.Sprintf("unknown field %q (see docs/ipvsctl-json.md)", key)
			}
		}
		return nil, &Error{File: name, Line: lineAt(data, off), Msg: msg}
	}
	if dec.More() {
		return nil, &Error{File: name, Line: lineAt(data, dec.InputOffset()), Msg: "unexpected data after the document"}
	}
	d.loc = &locator{file: name, data: data}
	return &d, nil
}

// jsonPath is the path of the value that ends at off in a JSON text
// (where encoding/json's UnmarshalTypeError puts its Offset), with the
// indexes of lists that encoding/json leaves out of its Field
// ("services[0].port", not "services.port"); nil if the text cannot be
// read that far.
func jsonPath(data []byte, off int64) Path {
	type frame struct {
		list    bool
		index   int    // of the list's current value; -1 before the first
		key     string // of the object's current value
		wantKey bool   // the object's next string is a key
	}
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for dec.InputOffset() < off {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if s, ok := tok.(string); ok && top != nil && !top.list && top.wantKey {
			top.key, top.wantKey = s, false
			continue
		}
		d, isDelim := tok.(json.Delim)
		if isDelim && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && !stack[len(stack)-1].list {
				stack[len(stack)-1].wantKey = true
			}
			continue
		}
		// A value begins: in a list, the next one.
		if top != nil && top.list {
			top.index++
		}
		switch {
		case isDelim:
			stack = append(stack, &frame{list: d == '[', index: -1, wantKey: d == '{'})
		case top != nil && !top.list:
			top.wantKey = true
		}
	}
	var p Path
	for _, f := range stack {
		switch {
		case f.list && f.index >= 0:
			p = append(p, f.index)
		case !f.list && f.key != "":
			p = append(p, f.key)
		}
	}
	return p
}

// withoutIndexes is p as encoding/json names a field: "services.port".
func withoutIndexes(p Path) string {
	var keys []string
	for _, e := range p {
		if k, ok := e.(string); ok {
			keys = append(keys, k)
		}
	}
	return strings.Join(keys, ".")
}

// jsonValueWords names the kind of a JSON value as encoding/json reports
// it ("string", "number -1", "array", "object", "bool").
func jsonValueWords(v string) string {
	switch {
	case v == "array":
		return "a list"
	case v == "object":
		return "a mapping"
	case strings.HasPrefix(v, "number "):
		return strings.TrimPrefix(v, "number ")
	}
	return "a " + v
}

func lineAt(data []byte, off int64) int {
	if off < 0 {
		return 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

func parseYAML(name string, data []byte) (*Document, error) {
	var d Document
	// Decode strictly (unknown fields are errors). The node tree that
	// gives line numbers is built only if a position is asked for (an
	// error): parsing it costs as much as the decoding.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&d); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Msg: "empty document"}
		}
		return nil, yamlError(name, data, err)
	}
	d.loc = &locator{file: name, data: data}
	return &d, nil
}

// yamlError turns "yaml: line N: msg" (or a TypeError list) into *Error
// values.
func yamlError(name string, data []byte, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var l ErrorList
		var root yaml.Node
		if yaml.Unmarshal(data, &root) != nil {
			root = yaml.Node{}
		}
		used := map[*yaml.Node]bool{}
		for _, m := range te.Errors {
			line, tail := yamlLine(m)
			if f := yamlTypeRE.FindStringSubmatch(tail); f != nil {
				if p := yamlPath(&root, line, f[2], used); p != nil {
					l = append(l, &Error{File: name, Line: line, Msg: fmt.Sprintf("%s: want %s, not %s", p, goTypeWords(f[3]), f[2])})
					continue
				}
			}
			l = append(l, yamlMsg(name, m))
		}
		return l
	}
	return yamlMsg(name, err.Error())
}

// yamlPath is the path of the first value not in used that is the scalar
// value at line in the node tree of a YAML text ("services[0].port" for
// "-1" at "port: -1"), which it adds to used: the YAML library's type
// errors give only the line and the value. nil if there is none.
func yamlPath(root *yaml.Node, line int, value string, used map[*yaml.Node]bool) Path {
	if line == 0 || len(root.Content) == 0 {
		return nil
	}
	var walk func(n *yaml.Node, p Path) Path
	walk = func(n *yaml.Node, p Path) Path {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if found := walk(n.Content[i+1], p.with(n.Content[i].Value)); found != nil {
					return found
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				if found := walk(c, p.with(i)); found != nil {
					return found
				}
			}
		case yaml.ScalarNode:
			if n.Line == line && n.Value == value && len(p) > 0 && !used[n] {
				used[n] = true
				return p
			}
		}
		return nil
	}
	return walk(root.Content[0], nil)
}

func yamlMsg(name, m string) *Error {
	line, m := yamlLine(m)
	return &Error{File: name, Line: line, Msg: plainYAML(m)}
}

// yamlLine splits "yaml: line N: msg" into N and msg (0 if there is no
// line).
func yamlLine(m string) (int, string) {
	m = strings.TrimPrefix(m, "yaml: ")
	var line int
	if rest, ok := strings.CutPrefix(m, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ": "); ok {
			if _, err := fmt.Sscanf(n, "%d", &line); err == nil {
				m = tail
			}
		}
	}
	return line, m
}

// yamlTypeRE and yamlFieldRE match the YAML library's two messages about
// a value that does not fit: "cannot unmarshal !!int `-1` into uint16"
// and "field bogus not found in type ipvsconfig.Service".
var (
	yamlTypeRE  = regexp.MustCompile("^cannot unmarshal !!(\\w+) `(.*)` into (\\S+)$")
	yamlFieldRE = regexp.MustCompile(`^field (\S+) not found in type ipvsconfig\.(\w+)$`)
)

// plainYAML says a YAML decoding message in the document's words.
func plainYAML(m string) string {
	if f := yamlTypeRE.FindStringSubmatch(m); f != nil {
		return fmt.Sprintf("%s: want %s", f[2], goTypeWords(f[3]))
	}
	if f := yamlFieldRE.FindStringSubmatch(m); f != nil {
		return fmt.Sprintf("unknown field %q in %s (see docs/ipvsctl-json.md)", f[1], objectWords(f[2]))
	}
	return m
}

// goTypeWords describes what a Go type of the document model accepts.
func goTypeWords(t string) string {
	switch strings.TrimPrefix(t, "ipvsconfig.") {
	case "uint8":
		return "a number in 0..255"
	case "uint16":
		return "a number in 0..65535"
	case "uint32":
		return "a number in 0..4294967295"
	case "int":
		return "a whole number"
	case "bool":
		return "true or false"
	case "string", "Duration", "SysctlValue":
		return "a string"
	}
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping of names to values"
	}
	return "a mapping of fields (" + objectWords(strings.TrimPrefix(strings.TrimPrefix(t, "*"), "ipvsconfig.")) + ")"
}

// objectWords names an object of the document model.
func objectWords(t string) string {
	switch t {
	case "Document":
		return "the document"
	case "HealthCheck":
		return "a healthCheck"
	}
	if t == "" {
		return "an object"
	}
	w := strings.ToLower(t[:1]) + t[1:]
	if strings.ContainsRune("aeiou", rune(w[0])) {
		return "an " + w
	}
	return "a " + w
}

// locator maps document paths to source lines.
type locator struct {
	file string
	data []byte // the text, parsed into root on first use
	once sync.Once
	root *yaml.Node
}

// line returns the line of the value at p, or of its nearest existing
// ancestor (0 if unknown).
func (l *locator) line(p Path) int {
	l.once.Do(func() {
		if l.root == nil && l.data != nil {
			var n yaml.Node
			if yaml.Unmarshal(l.data, &n) == nil {
				l.root = &n
			}
		}
	})
	if l.root == nil || len(l.root.Content) == 0 {
		return 0
	}
	n := l.root.Content[0]
	line := n.Line
	for _, e := range p {
		var next *yaml.Node
		switch v := e.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == v {
						// A scalar is reported at its key's line.
						next = n.Content[i+1]
						line = n.Content[i].Line
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && v < len(n.Content) {
				next = n.Content[v]
				line = next.Line
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return line
}

// Marshal writes d as indented JSON or YAML.
func Marshal(d *Document, format Format) ([]byte, error) {
	if d.APIVersion == "" {
		d.APIVersion = APIVersion
	}
	switch format {
	case FormatJSON:
		b, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			return nil, err
		}
		return append(b, '\n'), nil
	case FormatYAML:
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(d); err != nil {
			return nil, err
		}
		if err := enc.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	return nil, fmt.Errorf("cannot write format %q", format)
}
