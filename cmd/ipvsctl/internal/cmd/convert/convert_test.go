package convert

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	conv "github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/convert"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/printers"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
)

// inputs holds the configurations of the golden tests, next to their
// outputs (testdata/ipvsctl/convert).
const inputs = "../../../../../testdata/ipvsctl/convert/"

// convert runs ipvsctl convert with args and returns its standard output,
// its standard error (with inputs removed from file names) and its exit
// status.
func convert(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ios, in, out, errOut := iostreams.Test()
	in.WriteString(stdin)
	f := factory.NewTest(ios, fakeipvs.New())
	cmd := NewCmdConvert(f, nil)
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	code := 0
	if err := cmd.Execute(); err != nil {
		code = 1
		if ee, ok := err.(*cmdutil.ExitError); ok {
			code = ee.Code
		}
		if ee, ok := err.(*cmdutil.ExitError); !ok || ee.Err != nil {
			errOut.WriteString("ipvsctl: " + err.Error() + "\n")
		}
	}
	return out.String(), strings.ReplaceAll(errOut.String(), inputs, ""), code
}

// TestGolden converts realistic configurations: the document on standard
// output and the warnings on standard error are pinned, and the document
// reads back (ipvsctl apply would take it) to what was printed.
func TestGolden(t *testing.T) {
	for _, tt := range []struct {
		file   string
		format string
		from   string
	}{
		{"keepalived-manpage.conf", "yaml", ""},
		{"keepalived-fwmark.conf", "yaml", ""},
		{"keepalived-misc.conf", "yaml", ""},
		{"keepalived-ssl.conf", "yaml", ""},
		{"keepalived-sorry.conf", "yaml", ""},
		{"ldirectord.cf", "yaml", ""},
		{"ldirectord.cf", "json", "ldirectord"},
	} {
		name := strings.TrimSuffix(tt.file, filepath.Ext(tt.file))
		t.Run(name+"."+tt.format, func(t *testing.T) {
			args := []string{inputs + tt.file, "-o", tt.format}
			if tt.from != "" {
				args = append(args, "--from", tt.from)
			}
			out, errOut, code := convert(t, "", args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, errOut)
			}
			testutil.Golden(t, "convert/"+name+"."+tt.format, []byte(out))
			if tt.format == "yaml" {
				testutil.Golden(t, "convert/"+name+".stderr", []byte(errOut))
			}
			doc, err := ipvsconfig.Parse("out."+tt.format, []byte(out), "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := doc.Desired(); err != nil {
				t.Fatalf("the document does not validate: %v", err)
			}
			again, err := ipvsconfig.Marshal(doc, ipvsconfig.Format(tt.format))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(out, string(again)); d != "" {
				t.Errorf("the document does not read back as printed (-printed +read back):\n%s", d)
			}
		})
	}
}

// TestErrors: a file that cannot be read as its format stops with
// FILE:LINE and exit status 1, as does a file with nothing to convert;
// warnings alone leave the exit status 0.
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, text string
		args       []string
		code       int
		stderr     []string // lines standard error must have, FILE for the file
		stdout     bool     // a document is printed
	}{
		{name: "syntax error", text: "virtual_server 10.0.0.1 80 {\n  real_server 10.0.0.2 80 {\n    HTTP_GET {\n      url {\n        path \"/health\n",
			code: 1, stderr: []string{`ipvsctl: convert: FILE:5: unterminated quote: "/health; nothing written`}},
		{name: "unbalanced braces", text: "virtual_server 10.0.0.1 80 {\n  lb_algo rr\n}\n}\n",
			code: 1, stderr: []string{"ipvsctl: convert: FILE:4: unexpected } (no block is open); nothing written"}},
		{name: "unknown check type", text: "virtual_server 10.0.0.1 80 {\n  lb_kind DR\n  real_server 10.0.0.2 80 {\n    FOO_CHECK {\n    }\n  }\n}\n",
			code: 0, stdout: true, stderr: []string{"FILE:4: warning: unknown check type FOO_CHECK: not converted"}},
		{name: "vrrp only", text: "vrrp_instance VI_1 {\n  state MASTER\n}\n",
			code: 1, stderr: []string{
				"FILE:1: note: VRRP is not converted: keep keepalived for VRRP only (without virtual_server blocks) and let ipvsctl agent manage the IPVS table",
				"ipvsctl: convert FILE: no virtual_server block could be converted; nothing written"}},
		{name: "nothing convertible", text: "virtual_server www.example.org 80 {\n  real_server 10.0.0.2 80 {\n  }\n}\n",
			code: 1, stderr: []string{`FILE:1: warning: virtual_server www.example.org 80: "www.example.org" is not an IP address (names are not resolved); not converted`}},
		{name: "unknown format", text: "hello\n", code: 1,
			stderr: []string{"ipvsctl: convert: FILE: neither a keepalived.conf (no virtual_server block) nor an ldirectord.cf (no virtual= line); name the format with --from; nothing written"}},
		{name: "from ldirectord", text: "virtual_server 10.0.0.1 80 {\n}\n", args: []string{"--from", "ldirectord"}, code: 1,
			stderr: []string{`ipvsctl: convert: FILE:1: "virtual_server 10.0.0.1 80 {" is not a setting (want NAME = VALUE); nothing written`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".conf")
			if err := os.WriteFile(file, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			out, errOut, code := convert(t, "", append([]string{file}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s", code, tt.code, errOut)
			}
			lines := strings.Split(strings.ReplaceAll(errOut, file, "FILE"), "\n")
			for _, want := range tt.stderr {
				found := false
				for _, l := range lines {
					found = found || l == want
				}
				if !found {
					t.Errorf("standard error lacks\n\t%s\nit is:\n%s", want, errOut)
				}
			}
			if (out != "") != tt.stdout {
				t.Errorf("standard output: %q", out)
			}
		})
	}
	missing := filepath.Join(dir, "missing.conf")
	if _, errOut, code := convert(t, "", missing); code != 1 || errOut != "ipvsctl: read "+missing+": no such file or directory\n" {
		t.Errorf("missing file: exit %d, %q", code, errOut)
	}
}

// TestStdin: "-" reads standard input, named <stdin> in messages.
func TestStdin(t *testing.T) {
	out, errOut, code := convert(t, "virtual=10.0.0.1:80\n\treal=10.0.0.2:80 masq\n\tchecktype=on\n", "-")
	if code != 0 || !strings.Contains(out, "address: 10.0.0.1") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if !strings.HasPrefix(errOut, "<stdin>:1: warning: quiescent is not set") {
		t.Errorf("standard error:\n%s", errOut)
	}
}

// TestFlags: the options the command line gives.
func TestFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want Options
		err  string
	}{
		{[]string{"k.conf"}, Options{File: "k.conf", Output: printers.YAML}, ""},
		{[]string{"k.conf", "-o", "json", "--from", "keepalived"}, Options{File: "k.conf", From: conv.Keepalived, Output: printers.JSON}, ""},
		{[]string{"-", "--from", "LDIRECTORD"}, Options{File: "-", From: conv.Ldirectord, Output: printers.YAML}, ""},
		{[]string{"k.conf", "--from", "haproxy"}, Options{}, `--from: "haproxy" is not a configuration ipvsctl converts`},
		{[]string{"k.conf", "-o", "table"}, Options{}, "-o table: convert prints yaml or json"},
		{[]string{}, Options{}, "accepts 1 arg"},
	} {
		t.Run(strings.Join(tt.args, "_"), func(t *testing.T) {
			got, err := testutil.Parse(NewCmdConvert, tt.args...)
			if testutil.WantErr(t, tt.args, err, tt.err) {
				return
			}
			got.IO = nil
			if d := cmp.Diff(tt.want, *got); d != "" {
				t.Errorf("options (-want +got):\n%s", d)
			}
		})
	}
}
