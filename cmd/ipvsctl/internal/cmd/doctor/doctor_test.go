package doctor

import (
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/doctor"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
)

// host is a director whose VIPs are local when listed in local.
type host struct {
	sysctls map[string]string
	ifs     []doctor.Interface
	local   map[netip.Addr]bool
}

func (h *host) Kernel() string { return "6.1.0-test" }
func (h *host) Sysctl(p string) (string, error) {
	if v, ok := h.sysctls[p]; ok {
		return v, nil
	}
	return "", errors.New("no such file or directory")
}
func (h *host) Interfaces() ([]doctor.Interface, error) { return h.ifs, nil }
func (h *host) IsLocal(a netip.Addr) (bool, error)      { return h.local[a], nil }

func newHost() *host {
	return &host{
		sysctls: map[string]string{"net/ipv4/ip_forward": "0", "net/ipv6/conf/all/forwarding": "1",
			"net/ipv4/vs/conntrack": "0", "net/ipv4/vs/conn_reuse_mode": "1", "net/ipv4/vs/expire_nodest_conn": "0",
			"net/ipv4/conf/all/rp_filter": "0", "net/ipv4/conf/eth0/rp_filter": "1"},
		ifs: []doctor.Interface{{Name: "lo", Up: true, Loopback: true}, {Name: "eth0", Up: true, Multicast: true},
			{Name: "eth1", Multicast: true}},
		local: map[netip.Addr]bool{netip.MustParseAddr("2001:db8::1"): true},
	}
}

func TestDoctor(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "lb.yaml")
	if err := os.WriteFile(doc, []byte(`apiVersion: ipvsctl/v1
services:
  - {protocol: tcp, address: 10.0.0.9, port: 443, scheduler: twos}
daemons:
  - {state: master, interface: eth1, syncID: 4}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: ipvsctl/v1\nservices:\n  - {protocol: tcp, address: 10.0.0.9, port: 99999}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		fix    func(*host)
		code   int
		golden string
		errOut string
	}{
		{name: "problems", args: []string{"-f", doc, "--netns", "lb"}, code: 1, golden: "doctor-problems.txt"},
		{name: "fixed", code: 0, golden: "doctor-fixed.txt", fix: func(h *host) {
			h.sysctls["net/ipv4/ip_forward"] = "1"
			h.local[netip.MustParseAddr("10.0.0.1")] = true
		}},
		{name: "bad document", args: []string{"-f", bad}, code: 1, errOut: "bad.yaml:3: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost()
			if tc.fix != nil {
				tc.fix(h)
			}
			f, out := testutil.NewFactory(testutil.Sample())
			errOut := f.IOStreams.ErrOut.(interface{ String() string })
			f.Host = func() doctor.Host { return h }
			kernel := &testutil.Kernel{MissingSchedulers: []string{"twos"}}
			f.Probe = kernel.Probe
			args := tc.args
			for i := 0; i+1 < len(args); i++ {
				if args[i] == "--netns" { // a global flag: the factory has it
					f.Options.NetNS = args[i+1]
					args = append(args[:i:i], args[i+2:]...)
				}
			}
			err := testutil.Execute(NewCmdDoctor(f, nil), args...)
			code := 0
			var ee *cmdutil.ExitError
			if errors.As(err, &ee) {
				code = ee.Code
			} else if err != nil {
				code = 1
			}
			if code != tc.code {
				t.Fatalf("exit %d (%v), want %d\n%s", code, err, tc.code, out)
			}
			if tc.golden != "" {
				if out.Len() == 0 {
					t.Fatalf("no report; stderr:\n%s", errOut.String())
				}
				// The document's name is in the report: without its directory.
				testutil.Golden(t, tc.golden, []byte(strings.ReplaceAll(out.String(), dir+string(filepath.Separator), "")))
			}
			if tc.errOut != "" {
				if !strings.Contains(errOut.String(), tc.errOut) || err == nil || !strings.Contains(err.Error(), "nothing was checked") {
					t.Errorf("error %v, stderr %q; want %q and nothing checked", err, errOut.String(), tc.errOut)
				}
				if out.Len() != 0 {
					t.Errorf("printed a report for a bad document:\n%s", out)
				}
			}
		})
	}
}

// TestDoctorJSON: -o json is a DoctorReport whose summary counts its
// findings; the live table's VIPs are checked, not its schedulers.
func TestDoctorJSON(t *testing.T) {
	f, out := testutil.NewFactory(testutil.Sample())
	h := newHost()
	f.Host = func() doctor.Host { return h }
	kernel := &testutil.Kernel{}
	f.Probe = kernel.Probe
	err := testutil.Execute(NewCmdDoctor(f, nil), "-o", "json")
	var ee *cmdutil.ExitError
	if !errors.As(err, &ee) || ee.Code != 1 {
		t.Fatalf("error %v, want exit status 1", err)
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	type row struct{ Check, Severity, Object string }
	var got []row
	for _, f := range rep.Findings {
		got = append(got, row{f.Check, string(f.Severity), f.Object.String()})
	}
	want := []row{
		{"vip-local", "info", "service fwmark:7"},
		{"vip-local", "problem", "service tcp:10.0.0.1:80"},
		{"vip-local", "ok", "service udp:[2001:db8::1]:53"},
		{"ip-forward", "problem", "sysctl net.ipv4.ip_forward"},
		{"conntrack", "info", "sysctl net.ipv4.vs.conntrack"},
		{"rp-filter", "info", "interface eth0"},
		{"conn-reuse", "info", "sysctl net.ipv4.vs.conn_reuse_mode"},
		{"conn-reuse", "info", "sysctl net.ipv4.vs.expire_nodest_conn"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
	if d := cmp.Diff(Summary{OK: 1, Info: 5, Problem: 2}, rep.Summary); d != "" {
		t.Errorf("summary (-want +got):\n%s", d)
	}
	if rep.APIVersion != "ipvsctl/v1" || rep.Kind != "DoctorReport" || rep.Kernel != "6.1.0-test" {
		t.Errorf("header: %+v, kernel %q", rep.TypeMeta, rep.Kernel)
	}
	if kernel.Probes != 0 {
		t.Errorf("%d probes without a document, want none", kernel.Probes)
	}
}
