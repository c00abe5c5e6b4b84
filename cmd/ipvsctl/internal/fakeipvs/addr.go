package fakeipvs

import "net/netip"

var (
	netipZero    netip.Addr
	defaultGroup = netip.MustParseAddr("224.0.0.81")
)
