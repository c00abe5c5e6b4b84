package netlinkipvs

// Integration tests against the real kernel, run inside the test VM by
// "go run ./tools/vmrun test". Every write is checked by reading the state
// back with Debian's ipvsadm 1.31, and every read is compared with what was
// written: the library must agree with the C tool about the kernel.

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
	"golang.org/x/sys/unix"
)

func vmClient(t *testing.T, opts ...Option) *Client {
	t.Helper()
	vmtest.Require(t)
	c, err := New(opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// refLines runs the reference ipvsadm and returns its stdout lines.
func refLines(t *testing.T, args ...string) []string {
	t.Helper()
	r := vmtest.Ref(t, args...)
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("ipvsadm %s: %s", strings.Join(args, " "), r)
	}
	return strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
}

// refSave returns the reference "ipvsadm -Sn" output.
func refSave(t *testing.T) string {
	t.Helper()
	r := vmtest.Ref(t, "-Sn")
	if r.Code != 0 {
		t.Fatalf("ipvsadm -Sn: %s", r)
	}
	return r.Stdout
}

var cmpAddr = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

var ignoreCounters = cmpopts.IgnoreFields(ipvs.Service{}, "Stats", "Stats64")
var ignoreDestCounters = cmpopts.IgnoreFields(ipvs.Destination{}, "Stats", "Stats64", "ActiveConns", "InactiveConns", "PersistConns")

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestVMInfo(t *testing.T) {
	c := vmClient(t)
	info, err := c.Info()
	if err != nil {
		t.Fatal(err)
	}
	want := refLines(t, "-L", "-n")[0]
	got := fmt.Sprintf("IP Virtual Server version %s (size=%d)", info.Version, info.ConnTableSize)
	if got != want {
		t.Errorf("library says %q, ipvsadm says %q", got, want)
	}
}

// serviceCases covers every kind of service and option; save is the line
// ipvsadm -Sn must print for it.
var serviceCases = []struct {
	svc  ipvs.Service
	save string
}{
	{ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: mustAddr("10.0.0.1"), Port: 80, Scheduler: "wlc", Netmask: 0xffffffff},
		"-A -t 10.0.0.1:80 -s wlc"},
	{ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoUDP, Address: mustAddr("10.0.0.1"), Port: 53, Scheduler: "sh",
		Flags: ipvs.SvcOnePacket | ipvs.SvcSched1 | ipvs.SvcSched2, Netmask: 0xffffffff},
		"-A -u 10.0.0.1:53 -s sh -o -b sh-fallback,sh-port"},
	{ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoSCTP, Address: mustAddr("10.0.0.2"), Port: 3868, Scheduler: "rr", Netmask: 0xffffffff},
		"-A --sctp-service 10.0.0.2:3868 -s rr"},
	{ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: mustAddr("10.0.0.1"), Port: 443, Scheduler: "rr",
		Flags: ipvs.SvcPersistent, Timeout: 360, Netmask: 0xffffff00},
		"-A -t 10.0.0.1:443 -s rr -p 360 -M 255.255.255.0"},
	{ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: mustAddr("10.0.0.1"), Port: 0, Scheduler: "lc",
		Flags: ipvs.SvcPersistent, Timeout: 100, Netmask: 0xffffffff},
		"-A -t 10.0.0.1:0 -s lc -p 100"},
	{ipvs.Service{Family: ipvs.AFInet6, Protocol: ipvs.ProtoTCP, Address: mustAddr("2001:db8::1"), Port: 443, Scheduler: "wlc",
		Flags: ipvs.SvcPersistent, Timeout: 600, Netmask: 96},
		"-A -t [2001:db8::1]:443 -s wlc -p 600 -M 96"},
	{ipvs.Service{Family: ipvs.AFInet, FWMark: 7, Scheduler: "mh", Flags: ipvs.SvcSched1 | ipvs.SvcSched2, Netmask: 0xffffffff},
		"-A -f 7 -s mh -b mh-fallback,mh-port"},
	{ipvs.Service{Family: ipvs.AFInet6, FWMark: 7, Scheduler: "wrr", Flags: ipvs.SvcSched3, Netmask: 128},
		"-A -f 7 -6 -s wrr -b flag-3"},
	{ipvs.Service{Family: ipvs.AFInet, FWMark: 0xabcdef01, Scheduler: "wlc", Flags: ipvs.SvcPersistent, Timeout: 300, Netmask: 0xffffffff},
		"-A -f -1412567295 -s wlc -p 300"},
}

func TestVMServices(t *testing.T) {
	c := vmClient(t)
	vmtest.Reset(t)
	var want []string
	for _, tc := range serviceCases {
		if err := c.NewService(tc.svc); err != nil {
			t.Fatalf("NewService(%s): %v", tc.svc.Key(), err)
		}
		want = append(want, tc.save)
	}
	// The reference sees exactly what was written.
	got := strings.Split(strings.TrimSuffix(refSave(t), "\n"), "\n")
	sort.Strings(got)
	sort.Strings(want)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ipvsadm -Sn after NewService (-want +got):\n%s", d)
	}
	// The library reads back what it wrote.
	svcs, err := c.Services()
	if err != nil {
		t.Fatal(err)
	}
	var sent []ipvs.Service
	for _, tc := range serviceCases {
		sent = append(sent, tc.svc)
	}
	byKey := cmpopts.SortSlices(func(a, b ipvs.Service) bool { return a.Key().String() < b.Key().String() })
	if d := cmp.Diff(sent, svcs, cmpAddr, ignoreCounters, byKey); d != "" {
		t.Errorf("Services() (-sent +read):\n%s", d)
	}
	for _, tc := range serviceCases {
		one, err := c.Service(tc.svc.Key())
		if err != nil {
			t.Fatalf("Service(%s): %v", tc.svc.Key(), err)
		}
		if d := cmp.Diff(tc.svc, one, cmpAddr, ignoreCounters); d != "" {
			t.Errorf("Service(%s) (-sent +read):\n%s", tc.svc.Key(), d)
		}
	}

	// Update replaces every setting.
	upd := serviceCases[1].svc
	upd.Scheduler, upd.Flags, upd.Timeout = "wrr", ipvs.SvcPersistent, 30
	if err := c.UpdateService(upd); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(refSave(t), "-A -u 10.0.0.1:53 -s wrr -p 30\n") {
		t.Errorf("after UpdateService ipvsadm -Sn shows:\n%s", refSave(t))
	}
	// Delete.
	for _, tc := range serviceCases {
		if err := c.DeleteService(tc.svc.Key()); err != nil {
			t.Fatalf("DeleteService(%s): %v", tc.svc.Key(), err)
		}
	}
	if s := refSave(t); s != "" {
		t.Errorf("table not empty after deleting every service:\n%s", s)
	}
	if svcs, err := c.Services(); err != nil || len(svcs) != 0 || svcs == nil {
		t.Errorf("Services() on an empty table = %#v, %v", svcs, err)
	}
}

func TestVMPersistenceEngine(t *testing.T) {
	c := vmClient(t)
	vmtest.Reset(t)
	s := ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoUDP, Address: mustAddr("10.0.0.5"), Port: 5060, Scheduler: "rr",
		Flags: ipvs.SvcPersistent, Timeout: 360, Netmask: 0xffffffff, PEName: "sip"}
	err := c.NewService(s)
	// The guest may lack ip_vs_pe_sip; the kernel then says ENOENT, which
	// the reference reports for the same request.
	ref := vmtest.Ref(t, "-A", "-u", "10.0.0.6:5060", "-p", "--pe", "sip")
	if err != nil {
		if !errors.Is(err, unix.ENOENT) || ref.Code == 0 {
			t.Fatalf("NewService with PE: %v; reference: %s", err, ref)
		}
		t.Logf("no sip persistence engine in this kernel: both got ENOENT")
		return
	}
	if ref.Code != 0 {
		t.Fatalf("library added a sip service, reference failed: %s", ref)
	}
	if !strings.Contains(refSave(t), "-A -u 10.0.0.5:5060 -s rr -p 360 --pe sip\n") {
		t.Errorf("ipvsadm -Sn:\n%s", refSave(t))
	}
	got, err := c.Service(s.Key())
	if err != nil || got.PEName != "sip" {
		t.Errorf("Service() = %+v, %v", got, err)
	}
	// SET without a PE removes it.
	s.PEName = ""
	if err := c.UpdateService(s); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Service(s.Key()); got.PEName != "" {
		t.Errorf("PE not removed: %+v", got)
	}
}

func TestVMDestinations(t *testing.T) {
	c := vmClient(t)
	vmtest.Reset(t)
	v4 := ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: mustAddr("10.0.0.1"), Port: 443, Scheduler: "rr", Netmask: 0xffffffff}
	v6 := ipvs.Service{Family: ipvs.AFInet6, Protocol: ipvs.ProtoTCP, Address: mustAddr("2001:db8::1"), Port: 443, Scheduler: "wlc", Netmask: 128}
	fwm := ipvs.Service{Family: ipvs.AFInet, FWMark: 9, Scheduler: "wlc", Netmask: 0xffffffff}
	for _, s := range []ipvs.Service{v4, v6, fwm} {
		if err := c.NewService(s); err != nil {
			t.Fatal(err)
		}
	}
	type dc struct {
		svc  ipvs.Service
		d    ipvs.Destination
		save string
	}
	cases := []dc{
		{v4, ipvs.Destination{Address: mustAddr("192.168.0.1"), Port: 8443, ForwardMethod: ipvs.FwdMasq, Weight: 2, UpperThreshold: 100, LowerThreshold: 10},
			"-a -t 10.0.0.1:443 -r 192.168.0.1:8443 -m -w 2"},
		{v4, ipvs.Destination{Address: mustAddr("192.168.0.2"), Port: 443, ForwardMethod: ipvs.FwdRoute, Weight: 2147483647},
			"-a -t 10.0.0.1:443 -r 192.168.0.2:443 -g -w 2147483647"},
		{v4, ipvs.Destination{Address: mustAddr("192.168.0.3"), Port: 443, ForwardMethod: ipvs.FwdTunnel, Weight: 0},
			"-a -t 10.0.0.1:443 -r 192.168.0.3:443 -i -w 0 --tun-type ipip"},
		{v4, ipvs.Destination{Address: mustAddr("192.168.0.4"), Port: 443, ForwardMethod: ipvs.FwdTunnel, Weight: 5,
			TunnelType: ipvs.TunnelGUE, TunnelPort: 6080, TunnelFlags: ipvs.TunnelCsum},
			"-a -t 10.0.0.1:443 -r 192.168.0.4:443 -i -w 5 --tun-type gue --tun-port 6080 --tun-csum"},
		{v4, ipvs.Destination{Address: mustAddr("192.168.0.5"), Port: 443, ForwardMethod: ipvs.FwdTunnel, Weight: 5,
			TunnelType: ipvs.TunnelGUE, TunnelPort: 6081, TunnelFlags: ipvs.TunnelRemCsum},
			"-a -t 10.0.0.1:443 -r 192.168.0.5:443 -i -w 5 --tun-type gue --tun-port 6081 --tun-remcsum"},
		{v4, ipvs.Destination{Address: mustAddr("192.168.0.6"), Port: 443, ForwardMethod: ipvs.FwdTunnel, Weight: 5,
			TunnelType: ipvs.TunnelGRE, TunnelFlags: ipvs.TunnelNoCsum},
			"-a -t 10.0.0.1:443 -r 192.168.0.6:443 -i -w 5 --tun-type gre --tun-nocsum"},
		{v4, ipvs.Destination{Address: mustAddr("127.0.0.1"), Port: 443, ForwardMethod: ipvs.FwdLocal, Weight: 1},
			"-a -t 10.0.0.1:443 -r 127.0.0.1:443 -g -w 1"},
		{v6, ipvs.Destination{Address: mustAddr("2001:db8::2"), Port: 8443, ForwardMethod: ipvs.FwdMasq, Weight: 3},
			"-a -t [2001:db8::1]:443 -r [2001:db8::2]:8443 -m -w 3"},
		// Mixed family: an IPv4 tunnel destination of an IPv6 service.
		{v6, ipvs.Destination{Address: mustAddr("10.9.9.9"), Port: 443, ForwardMethod: ipvs.FwdTunnel, Weight: 1},
			"-a -t [2001:db8::1]:443 -r 10.9.9.9:443 -i -w 1 --tun-type ipip"},
		{fwm, ipvs.Destination{Address: mustAddr("192.168.1.1"), Port: 0, ForwardMethod: ipvs.FwdMasq, Weight: 1},
			"-a -f 9 -r 192.168.1.1:0 -m -w 1"},
	}
	for _, tc := range cases {
		if err := c.NewDestination(tc.svc.Key(), tc.d); err != nil {
			t.Fatalf("NewDestination(%s, %s): %v", tc.svc.Key(), tc.d.Key(), err)
		}
	}
	save := refSave(t)
	for _, tc := range cases {
		if !strings.Contains(save, tc.save+"\n") {
			t.Errorf("ipvsadm -Sn lacks %q:\n%s", tc.save, save)
		}
	}
	// The thresholds as ipvsadm shows them.
	th := strings.Join(refLines(t, "-Ln", "--thresholds", "-t", "10.0.0.1:443"), "\n")
	if !strings.Contains(th, "  -> 192.168.0.1:8443             100        10         0          0") {
		t.Errorf("ipvsadm --thresholds:\n%s", th)
	}
	// Read back through the library.
	for _, s := range []ipvs.Service{v4, v6, fwm} {
		got, err := c.Destinations(s.Key())
		if err != nil {
			t.Fatal(err)
		}
		var want []ipvs.Destination
		for _, tc := range cases {
			if tc.svc.Key() == s.Key() {
				d := tc.d
				d.Family = ipvs.FamilyOf(d.Address)
				want = append(want, d)
			}
		}
		byKey := cmpopts.SortSlices(func(a, b ipvs.Destination) bool { return a.Key().String() < b.Key().String() })
		if d := cmp.Diff(want, got, cmpAddr, ignoreDestCounters, byKey); d != "" {
			t.Errorf("Destinations(%s) (-sent +read):\n%s", s.Key(), d)
		}
	}
	// Update and delete, including the mixed-family destination, which
	// needs its own address family in the request.
	upd := cases[0].d
	upd.Weight, upd.ForwardMethod = 7, ipvs.FwdTunnel
	upd.UpperThreshold, upd.LowerThreshold = 0, 0
	if err := c.UpdateDestination(v4.Key(), upd); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(refSave(t), "-a -t 10.0.0.1:443 -r 192.168.0.1:8443 -i -w 7 --tun-type ipip\n") {
		t.Errorf("after UpdateDestination:\n%s", refSave(t))
	}
	if err := c.DeleteDestination(v6.Key(), cases[8].d.Key()); err != nil {
		t.Fatalf("DeleteDestination(mixed family): %v", err)
	}
	if strings.Contains(refSave(t), "10.9.9.9") {
		t.Errorf("mixed-family destination not deleted:\n%s", refSave(t))
	}
	// Missing service: an empty list, not an error (the kernel's answer).
	ds, err := c.Destinations(ipvs.ServiceKey{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: mustAddr("10.1.1.1"), Port: 1})
	if err != nil || len(ds) != 0 {
		t.Errorf("Destinations(missing) = %v, %v", ds, err)
	}
}

func TestVMErrors(t *testing.T) {
	c := vmClient(t)
	vmtest.Reset(t)
	s := ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: mustAddr("10.0.0.1"), Port: 80, Scheduler: "rr", Netmask: 0xffffffff}
	if err := c.NewService(s); err != nil {
		t.Fatal(err)
	}
	d := ipvs.Destination{Address: mustAddr("192.168.0.1"), Port: 80, Weight: 1}
	missing := ipvs.ServiceKey{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: mustAddr("10.0.0.99"), Port: 80}
	tests := []struct {
		name  string
		err   error
		errno unix.Errno
		is    error
	}{
		{"duplicate service", c.NewService(s), unix.EEXIST, os.ErrExist},
		{"unknown scheduler", c.NewService(ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: mustAddr("10.0.0.2"), Port: 80, Scheduler: "nosuch", Netmask: 0xffffffff}), unix.ENOENT, os.ErrNotExist},
		{"delete missing service", c.DeleteService(missing), unix.ESRCH, os.ErrNotExist},
		{"update missing service", c.UpdateService(missing.Service()), unix.ESRCH, os.ErrNotExist},
		{"get missing service", func() error { _, err := c.Service(missing); return err }(), unix.ESRCH, os.ErrNotExist},
		{"zero missing service", c.ZeroService(missing), unix.ESRCH, os.ErrNotExist},
		{"dest of missing service", c.NewDestination(missing, d), unix.ESRCH, os.ErrNotExist},
		{"delete missing dest", c.DeleteDestination(s.Key(), d.Key()), unix.ENOENT, os.ErrNotExist},
		{"lower above upper threshold", c.NewDestination(s.Key(), ipvs.Destination{Address: mustAddr("192.168.0.1"), Port: 80, Weight: 1, LowerThreshold: 10}), unix.ERANGE, nil},
		{"mixed family without tunnel", c.NewDestination(s.Key(), ipvs.Destination{Address: mustAddr("2001:db8::5"), Port: 80, Weight: 1}), unix.EINVAL, nil},
		{"GUE without port", c.NewDestination(s.Key(), ipvs.Destination{Address: mustAddr("192.168.0.7"), Port: 80, ForwardMethod: ipvs.FwdTunnel, TunnelType: ipvs.TunnelGUE, Weight: 1}), unix.EINVAL, nil},
		{"stop missing daemon", c.DeleteDaemon(ipvs.DaemonBackup), unix.ESRCH, os.ErrNotExist},
		{"daemon on unknown interface", c.NewDaemon(ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "nosuch0"}), unix.ENODEV, nil},
		{"timeout too large", c.SetTimeouts(ipvs.Timeouts{TCP: 1 << 31}), unix.EINVAL, nil},
	}
	for _, tt := range tests {
		var e *Error
		if !errors.As(tt.err, &e) {
			t.Errorf("%s: error %v is not an *Error", tt.name, tt.err)
			continue
		}
		if !errors.Is(tt.err, tt.errno) {
			t.Errorf("%s: got %v, want errno %v", tt.name, tt.err, tt.errno)
		}
		if tt.is != nil && !errors.Is(tt.err, tt.is) {
			t.Errorf("%s: errors.Is(%v, %v) = false", tt.name, tt.err, tt.is)
		}
	}
}

func TestVMTimeouts(t *testing.T) {
	c := vmClient(t)
	vmtest.Reset(t)
	if err := c.SetTimeouts(ipvs.Timeouts{TCP: 1000, TCPFin: 60, UDP: 30}); err != nil {
		t.Fatal(err)
	}
	if got := refLines(t, "-L", "--timeout"); got[0] != "Timeout (tcp tcpfin udp): 1000 60 30" {
		t.Errorf("ipvsadm -L --timeout = %q", got)
	}
	// Zero leaves a value unchanged.
	if err := c.SetTimeouts(ipvs.Timeouts{TCPFin: 90}); err != nil {
		t.Fatal(err)
	}
	to, err := c.Timeouts()
	if err != nil || to != (ipvs.Timeouts{TCP: 1000, TCPFin: 90, UDP: 30}) {
		t.Errorf("Timeouts() = %+v, %v", to, err)
	}
	if got := refLines(t, "-L", "--timeout"); got[0] != "Timeout (tcp tcpfin udp): 1000 90 30" {
		t.Errorf("ipvsadm -L --timeout = %q", got)
	}
}

func TestVMDaemons(t *testing.T) {
	c := vmClient(t)
	vmtest.Reset(t)
	ds, err := c.Daemons()
	if err != nil || len(ds) != 0 {
		t.Fatalf("Daemons() with none running = %v, %v", ds, err)
	}
	master := ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "lo", SyncID: 7, SyncMaxLen: 1400,
		Group: mustAddr("239.1.2.3"), Port: 9000, TTL: 3}
	backup := ipvs.Daemon{State: ipvs.DaemonBackup, Interface: "lo", SyncID: 200, Group: mustAddr("ff02::1:2")}
	if err := c.NewDaemon(master); err != nil {
		t.Fatal(err)
	}
	if err := c.NewDaemon(backup); err != nil {
		t.Fatal(err)
	}
	if err := c.NewDaemon(master); !errors.Is(err, unix.EEXIST) {
		t.Errorf("second master: %v, want EEXIST", err)
	}
	ref := refLines(t, "-L", "--daemon")
	ds, err = c.Daemons()
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || len(ref) != 2 {
		t.Fatalf("library %v, reference %q", ds, ref)
	}
	for i, d := range ds {
		line := fmt.Sprintf("%s sync daemon (mcast=%s, syncid=%d, maxlen=%d, group=%s, port=%d, ttl=%d)",
			d.State, d.Interface, d.SyncID, d.SyncMaxLen, d.Group, d.Port, d.TTL)
		if line != ref[i] {
			t.Errorf("daemon %d: library %q, ipvsadm %q", i, line, ref[i])
		}
	}
	if ds[0].State != ipvs.DaemonMaster || ds[0].SyncMaxLen != 1400 || ds[0].Port != 9000 || ds[0].TTL != 3 || ds[0].Group != master.Group {
		t.Errorf("master read back as %+v", ds[0])
	}
	// Kernel defaults for what the backup left unset.
	if ds[1].Port != 8848 || ds[1].TTL != 1 || ds[1].Group != backup.Group || ds[1].SyncID != 200 {
		t.Errorf("backup read back as %+v", ds[1])
	}
	for _, st := range []ipvs.DaemonState{ipvs.DaemonMaster, ipvs.DaemonBackup} {
		if err := c.DeleteDaemon(st); err != nil {
			t.Errorf("DeleteDaemon(%s): %v", st, err)
		}
	}
	if r := vmtest.Ref(t, "-L", "--daemon"); r.Stdout != "" {
		t.Errorf("daemons still listed: %q", r.Stdout)
	}
}

// TestVMDaemonStopRightAfterStart: a daemon stopped right after its start
// (its thread has not run yet) is stopped, and the stop returns: the
// kernel answers nothing then (kthread_stop's EINTR), which made
// ipvsadm-restore wait forever. One request at a time and batched.
func TestVMDaemonStopRightAfterStart(t *testing.T) {
	// A hang fails the round instead of the test's budget.
	c := vmClient(t, WithTimeout(10*time.Second))
	vmtest.Reset(t)
	defer vmtest.Reset(t)
	master := ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "lo"}
	for i := range 40 {
		if i%2 == 0 {
			if err := c.NewDaemon(master); err != nil {
				t.Fatalf("round %d: start: %v", i, err)
			}
			if err := c.DeleteDaemon(ipvs.DaemonMaster); err != nil {
				t.Fatalf("round %d: stop: %v", i, err)
			}
		} else {
			errs, err := c.Batch([]ipvs.Op{{Cmd: ipvs.CmdNewDaemon, Daemon: master}, {Cmd: ipvs.CmdDelDaemon, Daemon: master}})
			if err != nil || errs[0] != nil || errs[1] != nil {
				t.Fatalf("round %d: batched start and stop: %v %v", i, errs, err)
			}
		}
		if ds, err := c.Daemons(); err != nil || len(ds) != 0 {
			t.Fatalf("round %d: daemons after the stop: %v, %v", i, ds, err)
		}
	}
}

func TestVMZeroAndStats(t *testing.T) {
	c := vmClient(t)
	vmtest.Reset(t)
	s := ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: mustAddr("10.0.0.1"), Port: 80, Scheduler: "rr", Netmask: 0xffffffff}
	if err := c.NewService(s); err != nil {
		t.Fatal(err)
	}
	if err := c.NewDestination(s.Key(), ipvs.Destination{Address: mustAddr("192.168.0.1"), Port: 80, Weight: 1}); err != nil {
		t.Fatal(err)
	}
	if err := c.ZeroService(s.Key()); err != nil {
		t.Fatal(err)
	}
	if err := c.ZeroAll(); err != nil {
		t.Fatal(err)
	}
	got, err := c.Service(s.Key())
	if err != nil {
		t.Fatal(err)
	}
	if !got.Stats64 {
		t.Errorf("a 6.1 kernel sends STATS64, but the service decoded from STATS")
	}
	ref := refLines(t, "-Ln", "--stats", "--exact")
	// ipvsadm --exact: the name in 33 columns, numbers right-aligned in 9.
	wantRow := fmt.Sprintf("%-33s%9d%9d%9d%9d%9d", "TCP  10.0.0.1:80", got.Stats.Conns, got.Stats.InPkts, got.Stats.OutPkts, got.Stats.InBytes, got.Stats.OutBytes)
	if ref[3] != wantRow {
		t.Errorf("library stats row %q, ipvsadm %q", wantRow, ref[3])
	}
	ds, err := c.Destinations(s.Key())
	if err != nil || len(ds) != 1 || !ds[0].Stats64 {
		t.Fatalf("Destinations = %+v, %v", ds, err)
	}
}

func TestVMBatch(t *testing.T) {
	c := vmClient(t)
	vmtest.Reset(t)
	const n = 1500
	var ops []ipvs.Op
	for i := 0; i < n; i++ {
		s := ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), Port: 80,
			Scheduler: "rr", Netmask: 0xffffffff}
		ops = append(ops, ipvs.Op{Cmd: ipvs.CmdNewService, Service: s})
		ops = append(ops, ipvs.Op{Cmd: ipvs.CmdNewDest, Service: s, Destination: ipvs.Destination{Address: mustAddr("192.168.0.1"), Port: 80, Weight: 1}})
	}
	// Failures in the middle and at the very end are reported at their
	// index; the kernel goes on after them.
	ops = append(ops[:1000], append([]ipvs.Op{ops[0]}, ops[1000:]...)...) // duplicate service: EEXIST at 1000
	ops = append(ops, ipvs.Op{Cmd: ipvs.CmdDelService, Service: ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: mustAddr("10.9.9.9"), Port: 1}})
	start := time.Now()
	errs, err := c.Batch(ops)
	t.Logf("batch of %d ops: %v", len(ops), time.Since(start))
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		switch i {
		case 1000:
			if !errors.Is(e, unix.EEXIST) {
				t.Errorf("op %d: %v, want EEXIST", i, e)
			}
		case len(ops) - 1:
			if !errors.Is(e, unix.ESRCH) {
				t.Errorf("last op: %v, want ESRCH", e)
			}
		default:
			if e != nil {
				t.Errorf("op %d (%s): %v", i, ops[i].Cmd, e)
			}
		}
	}
	save := refSave(t)
	if got := strings.Count(save, "-A "); got != n {
		t.Errorf("ipvsadm -Sn shows %d services, want %d", got, n)
	}
	if got := strings.Count(save, "-a "); got != n {
		t.Errorf("ipvsadm -Sn shows %d destinations, want %d", got, n)
	}
}

func TestVMNetNS(t *testing.T) {
	vmtest.Require(t)
	vmtest.Reset(t)
	vmtest.MustShell(t, vmtest.IPFull+" netns add lbtest")
	t.Cleanup(func() { vmtest.MustShell(t, vmtest.IPFull+" netns del lbtest") })
	c := vmClient(t, WithNetNS("lbtest"))
	root := vmClient(t)
	s := ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: mustAddr("10.7.7.7"), Port: 80, Scheduler: "rr", Netmask: 0xffffffff}
	if err := c.NewService(s); err != nil {
		t.Fatal(err)
	}
	if svcs, err := root.Services(); err != nil || len(svcs) != 0 {
		t.Errorf("root namespace sees %v, %v", svcs, err)
	}
	if r := vmtest.Ref(t, "-Sn"); r.Stdout != "" {
		t.Errorf("reference in the root namespace sees %q", r.Stdout)
	}
	out := vmtest.MustShell(t, vmtest.IPFull+" netns exec lbtest "+vmtest.RefPath+" -Sn")
	if out != "-A -t 10.7.7.7:80 -s rr\n" {
		t.Errorf("reference in the namespace sees %q", out)
	}
	// A path works as well as a name.
	c2 := vmClient(t, WithNetNS("/run/netns/lbtest"))
	if svcs, err := c2.Services(); err != nil || len(svcs) != 1 {
		t.Errorf("by path: %v, %v", svcs, err)
	}
	if _, err := New(WithNetNS("nosuchns")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("New(WithNetNS(missing)) = %v, want not-exist", err)
	}
}

// TestVMLargeTable lists 1,000 services with 10 destinations each.
func TestVMLargeTable(t *testing.T) {
	c := vmClient(t)
	vmtest.Reset(t)
	// 1,000 services make a service dump of many datagrams and 10,000
	// destinations a batch of many windows; bench/vm-foundation.sh times
	// 10,000 x 10.
	const nsvc, ndest = 1000, 10
	var ops []ipvs.Op
	for i := 0; i < nsvc; i++ {
		s := ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}), Port: 80,
			Scheduler: "wlc", Netmask: 0xffffffff}
		ops = append(ops, ipvs.Op{Cmd: ipvs.CmdNewService, Service: s})
		for j := 0; j < ndest; j++ {
			ops = append(ops, ipvs.Op{Cmd: ipvs.CmdNewDest, Service: s, Destination: ipvs.Destination{
				Address: netip.AddrFrom4([4]byte{192, 168, byte(j), 1}), Port: 8080, ForwardMethod: ipvs.FwdMasq, Weight: 1}})
		}
	}
	start := time.Now()
	mustBatch(t, c, ops)
	t.Logf("created %d services x %d dests in %v", nsvc, ndest, time.Since(start))
	start = time.Now()
	svcs, err := c.Services()
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, s := range svcs {
		ds, err := c.Destinations(s.Key())
		if err != nil {
			t.Fatal(err)
		}
		total += len(ds)
	}
	lib := time.Since(start)
	if len(svcs) != nsvc || total != nsvc*ndest {
		t.Fatalf("listed %d services and %d destinations", len(svcs), total)
	}
	start = time.Now()
	r := vmtest.Ref(t, "-Ln")
	ref := time.Since(start)
	if r.Code != 0 || strings.Count(r.Stdout, "  -> ") != nsvc*ndest+1 {
		t.Fatalf("ipvsadm -Ln: exit %d, %d rows", r.Code, strings.Count(r.Stdout, "  -> "))
	}
	t.Logf("listing %d services + %d destinations: library %v, ipvsadm -Ln %v", nsvc, total, lib, ref)
}
