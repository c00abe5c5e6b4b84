package vm

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultModules are the kernel modules every guest loads, by module name.
// Their dependencies are added and ordered by [ResolveModules], so the list
// needs no particular order. crc32c_generic is listed because libcrc32c
// only soft-depends on a crc32c implementation, and without one
// nf_conntrack fails with "Unknown symbol crc32c".
var DefaultModules = []string{
	"crc32c_generic",
	"ip_vs",
	"ip_vs_rr", "ip_vs_wrr", "ip_vs_lc", "ip_vs_wlc", "ip_vs_lblc", "ip_vs_lblcr",
	"ip_vs_dh", "ip_vs_sh", "ip_vs_sed", "ip_vs_nq", "ip_vs_mh", "ip_vs_fo", "ip_vs_ovf",
	"veth", "dummy",
}

// FTPModules are loaded when [InitOptions.LoadFTP] is set. ip_vs_ftp changes
// how IPVS treats port 21, so it is off by default.
var FTPModules = []string{"ip_vs_ftp"}

// SIPModules are loaded when [InitOptions.LoadSIP] is set: the SIP
// persistence engine (ipvsadm --pe sip).
var SIPModules = []string{"ip_vs_pe_sip"}

// ModuleIndex describes the modules of one kernel tree as depmod would:
// the relative path of each module, its hard dependencies, its "pre" soft
// dependencies and its aliases. Module names use underscores, as the kernel
// does; lookups accept dashes too.
type ModuleIndex struct {
	// Path maps a module name to its path relative to the modules
	// directory, e.g. "kernel/net/netfilter/ipvs/ip_vs.ko".
	Path map[string]string
	// Deps maps a module name to the names of the modules it needs.
	Deps map[string][]string
	// SoftPre maps a module name to the module names or aliases that
	// should be loaded before it (modinfo "softdep=pre: ...").
	SoftPre map[string][]string
	// Alias maps an alias to the names of the modules that provide it.
	Alias map[string][]string
}

// modName turns a module file name or path into its module name:
// "kernel/net/foo-bar.ko" gives "foo_bar".
func modName(p string) string {
	base := filepath.Base(p)
	for _, ext := range []string{".ko", ".ko.xz", ".ko.gz", ".ko.zst"} {
		if strings.HasSuffix(base, ext) {
			base = strings.TrimSuffix(base, ext)
			break
		}
	}
	return strings.ReplaceAll(base, "-", "_")
}

// ParseModulesDep reads depmod's modules.dep format: one line per module,
// "path.ko: dep1.ko dep2.ko ...", paths relative to the modules directory.
// Blank lines and lines starting with # are ignored.
func ParseModulesDep(r io.Reader) (*ModuleIndex, error) {
	idx := newModuleIndex()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		mod, deps, ok := strings.Cut(line, ":")
		mod = strings.TrimSpace(mod)
		if !ok || mod == "" {
			return nil, fmt.Errorf("modules.dep line %d: want \"module: deps\", got %q", lineNo, line)
		}
		name := modName(mod)
		idx.Path[name] = mod
		var names []string
		for _, d := range strings.Fields(deps) {
			names = append(names, modName(d))
		}
		idx.Deps[name] = names
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading modules.dep: %w", err)
	}
	return idx, nil
}

// ParseModulesSoftdep reads depmod's modules.softdep format into idx:
// "softdep MODULE pre: A B post: C". Only "pre:" entries are kept.
func ParseModulesSoftdep(r io.Reader, idx *ModuleIndex) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] != "softdep" {
			continue
		}
		name := modName(f[1])
		pre := false
		for _, w := range f[2:] {
			switch w {
			case "pre:":
				pre = true
			case "post:":
				pre = false
			default:
				if pre {
					idx.SoftPre[name] = append(idx.SoftPre[name], w)
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading modules.softdep: %w", err)
	}
	return nil
}

// ParseModulesAlias reads depmod's modules.alias format into idx:
// "alias ALIAS MODULE".
func ParseModulesAlias(r io.Reader, idx *ModuleIndex) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[0] != "alias" {
			continue
		}
		idx.Alias[f[1]] = append(idx.Alias[f[1]], modName(f[2]))
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading modules.alias: %w", err)
	}
	return nil
}

func newModuleIndex() *ModuleIndex {
	return &ModuleIndex{
		Path:    map[string]string{},
		Deps:    map[string][]string{},
		SoftPre: map[string][]string{},
		Alias:   map[string][]string{},
	}
}

// LoadModuleIndex reads modules.dep, and modules.softdep and modules.alias
// if present, from a modules directory (lib/modules/<version>).
func LoadModuleIndex(modDir string) (*ModuleIndex, error) {
	f, err := os.Open(filepath.Join(modDir, "modules.dep"))
	if err != nil {
		return nil, fmt.Errorf("module index: %w", err)
	}
	idx, err := ParseModulesDep(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("module index %s: %w", modDir, err)
	}
	for name, parse := range map[string]func(io.Reader, *ModuleIndex) error{
		"modules.softdep": ParseModulesSoftdep,
		"modules.alias":   ParseModulesAlias,
	} {
		f, err := os.Open(filepath.Join(modDir, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("module index: %w", err)
		}
		err = parse(f, idx)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("module index %s: %w", modDir, err)
		}
	}
	return idx, nil
}

// ResolveModules returns the modules to load, dependencies first, so that
// loading them with insmod in the returned order succeeds: the wanted
// modules (by name) and everything they need, each once. Hard dependencies
// come from idx.Deps. A soft "pre" dependency is satisfied by a module of
// that name, or else by a module providing it as an alias: a module already
// wanted is preferred, then one whose name ends in "_generic", then the
// first by name. An unknown wanted module, an unknown hard dependency or a
// dependency cycle is an error; an unresolvable soft dependency is skipped.
func ResolveModules(idx *ModuleIndex, wanted []string) ([]string, error) {
	wantSet := map[string]bool{}
	for _, w := range wanted {
		wantSet[modName(w)] = true
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
		if _, ok := idx.Path[name]; !ok {
			if len(chain) == 0 {
				return fmt.Errorf("module %s not found in the module index", name)
			}
			return fmt.Errorf("module %s (needed by %s) not found in the module index",
				name, strings.Join(chain, " <- "))
		}
		switch state[name] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("module dependency cycle: %s -> %s", strings.Join(chain, " -> "), name)
		}
		state[name] = visiting
		next := append(append([]string(nil), chain...), name)
		for _, soft := range idx.SoftPre[name] {
			if m := resolveSoft(idx, soft, wantSet); m != "" && m != name {
				if err := visit(m, next); err != nil {
					return err
				}
			}
		}
		for _, d := range idx.Deps[name] {
			if err := visit(d, next); err != nil {
				return err
			}
		}
		state[name] = done
		order = append(order, name)
		return nil
	}
	for _, w := range wanted {
		if err := visit(modName(w), nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// resolveSoft picks the module satisfying a soft dependency (a module name
// or an alias), or "" if none does.
func resolveSoft(idx *ModuleIndex, soft string, wantSet map[string]bool) string {
	if _, ok := idx.Path[modName(soft)]; ok {
		return modName(soft)
	}
	cands := append([]string(nil), idx.Alias[soft]...)
	sort.Strings(cands)
	var known []string
	for _, c := range cands {
		if _, ok := idx.Path[c]; ok {
			known = append(known, c)
		}
	}
	if len(known) == 0 {
		return ""
	}
	for _, c := range known {
		if wantSet[c] {
			return c
		}
	}
	for _, c := range known {
		if strings.HasSuffix(c, "_generic") {
			return c
		}
	}
	return known[0]
}

// modinfo is the part of a module's .modinfo section the index needs.
type modinfo struct {
	depends []string
	softPre []string
	aliases []string
}

// readModinfo reads the .modinfo section of an uncompressed .ko file.
func readModinfo(path string) (*modinfo, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, fmt.Errorf("%s: no .modinfo section", path)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("%s: reading .modinfo: %w", path, err)
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

// GenerateModuleIndex scans every .ko file under modDir and writes
// modules.dep, modules.softdep and modules.alias there in depmod's format,
// from each module's .modinfo section. Debian's kernel packages leave these
// files to be made by depmod at install time, and dpkg -x does not run it.
// modules.dep lists direct dependencies only; [ResolveModules] follows them.
func GenerateModuleIndex(modDir string) error {
	type entry struct {
		rel string
		mi  *modinfo
	}
	var entries []entry
	err := filepath.WalkDir(modDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".ko") {
			return nil
		}
		mi, err := readModinfo(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(modDir, p)
		if err != nil {
			return err
		}
		entries = append(entries, entry{filepath.ToSlash(rel), mi})
		return nil
	})
	if err != nil {
		return fmt.Errorf("scanning modules in %s: %w", modDir, err)
	}
	if len(entries) == 0 {
		return fmt.Errorf("no uncompressed .ko modules under %s", modDir)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].rel < entries[j].rel })
	paths := map[string]string{}
	for _, e := range entries {
		paths[modName(e.rel)] = e.rel
	}
	var dep, soft, alias bytes.Buffer
	for _, e := range entries {
		name := modName(e.rel)
		var deps []string
		for _, d := range e.mi.depends {
			if p, ok := paths[d]; ok {
				deps = append(deps, p)
			} else {
				return fmt.Errorf("module %s depends on %s, which is not in %s", name, d, modDir)
			}
		}
		fmt.Fprintf(&dep, "%s:", e.rel)
		for _, d := range deps {
			fmt.Fprintf(&dep, " %s", d)
		}
		dep.WriteByte('\n')
		if len(e.mi.softPre) > 0 {
			fmt.Fprintf(&soft, "softdep %s pre: %s\n", name, strings.Join(e.mi.softPre, " "))
		}
		for _, a := range e.mi.aliases {
			fmt.Fprintf(&alias, "alias %s %s\n", a, name)
		}
	}
	for name, buf := range map[string]*bytes.Buffer{
		"modules.softdep": &soft,
		"modules.alias":   &alias,
		// modules.dep last: its presence means the index is complete.
	} {
		if err := writeFileAtomic(filepath.Join(modDir, name), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return writeFileAtomic(filepath.Join(modDir, "modules.dep"), dep.Bytes(), 0o644)
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
