package vmtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Golden files hold a command's expected Result. Byte counts make trailing
// blanks and missing newlines exact:
//
//	exit <status>
//	--- stdout <n>
//	<n bytes>--- stderr <n>
//	<n bytes>
//
// That is the result on the default kernel (6.1). Where the reference
// prints something else on another kernel, a section for that kernel
// follows, and only then:
//
//	=== kernel <name>
//	exit <status>
//	...
type Golden struct {
	// Default is the result on the default kernel, and on every kernel
	// without a section of its own.
	Default Result
	// Kernels holds the results that differ from Default, by kernel name.
	Kernels map[string]Result
}

// goldenKernelMarker starts a kernel's section.
const goldenKernelMarker = "=== kernel "

// For returns the expected result on the named kernel.
func (g *Golden) For(kernel string) Result {
	if r, ok := g.Kernels[kernel]; ok {
		return r
	}
	return g.Default
}

// Set records r as the result on kernel; defaultKernel's result is
// Default. A section equal to Default is dropped.
func (g *Golden) Set(kernel, defaultKernel string, r Result) {
	if kernel == defaultKernel {
		g.Default = r
	} else {
		if g.Kernels == nil {
			g.Kernels = map[string]Result{}
		}
		g.Kernels[kernel] = r
	}
	for k, kr := range g.Kernels {
		if kr == g.Default {
			delete(g.Kernels, k)
		}
	}
}

// Encode writes g in the golden format, kernel sections sorted by name.
func (g *Golden) Encode() []byte {
	var b bytes.Buffer
	encodeResult(&b, g.Default)
	names := make([]string, 0, len(g.Kernels))
	for k := range g.Kernels {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		fmt.Fprintf(&b, "%s%s\n", goldenKernelMarker, k)
		encodeResult(&b, g.Kernels[k])
	}
	return b.Bytes()
}

// EncodeResult writes one result in the golden format.
func EncodeResult(r Result) []byte {
	var b bytes.Buffer
	encodeResult(&b, r)
	return b.Bytes()
}

func encodeResult(w io.Writer, r Result) {
	fmt.Fprintf(w, "exit %d\n--- stdout %d\n%s--- stderr %d\n%s", r.Code, len(r.Stdout), r.Stdout, len(r.Stderr), r.Stderr)
}

// ParseGolden reads the golden format.
func ParseGolden(b []byte) (*Golden, error) {
	g := &Golden{}
	r, rest, err := parseResult(string(b))
	if err != nil {
		return nil, err
	}
	g.Default = r
	for rest != "" {
		line, after, ok := strings.Cut(rest, "\n")
		k, isKernel := strings.CutPrefix(line, goldenKernelMarker)
		if !ok || !isKernel || k == "" {
			return nil, fmt.Errorf("want %q or the end after a result, got %q", goldenKernelMarker+"NAME", line)
		}
		if _, dup := g.Kernels[k]; dup {
			return nil, fmt.Errorf("kernel %s has two sections", k)
		}
		if r, rest, err = parseResult(after); err != nil {
			return nil, fmt.Errorf("kernel %s: %w", k, err)
		}
		if g.Kernels == nil {
			g.Kernels = map[string]Result{}
		}
		g.Kernels[k] = r
	}
	return g, nil
}

// ParseResult reads one result in the golden format, with nothing after
// it.
func ParseResult(b []byte) (Result, error) {
	r, rest, err := parseResult(string(b))
	if err == nil && rest != "" {
		err = fmt.Errorf("%d trailing bytes", len(rest))
	}
	return r, err
}

// parseResult reads one result and returns what follows it.
func parseResult(s string) (Result, string, error) {
	var r Result
	line, rest, ok := strings.Cut(s, "\n")
	if !ok || !strings.HasPrefix(line, "exit ") {
		return r, "", fmt.Errorf("no exit line")
	}
	code, err := strconv.Atoi(strings.TrimPrefix(line, "exit "))
	if err != nil {
		return r, "", err
	}
	r.Code = code
	for _, part := range []struct {
		name string
		dst  *string
	}{{"stdout", &r.Stdout}, {"stderr", &r.Stderr}} {
		line, rest2, ok := strings.Cut(rest, "\n")
		f := strings.Fields(line)
		if !ok || len(f) != 3 || f[0] != "---" || f[1] != part.name {
			return r, "", fmt.Errorf("bad section header %q", line)
		}
		n, err := strconv.Atoi(f[2])
		if err != nil || n < 0 || n > len(rest2) {
			return r, "", fmt.Errorf("bad length in %q", line)
		}
		*part.dst = rest2[:n]
		rest = rest2[n:]
	}
	return r, rest, nil
}

// GoldenMarker starts the console line on which a VM test in -update mode
// prints a result for tools/goldens:
//
//	@@@GOLDEN <path> <kernel> <sha256 prefix> <base64 of the result>
const GoldenMarker = "@@@GOLDEN "

// PrintGolden prints the result r of the golden file at path (relative to
// the package) on the running kernel, for tools/goldens to merge into the
// file on the host.
func PrintGolden(path string, r Result) {
	fprintGolden(os.Stdout, path, Kernel(), r)
}

func fprintGolden(w io.Writer, path, kernel string, r Result) {
	content := EncodeResult(r)
	sum := sha256.Sum256(content)
	fmt.Fprintf(w, "%s%s %s %s %s\n", GoldenMarker, path, kernel, hex.EncodeToString(sum[:8]), base64.StdEncoding.EncodeToString(content))
}

// ParseGoldenLine reads a line printed by PrintGolden (anything before the
// marker is ignored). ok is false for lines without the marker.
func ParseGoldenLine(line string) (path, kernel string, r Result, ok bool, err error) {
	i := strings.Index(line, GoldenMarker)
	if i < 0 {
		return "", "", Result{}, false, nil
	}
	f := strings.Fields(line[i:])
	if len(f) != 5 {
		return "", "", Result{}, true, fmt.Errorf("malformed line %q", line)
	}
	path, kernel = f[1], f[2]
	content, err := base64.StdEncoding.DecodeString(f[4])
	h := sha256.Sum256(content)
	if err != nil || hex.EncodeToString(h[:8]) != f[3] {
		return path, kernel, Result{}, true, fmt.Errorf("%s (kernel %s): corrupted on the console", path, kernel)
	}
	r, err = ParseResult(content)
	return path, kernel, r, true, err
}

// WantGolden returns the result the golden file at path expects on the
// running kernel; a missing or malformed file fails the test.
func WantGolden(t testing.TB, path string) Result {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	g, err := ParseGolden(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return g.For(Kernel())
}
