package ipvsmetrics

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs"
)

func svc(proto ipvs.Protocol, addr string, port uint16) ipvs.Service {
	a := netip.MustParseAddr(addr)
	return ipvs.Service{Family: ipvs.FamilyOf(a), Protocol: proto, Address: a, Port: port, Scheduler: "rr"}
}

func fwm(fam ipvs.AddressFamily, mark uint32) ipvs.Service {
	return ipvs.Service{Family: fam, FWMark: mark, Scheduler: "rr"}
}

func dest(addr string, port uint16, weight, active, inactive uint32) ipvs.Destination {
	return ipvs.Destination{Address: netip.MustParseAddr(addr), Port: port, Weight: weight,
		ActiveConns: active, InactiveConns: inactive}
}

// TestBackendLabelValues: the label values are those node_exporter writes
// for the same /proc/net/ip_vs lines (see its collector/fixtures and
// procfs's parseIPVSBackendStatus).
func TestBackendLabelValues(t *testing.T) {
	type labels = [len(BackendLabels)]string
	for _, tt := range []struct {
		name string
		s    ipvs.Service
		d    ipvs.Destination
		want labels
	}{
		{"tcp4", svc(ipvs.ProtoTCP, "192.168.0.22", 3306), dest("192.168.82.22", 3306, 1, 0, 0),
			labels{"192.168.0.22", "3306", "192.168.82.22", "3306", "TCP", ""}},
		{"udp6", svc(ipvs.ProtoUDP, "2001:db8::1", 53), dest("2001:db8:0:0:0:0:0:10", 53, 1, 0, 0),
			labels{"2001:db8::1", "53", "2001:db8::10", "53", "UDP", ""}},
		{"sctp", svc(ipvs.ProtoSCTP, "10.0.0.1", 2905), dest("10.0.1.1", 2905, 1, 0, 0),
			labels{"10.0.0.1", "2905", "10.0.1.1", "2905", "SCTP", ""}},
		{"ipv6 service, ipv4 tunnel destination", svc(ipvs.ProtoTCP, "fd00:1::1", 81), dest("10.2.0.2", 81, 1, 0, 0),
			labels{"fd00:1::1", "81", "10.2.0.2", "81", "TCP", ""}},
		{"v4-mapped prints as net.IP does", svc(ipvs.ProtoTCP, "::ffff:10.0.0.1", 80), dest("::ffff:10.0.1.1", 80, 1, 0, 0),
			labels{"10.0.0.1", "80", "10.0.1.1", "80", "TCP", ""}},
		{"port 0", svc(ipvs.ProtoTCP, "10.0.0.1", 0), dest("10.0.1.1", 0, 1, 0, 0),
			labels{"10.0.0.1", "0", "10.0.1.1", "0", "TCP", ""}},
		{"fwmark in hex", fwm(ipvs.AFInet, 0x10001000), dest("192.168.49.32", 3306, 1, 0, 0),
			labels{"", "0", "192.168.49.32", "3306", "FWM", "10001000"}},
		{"fwmark 10", fwm(ipvs.AFInet, 10), dest("10.0.1.1", 0, 1, 0, 0),
			labels{"", "0", "10.0.1.1", "0", "FWM", "0000000A"}},
		{"fwmark ipv6", fwm(ipvs.AFInet6, 8), dest("fd00:2::2", 0, 1, 0, 0),
			labels{"", "0", "fd00:2::2", "0", "FWM", "00000008"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, BackendLabelValues(tt.s, tt.d)); d != "" {
				t.Errorf("BackendLabelValues (-want +got):\n%s", d)
			}
		})
	}
}

// TestBackends: destinations with the same labels are summed, as
// node_exporter sums them, in the order of their first appearance.
func TestBackends(t *testing.T) {
	vss := []ipvs.VirtualServer{
		{Service: fwm(ipvs.AFInet, 7), Destinations: []ipvs.Destination{
			dest("10.1.1.2", 0, 1, 2, 3), dest("10.1.1.1", 0, 5, 0, 0)}},
		{Service: svc(ipvs.ProtoTCP, "10.0.0.1", 80), Destinations: []ipvs.Destination{
			dest("10.1.1.2", 0, 7, 7, 7)}},
		// The IPv6 service of the same mark, with an IPv4 tunnel destination.
		{Service: fwm(ipvs.AFInet6, 7), Destinations: []ipvs.Destination{
			dest("10.1.1.2", 0, 10, 20, 30)}},
	}
	want := []Backend{
		{Labels: [6]string{"", "0", "10.1.1.2", "0", "FWM", "00000007"}, ActiveConns: 22, InactiveConns: 33, Weight: 11},
		{Labels: [6]string{"", "0", "10.1.1.1", "0", "FWM", "00000007"}, Weight: 5},
		{Labels: [6]string{"10.0.0.1", "80", "10.1.1.2", "0", "TCP", ""}, ActiveConns: 7, InactiveConns: 7, Weight: 7},
	}
	if d := cmp.Diff(want, Backends(vss)); d != "" {
		t.Errorf("Backends (-want +got):\n%s", d)
	}
	if d := cmp.Diff([3]uint64{22, 33, 11}, want[0].Values()); d != "" {
		t.Errorf("Values (-want +got):\n%s", d)
	}
}

func TestSumStats(t *testing.T) {
	vss := []ipvs.VirtualServer{
		{Service: ipvs.Service{Stats: ipvs.Stats{Conns: 1, InPkts: 2, OutPkts: 3, InBytes: 4, OutBytes: 5, CPS: 6, InPPS: 7, OutPPS: 8, InBPS: 9, OutBPS: 10}}},
		{Service: ipvs.Service{Stats: ipvs.Stats{Conns: 10, InPkts: 20, OutPkts: 30, InBytes: 40, OutBytes: 50, CPS: 60, InPPS: 70, OutPPS: 80, InBPS: 90, OutBPS: 100}}},
	}
	want := ipvs.Stats{Conns: 11, InPkts: 22, OutPkts: 33, InBytes: 44, OutBytes: 55, CPS: 66, InPPS: 77, OutPPS: 88, InBPS: 99, OutBPS: 110}
	got := SumStats(vss)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("SumStats (-want +got):\n%s", d)
	}
	if d := cmp.Diff([5]uint64{11, 22, 33, 44, 55}, TotalValues(got)); d != "" {
		t.Errorf("TotalValues (-want +got):\n%s", d)
	}
}
