package fleet

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	docV1 = "apiVersion: ipvsctl/v1\nservices:\n  - protocol: tcp\n    address: 10.0.0.9\n    port: 80\n    destinations:\n      - {address: 192.168.0.1, port: 80}\n      - {address: 192.168.0.2, port: 80}\n"
	docV2 = "apiVersion: ipvsctl/v1\nservices:\n  - protocol: tcp\n    address: 10.0.0.9\n    port: 80\n    destinations:\n      - {address: 192.168.0.1, port: 80, weight: 3}\n      - {address: 192.168.0.2, port: 80}\n  - {protocol: udp, address: 10.0.0.9, port: 53}\n"
	// docBad has a bad port on line 5.
	docBad = "apiVersion: ipvsctl/v1\nservices:\n  - protocol: tcp\n    address: 10.0.0.9\n    port: 99999\n"
)

// TestPush pushes, conflicts, forces and deletes, one step after the
// other on one store; each step checks what it printed and what the
// store holds after it.
func TestPush(t *testing.T) {
	e := newEnv(t)
	e.report("d1", map[string]string{"site": "par"}, nil)
	e.report("d2", map[string]string{"site": "ams"}, nil)
	v1, v2, bad := e.file("lb.yaml", docV1), e.file("lb2.yaml", docV2), e.file("bad.yaml", docBad)
	var rev int64 // the default document's revision after the last step
	for _, tt := range []struct {
		name string
		args func() []string
		// before runs first (someone else's push).
		before func()
		code   int
		out    string
		err    string
		// want is the default document after the step ("": absent).
		want string
	}{
		{name: "first push", args: func() []string { return []string{"push", "-f", v1} }, code: 0,
			out: "pushed lb.yaml to documents/default at revision REV; directors addressed: d1, d2 (ipvsctl fleet status to watch them apply it)\n", want: docV1},
		{name: "same document again", args: func() []string { return []string{"push", "-f", v1} }, code: 0,
			out: "documents/default already holds lb.yaml (revision REV): nothing pushed\n", want: docV1},
		{name: "bad document refused with its line", args: func() []string { return []string{"push", "-f", bad} }, code: 1,
			err: "bad.yaml:5:", want: docV1},
		{name: "conflict with --if-revision", before: func() { rev = e.put("documents/default", docV2) },
			args: func() []string { return []string{"push", "-f", v1, "--if-revision", fmt.Sprint(rev - 1)} }, code: 1,
			err: "someone else pushed documents/default (now revision REV) since revision", want: docV2},
		{name: "--if-revision of the current revision", args: func() []string { return []string{"push", "-f", v1, "--if-revision", fmt.Sprint(rev)} }, code: 0,
			out: "pushed lb.yaml to documents/default at revision REV", want: docV1},
		{name: "--force with --if-revision refused", args: func() []string { return []string{"push", "-f", v2, "--force", "--if-revision", "0"} }, code: 1,
			err: "--force and --if-revision contradict each other", want: docV1},
		{name: "--force overwrites", args: func() []string { return []string{"push", "-f", v2, "--force"} }, code: 0,
			out: "pushed lb2.yaml to documents/default at revision REV", want: docV2},
		{name: "to a selector", args: func() []string { return []string{"push", "-f", v1, "--target", "site=par"} }, code: 0,
			out: "pushed lb.yaml to documents/selector/site=par at revision", want: docV2},
		{name: "--delete needs --target", args: func() []string { return []string{"push", "--delete"} }, code: 1,
			err: "--delete needs --target", want: docV2},
		{name: "--delete of a selector document", args: func() []string { return []string{"push", "--delete", "--target", "site=par"} }, code: 0,
			out: "d1 now takes documents/default (revision REV)", want: docV2},
		{name: "--delete --target default", args: func() []string { return []string{"push", "--delete", "--target", "default"} }, code: 0,
			out: "deleted documents/default at revision", err: "no document is addressed to d1 any more", want: ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			if tt.before != nil {
				tt.before()
			}
			r := e.run(tt.args()...)
			t.Logf("stdout:\n%sstderr:\n%s", r.out, r.err)
			got, gotRev := e.get("documents/default")
			if gotRev != 0 {
				rev = gotRev
			}
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.out, r.err)
			}
			out := strings.ReplaceAll(tt.out, "REV", fmt.Sprint(rev))
			if !strings.Contains(r.out, out) || (out == "") != (r.out == "") {
				t.Errorf("stdout %q, want it to contain %q", r.out, out)
			}
			if want := strings.ReplaceAll(tt.err, "REV", fmt.Sprint(rev)); !strings.Contains(r.err, want) {
				t.Errorf("stderr %q, want it to contain %q", r.err, want)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("documents/default after the step (-want +got):\n%s", d)
			}
		})
	}
}

// TestPushConflictMessage: the message of a conflict says what happened
// and what to do next.
func TestPushConflictMessage(t *testing.T) {
	e := newEnv(t)
	v1 := e.file("lb.yaml", docV1)
	rev := e.put("documents/name/d1", docV2)
	r := e.mustRun(1, "push", "-f", v1, "--target", "d1", "--if-revision", "0")
	want := fmt.Sprintf("ipvsctl: someone else pushed documents/name/d1 (revision %d) since it was read as absent; nothing was pushed. "+
		"See what yours would change now with ipvsctl fleet diff -f lb.yaml, then push again (or --force to overwrite their push)\n", rev)
	// The command names the file as given; the test gives a full path.
	if d := cmp.Diff(want, strings.ReplaceAll(r.err, e.dir+"/", "")); d != "" {
		t.Errorf("stderr (-want +got):\n%s", d)
	}
	if got, _ := e.get("documents/name/d1"); got != docV2 {
		t.Errorf("documents/name/d1 changed: %q", got)
	}
}

// TestPushDaemons: --daemons writes daemons/NAME with the same
// compare-and-swap, and refuses a document that is not roles only.
func TestPushDaemons(t *testing.T) {
	e := newEnv(t)
	roles := e.file("roles.yaml", "apiVersion: ipvsctl/v1\ndaemons:\n  - {state: master, interface: eth0, syncID: 1}\n")
	svc := e.file("lb.yaml", docV1)
	for _, tt := range []struct {
		name string
		args []string
		code int
		out  string
		err  string
	}{
		{"needs a director", []string{"push", "--daemons", "-f", roles}, 1, "", "--daemons sets one director's sync daemons: give --target NAME"},
		{"services refused", []string{"push", "--daemons", "--target", "lb1", "-f", svc}, 1, "", "--daemons takes a document with a daemons section only"},
		{"roles pushed", []string{"push", "--daemons", "--target", "lb1", "-f", roles}, 0, "pushed roles.yaml to daemons/lb1 at revision", ""},
		{"conflict", []string{"push", "--daemons", "--target", "lb1", "-f", roles, "--if-revision", "0"}, 1, "", "someone else pushed daemons/lb1"},
		{"deleted", []string{"push", "--daemons", "--target", "lb1", "--delete"}, 0, "deleted daemons/lb1 at revision", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			r := e.run(tt.args...)
			if r.code != tt.code || !strings.Contains(r.out, tt.out) || !strings.Contains(r.err, tt.err) {
				t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit %d, stdout with %q, stderr with %q", r.code, r.out, r.err, tt.code, tt.out, tt.err)
			}
		})
	}
	if got, _ := e.get("daemons/lb1"); got != "" {
		t.Errorf("daemons/lb1 after --delete: %q", got)
	}
}
