// Command goldens writes golden files printed by VM tests run in -update
// mode back into the source tree. The tests print one line per file and
// kernel (vmtest.PrintGolden):
//
//	@@@GOLDEN <path relative to the package> <kernel> <sha256 prefix> <base64 result>
//
// Each file keeps the default kernel's result first and a section for every
// kernel whose result differs from it (see vmtest.Golden); results for
// kernels that were not run are kept as the file has them.
//
// Usage (from the module root), for every pinned kernel:
//
//	go run ./tools/vmrun test -v -kernel all -testarg -update -run TestVMGolden ./cmd/ipvsadm | go run ./tools/goldens -dir cmd/ipvsadm
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
)

func main() {
	dir := "cmd/ipvsadm"
	args := os.Args[1:]
	if len(args) == 2 && args[0] == "-dir" {
		dir = args[1]
	} else if len(args) != 0 {
		fmt.Fprintln(os.Stderr, "usage: goldens [-dir PACKAGE-DIR] < vmrun output")
		os.Exit(2)
	}
	os.Exit(run(os.Stdin, os.Stdout, os.Stderr, dir))
}

// received is one result read from the console.
type received struct {
	kernel string
	result vmtest.Result
}

// run reads the console lines from in and writes the golden files under
// dir; it returns the exit status.
func run(in io.Reader, stdout, stderr io.Writer, dir string) int {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	byPath := map[string][]received{}
	bad := 0
	for sc.Scan() {
		path, kernel, r, ok, err := vmtest.ParseGoldenLine(strings.TrimRight(sc.Text(), "\r"))
		if !ok {
			continue
		}
		if err != nil {
			fmt.Fprintf(stderr, "goldens: %v\n", err)
			bad++
			continue
		}
		if filepath.IsAbs(path) || strings.Contains(path, "..") || kernel == "" {
			fmt.Fprintf(stderr, "goldens: refusing %s (kernel %q)\n", path, kernel)
			bad++
			continue
		}
		byPath[path] = append(byPath[path], received{kernel, r})
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(stderr, "goldens: %v\n", err)
		bad++
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	n := 0
	for _, rel := range paths {
		path := filepath.Join(dir, rel)
		g := &vmtest.Golden{}
		old, err := os.ReadFile(path)
		if err == nil {
			if g, err = vmtest.ParseGolden(old); err != nil {
				fmt.Fprintf(stderr, "goldens: %s: %v\n", path, err)
				bad++
				continue
			}
		}
		// The default kernel's result first: the others are kept only
		// where they differ from it.
		recs := byPath[rel]
		sort.SliceStable(recs, func(i, j int) bool {
			return recs[i].kernel == vmtest.DefaultKernel && recs[j].kernel != vmtest.DefaultKernel
		})
		if len(old) == 0 && recs[0].kernel != vmtest.DefaultKernel {
			fmt.Fprintf(stderr, "goldens: %s is new: run kernel %s too, whose result comes first\n", path, vmtest.DefaultKernel)
			bad++
			continue
		}
		for _, r := range recs {
			g.Set(r.kernel, vmtest.DefaultKernel, r.result)
		}
		content := g.Encode()
		n++
		if bytes.Equal(old, content) {
			continue
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			fmt.Fprintf(stderr, "goldens: %v\n", err)
			bad++
			continue
		}
		fmt.Fprintf(stdout, "wrote %s\n", path)
	}
	fmt.Fprintf(stdout, "goldens: %d files, %d problems\n", n, bad)
	if bad > 0 || n == 0 {
		return 1
	}
	return 0
}
