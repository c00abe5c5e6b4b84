package ipvs_test

import (
	"fmt"
	"testing"

	"github.com/ipvs-tools/ipvs"
)

// TestEnumStrings pins the text of every enum's String, named values and
// unnamed ones alike.
func TestEnumStrings(t *testing.T) {
	for _, c := range []struct {
		v    fmt.Stringer
		want string
	}{
		{ipvs.AFInet, "inet"}, {ipvs.AFInet6, "inet6"}, {ipvs.AFUnspec, "unspec"}, {ipvs.AddressFamily(7), "af(7)"},
		{ipvs.ProtoTCP, "TCP"}, {ipvs.ProtoUDP, "UDP"}, {ipvs.ProtoSCTP, "SCTP"}, {ipvs.Protocol(0), "proto(0)"},
		{ipvs.FwdMasq, "Masq"}, {ipvs.FwdLocal, "Local"}, {ipvs.FwdTunnel, "Tunnel"}, {ipvs.FwdRoute, "Route"},
		{ipvs.FwdBypass, "Bypass"}, {ipvs.ForwardMethod(5), "fwd(5)"},
		{ipvs.TunnelIPIP, "ipip"}, {ipvs.TunnelGUE, "gue"}, {ipvs.TunnelGRE, "gre"}, {ipvs.TunnelType(9), "tun(9)"},
		{ipvs.TunnelNoCsum, "nocsum"}, {ipvs.TunnelCsum, "csum"}, {ipvs.TunnelRemCsum, "remcsum"},
		{ipvs.TunnelCsum | ipvs.TunnelRemCsum, "csum|remcsum"}, {ipvs.TunnelFlags(0x14), "tunflags(0x14)"},
		{ipvs.ServiceFlags(0), "none"}, {ipvs.SvcPersistent | ipvs.SvcSched2, "persistent|sched2"},
		{ipvs.SvcOnePacket | 0x100, "onepacket|0x100"},
		{ipvs.DaemonNone, "none"}, {ipvs.DaemonMaster, "master"}, {ipvs.DaemonBackup, "backup"},
		{ipvs.DaemonState(3), "state(3)"},
		{ipvs.CmdNewService, "new-service"}, {ipvs.CmdFlush, "flush"}, {ipvs.Command(18), "command(18)"},
	} {
		if got := c.v.String(); got != c.want {
			t.Errorf("%T(%#v).String() = %q, want %q", c.v, c.v, got, c.want)
		}
	}
}
