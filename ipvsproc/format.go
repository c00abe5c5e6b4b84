package ipvsproc

import (
	"net/netip"
	"strconv"
)

// AppendProcLine appends c formatted as the kernel prints it in
// ip_vs_conn (sync false) or ip_vs_conn_sync (sync true), with the
// trailing newline. Feeding the result to ParseConnLine gives c back
// (PE fields are left out of the sync layout, as the kernel does). It lets
// tests and tools build connection files.
func (c *Conn) AppendProcLine(b []byte, sync bool) []byte {
	b = appendPadded(b, c.Protocol.String(), 3)
	b = append(b, ' ')
	b = appendProcAddr(b, c.Client.Addr())
	b = append(b, ' ')
	b = appendHex(b, uint64(c.Client.Port()), 4)
	b = append(b, ' ')
	b = appendProcAddr(b, c.Virtual.Addr())
	b = append(b, ' ')
	b = appendHex(b, uint64(c.Virtual.Port()), 4)
	b = append(b, ' ')
	b = appendProcAddr(b, c.Dest.Addr())
	b = append(b, ' ')
	b = appendHex(b, uint64(c.Dest.Port()), 4)
	b = append(b, ' ')
	b = appendPadded(b, c.State, 11)
	b = append(b, ' ')
	if sync {
		o := c.Origin
		if o == OriginUnknown {
			o = OriginLocal
		}
		b = appendPadded(b, o.String(), 6)
		b = append(b, ' ')
	}
	b = appendRight(b, strconv.FormatUint(c.Expires, 10), 7)
	if !sync && c.PEName != "" {
		b = append(b, ' ')
		b = append(b, c.PEName...)
		b = append(b, ' ')
		b = append(b, c.PEData...)
	}
	return append(b, '\n')
}

// appendProcAddr appends a as %08X of the host-order IPv4 value or as the
// uncompressed %pI6 form.
func appendProcAddr(b []byte, a netip.Addr) []byte {
	if a.Is4() {
		v := a.As4()
		return appendHex(b, uint64(v[0])<<24|uint64(v[1])<<16|uint64(v[2])<<8|uint64(v[3]), 8)
	}
	v := a.As16()
	const digits = "0123456789abcdef"
	for g := 0; g < 8; g++ {
		if g > 0 {
			b = append(b, ':')
		}
		hi, lo := v[2*g], v[2*g+1]
		b = append(b, digits[hi>>4], digits[hi&15], digits[lo>>4], digits[lo&15])
	}
	return b
}

// appendHex appends v as upper-case hex zero-padded to width.
func appendHex(b []byte, v uint64, width int) []byte {
	const digits = "0123456789ABCDEF"
	var tmp [16]byte
	i := len(tmp)
	for v != 0 || i == len(tmp) {
		i--
		tmp[i] = digits[v&15]
		v >>= 4
	}
	for n := len(tmp) - i; n < width; n++ {
		b = append(b, '0')
	}
	return append(b, tmp[i:]...)
}

// appendPadded appends s left-aligned in width (%-Ns).
func appendPadded(b []byte, s string, width int) []byte {
	b = append(b, s...)
	for n := len(s); n < width; n++ {
		b = append(b, ' ')
	}
	return b
}

// appendRight appends s right-aligned in width (%Ns).
func appendRight(b []byte, s string, width int) []byte {
	for n := len(s); n < width; n++ {
		b = append(b, ' ')
	}
	return append(b, s...)
}
