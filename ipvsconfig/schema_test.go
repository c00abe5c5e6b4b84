package ipvsconfig

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// jsonFields returns the JSON names of every field reachable from t.
func jsonFields(t reflect.Type, seen map[reflect.Type]bool, out map[string]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return
	}
	seen[t] = true
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		out[name] = true
		jsonFields(f.Type, seen, out)
	}
}

// TestSchemaAndDocsCoverModel keeps the JSON Schema and the field
// reference in step with the Go types.
func TestSchemaAndDocsCoverModel(t *testing.T) {
	schema, err := os.ReadFile("schema/ipvsctl-v1.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(schema, &v); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	docs, err := os.ReadFile("../docs/ipvsctl-json.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(schema), `"const": "`+APIVersion+`"`) {
		t.Errorf("schema does not pin apiVersion %s", APIVersion)
	}
	fields := map[string]bool{}
	jsonFields(reflect.TypeOf(Document{}), map[reflect.Type]bool{}, fields)
	for f := range fields {
		if !strings.Contains(string(schema), `"`+f+`"`) {
			t.Errorf("schema does not describe field %q", f)
		}
		if !strings.Contains(string(docs), "`"+f+"`") {
			t.Errorf("docs/ipvsctl-json.md does not describe field %q", f)
		}
	}
}
