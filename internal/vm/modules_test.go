package vm

import (
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sampleModules mimics the part of a kernel tree the guest needs: module
// files by path and their .modinfo strings. "crc32c_intel" and
// "crc32c_generic" both provide the alias libcrc32c soft-depends on.
var sampleModules = map[string][]string{
	"kernel/crypto/crc32c_generic.ko":              {"alias=crc32c", "alias=crypto-crc32c", "depends="},
	"kernel/arch/x86/crypto/crc32c-intel.ko":       {"alias=crc32c", "depends="},
	"kernel/lib/libcrc32c.ko":                      {"softdep=pre: crc32c", "depends="},
	"kernel/net/ipv4/netfilter/nf_defrag_ipv4.ko":  {"depends="},
	"kernel/net/ipv6/netfilter/nf_defrag_ipv6.ko":  {"depends="},
	"kernel/net/netfilter/nf_conntrack.ko":         {"depends=nf_defrag_ipv4,nf_defrag_ipv6,libcrc32c"},
	"kernel/net/netfilter/nf_nat.ko":               {"depends=nf_conntrack,libcrc32c"},
	"kernel/net/netfilter/ipvs/ip_vs.ko":           {"depends=nf_conntrack,libcrc32c,nf_defrag_ipv6", "alias=net-pf-16-proto-16-family-IPVS"},
	"kernel/net/netfilter/ipvs/ip_vs_rr.ko":        {"depends=ip_vs"},
	"kernel/net/netfilter/ipvs/ip_vs_ftp.ko":       {"depends=ip_vs,nf_nat"},
	"kernel/drivers/net/veth.ko":                   {"alias=rtnl-link-veth", "depends="},
	"kernel/drivers/net/foo-bar.ko":                {"alias=pci:v00001234d*sv*", "depends="},
	"kernel/net/netfilter/ipvs/ip_vs_needsmiss.ko": {"depends=ip_vs,not_there"},
	"kernel/net/cycle/cyc_a.ko":                    {"depends=cyc_b"},
	"kernel/net/cycle/cyc_b.ko":                    {"depends=cyc_a"},
}

// writeTree writes modules as fake .ko files under a new directory, each
// compressed by the named ending (".ko", ".ko.gz" or ".ko.xz"), and a
// modules.builtin naming builtin.
func writeTree(t *testing.T, mods map[string][]string, ext map[string]string, builtin ...string) string {
	t.Helper()
	dir := t.TempDir()
	for p, info := range mods {
		data := fakeKO(t, info...)
		switch e := ext[modName(p)]; e {
		case "", ".ko":
		case ".ko.gz":
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(data)
			zw.Close()
			data, p = b.Bytes(), strings.TrimSuffix(p, ".ko")+e
		case ".ko.xz":
			cmd := exec.Command("xz", "-c")
			cmd.Stdin = bytes.NewReader(data)
			out, err := cmd.Output()
			if err != nil {
				t.Skipf("no xz to compress a test module: %v", err)
			}
			data, p = out, strings.TrimSuffix(p, ".ko")+e
		default:
			t.Fatalf("ending %q", e)
		}
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	for _, m := range builtin {
		b.WriteString(m + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "modules.builtin"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkOrder verifies every module comes after its dependencies (those in
// the tree) and appears once.
func checkOrder(t *testing.T, tree *ModuleTree, order []string) {
	t.Helper()
	pos := map[string]int{}
	for i, m := range order {
		if _, dup := pos[m]; dup {
			t.Fatalf("%s listed twice in %v", m, order)
		}
		pos[m] = i
	}
	for _, m := range order {
		mi, err := tree.modinfo(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range mi.depends {
			if !tree.Has(d) {
				continue
			}
			if pd, ok := pos[d]; !ok || pd > pos[m] {
				t.Fatalf("%s loads before its dependency %s: %v", m, d, order)
			}
		}
	}
}

func openTree(t *testing.T, dir string) *ModuleTree {
	t.Helper()
	tree, err := OpenModuleTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func TestModuleTreeResolve(t *testing.T) {
	for _, c := range []struct {
		name string
		ext  map[string]string
	}{
		{"plain", nil},
		{"gzip", map[string]string{"ip_vs": ".ko.gz", "libcrc32c": ".ko.gz"}},
		{"xz like Debian 13", map[string]string{"ip_vs": ".ko.xz", "nf_conntrack": ".ko.xz", "crc32c_generic": ".ko.xz", "ip_vs_rr": ".ko.xz"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tree := openTree(t, writeTree(t, sampleModules, c.ext))
			if tree.Path("crc32c_intel") != "kernel/arch/x86/crypto/crc32c-intel.ko" {
				t.Fatalf("dash in file name not normalised: %q", tree.Path("crc32c_intel"))
			}
			order, err := tree.Resolve([]string{"ip_vs_rr", "veth"}, []string{"crc32c_generic", "ip_vs_twos"})
			if err != nil {
				t.Fatal(err)
			}
			// Dependencies in the order each module lists them; the
			// soft dependency of libcrc32c is met by the optional
			// crc32c_generic just before it; ip_vs_twos is absent.
			want := []string{"nf_defrag_ipv4", "nf_defrag_ipv6", "crc32c_generic", "libcrc32c",
				"nf_conntrack", "ip_vs", "ip_vs_rr", "veth"}
			if !slices.Equal(order, want) {
				t.Fatalf("order %v, want %v", order, want)
			}
			checkOrder(t, tree, order)
			// Every module in the order comes back decompressed.
			for _, m := range order {
				b, err := tree.Contents(m)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(b, []byte("\x7fELF")) {
					t.Errorf("%s (%s) is not a plain ELF file", m, tree.Path(m))
				}
			}
		})
	}
}

func TestModuleTreeResolveCases(t *testing.T) {
	tree := openTree(t, writeTree(t, sampleModules, nil, "kernel/lib/builtin_thing.ko"))
	// ip_vs_ftp pulls in nf_nat after nf_conntrack.
	order, err := tree.Resolve([]string{"ip_vs-ftp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkOrder(t, tree, order)
	if !slices.Contains(order, "nf_nat") || order[len(order)-1] != "ip_vs_ftp" {
		t.Fatalf("ftp order %v", order)
	}
	// A wanted module that provides the soft dependency is preferred.
	order, err = tree.Resolve([]string{"libcrc32c", "crc32c_intel"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order, []string{"crc32c_intel", "libcrc32c"}) {
		t.Fatalf("soft dependency order %v", order)
	}
	// No wanted module provides it: skipped (the kernel may have one
	// built in).
	order, err = tree.Resolve([]string{"libcrc32c"}, nil)
	if err != nil || !slices.Equal(order, []string{"libcrc32c"}) {
		t.Fatalf("soft dependency without a wanted provider: %v %v", order, err)
	}
	// A built-in module is fine, and not loaded.
	order, err = tree.Resolve([]string{"veth", "builtin_thing"}, []string{"builtin-thing"})
	if err != nil || !slices.Equal(order, []string{"veth"}) {
		t.Fatalf("built-in module: %v %v", order, err)
	}
	for _, c := range []struct {
		name     string
		required []string
		want     string
	}{
		{"unknown required", []string{"no_such"}, "module no_such is neither in"},
		{"missing dependency", []string{"ip_vs_needsmiss"}, "module not_there (needed by ip_vs_needsmiss)"},
		{"cycle", []string{"cyc_a"}, "module dependency cycle: cyc_a -> cyc_b -> cyc_a"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := tree.Resolve(c.required, nil); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestModuleTreeErrors(t *testing.T) {
	if _, err := OpenModuleTree(t.TempDir()); err == nil {
		t.Error("empty tree accepted")
	}
	dir := writeTree(t, map[string][]string{"kernel/a.ko": {"depends="}}, nil)
	if err := os.WriteFile(filepath.Join(dir, "kernel/a.ko"), []byte("not elf"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := openTree(t, dir).Resolve([]string{"a"}, nil); err == nil {
		t.Error("non-ELF module accepted")
	}
	if err := os.WriteFile(filepath.Join(dir, "kernel/b.ko.xz"), []byte("not xz"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := openTree(t, dir).Contents("b"); err == nil {
		t.Error("a broken .ko.xz decompressed")
	}
}

func TestParseModinfo(t *testing.T) {
	data := []byte("license=GPL\x00softdep=pre: crc32c post: foo\x00depends=ip_vs,nf-nat\x00" +
		"alias=crypto-crc32c\x00alias=pci:v00008086d*\x00name=x\x00\x00")
	mi := parseModinfo(data)
	if !slices.Equal(mi.depends, []string{"ip_vs", "nf_nat"}) {
		t.Errorf("depends %v", mi.depends)
	}
	if !slices.Equal(mi.softPre, []string{"crc32c"}) {
		t.Errorf("softdep %v", mi.softPre)
	}
	if !slices.Equal(mi.aliases, []string{"crypto-crc32c"}) {
		t.Errorf("aliases %v", mi.aliases)
	}
	if mi := parseModinfo([]byte("depends=\x00")); len(mi.depends) != 0 {
		t.Errorf("empty depends gave %v", mi.depends)
	}
}

// TestRealKernelModules resolves the guest's module list against every
// pinned kernel already in the VM cache (vmrun test puts them there). Any
// order that loads each module after its dependencies works; crc32c_generic
// must come before libcrc32c where both are modules (a soft dependency
// only).
func TestRealKernelModules(t *testing.T) {
	cache, err := DefaultCacheDir()
	if err != nil {
		t.Skip(err)
	}
	tried := 0
	for _, k := range Kernels() {
		t.Run(k.Name, func(t *testing.T) {
			root := filepath.Join(cache, strings.TrimSuffix(k.debFile(), "_amd64.deb"))
			if _, err := os.Stat(filepath.Join(root, stampName)); err != nil {
				t.Skipf("kernel %s is not in the VM cache", k)
			}
			tried++
			a, err := findAssets(k, cache, root)
			if err != nil {
				t.Fatal(err)
			}
			tree := openTree(t, a.ModulesDir)
			required, optional := InitOptions{LoadFTP: true, LoadSIP: true}.wantedModules()
			order, err := tree.Resolve(required, optional)
			if err != nil {
				t.Fatal(err)
			}
			checkOrder(t, tree, order)
			if i, j := slices.Index(order, "crc32c_generic"), slices.Index(order, "libcrc32c"); j >= 0 && tree.Has("crc32c_generic") && (i < 0 || j < i) {
				t.Errorf("crc32c_generic must load before libcrc32c: %v", order)
			}
			for _, m := range []string{"nf_nat", "nf_conntrack_sip", "ip_vs_ftp", "ip_vs_pe_sip", "veth", "dummy", "ip_vs_mh"} {
				if !slices.Contains(order, m) && !tree.Builtin(m) {
					t.Errorf("%s missing from %v", m, order)
				}
			}
		})
	}
	if tried == 0 {
		t.Skip("no pinned kernel in the VM cache")
	}
}
