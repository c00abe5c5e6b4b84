package vm

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeKO returns a minimal ELF64 relocatable object whose only content is
// a .modinfo section holding the given key=value strings, enough for
// readModinfo.
func fakeKO(t *testing.T, info ...string) []byte {
	t.Helper()
	modinfo := []byte(strings.Join(info, "\x00") + "\x00")
	shstr := []byte("\x00.modinfo\x00.shstrtab\x00")
	const ehsize, shentsize = 64, 64
	modOff := uint64(ehsize)
	strOff := modOff + uint64(len(modinfo))
	shOff := (strOff + uint64(len(shstr)) + 7) &^ 7
	var b bytes.Buffer
	le := binary.LittleEndian
	w := func(v any) {
		if err := binary.Write(&b, le, v); err != nil {
			t.Fatal(err)
		}
	}
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0})
	b.Write(make([]byte, 8))
	w(uint16(1))  // ET_REL
	w(uint16(62)) // EM_X86_64
	w(uint32(1))  // EV_CURRENT
	w(uint64(0))  // entry
	w(uint64(0))  // phoff
	w(shOff)
	w(uint32(0)) // flags
	w(uint16(ehsize))
	w(uint16(0)) // phentsize
	w(uint16(0)) // phnum
	w(uint16(shentsize))
	w(uint16(3)) // shnum
	w(uint16(2)) // shstrndx
	b.Write(modinfo)
	b.Write(shstr)
	b.Write(make([]byte, int(shOff)-b.Len()))
	section := func(name, typ uint32, flags, off, size uint64) {
		w(name)
		w(typ)
		w(flags)
		w(uint64(0)) // addr
		w(off)
		w(size)
		w(uint32(0)) // link
		w(uint32(0)) // info
		w(uint64(1)) // addralign
		w(uint64(0)) // entsize
	}
	section(0, 0, 0, 0, 0)
	section(1, 1, 2, modOff, uint64(len(modinfo))) // .modinfo, PROGBITS, ALLOC
	section(10, 3, 0, strOff, uint64(len(shstr)))  // .shstrtab, STRTAB
	return b.Bytes()
}

func TestGenerateModuleIndex(t *testing.T) {
	dir := t.TempDir()
	mods := map[string][]string{
		"kernel/crypto/crc32c_generic.ko":      {"alias=crc32c", "alias=crypto-crc32c", "depends="},
		"kernel/lib/libcrc32c.ko":              {"softdep=pre: crc32c", "depends="},
		"kernel/net/netfilter/nf_conntrack.ko": {"depends=libcrc32c"},
		"kernel/net/netfilter/ipvs/ip_vs.ko":   {"depends=nf_conntrack,libcrc32c", "alias=net-pf-16-proto-16-family-IPVS"},
		"kernel/drivers/net/foo-bar.ko":        {"alias=pci:v00001234d*sv*", "depends="},
	}
	for p, info := range mods {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, fakeKO(t, info...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := GenerateModuleIndex(dir); err != nil {
		t.Fatal(err)
	}
	dep, err := os.ReadFile(filepath.Join(dir, "modules.dep"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"kernel/net/netfilter/ipvs/ip_vs.ko: kernel/net/netfilter/nf_conntrack.ko kernel/lib/libcrc32c.ko\n",
		"kernel/lib/libcrc32c.ko:\n",
		"kernel/drivers/net/foo-bar.ko:\n",
	} {
		if !strings.Contains(string(dep), want) {
			t.Errorf("modules.dep lacks %q:\n%s", want, dep)
		}
	}
	alias, _ := os.ReadFile(filepath.Join(dir, "modules.alias"))
	if strings.Contains(string(alias), "pci:") || !strings.Contains(string(alias), "alias crc32c crc32c_generic\n") {
		t.Errorf("modules.alias:\n%s", alias)
	}
	idx, err := LoadModuleIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	order, err := ResolveModules(idx, []string{"ip_vs"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, " "); got != "crc32c_generic libcrc32c nf_conntrack ip_vs" {
		t.Errorf("order %s", got)
	}

	// A dependency that is not in the tree is an error.
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "a.ko"), fakeKO(t, "depends=missing"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := GenerateModuleIndex(bad); err == nil {
		t.Error("missing dependency accepted")
	}
	// So is a tree without modules, or a .ko that is not ELF.
	if err := GenerateModuleIndex(t.TempDir()); err == nil {
		t.Error("empty tree accepted")
	}
	if err := os.WriteFile(filepath.Join(bad, "a.ko"), []byte("not elf"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := GenerateModuleIndex(bad); err == nil {
		t.Error("non-ELF module accepted")
	}
}
