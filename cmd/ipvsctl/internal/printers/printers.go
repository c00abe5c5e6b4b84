// Package printers is the one place where ipvsctl turns results into
// output: the -o/--output flag of each command (the formats it has, their
// help and shell completion, their check), and the writing of a value in
// the chosen format. JSON and YAML outputs are versioned documents: each
// carries apiVersion (ipvsctl/v1) and a kind, registered here, so that
// docs/ipvsctl-json.md can be checked to describe every one of them.
//
// A command declares its formats with AddFlags and prints with
// Format.Print, giving the value for JSON/YAML and its table renderer for
// the human format. Formats only a few commands have (rules, prometheus)
// are written by the command itself after checking Format.
package printers

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"go.yaml.in/yaml/v3"
)

// Format is an output format, the value of -o.
type Format string

// The output formats.
const (
	// Table is the human format: aligned columns or plain sentences.
	Table Format = "table"
	// JSON is indented JSON, or one object a line (NDJSON) for streams.
	JSON Format = "json"
	// YAML is YAML.
	YAML Format = "yaml"
	// Rules is the ipvsadm -S format (save).
	Rules Format = "rules"
	// Prometheus is the Prometheus text exposition format (stats).
	Prometheus Format = "prometheus"
)

// APIVersion is the version every JSON and YAML output carries.
const APIVersion = ipvsconfig.APIVersion

// DocumentKind is the kind of the ipvsctl/v1 configuration document
// (ipvsconfig.Document), which list, get, stats and save print. The
// document carries no kind field: older readers reject unknown fields, and
// what save writes must stay readable by them.
const DocumentKind = "Document"

// Structured reports whether f is JSON or YAML.
func (f Format) Structured() bool { return f == JSON || f == YAML }

// TypeMeta heads every JSON and YAML output other than the configuration
// document. Embed it first, tagged `json:",inline" yaml:",inline"`, in the
// struct of an output kind and register the struct with Register;
// Format.Print fills it in.
type TypeMeta struct {
	// APIVersion is APIVersion.
	APIVersion string `json:"apiVersion" yaml:"apiVersion"`
	// Kind names the shape of the rest of the object.
	Kind string `json:"kind" yaml:"kind"`
}

func (m *TypeMeta) typeMeta() *TypeMeta { return m }

// Object is a value with a TypeMeta: a pointer to a struct that embeds
// TypeMeta.
type Object interface{ typeMeta() *TypeMeta }

var (
	mu    sync.Mutex
	kinds = map[reflect.Type]string{reflect.TypeFor[ipvsconfig.Document](): DocumentKind}
)

// Register records T as the output kind named kind and returns kind.
// Commands call it once, in a package-level declaration.
func Register[T any, P interface {
	*T
	Object
}](kind string) string {
	mu.Lock()
	defer mu.Unlock()
	t := reflect.TypeFor[T]()
	for other, k := range kinds {
		if k == kind && other != t {
			panic(fmt.Sprintf("printers: kind %s registered for %v and %v", kind, other, t))
		}
	}
	kinds[t] = kind
	return kind
}

// Kinds returns the names of every registered kind, sorted; DocumentKind
// is one of them.
func Kinds() []string {
	mu.Lock()
	defer mu.Unlock()
	var out []string
	for _, k := range kinds {
		out = append(out, k)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// stamp sets the apiVersion and kind of v, which must be a registered
// Object or a configuration document.
func stamp(v any) error {
	if d, ok := v.(*ipvsconfig.Document); ok {
		d.APIVersion = APIVersion
		return nil
	}
	o, ok := v.(Object)
	if !ok {
		return fmt.Errorf("internal error: %T is not an output kind", v)
	}
	mu.Lock()
	k, ok := kinds[reflect.TypeOf(v).Elem()]
	mu.Unlock()
	if !ok {
		return fmt.Errorf("internal error: %T is not a registered output kind", v)
	}
	*o.typeMeta() = TypeMeta{APIVersion: APIVersion, Kind: k}
	return nil
}

// Print writes v in format f: JSON or YAML as a versioned document (v is
// a pointer to a registered Object or an *ipvsconfig.Document), Table by
// calling table. Other formats are the command's to write.
func (f Format) Print(w io.Writer, v any, table func(io.Writer) error) error {
	switch f {
	case JSON, YAML:
		if err := stamp(v); err != nil {
			return err
		}
		if f == YAML {
			return writeYAML(w, v)
		}
		return writeJSON(w, v)
	case Table, "":
		if table != nil {
			return table(w)
		}
	}
	return fmt.Errorf("internal error: no printer for -o %s", f)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeYAML(w io.Writer, v any) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return err
	}
	return enc.Close()
}

// Lines writes a stream of objects as NDJSON: one compact JSON object a
// line, each with its apiVersion and kind.
type Lines struct {
	enc *json.Encoder
}

// NewLines returns a stream writing to w.
func NewLines(w io.Writer) *Lines { return &Lines{enc: json.NewEncoder(w)} }

// Write writes one object, a pointer to a registered Object.
func (l *Lines) Write(v Object) error {
	if err := stamp(v); err != nil {
		return err
	}
	return l.enc.Encode(v)
}

// list joins formats as "a, b or c".
func list(fs []Format) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = string(f)
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}
