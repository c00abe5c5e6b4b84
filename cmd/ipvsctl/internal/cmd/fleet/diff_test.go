package fleet

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fleet"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
)

// docV0 is an older default document: one server less.
const docV0 = "apiVersion: ipvsctl/v1\nservices:\n  - protocol: tcp\n    address: 10.0.0.9\n    port: 80\n    destinations:\n      - {address: 192.168.0.1, port: 80}\n"

// diffFleet fills a store: d1 and d2 run the default document, d4 an
// older revision of it, d3 its own document, d5 nothing yet.
func diffFleet(e *env) (old, cur int64) {
	old = e.put("documents/default", docV0)
	cur = e.put("documents/default", docV1)
	e.put("documents/name/d3", docV1)
	for _, n := range []string{"d1", "d2"} {
		e.report(n, nil, &fleet.DirectorStatus{State: fleet.StateInSync, Document: "documents/default", Revision: cur,
			WantDocument: "documents/default", WantRevision: cur})
	}
	e.report("d3", nil, &fleet.DirectorStatus{State: fleet.StateInSync, Document: "documents/name/d3", Revision: cur + 1})
	e.report("d4", nil, &fleet.DirectorStatus{State: fleet.StateApplying, Document: "documents/default", Revision: old,
		WantDocument: "documents/default", WantRevision: cur})
	e.report("d5", nil, nil)
	return old, cur
}

// TestDiffGrouped: one plan per document revision the directors run,
// with their names; the directors it does not address say what they
// keep; the key's revision is printed for push --if-revision.
func TestDiffGrouped(t *testing.T) {
	e := newEnv(t)
	diffFleet(e)
	v2 := e.file("lb2.yaml", docV2)
	r := e.mustRun(2, "diff", "-f", v2)
	testutil.Golden(t, "fleet-diff.txt", []byte(r.out))

	// The same document as d1 and d2 run: nothing to change for them.
	v1 := e.file("lb.yaml", docV1)
	r = e.mustRun(2, "diff", "-f", v1)
	if want := "d1, d2 (running documents/default revision 3):\n  No changes: its table would stay as it is.\n"; !strings.Contains(r.out, want) {
		t.Errorf("diff of the running document:\n%s\nwant it to contain:\n%s", r.out, want)
	}
	// To d3 by name: only d3 is addressed.
	r = e.mustRun(0, "diff", "-f", v1, "--target", "d3")
	for _, want := range []string{"d3 (running documents/name/d3 revision 4):\n  No changes", "d1 is not addressed: it keeps documents/default\n"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("diff --target d3:\n%s\nwant it to contain %q", r.out, want)
		}
	}
}

// TestDiffCompacted: a director whose revision was compacted away is
// compared with the key's current value, and the output says so.
func TestDiffCompacted(t *testing.T) {
	e := newEnv(t)
	old, cur := diffFleet(e)
	e.srv.Compact(t)
	v2 := e.file("lb2.yaml", docV2)
	r := e.mustRun(2, "diff", "-f", v2)
	want := fmt.Sprintf("d4 (running documents/default revision %d):\n  note: revision %d was compacted away; compared with the key's current value (revision %d)\n", old, old, cur)
	if !strings.Contains(r.out, want) {
		t.Errorf("diff after compaction:\n%s\nwant it to contain:\n%s", r.out, want)
	}
}

// TestDiffBadDocument: a bad document is refused with its line, nothing
// compared.
func TestDiffBadDocument(t *testing.T) {
	e := newEnv(t)
	r := e.mustRun(1, "diff", "-f", e.file("bad.yaml", docBad))
	if want := "bad.yaml:5: services[0].port: want a number in 0..65535, not 99999\nipvsctl: bad.yaml: 1 error; nothing was compared\n"; r.err != want || r.out != "" {
		t.Errorf("stdout %q stderr %q, want stderr %q", r.out, r.err, want)
	}
}
