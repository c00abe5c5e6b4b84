package table

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs"
)

// TestWriteRulesOptions: options at their defaults are left out, the
// others written as ipvsadm -R reads them.
func TestWriteRulesOptions(t *testing.T) {
	var b strings.Builder
	ds := []ipvs.Daemon{
		{State: ipvs.DaemonMaster, Interface: "eth1"},
		{State: ipvs.DaemonBackup, Interface: "eth0", SyncID: 7, SyncMaxLen: 1400, Group: netip.MustParseAddr("239.1.2.3"), Port: 9000, TTL: 2},
	}
	if err := WriteRulesConfig(&b, ipvs.Timeouts{TCP: 900, TCPFin: 120, UDP: 300}, ds); err != nil {
		t.Fatal(err)
	}
	want := "--set 900 120 300\n" +
		"--start-daemon master --mcast-interface eth1 --syncid 0\n" +
		"--start-daemon backup --mcast-interface eth0 --syncid 7 --sync-maxlen 1400 --mcast-group 239.1.2.3 --mcast-port 9000 --mcast-ttl 2\n"
	if b.String() != want {
		t.Errorf("WriteRulesConfig:\n%s\nwant\n%s", b.String(), want)
	}

	b.Reset()
	vss := []ipvs.VirtualServer{{
		Service: ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoUDP, Address: netip.MustParseAddr("10.0.0.1"), Port: 5060,
			Scheduler: "rr", Flags: ipvs.SvcPersistent, Timeout: 300, Netmask: 0xffffffff, PEName: "sip"},
		Destinations: []ipvs.Destination{
			{Address: netip.MustParseAddr("192.168.0.1"), Port: 5060, ForwardMethod: ipvs.FwdRoute, Weight: 1},
			{Address: netip.MustParseAddr("192.168.0.2"), Port: 5060, ForwardMethod: ipvs.FwdRoute, Weight: 2, UpperThreshold: 10},
			{Address: netip.MustParseAddr("192.168.0.3"), Port: 5060, ForwardMethod: ipvs.FwdRoute, Weight: 3, LowerThreshold: 5},
		},
	}}
	if err := WriteRules(&b, vss); err != nil {
		t.Fatal(err)
	}
	want = "-A -u 10.0.0.1:5060 -s rr -p 300 --pe sip\n" +
		"-a -u 10.0.0.1:5060 -r 192.168.0.1:5060 -g -w 1\n" +
		"-a -u 10.0.0.1:5060 -r 192.168.0.2:5060 -g -w 2 -x 10\n" +
		"-a -u 10.0.0.1:5060 -r 192.168.0.3:5060 -g -w 3 -y 5\n"
	if b.String() != want {
		t.Errorf("WriteRules:\n%s\nwant\n%s", b.String(), want)
	}
}
