package cmdutil

import (
	"cmp"
	"slices"

	"github.com/ipvs-tools/ipvs"
)

// CompareServices orders services as ipvsadm does (without its overflow
// quirks): protocol services before fwmark ones, then family, protocol,
// address, port, mark.
func CompareServices(a, b ipvs.ServiceKey) int {
	if a.IsFWMark() != b.IsFWMark() {
		if a.IsFWMark() {
			return 1
		}
		return -1
	}
	return cmp.Or(cmp.Compare(a.FWMark, b.FWMark), cmp.Compare(a.Family, b.Family), cmp.Compare(a.Protocol, b.Protocol),
		a.Address.Compare(b.Address), cmp.Compare(a.Port, b.Port))
}

// CompareDests orders destinations by address and port.
func CompareDests(a, b ipvs.Destination) int {
	return cmp.Or(a.Address.Compare(b.Address), cmp.Compare(a.Port, b.Port))
}

// SortTable sorts services and their destinations in place.
func SortTable(vss []ipvs.VirtualServer) {
	slices.SortFunc(vss, func(a, b ipvs.VirtualServer) int {
		return CompareServices(a.Service.Key(), b.Service.Key())
	})
	for _, vs := range vss {
		slices.SortFunc(vs.Destinations, CompareDests)
	}
}
