package netlinkipvs

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/ipvs-tools/ipvs"
)

// This file holds a small allocation-free netlink attribute codec. The
// generic decoders in mdlayher/netlink allocate per attribute, which adds up
// when a dump carries a hundred thousand destinations.

const (
	nlaHeaderLen = 4
	nlaTypeMask  = 0x3fff // strips NLA_F_NESTED and NLA_F_NET_BYTEORDER
)

var errBadAttr = errors.New("malformed netlink attribute")

// nlaAlign rounds n up to the netlink attribute alignment of 4.
func nlaAlign(n int) int { return (n + 3) &^ 3 }

// attrIter walks the attributes of b. The kernel marks IPVS nests without
// NLA_F_NESTED, so types are masked and nesting is known by the caller.
type attrIter struct {
	b    []byte
	typ  uint16
	data []byte
	err  error
}

// next advances to the next attribute; it returns false at the end or on a
// malformed attribute (then err is set).
func (it *attrIter) next() bool {
	if len(it.b) < nlaHeaderLen {
		if len(it.b) != 0 {
			it.err = errBadAttr
		}
		return false
	}
	l := int(binary.NativeEndian.Uint16(it.b[0:2]))
	if l < nlaHeaderLen || l > len(it.b) {
		it.err = errBadAttr
		return false
	}
	it.typ = binary.NativeEndian.Uint16(it.b[2:4]) & nlaTypeMask
	it.data = it.b[nlaHeaderLen:l]
	a := nlaAlign(l)
	if a > len(it.b) {
		a = len(it.b)
	}
	it.b = it.b[a:]
	return true
}

// Fixed-size readers: the kernel's policies accept attributes at least as
// long as the type, so shorter ones are errors and longer ones are read
// from the front (as nla_get_* does).

func (it *attrIter) u8() (uint8, error) {
	if len(it.data) < 1 {
		return 0, errBadAttr
	}
	return it.data[0], nil
}

func (it *attrIter) u16() (uint16, error) {
	if len(it.data) < 2 {
		return 0, errBadAttr
	}
	return binary.NativeEndian.Uint16(it.data), nil
}

func (it *attrIter) be16() (uint16, error) {
	if len(it.data) < 2 {
		return 0, errBadAttr
	}
	return binary.BigEndian.Uint16(it.data), nil
}

func (it *attrIter) u32() (uint32, error) {
	if len(it.data) < 4 {
		return 0, errBadAttr
	}
	return binary.NativeEndian.Uint32(it.data), nil
}

func (it *attrIter) be32() (uint32, error) {
	if len(it.data) < 4 {
		return 0, errBadAttr
	}
	return binary.BigEndian.Uint32(it.data), nil
}

func (it *attrIter) u64() (uint64, error) {
	if len(it.data) < 8 {
		return 0, errBadAttr
	}
	return binary.NativeEndian.Uint64(it.data), nil
}

// str returns a NUL-terminated (or unterminated) string attribute.
func (it *attrIter) str() string {
	d := it.data
	for i, c := range d {
		if c == 0 {
			d = d[:i]
			break
		}
	}
	return string(d)
}

// inetAddr decodes a union nf_inet_addr for family af: IPv4 takes the first
// four bytes, IPv6 all sixteen.
func inetAddr(b []byte, af ipvs.AddressFamily) (netip.Addr, error) {
	switch af {
	case ipvs.AFInet:
		if len(b) < 4 {
			return netip.Addr{}, errBadAttr
		}
		return netip.AddrFrom4([4]byte(b[:4])), nil
	case ipvs.AFInet6:
		if len(b) < 16 {
			return netip.Addr{}, errBadAttr
		}
		return netip.AddrFrom16([16]byte(b[:16])), nil
	}
	return netip.Addr{}, errBadAttr
}

// attrEncoder appends netlink attributes to a buffer.
type attrEncoder struct {
	b []byte
}

func (e *attrEncoder) header(typ uint16, payload int) {
	var h [4]byte
	binary.NativeEndian.PutUint16(h[0:2], uint16(nlaHeaderLen+payload))
	binary.NativeEndian.PutUint16(h[2:4], typ)
	e.b = append(e.b, h[:]...)
}

func (e *attrEncoder) pad() {
	for len(e.b)%4 != 0 {
		e.b = append(e.b, 0)
	}
}

func (e *attrEncoder) bytes(typ uint16, v []byte) {
	e.header(typ, len(v))
	e.b = append(e.b, v...)
	e.pad()
}

func (e *attrEncoder) u8(typ uint16, v uint8) { e.bytes(typ, []byte{v}) }

func (e *attrEncoder) u16(typ uint16, v uint16) {
	e.bytes(typ, binary.NativeEndian.AppendUint16(nil, v))
}

func (e *attrEncoder) be16(typ uint16, v uint16) {
	e.bytes(typ, binary.BigEndian.AppendUint16(nil, v))
}

func (e *attrEncoder) u32(typ uint16, v uint32) {
	e.bytes(typ, binary.NativeEndian.AppendUint32(nil, v))
}

func (e *attrEncoder) be32(typ uint16, v uint32) {
	e.bytes(typ, binary.BigEndian.AppendUint32(nil, v))
}

// str encodes a NUL-terminated string.
func (e *attrEncoder) str(typ uint16, s string) {
	e.header(typ, len(s)+1)
	e.b = append(e.b, s...)
	e.b = append(e.b, 0)
	e.pad()
}

// inetAddr encodes a as a 16-byte union nf_inet_addr (IPv4 in the first four
// bytes, the rest zero), as ipvsadm does and the kernel always replies.
func (e *attrEncoder) inetAddr(typ uint16, a netip.Addr) {
	var u [16]byte
	if a.Is4() {
		v4 := a.As4()
		copy(u[:], v4[:])
	} else if a.IsValid() {
		// IPv6, including IPv4-mapped ::ffff:a.b.c.d, goes as all 16
		// bytes, as ipvsadm sends it.
		u = a.As16()
	}
	e.bytes(typ, u[:])
}

// nest starts a nested attribute and returns a function that closes it.
// Like libnl (and so ipvsadm), nests are not flagged NLA_F_NESTED; IPVS
// parses its nests without strict validation and accepts either form.
func (e *attrEncoder) nest(typ uint16) func() {
	start := len(e.b)
	e.header(typ, 0)
	return func() {
		binary.NativeEndian.PutUint16(e.b[start:start+2], uint16(len(e.b)-start))
	}
}

// as gives what a fixed-size reader returned the named type T of the
// field it fills: s.Family, err = as[ipvs.AddressFamily](it.u16()).
func as[T ~uint8 | ~uint16 | ~uint32, V uint8 | uint16 | uint32](v V, err error) (T, error) {
	return T(v), err
}
