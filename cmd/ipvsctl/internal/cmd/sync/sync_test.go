package sync

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"github.com/ipvs-tools/ipvs/ipvssysctl"
)

func TestStartParse(t *testing.T) {
	got, err := testutil.Parse(NewCmdStart, "backup", "-i", "eth1", "--syncid", "7", "--group", "ff02::1:2", "--port", "9000", "--ttl", "3", "--maxlen", "1400")
	if err != nil {
		t.Fatal(err)
	}
	want := ipvs.Daemon{State: ipvs.DaemonBackup, Interface: "eth1", SyncID: 7, Group: netip.MustParseAddr("ff02::1:2"), Port: 9000, TTL: 3, SyncMaxLen: 1400}
	if got.Daemon != want {
		t.Errorf("got %+v", got.Daemon)
	}
	for _, args := range [][]string{{"master"}, {"boss", "-i", "eth0"}, {"master", "-i", "eth0", "--syncid", "300"}, {"master", "-i", "eth0", "--group", "10.0.0.1"}} {
		if _, err := testutil.Parse(NewCmdStart, args...); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

type sysctls map[string]string

func (s sysctls) List() ([]ipvssysctl.Sysctl, error) {
	var out []ipvssysctl.Sysctl
	for k, v := range s {
		out = append(out, ipvssysctl.Sysctl{Name: k, Value: v, Writable: true})
	}
	return out, nil
}
func (s sysctls) Defense() (ipvssysctl.Defense, error) { return ipvssysctl.Defense{}, nil }
func (s sysctls) SetDefense(ipvssysctl.Defense) error  { return nil }
func (s sysctls) Get(n string) (string, error)         { return s[n], nil }
func (s sysctls) Set(n, v string) error                { s[n] = v; return nil }

type file struct{ *strings.Reader }

func (file) Close() error { return nil }

func TestStatusDiagnoses(t *testing.T) {
	fake := testutil.Sample()
	fake.NewDaemon(ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "eth0", SyncID: 1})
	fake.NewDaemon(ipvs.Daemon{State: ipvs.DaemonBackup, Interface: "eth9", SyncID: 2})
	f, out := testutil.NewFactory(fake)
	f.Sysctls = func() (backend.Sysctls, error) {
		return sysctls{"sync_threshold": "3\t50", "sync_version": "1", "backup_only": "0", "drop_entry": "0"}, nil
	}
	f.ProcFile = func(name string) (factory.ReadCloser, error) {
		return file{strings.NewReader("Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Origin Expires\nTCP 0A000001 A03C 0A000001 0050 0A000002 1F90 ESTABLISHED LOCAL      117\n")}, nil
	}
	opts := &StatusOptions{Common: f.Common(), ProcFile: f.ProcFile, Output: "table",
		Interface: func(name string) (*net.Interface, error) {
			if name == "eth0" {
				return &net.Interface{Name: "eth0", Flags: net.FlagMulticast}, nil
			}
			return nil, errors.New("no such interface")
		}}
	// Problems found: printed, and exit status 1.
	var ee *cmdutil.ExitError
	if err := RunStatus(opts); !errors.As(err, &ee) || ee.Code != 1 || ee.Err != nil {
		t.Fatalf("RunStatus with problems: %v, want a silent exit status 1", err)
	}
	testutil.Golden(t, "sync-status.txt", out.Bytes())
	for _, want := range []string{"interface eth0 is down", "interface eth9 does not exist", "syncid mismatch: master sends 1, backup accepts only 2",
		"sync_threshold = 3 50", "1 local, 0 learned", "backup daemon has learned no connections"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q", want)
		}
	}
	// Mixed-family servers are named as what keeps a daemon from starting.
	fake2 := fakeipvs.New()
	fake2.NewService(ipvs.Service{Family: ipvs.AFInet6, FWMark: 1, Scheduler: "rr", Netmask: 128})
	fake2.NewDestination(ipvs.ServiceKey{Family: ipvs.AFInet6, FWMark: 1}, ipvs.Destination{Address: netip.MustParseAddr("10.0.0.1"), ForwardMethod: ipvs.FwdTunnel, Weight: 1})
	out.Reset()
	f2 := factory.NewTest(f.IOStreams, fake2)
	opts = &StatusOptions{Common: f2.Common(), ProcFile: f2.ProcFile, Output: "json"}
	if err := RunStatus(opts); !errors.As(err, &ee) || ee.Code != 1 {
		t.Fatalf("RunStatus with problems (json): %v, want exit status 1", err)
	}
	for _, want := range []string{`"mixedFamilyDests": 1`, "no sync daemon runs", "refuses to start a sync daemon", `"sysctlError"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("json status lacks %q:\n%s", want, out)
		}
	}
}

func TestStopAll(t *testing.T) {
	fake := fakeipvs.New()
	fake.NewDaemon(ipvs.Daemon{State: ipvs.DaemonBackup, Interface: "eth0"})
	f, _ := testutil.NewFactory(fake)
	fake.ResetWrites()
	cmd := NewCmdStop(f, nil)
	if err := testutil.Execute(cmd, "all"); err != nil {
		t.Fatal(err)
	}
	if c := fake.WriteCmds(); len(c) != 1 || c[0] != ipvs.CmdDelDaemon {
		t.Errorf("writes %v", c)
	}
	cmd = NewCmdStop(f, nil)
	if err := testutil.Execute(cmd, "master"); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Errorf("stop master: %v", err)
	}
}

// TestStatusHealthy: a master on an interface that is up, with only a
// note to make: exit status 0, the note printed.
func TestStatusHealthy(t *testing.T) {
	fake := testutil.Sample()
	fake.NewDaemon(ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "eth0", SyncID: 1})
	f, out := testutil.NewFactory(fake)
	f.Sysctls = func() (backend.Sysctls, error) {
		return sysctls{"sync_threshold": "3\t50", "sync_persist_mode": "1"}, nil
	}
	f.ProcFile = func(name string) (factory.ReadCloser, error) {
		return file{strings.NewReader("Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Origin Expires\n")}, nil
	}
	opts := &StatusOptions{Common: f.Common(), ProcFile: f.ProcFile, Output: "table",
		Interface: func(name string) (*net.Interface, error) {
			return &net.Interface{Name: name, Flags: net.FlagUp | net.FlagMulticast}, nil
		}}
	if err := RunStatus(opts); err != nil {
		t.Fatalf("RunStatus of a healthy master: %v, want exit status 0", err)
	}
	if s := out.String(); strings.Contains(s, "Problems:") || !strings.Contains(s, "Notes:\n  - sync_persist_mode=1: only persistence templates are synced") {
		t.Errorf("status:\n%s", s)
	}
}
