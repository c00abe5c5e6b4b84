package root

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/printers"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"github.com/ipvs-tools/ipvs/internal/etcdtest"
	"github.com/ipvs-tools/ipvs/ipvsproc"
	"github.com/ipvs-tools/ipvs/ipvssysctl"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

// formatEnv runs ipvsctl against the sample table, sysctls in a
// temporary directory, the connection files of testdata/ipvsctl and a
// stopped clock, fresh for every run.
type formatEnv struct {
	t     *testing.T
	doc   string // a document for apply, diff and restore
	kconf string // a keepalived.conf for convert
}

func newFormatEnv(t *testing.T) *formatEnv {
	dir := t.TempDir()
	doc := filepath.Join(dir, "lb.yaml")
	if err := os.WriteFile(doc, []byte("apiVersion: ipvsctl/v1\nservices:\n  - {protocol: tcp, address: 10.0.0.9, port: 80}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	kconf := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(kconf, []byte("virtual_server 10.0.0.9 80 {\n  real_server 10.0.1.1 80 {\n    TCP_CHECK {\n    }\n  }\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &formatEnv{t: t, doc: doc, kconf: kconf}
}

func (e *formatEnv) factory() (*factory.Factory, *bytes.Buffer, *bytes.Buffer) {
	dir := e.t.TempDir()
	for n, v := range map[string]string{"amemthresh": "1024", "am_droprate": "10", "drop_entry": "0", "drop_packet": "1", "secure_tcp": "0",
		"sync_threshold": "3\t50", "sync_version": "1", "backup_only": "0"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(v+"\n"), 0o644); err != nil {
			e.t.Fatal(err)
		}
	}
	ios, _, out, errOut := iostreams.Test()
	f := factory.NewTest(ios, testutil.Sample())
	f.Sysctls = func() (backend.Sysctls, error) { return ipvssysctl.New(ipvssysctl.WithDir(dir)), nil }
	procDir := filepath.Join("..", "..", "..", "..", "..", "testdata", "ipvsctl")
	f.ProcFile = func(name string) (factory.ReadCloser, error) { return ipvsproc.Open(name, ipvsproc.WithDir(procDir)) }
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	f.Now = func() time.Time { return now }
	return f, out, errOut
}

// run runs ipvsctl with args and returns its standard output; the exit
// status must be code.
func (e *formatEnv) run(code int, args ...string) string {
	e.t.Helper()
	f, out, errOut := e.factory()
	if got := cmdutil.Execute(NewCmdRoot(f), args, out, errOut); got != code {
		e.t.Fatalf("ipvsctl %s: exit %d, want %d\n%s", strings.Join(args, " "), got, code, errOut.String())
	}
	return out.String()
}

// header is what every JSON/YAML output starts with.
type header struct {
	APIVersion string `json:"apiVersion" yaml:"apiVersion"`
	Kind       string `json:"kind" yaml:"kind"`
}

// TestOutputFormats runs every command that has -o in each of its
// formats: JSON and YAML carry apiVersion and the command's kind (the
// ipvsctl/v1 document has no kind), NDJSON on every line; -o with the
// default format prints what no -o prints.
func TestOutputFormats(t *testing.T) {
	e := newFormatEnv(t)
	// A stand-in for a running agent's /status.
	agentSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"apiVersion":"ipvsctl/v1","kind":"AgentStatus","document":"lb.yaml","generation":1,"servers":[{"service":"TCP 10.0.0.1:80","server":"192.168.0.1:80","check":"tcp","target":"192.168.0.1:80","health":"up","inTable":true,"weight":1}]}`)
	}))
	defer agentSrv.Close()
	agentAddr := strings.TrimPrefix(agentSrv.URL, "http://")
	// A real etcd for ipvsctl fleet (an empty fleet).
	etcd := etcdtest.Start(t).Endpoint()
	cases := []struct {
		args []string
		kind string
		code int  // exit status (diff finds drift: 2)
		ndj  bool // JSON is one object a line
	}{
		{args: []string{"list"}, kind: printers.DocumentKind},
		{args: []string{"get", "tcp:10.0.0.1:80"}, kind: printers.DocumentKind},
		{args: []string{"stats"}, kind: printers.DocumentKind},
		{args: []string{"save"}, kind: printers.DocumentKind},
		{args: []string{"top", "-c", "2"}, kind: "RateSample", ndj: true},
		{args: []string{"conn", "list"}, kind: "Connection", ndj: true},
		{args: []string{"conn", "summary"}, kind: "ConnSummary"},
		{args: []string{"timeout", "get"}, kind: "Timeouts"},
		{args: []string{"sync", "status"}, kind: "SyncStatus", code: 1}, // no daemon runs: a problem
		{args: []string{"doctor"}, kind: "DoctorReport"},                // the test factory's host reads nothing: warnings only
		{args: []string{"version"}, kind: "Version"},
		{args: []string{"sysctl", "list"}, kind: "SysctlList"},
		{args: []string{"sysctl", "get", "drop_entry", "sync_threshold"}, kind: "SysctlValues"},
		{args: []string{"dos"}, kind: "DosStatus"},
		{args: []string{"dos", "set", "--secure-tcp", "auto"}, kind: "DosStatus"},
		{args: []string{"dos", "preset", "auto"}, kind: "DosStatus"},
		{args: []string{"diff", "-f", e.doc}, kind: "Plan", code: 2},
		{args: []string{"apply", "-f", e.doc, "--dry-run"}, kind: "Plan"},
		{args: []string{"apply", "-f", e.doc}, kind: "ApplyResult"},
		{args: []string{"restore", "-f", e.doc, "--dry-run"}, kind: "Plan"},
		{args: []string{"restore", "-f", e.doc}, kind: "ApplyResult"},
		{args: []string{"agent", "status", "--listen", agentAddr}, kind: "AgentStatus"},
		{args: []string{"fleet", "--etcd", etcd, "status"}, kind: "FleetStatus"},
		{args: []string{"convert", e.kconf}, kind: printers.DocumentKind},
	}
	f, _, _ := e.factory()
	tree := NewCmdRoot(f)
	covered := map[*cobra.Command]bool{}
	for _, tc := range cases {
		cmd, _, err := tree.Find(tc.args)
		if err != nil {
			t.Fatal(err)
		}
		covered[cmd] = true
		formats := printers.Formats(cmd)
		if len(formats) == 0 {
			t.Errorf("%s has no -o", cmd.CommandPath())
			continue
		}
		want := header{APIVersion: "ipvsctl/v1", Kind: tc.kind}
		if tc.kind == printers.DocumentKind {
			want.Kind = ""
		}
		for _, format := range formats {
			name := strings.NewReplacer(e.doc, "FILE", e.kconf, "FILE", agentAddr, "ADDR", etcd, "ETCD").Replace(strings.Join(tc.args, "_"))
			t.Run(name+"/"+string(format), func(t *testing.T) {
				e := &formatEnv{t: t, doc: e.doc, kconf: e.kconf}
				out := e.run(tc.code, append(slices.Clone(tc.args), "-o", string(format))...)
				var docs []header
				switch {
				case format == printers.JSON && tc.ndj:
					for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
						var h header
						if err := json.Unmarshal([]byte(line), &h); err != nil {
							t.Fatalf("%v: %q", err, line)
						}
						docs = append(docs, h)
					}
				case format == printers.JSON:
					var h header
					if err := json.Unmarshal([]byte(out), &h); err != nil {
						t.Fatalf("%v:\n%s", err, out)
					}
					docs = append(docs, h)
				case format == printers.YAML:
					var h header
					if err := yaml.Unmarshal([]byte(out), &h); err != nil {
						t.Fatalf("%v:\n%s", err, out)
					}
					docs = append(docs, h)
				}
				for i, h := range docs {
					if d := cmp.Diff(want, h); d != "" {
						t.Errorf("object %d: apiVersion and kind (-want +got):\n%s", i, d)
					}
				}
				if out == "" {
					t.Error("no output")
				}
				if format == formats[0] {
					if d := cmp.Diff(e.run(tc.code, tc.args...), out); d != "" {
						t.Errorf("-o %s differs from the default output (-without +with):\n%s", format, d)
					}
				}
			})
		}
	}
	// Every command with -o is in the table above.
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if len(printers.Formats(c)) > 0 && !covered[c] {
			t.Errorf("%s has -o %v but no case in TestOutputFormats", c.CommandPath(), printers.Formats(c))
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(tree)
}

// TestDocumentedKinds: docs/ipvsctl-json.md has a section (a heading
// "### `KIND`" under "## Output kinds") for every kind ipvsctl prints, and
// none for a kind it does not print.
func TestDocumentedKinds(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "..", "docs", "ipvsctl-json.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, kinds, ok := strings.Cut(string(b), "\n## Output kinds\n")
	if !ok {
		t.Fatal(`docs/ipvsctl-json.md has no "## Output kinds" section`)
	}
	kinds, _, _ = strings.Cut(kinds, "\n## ")
	var documented []string
	for _, line := range strings.Split(kinds, "\n") {
		if k, ok := strings.CutPrefix(line, "### `"); ok {
			documented = append(documented, strings.TrimSuffix(k, "`"))
		}
	}
	slices.Sort(documented)
	if d := cmp.Diff(printers.Kinds(), documented); d != "" {
		t.Errorf("the kinds documented in docs/ipvsctl-json.md differ from those ipvsctl prints (-printed +documented):\n%s", d)
	}
}

// TestOutputHelp: the help of a command names its formats, and a format
// it lacks is refused before anything runs, naming them.
func TestOutputHelp(t *testing.T) {
	e := newFormatEnv(t)
	for _, tt := range []struct {
		args  []string
		usage string
		err   string
	}{
		{[]string{"list"}, "print in FORMAT: table, json or yaml (default table)", "-o rules: ipvsctl list prints table, json or yaml"},
		{[]string{"save"}, "print in FORMAT: yaml, json or rules (default yaml)", "-o table: ipvsctl save prints yaml, json or rules"},
		{[]string{"stats"}, "print in FORMAT: table, json, yaml or prometheus (default table)", "-o rules: ipvsctl stats prints table, json, yaml or prometheus"},
		{[]string{"top"}, "print in FORMAT: table or json (default table)", "-o yaml: ipvsctl top prints table or json"},
		{[]string{"conn", "list"}, "print in FORMAT: table or json (default table)", "-o yaml: ipvsctl conn list prints table or json"},
	} {
		t.Run(strings.Join(tt.args, "_"), func(t *testing.T) {
			help := e.run(0, append(slices.Clone(tt.args), "--help")...)
			if !strings.Contains(help, "-o, --output FORMAT   "+tt.usage) && !strings.Contains(help, tt.usage) {
				t.Errorf("help lacks %q:\n%s", tt.usage, help)
			}
			f, out, errOut := e.factory()
			bad := strings.TrimSuffix(strings.Fields(tt.err)[1], ":")
			code := cmdutil.Execute(NewCmdRoot(f), append(slices.Clone(tt.args), "-o", bad), out, errOut)
			want := "ipvsctl: " + tt.err + "\n"
			if code != 1 || !strings.HasPrefix(errOut.String(), want) || out.Len() != 0 {
				t.Errorf("-o %s: exit %d, stdout %q, stderr %q, want it to start with %q", bad, code, out.String(), errOut.String(), want)
			}
		})
	}
	// Commands that print no data have no -o, before or after their name.
	for _, args := range [][]string{{"zero", "-o", "json"}, {"-o", "json", "zero"}} {
		f, out, errOut := e.factory()
		if code := cmdutil.Execute(NewCmdRoot(f), args, out, errOut); code != 1 || !strings.HasPrefix(errOut.String(), "ipvsctl: -o json: ipvsctl zero prints no data to format\n") {
			t.Errorf("%v: exit %d, %q", args, code, errOut.String())
		}
	}
	// -o may stand before the command's name, as it could when it was a
	// global flag.
	if before, after := e.run(0, "-o", "json", "list"), e.run(0, "list", "-o", "json"); before != after || !strings.Contains(before, `"apiVersion"`) {
		t.Errorf("-o json list printed %q, list -o json %q", before, after)
	}
}
