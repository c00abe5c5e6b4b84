package complete_test

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/root"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"github.com/ipvs-tools/ipvs/ipvssysctl"
)

// result is what cobra's __complete prints: the candidates, then the
// directive (":4" is no files, ":6" no files and no space).
type result struct {
	Candidates []string
	Directive  string
	Stderr     string
}

// complete runs "ipvsctl __complete ARGS..." on f.
func complete(t *testing.T, f *factory.Factory, args ...string) result {
	t.Helper()
	ios := f.IOStreams
	out, errOut := ios.Out.(*strings.Builder), ios.ErrOut.(*strings.Builder)
	out.Reset()
	errOut.Reset()
	if code := cmdutil.Execute(root.NewCmdRoot(f), append([]string{"__complete"}, args...), out, errOut); code != 0 {
		t.Fatalf("__complete %q: exit %d\n%s", args, code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	r := result{Directive: lines[len(lines)-1]}
	if len(lines) > 1 {
		r.Candidates = lines[:len(lines)-1]
	}
	// cobra's own note of the directive is all stderr may hold.
	for _, l := range strings.Split(errOut.String(), "\n") {
		if l != "" && !strings.HasPrefix(l, "Completion ended with directive:") {
			r.Stderr += l + "\n"
		}
	}
	return r
}

// newFactory is a test factory over b with string streams, sysctls in a
// directory (conntrack and a sysctl this ipvsctl does not know), two
// namespaces and three interfaces.
func newFactory(t *testing.T, b backend.IPVS) *factory.Factory {
	t.Helper()
	ios := &iostreams.IOStreams{In: strings.NewReader(""), Out: &strings.Builder{}, ErrOut: &strings.Builder{}}
	ios.SetUTF8(true)
	f := factory.NewTest(ios, b)
	dir := t.TempDir()
	for _, n := range []string{"conntrack", "conn_future_knob"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f.Sysctls = func() (backend.Sysctls, error) { return ipvssysctl.New(ipvssysctl.WithDir(dir)), nil }
	f.NetNSNames = func() ([]string, error) { return []string{"blue", "red"}, nil }
	f.Interfaces = func() ([]string, error) { return []string{"lo", "eth1", "eth0"}, nil }
	return f
}

func TestComplete(t *testing.T) {
	const noFiles, noFilesNoSpace = ":4", ":6"
	services := []string{"tcp:10.0.0.1:80", "udp:[2001:db8::1]:53", "fwmark:7"}
	for _, tt := range []struct {
		name string
		args []string
		want result
	}{
		{"get: live services", []string{"get", ""}, result{Candidates: services, Directive: noFiles}},
		{"get: by prefix", []string{"get", "tcp:"}, result{Candidates: []string{"tcp:10.0.0.1:80"}, Directive: noFiles}},
		{"get: one service only", []string{"get", "fwmark:7", ""}, result{Directive: noFiles}},
		{"zero", []string{"zero", "f"}, result{Candidates: []string{"fwmark:7"}, Directive: noFiles}},
		{"service edit", []string{"service", "edit", "u"}, result{Candidates: []string{"udp:[2001:db8::1]:53"}, Directive: noFiles}},
		{"service delete: each once", []string{"service", "delete", "fwmark:7", ""},
			result{Candidates: []string{"tcp:10.0.0.1:80", "udp:[2001:db8::1]:53"}, Directive: noFiles}},
		{"dest edit: service first", []string{"dest", "edit", ""}, result{Candidates: services, Directive: noFiles}},
		{"dest edit: its destinations", []string{"dest", "edit", "tcp:10.0.0.1:80", ""},
			result{Candidates: []string{"192.168.0.1:8080", "192.168.0.2:8080", "192.168.0.3:8080"}, Directive: noFiles}},
		{"dest delete: IPv6 destinations", []string{"dest", "delete", "udp:[2001:db8::1]:53", ""},
			result{Candidates: []string{"[2001:db8::10]:53"}, Directive: noFiles}},
		{"dest drain: by prefix", []string{"dest", "drain", "fwmark:7", "10.1.1.2"},
			result{Candidates: []string{"10.1.1.2:0"}, Directive: noFiles}},
		{"dest drain: no such service", []string{"dest", "drain", "tcp:10.9.9.9:1", ""}, result{Directive: noFiles}},
		{"dest drain: not a service", []string{"dest", "drain", "nonsense", ""}, result{Directive: noFiles}},
		{"dest add: a new address is not offered", []string{"dest", "add", "fwmark:7", ""}, result{Directive: noFiles}},
		{"dest add -t: TCP service addresses", []string{"dest", "add", "-t", ""}, result{Candidates: []string{"10.0.0.1:80"}, Directive: noFiles}},
		{"get -u: UDP service addresses", []string{"get", "-u", ""}, result{Candidates: []string{"[2001:db8::1]:53"}, Directive: noFiles}},
		{"get -f: marks", []string{"get", "-f", ""}, result{Candidates: []string{"7"}, Directive: noFiles}},
		{"sysctl get: known and live names", []string{"sysctl", "get", "conn"},
			result{Candidates: []string{"conn_future_knob", "conn_lfactor", "conn_reuse_mode", "conntrack"}, Directive: noFiles}},
		{"sysctl describe: not twice", []string{"sysctl", "describe", "conntrack", "connt"}, result{Directive: noFiles}},
		{"sysctl set: NAME=", []string{"sysctl", "set", "conntrack=1", "conn"},
			result{Candidates: []string{"conn_future_knob=", "conn_lfactor=", "conn_reuse_mode="}, Directive: noFilesNoSpace}},
		{"--netns: namespaces", []string{"list", "--netns", ""}, result{Candidates: []string{"blue", "red"}, Directive: noFiles}},
		{"--interface: interfaces", []string{"sync", "start", "master", "--interface", "e"}, result{Candidates: []string{"eth0", "eth1"}, Directive: noFiles}},
		{"conn list --state", []string{"conn", "list", "--state", "TIME"}, result{Candidates: []string{"TIME_WAIT"}, Directive: noFiles}},
		{"conn list --state: the last of a list", []string{"conn", "list", "--state", "ESTABLISHED,sy"},
			result{Candidates: []string{"ESTABLISHED,SYN_SENT", "ESTABLISHED,SYN_RECV", "ESTABLISHED,SYNACK"}, Directive: noFiles}},
		{"conn summary --proto", []string{"conn", "summary", "--proto", "tcp,icmp"},
			result{Candidates: []string{"tcp,icmp", "tcp,icmpv6"}, Directive: noFiles}},
		{"--color", []string{"list", "--color", ""}, result{Candidates: []string{"auto", "always", "never"}, Directive: noFiles}},
		{"--scope: keys", []string{"list", "--scope", "f"}, result{Candidates: []string{"fwmark=", "family="}, Directive: noFilesNoSpace}},
		{"--tun-type", []string{"dest", "add", "--tun-type", "g"}, result{Candidates: []string{"gue", "gre"}, Directive: noFiles}},
		{"sysctl dos set --drop-entry", []string{"dos", "set", "--drop-entry", ""}, result{Candidates: []string{"off", "auto", "always"}, Directive: noFiles}},
		{"diff --format", []string{"diff", "--format", ""}, result{Candidates: []string{"json", "yaml", "rules"}, Directive: noFiles}},
		{"a number: no file names", []string{"dest", "add", "--weight", ""}, result{Directive: noFiles}},
		{"an address: no file names", []string{"conn", "list", "--vip", ""}, result{Directive: noFiles}},
		{"apply -f keeps its document extensions", []string{"apply", "-f", ""}, result{Candidates: []string{"json", "yaml", "yml", "rules"}, Directive: ":8"}},
		{"--textfile: file names", []string{"stats", "--textfile", ""}, result{Directive: ":0"}},
		{"--scheduler keeps its own completion", []string{"service", "add", "--scheduler", ""}, result{Candidates: ipvs.Schedulers(), Directive: noFiles}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := complete(t, newFactory(t, testutil.Sample()), tt.args...)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("__complete %q (-want +got):\n%s", tt.args, d)
			}
		})
	}
}

// TestCompleteNetNS checks that the services come from the namespace
// named on the command line, pid:N included.
func TestCompleteNetNS(t *testing.T) {
	blue := fakeipvs.New()
	if err := blue.NewService(ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoSCTP,
		Address: netip.MustParseAddr("10.2.0.1"), Port: 9, Scheduler: "rr"}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want []string
		ns   string
	}{
		{"the caller's namespace", []string{"get", ""}, []string{"tcp:10.0.0.1:80", "udp:[2001:db8::1]:53", "fwmark:7"}, ""},
		{"--netns blue", []string{"--netns", "blue", "get", ""}, []string{"sctp:10.2.0.1:9"}, "blue"},
		{"--netns after the command", []string{"get", "--netns", "blue", ""}, []string{"sctp:10.2.0.1:9"}, "blue"},
		{"--netns pid:N", []string{"--netns", "pid:42", "get", ""}, nil, "/proc/42/ns/net"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFactory(t, nil)
			var opened string
			f.IPVS = func() (backend.IPVS, error) {
				opened = f.Options.NetNS
				if opened == "blue" {
					return blue, nil
				}
				if opened == "" {
					return testutil.Sample(), nil
				}
				return nil, errors.New("no such namespace")
			}
			got := complete(t, f, tt.args...)
			if d := cmp.Diff(result{Candidates: tt.want, Directive: ":4"}, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if opened != tt.ns {
				t.Errorf("opened IPVS in namespace %q, want %q", opened, tt.ns)
			}
		})
	}
}

// TestCompleteFailures checks that a completion that fails offers
// nothing, prints nothing and does not panic.
func TestCompleteFailures(t *testing.T) {
	for _, tt := range []struct {
		name  string
		spoil func(*factory.Factory)
		args  []string
	}{
		{"no IPVS", func(f *factory.Factory) {
			f.IPVS = func() (backend.IPVS, error) { return nil, errors.New("connect to IPVS: permission denied") }
		}, []string{"get", ""}},
		{"IPVS panics", func(f *factory.Factory) { f.IPVS = func() (backend.IPVS, error) { panic("boom") } }, []string{"dest", "edit", "fwmark:7", ""}},
		{"bad pid", func(*factory.Factory) {}, []string{"--netns", "pid:x", "get", ""}},
		{"no namespaces", func(f *factory.Factory) {
			f.NetNSNames = func() ([]string, error) { return nil, errors.New("permission denied") }
		}, []string{"--netns", ""}},
		{"no interfaces", func(f *factory.Factory) {
			f.Interfaces = func() ([]string, error) { return nil, errors.New("no namespace") }
		}, []string{"sync", "start", "backup", "-i", ""}},
		{"interfaces panic", func(f *factory.Factory) { f.Interfaces = func() ([]string, error) { panic("boom") } },
			[]string{"sync", "start", "backup", "-i", ""}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFactory(t, testutil.Sample())
			tt.spoil(f)
			got := complete(t, f, tt.args...)
			if d := cmp.Diff(result{Directive: ":4"}, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	t.Run("sysctls fail: the known names still", func(t *testing.T) {
		f := newFactory(t, testutil.Sample())
		f.Sysctls = func() (backend.Sysctls, error) { return nil, errors.New("no /proc/sys") }
		got := complete(t, f, "sysctl", "get", "conn_f")
		if d := cmp.Diff(result{Directive: ":4"}, got); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
		got = complete(t, f, "sysctl", "get", "conntr")
		if d := cmp.Diff(result{Candidates: []string{"conntrack"}, Directive: ":4"}, got); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
}
