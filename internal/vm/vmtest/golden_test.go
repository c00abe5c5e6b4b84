package vmtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs/internal/vm"
)

func TestGoldenFormat(t *testing.T) {
	def := Result{Code: 0, Stdout: "IP Virtual Server\n", Stderr: ""}
	k612 := Result{Code: 0, Stdout: "", Stderr: "no newline"}
	k510 := Result{Code: 255, Stdout: "", Stderr: "Scheduler or persistence engine not found\n"}
	g := &Golden{}
	g.Set("6.12", "6.1", k612)
	g.Set("5.10", "6.1", k510)
	g.Set("6.1", "6.1", def)
	want := "exit 0\n--- stdout 18\nIP Virtual Server\n--- stderr 0\n" +
		"=== kernel 5.10\nexit 255\n--- stdout 0\n--- stderr 42\nScheduler or persistence engine not found\n" +
		"=== kernel 6.12\nexit 0\n--- stdout 0\n--- stderr 10\nno newline"
	if d := cmp.Diff(want, string(g.Encode())); d != "" {
		t.Fatalf("Encode (-want +got):\n%s", d)
	}
	back, err := ParseGolden([]byte(want))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(g, back); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
	for kernel, r := range map[string]Result{"6.1": def, "5.10": k510, "6.12": k612, "7.0": def, "": def} {
		if got := back.For(kernel); got != r {
			t.Errorf("For(%q) = %+v, want %+v", kernel, got, r)
		}
	}
	// A kernel whose result comes to equal the default loses its section.
	back.Set("6.12", "6.1", def)
	if _, ok := back.Kernels["6.12"]; ok {
		t.Error("a section equal to the default is kept")
	}
	// So do sections equal to a new default.
	back.Set("6.1", "6.1", k510)
	if len(back.Kernels) != 0 {
		t.Errorf("sections left: %v", back.Kernels)
	}
	// A file with only the default result reads as before.
	plain := EncodeResult(def)
	if g, err := ParseGolden(plain); err != nil || g.Default != def || len(g.Kernels) != 0 {
		t.Errorf("plain file: %+v %v", g, err)
	}
}

func TestGoldenParseErrors(t *testing.T) {
	ok := "exit 0\n--- stdout 0\n--- stderr 0\n"
	for _, c := range []struct{ name, in, want string }{
		{"empty", "", "no exit line"},
		{"bad header", "exit 0\n--- stdin 0\n--- stderr 0\n", "bad section header"},
		{"long", "exit 0\n--- stdout 99\n--- stderr 0\n", "bad length"},
		{"trailing", ok + "junk\n", "want \"=== kernel NAME\""},
		{"twice", ok + "=== kernel 5.10\n" + ok + "=== kernel 5.10\n" + ok, "kernel 5.10 has two sections"},
		{"broken section", ok + "=== kernel 5.10\nexit x\n", "kernel 5.10"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseGolden([]byte(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	if _, err := ParseResult([]byte(ok + "x")); err == nil {
		t.Error("ParseResult took trailing bytes")
	}
}

func TestGoldenLine(t *testing.T) {
	r := Result{Code: 2, Stdout: "a b\n", Stderr: "c"}
	var b strings.Builder
	fprintGolden(&b, "testdata/x.golden", "6.12", r)
	line := b.String()
	path, kernel, got, ok, err := ParseGoldenLine("[g1 6.12] " + strings.TrimSuffix(line, "\n"))
	if err != nil || !ok || path != "testdata/x.golden" || kernel != "6.12" || got != r {
		t.Fatalf("ParseGoldenLine(%q) = %q %q %+v %v %v", line, path, kernel, got, ok, err)
	}
	if _, _, _, ok, _ := ParseGoldenLine("PASS"); ok {
		t.Error("a line without the marker was taken")
	}
	corrupt := strings.Replace(line, " 6.12 ", " 6.12 00", 1)
	if _, _, _, ok, err := ParseGoldenLine(corrupt); !ok || err == nil {
		t.Errorf("corrupted line: ok=%v err=%v", ok, err)
	}
}

func TestWantGolden(t *testing.T) {
	g := &Golden{}
	g.Set("6.1", "6.1", Result{Stdout: "default\n"})
	g.Set("6.12", "6.1", Result{Stdout: "newer\n"})
	p := filepath.Join(t.TempDir(), "x.golden")
	if err := os.WriteFile(p, g.Encode(), 0o644); err != nil {
		t.Fatal(err)
	}
	for kernel, want := range map[string]string{"6.12": "newer\n", "5.10": "default\n", "6.1": "default\n"} {
		t.Setenv(vm.EnvKernel, kernel)
		if got := WantGolden(t, p); got.Stdout != want {
			t.Errorf("kernel %s: %q, want %q", kernel, got.Stdout, want)
		}
	}
}
