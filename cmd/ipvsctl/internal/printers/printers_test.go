package printers

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/spf13/cobra"
)

type sample struct {
	TypeMeta `json:",inline" yaml:",inline"`
	Name     string `json:"name" yaml:"name"`
}

type unregistered struct {
	TypeMeta `json:",inline" yaml:",inline"`
}

var _ = Register[sample]("Sample")

func TestPrint(t *testing.T) {
	table := func(w io.Writer) error { _, err := io.WriteString(w, "NAME\nx\n"); return err }
	for _, tt := range []struct {
		name   string
		format Format
		v      any
		want   string
		err    string
	}{
		{name: "table", format: Table, v: &sample{Name: "x"}, want: "NAME\nx\n"},
		{name: "json", format: JSON, v: &sample{Name: "x"}, want: "{\n  \"apiVersion\": \"ipvsctl/v1\",\n  \"kind\": \"Sample\",\n  \"name\": \"x\"\n}\n"},
		{name: "yaml", format: YAML, v: &sample{Name: "x"}, want: "apiVersion: ipvsctl/v1\nkind: Sample\nname: x\n"},
		{name: "document", format: YAML, v: &ipvsconfig.Document{}, want: "apiVersion: ipvsctl/v1\nservices: []\n"},
		{name: "unregistered", format: JSON, v: &unregistered{}, err: "internal error: *printers.unregistered is not a registered output kind"},
		{name: "not an object", format: JSON, v: map[string]int{}, err: "internal error: map[string]int is not an output kind"},
		{name: "own format", format: Rules, v: &sample{}, err: "internal error: no printer for -o rules"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := tt.format.Print(&out, tt.v, table)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Errorf("error %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, out.String()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestLines(t *testing.T) {
	var out bytes.Buffer
	l := NewLines(&out)
	for _, n := range []string{"a", "b"} {
		if err := l.Write(&sample{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	want := `{"apiVersion":"ipvsctl/v1","kind":"Sample","name":"a"}` + "\n" + `{"apiVersion":"ipvsctl/v1","kind":"Sample","name":"b"}` + "\n"
	if d := cmp.Diff(want, out.String()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestKinds(t *testing.T) {
	if d := cmp.Diff([]string{DocumentKind, "Sample"}, Kinds()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestAddFlags(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want Format
		err  string
	}{
		{name: "default", want: YAML},
		{name: "other", args: []string{"-o", "rules"}, want: Rules},
		{name: "long", args: []string{"--output=json"}, want: JSON},
		{name: "unknown", args: []string{"-o", "table"}, err: "-o table: save prints yaml, json or rules"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got Format
			ran := false
			cmd := &cobra.Command{Use: "save", RunE: func(*cobra.Command, []string) error { ran = true; return nil },
				PreRunE: func(*cobra.Command, []string) error { return nil }}
			AddFlags(cmd, &got, YAML, JSON, Rules)
			cmd.SetArgs(tt.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if tt.err != "" {
				var fe *cmdutil.FlagError
				if err == nil || err.Error() != tt.err || !errors.As(err, &fe) || ran {
					t.Errorf("error %v (ran %v), want the usage error %s", err, ran, tt.err)
				}
				return
			}
			if err != nil || got != tt.want || !ran {
				t.Errorf("got %q, %v (ran %v), want %q", got, err, ran, tt.want)
			}
		})
	}
	var f Format
	cmd := &cobra.Command{Use: "top"}
	AddFlags(cmd, &f, Table, JSON)
	if d := cmp.Diff([]Format{Table, JSON}, Formats(cmd)); d != "" {
		t.Errorf("Formats (-want +got):\n%s", d)
	}
	if u := cmd.Flags().FlagUsages(); !strings.Contains(u, "-o, --output FORMAT   print in FORMAT: table or json (default table)") {
		t.Errorf("usage:\n%s", u)
	}
	comps, _ := cmd.GetFlagCompletionFunc("output")
	if got, _ := comps(cmd, nil, ""); !cmp.Equal(got, []string{"table", "json"}) {
		t.Errorf("completion: %v", got)
	}
	if Formats(&cobra.Command{}) != nil {
		t.Error("Formats of a command without -o")
	}
}
