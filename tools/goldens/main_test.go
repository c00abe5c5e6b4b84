package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
)

// line is what vmtest.PrintGolden prints, with a guest prefix.
func line(path, kernel string, r vmtest.Result) string {
	c := vmtest.EncodeResult(r)
	sum := sha256.Sum256(c)
	return fmt.Sprintf("[g1 %s] %s%s %s %s %s\n", kernel, vmtest.GoldenMarker, path, kernel, hex.EncodeToString(sum[:8]), base64.StdEncoding.EncodeToString(c))
}

func TestMerge(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "testdata"), 0o755); err != nil {
		t.Fatal(err)
	}
	ok := vmtest.Result{Stdout: "TCP  10.0.0.1:80 twos\n"}
	missing := vmtest.Result{Code: 255, Stderr: "Scheduler or persistence engine not found\n"}
	// A new file from all three kernels: the default kernel's result
	// first, a section for the one that differs.
	in := line("testdata/a.golden", "5.10", missing) + "noise\n" + line("testdata/a.golden", "6.1", missing) + line("testdata/a.golden", "6.12", ok)
	var out, errb bytes.Buffer
	if code := run(strings.NewReader(in), &out, &errb, dir); code != 0 {
		t.Fatalf("exit %d: %s%s", code, out.String(), errb.String())
	}
	got, err := os.ReadFile(filepath.Join(dir, "testdata/a.golden"))
	if err != nil {
		t.Fatal(err)
	}
	want := string(vmtest.EncodeResult(missing)) + "=== kernel 6.12\n" + string(vmtest.EncodeResult(ok))
	if d := cmp.Diff(want, string(got)); d != "" {
		t.Errorf("merged file (-want +got):\n%s", d)
	}
	// A run on one kernel changes only its section.
	in = line("testdata/a.golden", "6.12", missing)
	if code := run(strings.NewReader(in), &out, &errb, dir); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	got, _ = os.ReadFile(filepath.Join(dir, "testdata/a.golden"))
	if string(got) != string(vmtest.EncodeResult(missing)) {
		t.Errorf("after 6.12 came to agree:\n%s", got)
	}
	// A new file without the default kernel's result is refused, and so
	// are paths out of the package and corrupted lines.
	errb.Reset()
	bad := line("testdata/b.golden", "5.10", ok) + line("../x.golden", "6.1", ok) +
		strings.Replace(line("testdata/c.golden", "6.1", ok), " 6.1 ", " 6.1 ff", 1)
	if code := run(strings.NewReader(bad), &out, &errb, dir); code != 1 {
		t.Errorf("bad input: exit %d", code)
	}
	for _, w := range []string{"testdata/b.golden is new: run kernel 6.1 too", "refusing ../x.golden", "corrupted on the console"} {
		if !strings.Contains(errb.String(), w) {
			t.Errorf("stderr lacks %q:\n%s", w, errb.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "testdata/b.golden")); err == nil {
		t.Error("b.golden written")
	}
}
