package vm

import (
	"bytes"
	"encoding/binary"
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
