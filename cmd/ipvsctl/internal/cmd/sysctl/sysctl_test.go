package sysctl

import (
	"bytes"
	"github.com/google/go-cmp/cmp"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"github.com/ipvs-tools/ipvs/ipvssysctl"
)

// newFactory returns a factory whose sysctls live in a temporary
// directory holding the 6.1 defaults, with drop_packet changed and
// sync_qlen_max read-only.
func newFactory(t *testing.T) (*factory.Factory, *bytes.Buffer, string) {
	dir := t.TempDir()
	vals := map[string]string{"amemthresh": "1024", "am_droprate": "10", "drop_entry": "0", "drop_packet": "2", "secure_tcp": "0",
		"conntrack": "0", "expire_nodest_conn": "0", "sync_threshold": "3\t50", "sync_version": "1", "sync_qlen_max": "15193", "frobnicate": "7"}
	for n, v := range vals {
		mode := os.FileMode(0o644)
		if n == "sync_qlen_max" {
			mode = 0o444
		}
		if err := os.WriteFile(filepath.Join(dir, n), []byte(v+"\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	f, out := testutil.NewFactory(fakeipvs.New())
	f.Sysctls = func() (backend.Sysctls, error) { return ipvssysctl.New(ipvssysctl.WithDir(dir)), nil }
	return f, out, dir
}

func read(t *testing.T, dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestList(t *testing.T) {
	f, out, _ := newFactory(t)
	testutil.GoldenRun(t, "sysctl-list.txt", out, NewCmdList(f, nil))
	out.Reset()
	if err := testutil.Execute(NewCmdList(f, nil), "--changed"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "drop_packet") || strings.Contains(out.String(), "drop_entry") {
		t.Errorf("--changed:\n%s", out)
	}
	out.Reset()
	if err := testutil.Execute(NewCmdList(f, nil), "--all", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"name": "est_cpulist"`, `"present": false`, `"name": "frobnicate"`, `"writable": false`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--all -o json lacks %s", want)
		}
	}
}

func TestGetSetDescribe(t *testing.T) {
	f, out, dir := newFactory(t)
	if err := testutil.Execute(NewCmdGet(f, nil), "sync_threshold"); err != nil || out.String() != "3 50\n" {
		t.Errorf("get: %v %q", err, out)
	}
	out.Reset()
	if err := testutil.Execute(NewCmdSet(f, nil), "expire_nodest_conn=1", "sync_threshold=4 60"); err != nil {
		t.Fatal(err)
	}
	if out.String() != "expire_nodest_conn: 0 → 1\nsync_threshold: 3 50 → 4 60\n" || read(t, dir, "expire_nodest_conn") != "1" {
		t.Errorf("set: %q", out)
	}
	// One invalid value: nothing is written.
	err := testutil.Execute(NewCmdSet(f, nil), "conntrack=1", "drop_entry=9")
	if err == nil || !strings.Contains(err.Error(), "set sysctl drop_entry: invalid value") || !strings.Contains(err.Error(), "ipvsctl sysctl describe drop_entry") {
		t.Errorf("invalid: %v", err)
	}
	if read(t, dir, "conntrack") != "0" {
		t.Errorf("a valid value was written before the invalid one was refused")
	}
	err = testutil.Execute(NewCmdSet(f, nil), "sync_qlen_max=1")
	if err == nil || !strings.Contains(err.Error(), "read-only here") {
		t.Errorf("read-only: %v", err)
	}
	err = testutil.Execute(NewCmdGet(f, nil), "est_nice")
	if err == nil || !strings.Contains(err.Error(), "no such sysctl") {
		t.Errorf("missing: %v", err)
	}
	if err := testutil.Execute(NewCmdSet(f, nil), "novalue"); err == nil {
		t.Errorf("NAME without =VALUE accepted")
	}
	out.Reset()
	testutil.GoldenRun(t, "sysctl-describe.txt", out, NewCmdDescribe(f, nil), "secure_tcp", "frobnicate")
}

func TestDos(t *testing.T) {
	f, out, dir := newFactory(t)
	testutil.GoldenRun(t, "dos.txt", out, NewCmdDos(f, nil))
	out.Reset()
	if err := testutil.Execute(NewCmdDos(f, nil), "preset", "auto"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"drop_entry", "drop_packet", "secure_tcp"} {
		if v := read(t, dir, n); v != "1" {
			t.Errorf("preset auto: %s=%s", n, v)
		}
	}
	if !strings.Contains(out.String(), "Preset: auto.") {
		t.Errorf("preset output:\n%s", out)
	}
	out.Reset()
	if err := testutil.Execute(NewCmdDos(f, nil), "set", "--drop-packet", "always", "--am-droprate", "20", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if read(t, dir, "drop_packet") != "3" || read(t, dir, "am_droprate") != "20" || !strings.Contains(out.String(), `"setting": "always"`) {
		t.Errorf("dos set: %s", out)
	}
	for _, bad := range [][]string{{"set"}, {"set", "--secure-tcp", "sometimes"}, {"preset", "paranoid"}} {
		if err := testutil.Execute(NewCmdDos(f, nil), bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestSetLocale checks the arrow of sysctl set: → in a UTF-8 locale, ->
// in any other (LANG=C).
func TestSetLocale(t *testing.T) {
	for _, tt := range []struct {
		name string
		utf8 bool
		want string
	}{
		{"UTF-8", true, "conntrack: 0 → 1\n"},
		{"C locale", false, "conntrack: 0 -> 1\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, out, _ := newFactory(t)
			f.IOStreams.SetUTF8(tt.utf8)
			if err := testutil.Execute(NewCmdSet(f, nil), "conntrack=1"); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, out.String()); d != "" {
				t.Errorf("set (-want +got):\n%s", d)
			}
		})
	}
}
