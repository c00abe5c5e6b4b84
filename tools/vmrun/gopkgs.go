package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ipvs-tools/ipvs/internal/vm"
)

// multiCallLinks lists, per command built from ./cmd/NAME, the extra names
// under which it is installed in the guest's /usr/local/sbin (as symlinks
// to it), for programs that act on the name they are called by.
var multiCallLinks = map[string][]string{
	"ipvsadm": {"ipvsadm-save", "ipvsadm-restore"},
}

// module describes the main module.
type module struct {
	Path string // module path
	Dir  string // root directory
}

// goPackage is the part of go list -json output vmrun needs.
type goPackage struct {
	ImportPath   string
	Dir          string
	Name         string
	TestGoFiles  []string
	XTestGoFiles []string
}

// runGo runs the go command in dir with extra environment entries and
// returns its standard output.
func runGo(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// findModule returns the main module of the directory dir.
func findModule(ctx context.Context, dir string) (*module, error) {
	out, err := runGo(ctx, dir, nil, "list", "-m", "-json")
	if err != nil {
		return nil, err
	}
	var m module
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, fmt.Errorf("parsing go list -m output: %w", err)
	}
	if m.Dir == "" || m.Path == "" {
		return nil, errors.New("not inside a Go module")
	}
	return &m, nil
}

// listPackages runs go list on patterns (relative to dir).
func listPackages(ctx context.Context, dir string, patterns []string) ([]goPackage, error) {
	args := append([]string{"list", "-e", "-json=ImportPath,Dir,Name,TestGoFiles,XTestGoFiles"}, patterns...)
	out, err := runGo(ctx, dir, nil, args...)
	if err != nil {
		return nil, err
	}
	var pkgs []goPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p goPackage
		err := dec.Decode(&p)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parsing go list output: %w", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// relPath returns the import path relative to the module path ("." for
// the module root package).
func (m *module) relPath(importPath string) string {
	if importPath == m.Path {
		return "."
	}
	if r, ok := strings.CutPrefix(importPath, m.Path+"/"); ok {
		return r
	}
	return importPath
}

// flatName turns a relative package path into a file name:
// "internal/vm/vmtest" gives "internal_vm_vmtest".
func flatName(rel string) string {
	if rel == "." {
		return "root"
	}
	return strings.NewReplacer("/", "_", ".", "_").Replace(rel)
}

// vmFunc is a TestVM or BenchmarkVM function of a package and what its
// directives say. Directives are comment lines in the function's doc
// comment:
//
//	//vmtest:kernels all        run on every pinned kernel
//	//vmtest:kernels 5.10 6.12  run on these (the default kernel: only there)
//	//vmtest:budget 5m          the job's time limit (default defaultBudget)
type vmFunc struct {
	Name string
	// Kernels are the kernels the function runs on by default; nil means
	// vm.DefaultKernel only.
	Kernels []string
	// Budget is the function's time limit in the guest.
	Budget time.Duration
}

// defaultBudget is the time limit of a VM test that declares none.
const defaultBudget = time.Minute

// directivePrefix starts a vmrun directive comment.
const directivePrefix = "//vmtest:"

// vmFuncs returns the functions whose names start with prefix ("TestVM"
// or "BenchmarkVM") declared in the package's test files, sorted by name,
// with their directives.
func vmFuncs(p goPackage, prefix string) ([]vmFunc, error) {
	fset := token.NewFileSet()
	var funcs []vmFunc
	for _, f := range append(append([]string(nil), p.TestGoFiles...), p.XTestGoFiles...) {
		file, err := parser.ParseFile(fset, filepath.Join(p.Dir, f), nil, parser.SkipObjectResolution|parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", f, err)
		}
		for _, d := range file.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil || !strings.HasPrefix(fd.Name.Name, prefix) {
				continue
			}
			fn := vmFunc{Name: fd.Name.Name, Budget: defaultBudget}
			if fd.Doc != nil {
				for _, c := range fd.Doc.List {
					if err := fn.directive(c.Text); err != nil {
						return nil, fmt.Errorf("%s: %s: %w", fset.Position(c.Pos()), fn.Name, err)
					}
				}
			}
			funcs = append(funcs, fn)
		}
	}
	sort.Slice(funcs, func(i, j int) bool { return funcs[i].Name < funcs[j].Name })
	return funcs, nil
}

// directive applies one comment line, if it is a directive.
func (fn *vmFunc) directive(text string) error {
	rest, ok := strings.CutPrefix(text, directivePrefix)
	if !ok {
		return nil
	}
	f := strings.Fields(rest)
	if len(f) < 2 {
		return fmt.Errorf("directive %q: want %skernels or %sbudget with arguments", text, directivePrefix, directivePrefix)
	}
	switch f[0] {
	case "kernels":
		if len(f) == 2 && f[1] == "all" {
			fn.Kernels = vm.KernelNames()
			return nil
		}
		fn.Kernels = nil
		for _, k := range f[1:] {
			if _, err := vm.LookupKernel(k); err != nil {
				return err
			}
			fn.Kernels = append(fn.Kernels, k)
		}
	case "budget":
		d, err := time.ParseDuration(f[1])
		if len(f) != 2 || err != nil || d <= 0 {
			return fmt.Errorf("directive %q: want one positive duration, such as 5m", text)
		}
		fn.Budget = d
	default:
		return fmt.Errorf("unknown directive %q (known: %skernels, %sbudget)", text, directivePrefix, directivePrefix)
	}
	return nil
}

// funcNames returns the names of funcs.
func funcNames(funcs []vmFunc) []string {
	names := make([]string, len(funcs))
	for i, f := range funcs {
		names[i] = f.Name
	}
	return names
}

// filterFuncs keeps the functions whose names the top-level part (before
// the first "/") of a go test -run pattern matches. An empty pattern keeps
// all.
func filterFuncs(funcs []vmFunc, pattern string) ([]vmFunc, error) {
	if pattern == "" {
		return funcs, nil
	}
	top, _, _ := strings.Cut(pattern, "/")
	re, err := regexp.Compile(top)
	if err != nil {
		return nil, fmt.Errorf("-run %q: %w", pattern, err)
	}
	var out []vmFunc
	for _, f := range funcs {
		if re.MatchString(f.Name) {
			out = append(out, f)
		}
	}
	return out, nil
}

// runPattern builds the -test.run argument that selects exactly the given
// top-level tests, keeping any subtest part of the user's pattern.
func runPattern(names []string, userPattern string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = regexp.QuoteMeta(n)
	}
	p := "^(" + strings.Join(quoted, "|") + ")$"
	if _, sub, ok := strings.Cut(userPattern, "/"); ok {
		p += "/" + sub
	}
	return p
}

// vmPackage is a package whose VM tests (or benchmarks) will run.
type vmPackage struct {
	pkg   goPackage
	rel   string
	flat  string
	funcs []vmFunc // the selected TestVM (BenchmarkVM) functions
}

// findVMPackages lists the packages matching patterns that declare
// functions starting with prefix ("TestVM" or "BenchmarkVM") matched by
// runFilter.
func findVMPackages(ctx context.Context, m *module, dir string, patterns []string, prefix, runFilter string) ([]vmPackage, error) {
	pkgs, err := listPackages(ctx, dir, patterns)
	if err != nil {
		return nil, err
	}
	var out []vmPackage
	flats := map[string]bool{}
	for _, p := range pkgs {
		if len(p.TestGoFiles)+len(p.XTestGoFiles) == 0 {
			continue
		}
		funcs, err := vmFuncs(p, prefix)
		if err != nil {
			return nil, fmt.Errorf("package %s: %w", p.ImportPath, err)
		}
		if funcs, err = filterFuncs(funcs, runFilter); err != nil {
			return nil, err
		}
		if len(funcs) == 0 {
			continue
		}
		rel := m.relPath(p.ImportPath)
		// "a/b_c" and "a_b/c" flatten alike: number the later one.
		flat := flatName(rel)
		for i := 2; flats[flat]; i++ {
			flat = fmt.Sprintf("%s_%d", flatName(rel), i)
		}
		flats[flat] = true
		out = append(out, vmPackage{pkg: p, rel: rel, flat: flat, funcs: funcs})
	}
	return out, nil
}

// buildTestBinary builds a static test binary of the package into outDir.
// It returns "" if the package produced none (no test files).
func buildTestBinary(ctx context.Context, dir, outDir string, p vmPackage) (string, error) {
	out := filepath.Join(outDir, p.flat+".test")
	if _, err := runGo(ctx, dir, []string{"CGO_ENABLED=0"}, "test", "-c", "-o", out, p.pkg.ImportPath); err != nil {
		return "", err
	}
	if _, err := os.Stat(out); err != nil {
		return "", nil
	}
	return out, nil
}

// mainCmd is a main package under ./cmd.
type mainCmd struct {
	ImportPath string
	Name       string // binary name: the last import path element
}

// hostOnlyTools are the main packages under ./tools that only make sense
// on the host and are not installed in the guest.
var hostOnlyTools = map[string]bool{"vmrun": true, "goldens": true}

// listCmds returns the main packages under the module's cmd directory
// (the product) and under tools (developer tools used in the guest, such
// as ipvsbench), or none if there are no such directories.
func listCmds(ctx context.Context, m *module) ([]mainCmd, error) {
	var patterns []string
	for _, dir := range []string{"cmd", "tools"} {
		if st, err := os.Stat(filepath.Join(m.Dir, dir)); err == nil && st.IsDir() {
			patterns = append(patterns, "./"+dir+"/...")
		}
	}
	if len(patterns) == 0 {
		return nil, nil
	}
	pkgs, err := listPackages(ctx, m.Dir, patterns)
	if err != nil {
		return nil, err
	}
	var cmds []mainCmd
	for _, p := range pkgs {
		name := path.Base(p.ImportPath)
		if p.Name != "main" || hostOnlyTools[name] {
			continue
		}
		cmds = append(cmds, mainCmd{ImportPath: p.ImportPath, Name: name})
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	return cmds, nil
}

// builtCmd is a command binary built for the guest.
type builtCmd struct {
	Name  string
	Host  string   // built binary
	Links []string // extra names in the guest
}

// buildCmds builds every main package under ./cmd statically into outDir.
func buildCmds(ctx context.Context, m *module, outDir string) ([]builtCmd, error) {
	cmds, err := listCmds(ctx, m)
	if err != nil {
		return nil, err
	}
	if len(cmds) == 0 {
		return nil, nil
	}
	// One go build for all (it builds them in parallel), without symbol
	// tables: every guest's initramfs carries them, and a smaller one
	// boots faster. Stack traces keep their function names. The
	// packages are compiled as the test binaries' are (CGO_ENABLED=0, no
	// -trimpath), so that each is compiled once for both, and once more
	// only if the host's go test runs with cgo (scripts/test.sh does
	// not).
	args := []string{"build", "-ldflags=-s -w", "-o", outDir + string(filepath.Separator)}
	for _, c := range cmds {
		args = append(args, c.ImportPath)
	}
	if _, err := runGo(ctx, m.Dir, []string{"CGO_ENABLED=0"}, args...); err != nil {
		return nil, err
	}
	var built []builtCmd
	for _, c := range cmds {
		built = append(built, builtCmd{Name: c.Name, Host: filepath.Join(outDir, c.Name), Links: multiCallLinks[c.Name]})
	}
	return built, nil
}
