package ipvsmodel_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"

	"github.com/ipvs-tools/ipvs"
)

// The random operations draw from small pools, so that sequences hit the
// same services and destinations again (EEXIST, ENOENT, edits of what
// exists) and every refusal the kernel has: unknown schedulers and
// engines, IPv6 prefixes out of range, mixed families without tunnelling,
// weights past INT_MAX, inverted thresholds, GUE without a port,
// destination addresses of the wrong type, timeouts past INT_MAX/HZ.

var (
	v4, v6 = ipvs.AFInet, ipvs.AFInet6

	serviceKeys = []ipvs.ServiceKey{
		{Family: v4, Protocol: ipvs.ProtoTCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80},
		{Family: v4, Protocol: ipvs.ProtoUDP, Address: netip.MustParseAddr("10.0.0.1"), Port: 53},
		{Family: v4, Protocol: ipvs.ProtoSCTP, Address: netip.MustParseAddr("10.0.0.2"), Port: 80},
		{Family: v6, Protocol: ipvs.ProtoTCP, Address: netip.MustParseAddr("2001:db8::1"), Port: 443},
		{Family: v4, FWMark: 1},
		{Family: v6, FWMark: 1},
	}
	destAddrs = []string{
		"192.168.0.1", "192.168.0.2", "192.168.0.3", "2001:db8:1::1", "2001:db8:1::2",
		// Refused as new destinations (ip_vs_new_dest).
		"0.0.0.0", "224.0.0.1", "255.255.255.255", "ff02::1", "fe80::1", "::", "::ffff:192.168.0.9",
	}
	schedulers = []string{"rr", "wlc", "sh", "mh", "none", "twos", "nosuch"}
)

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func randomService(r *rand.Rand, k ipvs.ServiceKey) ipvs.Service {
	s := ipvs.Service{Family: k.Family, Protocol: k.Protocol, Address: k.Address, Port: k.Port, FWMark: k.FWMark}
	s.Scheduler = pick(r, schedulers)
	s.Netmask = 0xffffffff
	if s.Family == v6 {
		s.Netmask = pick(r, []uint32{128, 64, 128, 0, 129})
	}
	if r.IntN(3) == 0 {
		s.Flags |= ipvs.SvcPersistent
		s.Timeout = uint32(1 + r.IntN(3600))
	}
	if r.IntN(4) == 0 {
		s.Flags |= ipvs.SvcOnePacket
	}
	if r.IntN(8) == 0 {
		s.PEName = pick(r, []string{"sip", "nosuch"})
	}
	return s
}

func randomDest(r *rand.Rand) ipvs.Destination {
	d := ipvs.Destination{Address: netip.MustParseAddr(pick(r, destAddrs)), Port: uint16(8080 + r.IntN(2))}
	d.ForwardMethod = pick(r, []ipvs.ForwardMethod{ipvs.FwdMasq, ipvs.FwdRoute, ipvs.FwdTunnel, ipvs.FwdLocal})
	d.Weight = pick(r, []uint32{0, 1, 3, 1 << 31})
	if r.IntN(4) == 0 {
		d.UpperThreshold, d.LowerThreshold = uint32(r.IntN(100)), uint32(r.IntN(100))
	}
	if d.ForwardMethod == ipvs.FwdTunnel && r.IntN(2) == 0 {
		d.TunnelType = ipvs.TunnelGUE
		d.TunnelPort = pick(r, []uint16{0, 6080})
	}
	return d
}

// randomOp returns one write request for a sequence.
func randomOp(r *rand.Rand) ipvs.Op {
	k := pick(r, serviceKeys)
	id := ipvs.Service{Family: k.Family, Protocol: k.Protocol, Address: k.Address, Port: k.Port, FWMark: k.FWMark}
	switch n := r.IntN(100); {
	case n < 20:
		return ipvs.Op{Cmd: ipvs.CmdNewService, Service: randomService(r, k)}
	case n < 28:
		return ipvs.Op{Cmd: ipvs.CmdSetService, Service: randomService(r, k)}
	case n < 33:
		return ipvs.Op{Cmd: ipvs.CmdDelService, Service: id}
	case n < 63:
		return ipvs.Op{Cmd: ipvs.CmdNewDest, Service: id, Destination: randomDest(r)}
	case n < 78:
		return ipvs.Op{Cmd: ipvs.CmdSetDest, Service: id, Destination: randomDest(r)}
	case n < 88:
		d := randomDest(r)
		return ipvs.Op{Cmd: ipvs.CmdDelDest, Service: id, Destination: ipvs.Destination{Address: d.Address, Port: d.Port}}
	case n < 92:
		return ipvs.Op{Cmd: ipvs.CmdZero, Service: id, AllServices: r.IntN(2) == 0}
	case n < 97:
		t := func() uint32 { return pick(r, []uint32{0, 30, 900, 8589934, 8589935, 1 << 31}) }
		return ipvs.Op{Cmd: ipvs.CmdSetConfig, Timeouts: ipvs.Timeouts{TCP: t(), TCPFin: t(), UDP: t()}}
	}
	return ipvs.Op{Cmd: ipvs.CmdFlush}
}

// opString is a line of a failing sequence's report.
func opString(op ipvs.Op) string {
	switch op.Cmd {
	case ipvs.CmdNewService, ipvs.CmdSetService:
		s := op.Service
		return fmt.Sprintf("%s %s sched=%s flags=%s timeout=%d netmask=%d pe=%q", op.Cmd, s.Key(), s.Scheduler, s.Flags, s.Timeout, s.Netmask, s.PEName)
	case ipvs.CmdDelService:
		return fmt.Sprintf("%s %s", op.Cmd, op.Service.Key())
	case ipvs.CmdNewDest, ipvs.CmdSetDest, ipvs.CmdDelDest:
		d := op.Destination
		return fmt.Sprintf("%s %s %s fwd=%s weight=%d thresholds=%d-%d tun=%s:%d", op.Cmd, op.Service.Key(), d.Key(), d.ForwardMethod, d.Weight, d.LowerThreshold, d.UpperThreshold, d.TunnelType, d.TunnelPort)
	case ipvs.CmdZero:
		return fmt.Sprintf("%s %s all=%v", op.Cmd, op.Service.Key(), op.AllServices)
	case ipvs.CmdSetConfig:
		return fmt.Sprintf("%s %+v", op.Cmd, op.Timeouts)
	}
	return op.Cmd.String()
}
