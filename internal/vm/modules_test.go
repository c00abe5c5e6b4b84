package vm

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sampleDep mimics the modules of the guest, in depmod's format.
const sampleDep = `kernel/crypto/crc32c_generic.ko:
kernel/arch/x86/crypto/crc32c-intel.ko:
kernel/lib/libcrc32c.ko:
kernel/net/ipv4/netfilter/nf_defrag_ipv4.ko:
kernel/net/ipv6/netfilter/nf_defrag_ipv6.ko:
kernel/net/netfilter/nf_conntrack.ko: kernel/net/ipv4/netfilter/nf_defrag_ipv4.ko kernel/net/ipv6/netfilter/nf_defrag_ipv6.ko kernel/lib/libcrc32c.ko
kernel/net/netfilter/nf_nat.ko: kernel/net/netfilter/nf_conntrack.ko kernel/lib/libcrc32c.ko
kernel/net/netfilter/ipvs/ip_vs.ko: kernel/net/netfilter/nf_conntrack.ko kernel/lib/libcrc32c.ko kernel/net/ipv6/netfilter/nf_defrag_ipv6.ko
kernel/net/netfilter/ipvs/ip_vs_rr.ko: kernel/net/netfilter/ipvs/ip_vs.ko
kernel/net/netfilter/ipvs/ip_vs_ftp.ko: kernel/net/netfilter/ipvs/ip_vs.ko kernel/net/netfilter/nf_nat.ko

# comment
kernel/drivers/net/veth.ko:
`

const sampleSoftdep = "# Soft dependencies\nsoftdep libcrc32c pre: crc32c post: nothing\n"

const sampleAlias = `alias crc32c crc32c_generic
alias crc32c crc32c_intel
alias crypto-crc32c crc32c_generic
`

func sampleIndex(t *testing.T) *ModuleIndex {
	t.Helper()
	idx, err := ParseModulesDep(strings.NewReader(sampleDep))
	if err != nil {
		t.Fatal(err)
	}
	if err := ParseModulesSoftdep(strings.NewReader(sampleSoftdep), idx); err != nil {
		t.Fatal(err)
	}
	if err := ParseModulesAlias(strings.NewReader(sampleAlias), idx); err != nil {
		t.Fatal(err)
	}
	return idx
}

// checkOrder verifies every module comes after its dependencies and
// appears once.
func checkOrder(t *testing.T, idx *ModuleIndex, order []string) {
	t.Helper()
	pos := map[string]int{}
	for i, m := range order {
		if _, dup := pos[m]; dup {
			t.Fatalf("%s listed twice in %v", m, order)
		}
		pos[m] = i
	}
	for _, m := range order {
		for _, d := range idx.Deps[m] {
			if pd, ok := pos[d]; !ok || pd > pos[m] {
				t.Fatalf("%s loads before its dependency %s: %v", m, d, order)
			}
		}
	}
}

func TestResolveModules(t *testing.T) {
	idx := sampleIndex(t)
	if idx.Path["crc32c_intel"] != "kernel/arch/x86/crypto/crc32c-intel.ko" {
		t.Fatalf("dash in file name not normalised: %v", idx.Path)
	}
	order, err := ResolveModules(idx, []string{"ip_vs_rr", "veth"})
	if err != nil {
		t.Fatal(err)
	}
	// Dependencies in the order modules.dep lists them, the soft
	// dependency of libcrc32c just before it.
	want := []string{"nf_defrag_ipv4", "nf_defrag_ipv6", "crc32c_generic", "libcrc32c",
		"nf_conntrack", "ip_vs", "ip_vs_rr", "veth"}
	if !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	checkOrder(t, idx, order)

	// ip_vs_ftp pulls in nf_nat after nf_conntrack.
	order, err = ResolveModules(idx, []string{"ip_vs-ftp"})
	if err != nil {
		t.Fatal(err)
	}
	checkOrder(t, idx, order)
	if !slices.Contains(order, "nf_nat") || order[len(order)-1] != "ip_vs_ftp" {
		t.Fatalf("ftp order %v", order)
	}

	// A wanted module that provides the soft dependency is preferred.
	order, err = ResolveModules(idx, []string{"libcrc32c", "crc32c_intel"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order, []string{"crc32c_intel", "libcrc32c"}) {
		t.Fatalf("soft dependency order %v", order)
	}
}

func TestResolveModulesErrors(t *testing.T) {
	idx := sampleIndex(t)
	if _, err := ResolveModules(idx, []string{"no_such"}); err == nil {
		t.Error("unknown module accepted")
	}
	idx.Deps["ip_vs_rr"] = append(idx.Deps["ip_vs_rr"], "missing_dep")
	if _, err := ResolveModules(idx, []string{"ip_vs_rr"}); err == nil || !strings.Contains(err.Error(), "missing_dep") {
		t.Errorf("missing dependency: %v", err)
	}
	cyc, err := ParseModulesDep(strings.NewReader("a.ko: b.ko\nb.ko: c.ko\nc.ko: a.ko\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ResolveModules(cyc, []string{"a"}); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("cycle: %v", err)
	}
	// An unresolvable soft dependency is skipped.
	idx = sampleIndex(t)
	idx.SoftPre["veth"] = []string{"nothing-provides-this"}
	if order, err := ResolveModules(idx, []string{"veth"}); err != nil || !slices.Equal(order, []string{"veth"}) {
		t.Errorf("soft dependency without provider: %v %v", order, err)
	}
	if _, err := ParseModulesDep(strings.NewReader("no colon here\n")); err == nil {
		t.Error("malformed modules.dep accepted")
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

func TestLoadModuleIndex(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"modules.dep":     sampleDep,
		"modules.softdep": sampleSoftdep,
		"modules.alias":   sampleAlias,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	idx, err := LoadModuleIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(idx.SoftPre["libcrc32c"]) != 1 || len(idx.Alias["crc32c"]) != 2 {
		t.Fatalf("index %+v", idx)
	}
	if _, err := LoadModuleIndex(t.TempDir()); err == nil {
		t.Error("missing modules.dep accepted")
	}
}

// TestRealKernelModules resolves the guest's module list against the
// kernel in the VM cache, if one has been downloaded (vmrun test does
// that). Any order that loads each module after its dependencies works;
// crc32c_generic must come before libcrc32c (a soft dependency only).
func TestRealKernelModules(t *testing.T) {
	cache, err := DefaultCacheDir()
	if err != nil {
		t.Skip(err)
	}
	pkg := newestCachedKernel(cache)
	if pkg == "" {
		t.Skip("no kernel in the VM cache")
	}
	ver := strings.TrimPrefix(pkg, "linux-image-")
	modDir := filepath.Join(cache, pkg, "lib", "modules", ver)
	idx, err := LoadModuleIndex(modDir)
	if err != nil {
		t.Skip(err)
	}
	order, err := ResolveModules(idx, InitOptions{LoadFTP: true, LoadSIP: true}.wantedModules())
	if err != nil {
		t.Fatal(err)
	}
	checkOrder(t, idx, order)
	if i, j := slices.Index(order, "crc32c_generic"), slices.Index(order, "libcrc32c"); i < 0 || j < i {
		t.Errorf("crc32c_generic must load before libcrc32c: %v", order)
	}
	for _, m := range []string{"nf_nat", "nf_conntrack_sip", "ip_vs_ftp", "ip_vs_pe_sip", "veth", "dummy", "ip_vs_mh"} {
		if !slices.Contains(order, m) {
			t.Errorf("%s missing from %v", m, order)
		}
	}
}
