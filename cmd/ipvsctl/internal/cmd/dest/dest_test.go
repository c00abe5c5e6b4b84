package dest

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
)

var tcp80 = testutil.Key(ipvs.AFInet, ipvs.ProtoTCP, "10.0.0.1", 80)

func TestAddParse(t *testing.T) {
	for _, tt := range []struct {
		args                []string
		addr                string
		port                uint16
		hasPort             bool
		forward, tun, csum  string
		weight, upper, lowe uint32
		err                 string
	}{
		{args: []string{"tcp:10.0.0.1:80", "192.168.0.1:8080"}, addr: "192.168.0.1", port: 8080, hasPort: true, weight: 1},
		{args: []string{"-t", "10.0.0.1:80", "-r", "192.168.0.1", "-m", "-w", "0", "-x", "10", "-y", "5"}, addr: "192.168.0.1", forward: "masq", upper: 10, lowe: 5},
		{args: []string{"tcp:10.0.0.1:80", "[2001:db8::1]:80", "-i", "--tun-type", "gue", "--tun-port", "6080", "--tun-remcsum"}, addr: "2001:db8::1", port: 80, hasPort: true, forward: "tunnel", tun: "gue", csum: "remcsum", weight: 1},
		{args: []string{"tcp:10.0.0.1:80"}, err: "name the service and the real server"},
		{args: []string{"tcp:10.0.0.1:80", "192.168.0.1", "-m", "-g"}, err: "give one forwarding method"},
		{args: []string{"tcp:10.0.0.1:80", "192.168.0.1", "--tun-csum", "--tun-remcsum"}, err: "give one of"},
		{args: []string{"tcp:10.0.0.1:80", "host:80"}, err: "real server"},
	} {
		got, err := testutil.Parse(NewCmdAdd, tt.args...)
		if testutil.WantErr(t, tt.args, err, tt.err) {
			continue
		}
		tg := got.Target
		if tg.Service != tcp80 || tg.Addr != netip.MustParseAddr(tt.addr) || tg.Port != tt.port || tg.HasPort != tt.hasPort ||
			got.Forward != tt.forward || got.TunType != tt.tun || got.TunChecksum != tt.csum || got.Weight != tt.weight ||
			got.Upper != tt.upper || got.Lower != tt.lowe {
			t.Errorf("%v: got %+v", tt.args, got)
		}
	}
}

func TestAddEditDeleteRun(t *testing.T) {
	fake := fakeipvs.New()
	fake.NewService(ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80, Scheduler: "wlc", Netmask: 0xffffffff})
	f, _ := testutil.NewFactory(fake)
	if err := testutil.Execute(NewCmdAdd(f, nil), "tcp:10.0.0.1:80", "192.168.0.1", "-m", "-w", "3", "-x", "100"); err != nil {
		t.Fatal(err)
	}
	ds, _ := fake.Destinations(tcp80)
	if len(ds) != 1 || ds[0].Port != 80 || ds[0].ForwardMethod != ipvs.FwdMasq || ds[0].Weight != 3 || ds[0].UpperThreshold != 100 {
		t.Fatalf("added %+v", ds)
	}
	// edit keeps what is not given.
	if err := testutil.Execute(NewCmdEdit(f, nil), "tcp:10.0.0.1:80", "192.168.0.1:80", "-w", "7"); err != nil {
		t.Fatal(err)
	}
	ds, _ = fake.Destinations(tcp80)
	if ds[0].Weight != 7 || ds[0].ForwardMethod != ipvs.FwdMasq || ds[0].UpperThreshold != 100 {
		t.Errorf("edited %+v", ds[0])
	}
	err := testutil.Execute(NewCmdAdd(f, nil), "tcp:10.0.0.1:80", "2001:db8::1", "-m")
	if err == nil || !strings.Contains(err.Error(), "needs forward: tunnel") {
		t.Errorf("mixed family: %v", err)
	}
	err = testutil.Execute(NewCmdAdd(f, nil), "tcp:10.0.0.1:80", "192.168.0.1")
	if err == nil || !strings.Contains(err.Error(), "add destination 192.168.0.1:80 of tcp:10.0.0.1:80: file exists (EEXIST)") ||
		!strings.Contains(err.Error(), "ipvsctl dest edit") {
		t.Errorf("duplicate: %v", err)
	}
	err = testutil.Execute(NewCmdAdd(f, nil), "tcp:10.0.0.9:80", "192.168.0.1")
	if err == nil || !strings.Contains(err.Error(), "ESRCH") || !strings.Contains(err.Error(), "ipvsctl list") {
		t.Errorf("missing service: %v", err)
	}
	err = testutil.Execute(NewCmdEdit(f, nil), "tcp:10.0.0.1:80", "192.168.0.9", "-w", "1")
	if err == nil || !strings.Contains(err.Error(), "no such destination") {
		t.Errorf("missing dest: %v", err)
	}
	if err := testutil.Execute(NewCmdDelete(f, nil), "tcp:10.0.0.1:80", "192.168.0.1"); err != nil {
		t.Fatal(err)
	}
	if ds, _ := fake.Destinations(tcp80); len(ds) != 0 {
		t.Errorf("not deleted: %+v", ds)
	}
}

func TestDrain(t *testing.T) {
	fake := fakeipvs.New()
	fake.NewService(ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80, Scheduler: "wlc", Netmask: 0xffffffff})
	d := ipvs.Destination{Address: netip.MustParseAddr("192.168.0.1"), Port: 80, Weight: 5, ForwardMethod: ipvs.FwdMasq}
	fake.NewDestination(tcp80, d)
	dk := d.Key()
	dk.Family = ipvs.AFInet
	fake.SetConns(tcp80, dk, 3, 10)
	// Each poll ends one connection.
	polls := 0
	ios, _, _, errOut := iostreams.Test()
	f := factory.NewTest(ios, fake)
	now := time.Unix(0, 0)
	f.Now = func() time.Time { return now }
	f.Sleep = func(dd time.Duration) {
		now = now.Add(dd)
		polls++
		ds, _ := fake.Destinations(tcp80)
		if ds[0].Weight != 0 {
			t.Errorf("weight not 0 while draining")
		}
		fake.SetConns(tcp80, dk, ds[0].ActiveConns-1, 10)
	}
	ios.SetStderrTTY(true)
	fake.ResetWrites()
	if err := testutil.Execute(NewCmdDrain(f, nil), "tcp:10.0.0.1:80", "192.168.0.1"); err != nil {
		t.Fatal(err)
	}
	if polls != 3 {
		t.Errorf("polled %d times, want 3", polls)
	}
	cmds := fake.WriteCmds()
	if len(cmds) != 2 || cmds[0] != ipvs.CmdSetDest || cmds[1] != ipvs.CmdDelDest {
		t.Errorf("writes %v, want set-dest then del-dest", cmds)
	}
	if !strings.Contains(errOut.String(), "draining 192.168.0.1:80 of tcp:10.0.0.1:80: 0s of 5m0s, waiting for 3 active connections to end") || !strings.Contains(errOut.String(), "drained and deleted") {
		t.Errorf("progress: %q", errOut)
	}

	// Timeout: still deleted, with a warning; quiet otherwise.
	fake.NewDestination(tcp80, d)
	fake.SetConns(tcp80, dk, 9, 0)
	f.Sleep = func(dd time.Duration) { now = now.Add(dd) }
	ios.SetStderrTTY(false)
	errOut.Reset()
	if err := testutil.Execute(NewCmdDrain(f, nil), "tcp:10.0.0.1:80", "192.168.0.1", "--timeout", "3s"); err != nil {
		t.Fatal(err)
	}
	if errOut.String() != "ipvsctl: drain 192.168.0.1:80 of tcp:10.0.0.1:80: 9 active connections left after 3s\n" {
		t.Errorf("timeout message: %q", errOut)
	}
	if ds, _ := fake.Destinations(tcp80); len(ds) != 0 {
		t.Errorf("not deleted after the timeout")
	}
	// --no-delete keeps it, and a timeout then fails.
	fake.NewDestination(tcp80, d)
	fake.SetConns(tcp80, dk, 1, 0)
	if err := testutil.Execute(NewCmdDrain(f, nil), "tcp:10.0.0.1:80", "192.168.0.1", "--timeout", "1s", "--no-delete"); err == nil {
		t.Errorf("--no-delete with connections left should fail")
	}
	if ds, _ := fake.Destinations(tcp80); len(ds) != 1 || ds[0].Weight != 0 {
		t.Errorf("--no-delete: %+v", ds)
	}
}

// TestTunnelTypeTheKernelLacks: a gue or gre destination is refused before
// anything is sent when the kernel lacks the encapsulation (it would keep
// the destination as IPIP without a word); ipip needs no probe.
func TestTunnelTypeTheKernelLacks(t *testing.T) {
	fake := fakeipvs.New()
	fake.NewService(ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80, Scheduler: "wlc", Netmask: 0xffffffff})
	fake.ResetWrites()
	f, _ := testutil.NewFactory(fake)
	k := &testutil.Kernel{MissingTunnels: []ipvs.TunnelType{ipvs.TunnelGUE}}
	f.Probe = k.Probe
	err := testutil.Execute(NewCmdAdd(f, nil), "tcp:10.0.0.1:80", "192.168.0.1", "-i", "--tun-type", "gue", "--tun-port", "6080")
	want := "add destination 192.168.0.1:80 of tcp:10.0.0.1:80: this kernel (6.1.0-test) lacks gue tunnels (Linux 5.2 and later)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
	if len(fake.Writes) != 0 {
		t.Errorf("sent %v", fake.Writes)
	}
	if err := testutil.Execute(NewCmdAdd(f, nil), "tcp:10.0.0.1:80", "192.168.0.1", "-i", "--tun-type", "gre"); err != nil {
		t.Fatal(err)
	}
	n := k.Probes
	if err := testutil.Execute(NewCmdAdd(f, nil), "tcp:10.0.0.1:80", "192.168.0.2", "-i"); err != nil || k.Probes != n {
		t.Errorf("ipip: %v, %d probes", err, k.Probes-n)
	}
}
