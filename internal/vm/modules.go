package vm

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// DefaultModules are the kernel modules every guest loads, by module name:
// IPVS, the schedulers every supported kernel has, and the network devices
// the tests build networks from. Their dependencies are added and ordered
// by [ModuleTree.Resolve], so the list needs no particular order. A module
// the kernel has built in is fine; one it lacks is an error.
var DefaultModules = []string{
	"ip_vs",
	"ip_vs_rr", "ip_vs_wrr", "ip_vs_lc", "ip_vs_wlc", "ip_vs_lblc", "ip_vs_lblcr",
	"ip_vs_dh", "ip_vs_sh", "ip_vs_sed", "ip_vs_nq", "ip_vs_mh", "ip_vs_fo", "ip_vs_ovf",
	"veth", "dummy",
}

// OptionalModules are loaded when the kernel has them. crc32c_generic is
// listed because libcrc32c only soft-depends on a crc32c implementation,
// and without one nf_conntrack fails with "Unknown symbol crc32c" (kernels
// that build crc32c in need nothing); ip_vs_twos, the "random two choices"
// scheduler, is in newer kernels only (6.12 has it, 6.1 does not).
var OptionalModules = []string{"crc32c_generic", "ip_vs_twos"}

// FTPModules are loaded when [InitOptions.LoadFTP] is set. ip_vs_ftp changes
// how IPVS treats port 21, so it is off by default.
var FTPModules = []string{"ip_vs_ftp"}

// SIPModules are loaded when [InitOptions.LoadSIP] is set: the SIP
// persistence engine (ipvsadm --pe sip).
var SIPModules = []string{"ip_vs_pe_sip"}

// moduleExts are the module file endings of kernel packages: plain, and
// compressed as Debian 13 ships them.
var moduleExts = []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"}

// modName turns a module file name or path into its module name:
// "kernel/net/foo-bar.ko" gives "foo_bar".
func modName(p string) string {
	base := filepath.Base(p)
	for _, ext := range moduleExts {
		if strings.HasSuffix(base, ext) {
			base = strings.TrimSuffix(base, ext)
			break
		}
	}
	return strings.ReplaceAll(base, "-", "_")
}

// ModuleTree is the module directory of one extracted kernel package. Its
// modules are found by file name and their dependencies read from each
// module's own .modinfo section when needed: Debian's packages ship no
// modules.dep (depmod makes it at install time), and reading every module
// of a compressed tree would take minutes.
type ModuleTree struct {
	// Dir is the module directory, .../lib/modules/<version>.
	Dir string
	// files maps a module name to its path relative to Dir.
	files map[string]string
	// builtin holds the modules built into the kernel image.
	builtin map[string]bool
	// info caches the .modinfo of modules read so far.
	info map[string]*modinfo
}

// OpenModuleTree indexes the module files under dir by name and reads
// modules.builtin, if the package has one.
func OpenModuleTree(dir string) (*ModuleTree, error) {
	t := &ModuleTree{Dir: dir, files: map[string]string{}, builtin: map[string]bool{}, info: map[string]*modinfo{}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !isModuleFile(p) {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name := modName(rel)
		if old, ok := t.files[name]; !ok || rel < old {
			t.files[name] = filepath.ToSlash(rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scanning modules in %s: %w", dir, err)
	}
	if len(t.files) == 0 {
		return nil, fmt.Errorf("no kernel modules under %s", dir)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "modules.builtin")); err == nil {
		for _, l := range strings.Fields(string(b)) {
			t.builtin[modName(l)] = true
		}
	} else if !os.IsNotExist(err) {
		return nil, err
	}
	return t, nil
}

// isModuleFile reports whether p names a kernel module file.
func isModuleFile(p string) bool {
	for _, ext := range moduleExts {
		if strings.HasSuffix(p, ext) {
			return true
		}
	}
	return false
}

// Has reports whether the tree has the module as a file.
func (t *ModuleTree) Has(name string) bool {
	_, ok := t.files[modName(name)]
	return ok
}

// Builtin reports whether the kernel has the module built in.
func (t *ModuleTree) Builtin(name string) bool {
	return t.builtin[modName(name)]
}

// Path returns the module's file, relative to Dir ("" if there is none).
func (t *ModuleTree) Path(name string) string {
	return t.files[modName(name)]
}

// Contents returns the module file, decompressed: insmod takes plain .ko
// files only. xz and zstd files are decompressed by the xz and zstd
// programs.
func (t *ModuleTree) Contents(name string) ([]byte, error) {
	rel := t.Path(name)
	if rel == "" {
		return nil, fmt.Errorf("module %s not found under %s", name, t.Dir)
	}
	return readModuleFile(filepath.Join(t.Dir, rel))
}

// readModuleFile reads a module file, decompressing it by its name.
func readModuleFile(p string) ([]byte, error) {
	var prog string
	switch {
	case strings.HasSuffix(p, ".ko"):
		return os.ReadFile(p)
	case strings.HasSuffix(p, ".ko.gz"):
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return b, nil
	case strings.HasSuffix(p, ".ko.xz"):
		prog = "xz"
	case strings.HasSuffix(p, ".ko.zst"):
		prog = "zstd"
	default:
		return nil, fmt.Errorf("%s: not a kernel module file", p)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(prog, "-dc", p)
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("decompressing %s: no %s program (apt-get install %s)", p, prog, map[string]string{"xz": "xz-utils", "zstd": "zstd"}[prog])
		}
		return nil, fmt.Errorf("decompressing %s: %w: %s", p, err, strings.TrimSpace(stderr.String()))
	}
	return b, nil
}

// modinfo returns the module's .modinfo, read once.
func (t *ModuleTree) modinfo(name string) (*modinfo, error) {
	if mi, ok := t.info[name]; ok {
		return mi, nil
	}
	b, err := t.Contents(name)
	if err != nil {
		return nil, err
	}
	mi, err := readModinfo(b)
	if err != nil {
		return nil, fmt.Errorf("module %s (%s): %w", name, t.Path(name), err)
	}
	t.info[name] = mi
	return mi, nil
}

// Resolve returns the modules to load, dependencies first, so that loading
// them with insmod in the returned order succeeds: the required and the
// optional modules (by name) and everything they need, each once. A
// required module the kernel has neither as a file nor built in is an
// error; an optional one is left out. Built-in modules are never listed.
//
// Hard dependencies come from each module's "depends". A soft "pre"
// dependency is satisfied by a module of that name, else by one of the
// wanted modules that declares it as an alias (libcrc32c's "crc32c" by
// crc32c_generic), else it is skipped: the kernel may provide it built in.
func (t *ModuleTree) Resolve(required, optional []string) ([]string, error) {
	var wanted []string
	for _, w := range required {
		w = modName(w)
		if !t.Has(w) && !t.Builtin(w) {
			return nil, fmt.Errorf("module %s is neither in %s nor built into the kernel", w, t.Dir)
		}
		wanted = append(wanted, w)
	}
	for _, w := range optional {
		if w = modName(w); t.Has(w) || t.Builtin(w) {
			wanted = append(wanted, w)
		}
	}
	// An alias a wanted module declares satisfies a soft dependency:
	// read those modules first.
	aliasOf := map[string]string{}
	for _, w := range wanted {
		if !t.Has(w) {
			continue
		}
		mi, err := t.modinfo(w)
		if err != nil {
			return nil, err
		}
		for _, a := range mi.aliases {
			if _, ok := aliasOf[a]; !ok {
				aliasOf[a] = w
			}
		}
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var order []string
	var visit func(name string, chain []string) error
	visit = func(name string, chain []string) error {
		switch state[name] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("module dependency cycle: %s -> %s", strings.Join(chain, " -> "), name)
		}
		if !t.Has(name) {
			if t.Builtin(name) {
				state[name] = done
				return nil
			}
			return fmt.Errorf("module %s (needed by %s) is neither in %s nor built into the kernel",
				name, strings.Join(chain, " <- "), t.Dir)
		}
		state[name] = visiting
		next := append(append([]string(nil), chain...), name)
		mi, err := t.modinfo(name)
		if err != nil {
			return err
		}
		for _, soft := range mi.softPre {
			m := modName(soft)
			if !t.Has(m) {
				m = aliasOf[soft]
			}
			if m != "" && m != name {
				if err := visit(m, next); err != nil {
					return err
				}
			}
		}
		for _, d := range mi.depends {
			if err := visit(d, next); err != nil {
				return err
			}
		}
		state[name] = done
		order = append(order, name)
		return nil
	}
	for _, w := range wanted {
		if err := visit(w, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// modinfo is the part of a module's .modinfo section the index needs.
type modinfo struct {
	depends []string
	softPre []string
	aliases []string
}

// readModinfo reads the .modinfo section of an uncompressed module.
func readModinfo(ko []byte) (*modinfo, error) {
	f, err := elf.NewFile(bytes.NewReader(ko))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, errors.New("no .modinfo section")
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("reading .modinfo: %w", err)
	}
	return parseModinfo(data), nil
}

// parseModinfo parses the NUL-separated key=value strings of .modinfo.
func parseModinfo(data []byte) *modinfo {
	mi := &modinfo{}
	for _, kv := range bytes.Split(data, []byte{0}) {
		k, v, ok := strings.Cut(string(kv), "=")
		if !ok {
			continue
		}
		switch k {
		case "depends":
			for _, d := range strings.Split(v, ",") {
				if d = strings.TrimSpace(d); d != "" {
					mi.depends = append(mi.depends, modName(d))
				}
			}
		case "softdep":
			pre := false
			for _, w := range strings.Fields(v) {
				switch w {
				case "pre:":
					pre = true
				case "post:":
					pre = false
				default:
					if pre {
						mi.softPre = append(mi.softPre, w)
					}
				}
			}
		case "alias":
			// Wildcard aliases (pci:..., usb:...) match hardware, never
			// a soft dependency: leave them out.
			if v != "" && !strings.ContainsAny(v, "*?[") {
				mi.aliases = append(mi.aliases, v)
			}
		}
	}
	return mi
}

// writeFileAtomic writes data to a temporary file beside path and renames it
// into place.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	name := tmp.Name()
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(name, perm)
	}
	if werr == nil {
		werr = os.Rename(name, path)
	}
	if werr != nil {
		os.Remove(name)
		return fmt.Errorf("writing %s: %w", path, werr)
	}
	return nil
}
