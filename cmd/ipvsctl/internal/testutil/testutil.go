// Package testutil holds helpers for the ipvsctl command tests: golden
// files under testdata/ipvsctl (rewritten with -update), a sample table
// in a fake backend, and a factory and an Execute to run one command.
package testutil

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/ipvsprobe"
	"github.com/spf13/cobra"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ipvsctl")

// repoRoot finds the module root from the test's working directory.
func repoRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// Golden compares got with testdata/ipvsctl/NAME, or writes it there
// with -update.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join(repoRoot(t), "testdata", "ipvsctl", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file %s: %v (run go test with -update to create it)", name, err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs from the golden file (-want +got; go test -update rewrites it):\n%s", name, d)
	}
}

// GoldenRun runs cmd with args and compares out, its standard output,
// with testdata/ipvsctl/NAME (Golden).
func GoldenRun(t testing.TB, name string, out *bytes.Buffer, cmd *cobra.Command, args ...string) {
	t.Helper()
	if err := Execute(cmd, args...); err != nil {
		t.Fatal(err)
	}
	Golden(t, name, out.Bytes())
}

// NewFactory returns a test factory (factory.NewTest) over the backend b
// on buffered streams, and the buffer of its standard output.
func NewFactory(b backend.IPVS) (*factory.Factory, *bytes.Buffer) {
	ios, _, out, _ := iostreams.Test()
	return factory.NewTest(ios, b), out
}

// Execute runs cmd with args (none: no arguments, never the test
// binary's own) and returns its error; what cobra itself prints (usage,
// messages) goes to a buffer nobody reads.
func Execute(cmd *cobra.Command, args ...string) error {
	cmd.SetArgs(append([]string{}, args...))
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	return cmd.Execute()
}

// Parse runs the command newCmd makes with args, on a test factory over an
// empty fake and with its work replaced by a stub, and returns the
// options its flags and arguments filled in (the zero O when it failed
// before running) and its error.
func Parse[O any](newCmd func(*factory.Factory, func(O) error) *cobra.Command, args ...string) (O, error) {
	f, _ := NewFactory(fakeipvs.New())
	var got O
	err := Execute(newCmd(f, func(o O) error { got = o; return nil }), args...)
	return got, err
}

// WantErr checks the error of a test case named name: when want is not
// empty, err must contain it, and WantErr returns true (the case ends
// there); else err must be nil (t stops if not) and WantErr returns false.
func WantErr(t testing.TB, name any, err error, want string) bool {
	t.Helper()
	if want != "" {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: error %v, want %q", name, err, want)
		}
		return true
	}
	if err != nil {
		t.Fatalf("%v: %v", name, err)
	}
	return false
}

// Key parses a service key.
func Key(fam ipvs.AddressFamily, proto ipvs.Protocol, addr string, port uint16) ipvs.ServiceKey {
	return ipvs.ServiceKey{Family: fam, Protocol: proto, Address: netip.MustParseAddr(addr), Port: port}
}

// Sample returns a fake holding a small table that exercises every
// feature: TCP/UDP/IPv6/fwmark services, persistence, scheduler flags,
// one-packet, NAT/DR/tunnel servers, GUE, thresholds, counters.
func Sample() *fakeipvs.Fake {
	f := fakeipvs.New()
	tcp := ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: netip.MustParseAddr("10.0.0.1"),
		Port: 80, Scheduler: "rr", Netmask: 0xffffffff}
	udp6 := ipvs.Service{Family: ipvs.AFInet6, Protocol: ipvs.ProtoUDP, Address: netip.MustParseAddr("2001:db8::1"),
		Port: 53, Scheduler: "sh", Flags: ipvs.SvcSched2 | ipvs.SvcOnePacket, Netmask: 128}
	fwm := ipvs.Service{Family: ipvs.AFInet, FWMark: 7, Scheduler: "wlc",
		Flags: ipvs.SvcPersistent, Timeout: 600, Netmask: 0xffffff00}
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(f.NewService(tcp))
	must(f.NewService(udp6))
	must(f.NewService(fwm))
	d := func(a string, port uint16, fwd ipvs.ForwardMethod, w uint32) ipvs.Destination {
		return ipvs.Destination{Address: netip.MustParseAddr(a), Port: port, ForwardMethod: fwd, Weight: w}
	}
	must(f.NewDestination(tcp.Key(), d("192.168.0.2", 8080, ipvs.FwdMasq, 2)))
	must(f.NewDestination(tcp.Key(), d("192.168.0.1", 8080, ipvs.FwdMasq, 1)))
	thr := d("192.168.0.3", 8080, ipvs.FwdMasq, 0)
	thr.UpperThreshold, thr.LowerThreshold = 100, 50
	must(f.NewDestination(tcp.Key(), thr))
	must(f.NewDestination(udp6.Key(), d("2001:db8::10", 53, ipvs.FwdRoute, 1)))
	gue := d("10.1.1.1", 0, ipvs.FwdTunnel, 5)
	gue.TunnelType, gue.TunnelPort, gue.TunnelFlags = ipvs.TunnelGUE, 6080, ipvs.TunnelCsum
	must(f.NewDestination(fwm.Key(), gue))
	must(f.NewDestination(fwm.Key(), d("10.1.1.2", 0, ipvs.FwdRoute, 1)))
	f.SetStats(tcp.Key(), nil, ipvs.Stats{Conns: 1234, InPkts: 56789, OutPkts: 45678, InBytes: 123456789, OutBytes: 9876543210, CPS: 3, InPPS: 40, OutPPS: 30, InBPS: 5000, OutBPS: 80000})
	k := ipvs.DestKey{Family: ipvs.AFInet, Address: netip.MustParseAddr("192.168.0.1"), Port: 8080}
	f.SetStats(tcp.Key(), &k, ipvs.Stats{Conns: 1000, InPkts: 50000, OutPkts: 40000, InBytes: 100000000, OutBytes: 9000000000})
	f.SetConns(tcp.Key(), k, 7, 3)
	f.ResetWrites()
	return f
}

// Kernel is a fake kernel for probes (factory.Factory.Probe): it lacks the
// named schedulers and tunnel types and has everything else. It counts the
// probes.
type Kernel struct {
	MissingSchedulers []string
	MissingTunnels    []ipvs.TunnelType
	Probes            int
}

// Probe is Kernel's ipvsprobe.Probe.
func (k *Kernel) Probe(req ipvsprobe.Request) (*ipvsprobe.Report, error) {
	k.Probes++
	rep := &ipvsprobe.Report{Kernel: "6.1.0-test"}
	for _, s := range req.Schedulers {
		if slices.Contains(k.MissingSchedulers, s) {
			rep.MissingSchedulers = append(rep.MissingSchedulers, s)
		} else {
			rep.Schedulers = append(rep.Schedulers, s)
		}
	}
	rep.PEs = append(rep.PEs, req.PEs...)
	for _, t := range req.Tunnels {
		if slices.Contains(k.MissingTunnels, t) {
			rep.MissingTunnels = append(rep.MissingTunnels, t)
		} else {
			rep.Tunnels = append(rep.Tunnels, t)
		}
	}
	return rep, nil
}
