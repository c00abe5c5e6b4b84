package ipvsadmfmt

import (
	"encoding/binary"
	"net/netip"

	"github.com/ipvs-tools/ipvs"
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
func CompareServices(s1, s2 *ipvs.Service) int32 {
	a1, a2 := svcAddr(s1), svcAddr(s2)
	return CompareServiceFields(
		ServiceFields{FWMark: s1.FWMark, Family: s1.Family, Protocol: svcProtocol(s1), Addr: &a1, Port: svcPort(s1)},
		ServiceFields{FWMark: s2.FWMark, Family: s2.Family, Protocol: svcProtocol(s2), Addr: &a2, Port: svcPort(s2)})
}

// ServiceFields are the fields of a service that ipvsadm sorts by, as
// ipvsadm holds them: zero protocol, address and port for fwmark
// services, IPv4 addresses in the first four bytes.
type ServiceFields struct {
	FWMark   uint32
	Family   ipvs.AddressFamily
	Protocol ipvs.Protocol
	Addr     *[16]byte
	Port     uint16
}

// CompareServiceFields is CompareServices on the sort fields, for callers
// that keep services in another form.
func CompareServiceFields(s1, s2 ServiceFields) int32 {
	if r := int32(s1.FWMark - s2.FWMark); r != 0 {
		return r
	}
	if r := int32(s1.Family) - int32(s2.Family); r != 0 {
		return r
	}
	if r := int32(s1.Protocol) - int32(s2.Protocol); r != 0 {
		return r
	}
	var r int32
	if s1.Family == ipvs.AFInet6 {
		for i := 0; r == 0 && i < 4; i++ {
			r = int32(word(s1.Addr, i) - word(s2.Addr, i))
		}
	} else {
		r = int32(word(s1.Addr, 0) - word(s2.Addr, 0))
	}
	if r != 0 {
		return r
	}
	return int32(s1.Port) - int32(s2.Port)
}

// CompareDests is libipvs' ipvs_cmp_dests: all four address words when the
// left operand is IPv6, else only the first, then the port.
func CompareDests(d1, d2 *ipvs.Destination) int32 {
	var r int32
	if d1.Family == ipvs.AFInet6 {
		a1, a2 := addr16(d1.Address), addr16(d2.Address)
		for i := 0; r == 0 && i < 4; i++ {
			r = int32(word(&a1, i) - word(&a2, i))
		}
	} else {
		r = int32(firstWord(d1.Address) - firstWord(d2.Address))
	}
	if r != 0 {
		return r
	}
	return int32(d1.Port) - int32(d2.Port)
}

// firstWord is word(addr16(a), 0) without building the 16 bytes.
func firstWord(a netip.Addr) uint32 {
	if a.Is4() {
		b := a.As4()
		return binary.BigEndian.Uint32(b[:])
	}
	if !a.IsValid() {
		return 0
	}
	b := a.As16()
	return binary.BigEndian.Uint32(b[:4])
}

// SortServices sorts services in place as ipvsadm does.
func SortServices(svcs []ipvs.Service) {
	msort(svcs, CompareServices)
}

// SortDests sorts destinations in place as ipvsadm does.
func SortDests(dests []ipvs.Destination) {
	msort(dests, CompareDests)
}

// The kernel sends no protocol, address or port for fwmark services, so
// ipvsadm holds zeros there.
func svcProtocol(s *ipvs.Service) ipvs.Protocol {
	if s.FWMark != 0 {
		return 0
	}
	return s.Protocol
}

func svcAddr(s *ipvs.Service) [16]byte {
	if s.FWMark != 0 {
		return [16]byte{}
	}
	return addr16(s.Address)
}

func svcPort(s *ipvs.Service) uint16 {
	if s.FWMark != 0 {
		return 0
	}
	return s.Port
}

// SortedOrder returns the indexes of svcs in the order SortServices would
// put them, without moving the services (cheaper for large tables).
func SortedOrder(svcs []ipvs.Service) []int32 {
	idx := make([]int32, len(svcs))
	for i := range idx {
		idx[i] = int32(i)
	}
	msort(idx, func(x, y *int32) int32 { return CompareServices(&svcs[*x], &svcs[*y]) })
	return idx
}

// SortIndexes sorts idx with ipvsadm's algorithm (glibc's merge sort) and
// cmp, for callers that sort indexes into a form of their own.
func SortIndexes(idx []int32, cmp func(a, b int32) int32) {
	msort(idx, func(x, y *int32) int32 { return cmp(*x, *y) })
}
