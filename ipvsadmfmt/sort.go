package ipvsadmfmt

import (
	"encoding/binary"

	"github.com/ipvs-tools/ipvs/netlinkipvs"
)

// msort sorts a[0:n] the way glibc 2.36's qsort does for arrays that fit
// its temporary buffer: a top-down merge sort that splits n into n/2 and
// n-n/2 and, when merging, takes the left element while cmp(left, right)
// <= 0. With a non-transitive comparator the result depends on exactly
// this algorithm, so it is reproduced rather than using sort.Stable.
func msort[T any](a []T, cmp func(x, y *T) int32) {
	if len(a) <= 1 {
		return
	}
	tmp := make([]T, len(a))
	msortRec(a, tmp, cmp)
}

func msortRec[T any](b, tmp []T, cmp func(x, y *T) int32) {
	n := len(b)
	if n <= 1 {
		return
	}
	n1 := n / 2
	b1, b2 := b[:n1], b[n1:]
	msortRec(b1, tmp, cmp)
	msortRec(b2, tmp, cmp)
	i, j, k := 0, 0, 0
	for i < len(b1) && j < len(b2) {
		if cmp(&b1[i], &b2[j]) <= 0 {
			tmp[k] = b1[i]
			i++
		} else {
			tmp[k] = b2[j]
			j++
		}
		k++
	}
	for i < len(b1) {
		tmp[k] = b1[i]
		i++
		k++
	}
	// The rest of b2 is already in place.
	copy(b, tmp[:k])
}

// word returns the i-th 32-bit word of a 16-byte address in host order
// (ntohl of the network-order word).
func word(b *[16]byte, i int) uint32 {
	return binary.BigEndian.Uint32(b[4*i : 4*i+4])
}

// CompareServices is libipvs' ipvs_cmp_services: every difference is an
// unsigned subtraction converted to a 32-bit int, so differences of 2^31 or
// more change sign (a fwmark >= 2^31 sorts before everything else).
func CompareServices(s1, s2 *netlinkipvs.Service) int32 {
	if r := int32(s1.FWMark - s2.FWMark); r != 0 {
		return r
	}
	if r := int32(s1.Family) - int32(s2.Family); r != 0 {
		return r
	}
	p1, p2 := svcProtocol(s1), svcProtocol(s2)
	if r := int32(p1) - int32(p2); r != 0 {
		return r
	}
	a1, a2 := svcAddr(s1), svcAddr(s2)
	var r int32
	if s1.Family == afInet6 {
		for i := 0; r == 0 && i < 4; i++ {
			r = int32(word(&a1, i) - word(&a2, i))
		}
	} else {
		r = int32(word(&a1, 0) - word(&a2, 0))
	}
	if r != 0 {
		return r
	}
	return int32(svcPort(s1)) - int32(svcPort(s2))
}

// CompareDests is libipvs' ipvs_cmp_dests: all four address words when the
// left operand is IPv6, else only the first, then the port.
func CompareDests(d1, d2 *netlinkipvs.Destination) int32 {
	a1, a2 := addr16(d1.Address), addr16(d2.Address)
	var r int32
	if d1.Family == afInet6 {
		for i := 0; r == 0 && i < 4; i++ {
			r = int32(word(&a1, i) - word(&a2, i))
		}
	} else {
		r = int32(word(&a1, 0) - word(&a2, 0))
	}
	if r != 0 {
		return r
	}
	return int32(d1.Port) - int32(d2.Port)
}

// SortServices sorts services in place as ipvsadm does.
func SortServices(svcs []netlinkipvs.Service) {
	msort(svcs, CompareServices)
}

// SortDests sorts destinations in place as ipvsadm does.
func SortDests(dests []netlinkipvs.Destination) {
	msort(dests, CompareDests)
}

// The kernel sends no protocol, address or port for fwmark services, so
// ipvsadm holds zeros there.
func svcProtocol(s *netlinkipvs.Service) uint16 {
	if s.FWMark != 0 {
		return 0
	}
	return uint16(s.Protocol)
}

func svcAddr(s *netlinkipvs.Service) [16]byte {
	if s.FWMark != 0 {
		return [16]byte{}
	}
	return addr16(s.Address)
}

func svcPort(s *netlinkipvs.Service) uint16 {
	if s.FWMark != 0 {
		return 0
	}
	return s.Port
}
