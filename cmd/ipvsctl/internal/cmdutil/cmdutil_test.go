package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/ipvsprobe"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
	"golang.org/x/sys/unix"
)

func kerr(cmd ipvs.Command, e unix.Errno) error { return &netlinkipvs.Error{Op: cmd, Err: e} }

func TestExplainHints(t *testing.T) {
	for _, tt := range []struct {
		ctx  Context
		err  error
		want string
	}{
		{Context{Op: "add service", Object: "tcp:10.0.0.1:80", Scheduler: "mh"}, kerr(ipvs.CmdNewService, unix.ENOENT),
			"add service tcp:10.0.0.1:80: no such file or directory (ENOENT)\n  hint: scheduler \"mh\" is not loaded: modprobe ip_vs_mh"},
		{Context{Op: "add service", Object: "tcp:10.0.0.1:80", Scheduler: "rr", PE: "sip"}, kerr(ipvs.CmdNewService, unix.ENOENT),
			"modprobe ip_vs_pe_sip"},
		{Context{Op: "list services"}, kerr(ipvs.CmdGetService, unix.EPERM), "CAP_NET_ADMIN in the initial user namespace"},
		{Context{Op: "delete service", Object: "fwmark:3"}, kerr(ipvs.CmdDelService, unix.ESRCH), "the service does not exist; see ipvsctl list"},
		{Context{Op: "stop master sync daemon"}, kerr(ipvs.CmdDelDaemon, unix.ESRCH), "that sync daemon is not running"},
		{Context{Op: "connect to IPVS"}, kerr(ipvs.CmdGetFamily, unix.ENOENT), "the ip_vs kernel module is not available: modprobe ip_vs"},
		{Context{Op: "add destination"}, kerr(ipvs.CmdNewDest, unix.EINVAL), "allowed only with tunnel forwarding"},
		{Context{Op: "add destination"}, kerr(ipvs.CmdNewDest, unix.EAFNOSUPPORT), "allowed only with tunnel forwarding"},
		{Context{Op: "start master sync daemon"}, kerr(ipvs.CmdNewDaemon, unix.EINVAL), "mixed-AF tunnel servers"},
		{Context{Op: "start master sync daemon", Interface: "eth7"}, kerr(ipvs.CmdNewDaemon, unix.ENODEV), `interface "eth7" does not exist`},
		{Context{Op: "start master sync daemon"}, kerr(ipvs.CmdNewDaemon, unix.EEXIST), "already running"},
		{Context{Op: "edit destination"}, kerr(ipvs.CmdSetDest, unix.ERANGE), "lower threshold at most the upper one"},
		{Context{Op: "apply"}, kerr(ipvs.CmdNewService, unix.ENOBUFS), "outcome is unknown"},
		{Context{Op: "x"}, errors.New("plain"), "x: plain"},
	} {
		got := Explain(tt.ctx, tt.err).Error()
		if !strings.Contains(got, tt.want) {
			t.Errorf("%v %v: %q lacks %q", tt.ctx, tt.err, got, tt.want)
		}
	}
	if Explain(Context{}, nil) != nil {
		t.Error("nil error explained")
	}
	// An ENOENT that is no kernel reply (a namespace file) gets no hint
	// of a request: the zero request is the family lookup's.
	nsErr := fmt.Errorf("network namespace %q: %w", "typo", &os.PathError{Op: "open", Path: "/run/netns/typo", Err: unix.ENOENT})
	if got := Explain(Context{Op: "connect to IPVS"}, nsErr).Error(); strings.Contains(got, "ip_vs kernel module") {
		t.Errorf("a namespace's ENOENT explained as the module's: %q", got)
	}
	// Explaining twice keeps the first context; errors.Is still works.
	e := Explain(Context{Op: "a"}, kerr(ipvs.CmdDelService, unix.ESRCH))
	if Explain(Context{Op: "b"}, e) != e || !errors.Is(e, os.ErrNotExist) {
		t.Error("rewrapped or lost the errno")
	}
}

func TestServiceSelector(t *testing.T) {
	for _, tt := range []struct {
		sel  ServiceSelector
		arg  string
		want string
		err  bool
	}{
		{ServiceSelector{}, "tcp:10.0.0.1:80", "tcp:10.0.0.1:80", false},
		{ServiceSelector{TCP: "10.0.0.1:80"}, "", "tcp:10.0.0.1:80", false},
		{ServiceSelector{UDP: "[::1]:53"}, "", "udp:[::1]:53", false},
		{ServiceSelector{SCTP: "10.0.0.1:1"}, "", "sctp:10.0.0.1:1", false},
		{ServiceSelector{FWMark: 5, IPv6: true}, "", "fwmark:5:v6", false},
		{ServiceSelector{}, "", "", true},
		{ServiceSelector{TCP: "10.0.0.1:80"}, "fwmark:1", "", true},
		{ServiceSelector{TCP: "10.0.0.1:80", IPv6: true}, "", "", true},
	} {
		k, err := tt.sel.Resolve(tt.arg)
		if (err != nil) != tt.err {
			t.Errorf("%+v %q: %v", tt.sel, tt.arg, err)
			continue
		}
		var fe *FlagError
		if err != nil && !errors.As(err, &fe) {
			t.Errorf("%+v: not a usage error: %v", tt.sel, err)
		}
		if err == nil && k.String() != "" {
			if got := formatKey(k); got != tt.want {
				t.Errorf("%+v: %s", tt.sel, got)
			}
		}
	}
}

func TestNames(t *testing.T) {
	dir := t.TempDir()
	svc := filepath.Join(dir, "services")
	os.WriteFile(svc, []byte("# c\nhttp\t80/tcp\twww\nhttp 80/udp\ndomain 53/udp\n"), 0o644)
	n := &Names{ServicesFile: svc, LookupAddr: func(_ context.Context, a string) ([]string, error) {
		if a == "10.0.0.1" {
			return []string{"vip.example."}, nil
		}
		return nil, errors.New("nxdomain")
	}}
	k := ipvs.ServiceKey{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80}
	if got := n.Service(k); got != "tcp:vip.example:http" {
		t.Errorf("resolved %q", got)
	}
	if got := n.AddrPort(netip.MustParseAddr("2001:db8::1"), 53, ipvs.ProtoUDP); got != "[2001:db8::1]:domain" {
		t.Errorf("v6 %q", got)
	}
	if got := n.Port(53, ipvs.ProtoTCP); got != "53" {
		t.Errorf("tcp/53 %q", got)
	}
	n.Numeric = true
	if got := n.Service(k); got != "tcp:10.0.0.1:80" {
		t.Errorf("numeric %q", got)
	}
}

func formatKey(k ipvs.ServiceKey) string { return (&Names{Numeric: true}).Service(k) }

func TestNamesGiveUpOnASlowResolver(t *testing.T) {
	calls := 0
	n := &Names{LookupAddr: func(ctx context.Context, a string) ([]string, error) {
		calls++
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	for _, a := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		if got := n.Host(netip.MustParseAddr(a)); got != a {
			t.Errorf("%s: %q", a, got)
		}
	}
	if calls != 1 {
		t.Errorf("%d lookups after a timeout, want 1", calls)
	}
}

func TestCheckKernel(t *testing.T) {
	req := ipvsprobe.Request{Schedulers: []string{"twos"}}
	missing := func(r ipvsprobe.Request) (*ipvsprobe.Report, error) {
		return &ipvsprobe.Report{Kernel: "6.1.0-57-amd64", MissingSchedulers: r.Schedulers}, nil
	}
	var warn strings.Builder
	if err := CheckKernel(missing, req, &warn); err == nil || !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("missing scheduler: %v", err)
	}
	// Nothing to ask: no probe.
	called := false
	spy := func(r ipvsprobe.Request) (*ipvsprobe.Report, error) { called = true; return missing(r) }
	if err := CheckKernel(spy, ipvsprobe.Request{}, &warn); err != nil || called {
		t.Errorf("empty request: %v, probe called %v", err, called)
	}
	// A probe that cannot run leaves the answer to the kernel, and says so.
	failing := func(ipvsprobe.Request) (*ipvsprobe.Report, error) {
		return nil, fmt.Errorf("probing: create a network namespace: %w", os.ErrPermission)
	}
	if err := CheckKernel(failing, req, &warn); err != nil {
		t.Errorf("failed probe: %v", err)
	}
	if !strings.Contains(warn.String(), "warning: could not check the kernel's schedulers, persistence engines and tunnel types first (probing: create a network namespace: permission denied)") {
		t.Errorf("warning %q", warn.String())
	}
}

// TestRun: a test's stand-in replaces the command's work; without one the
// work runs.
func TestRun(t *testing.T) {
	var ran []string
	work := func(s string) error { ran = append(ran, "work "+s); return nil }
	stub := func(s string) error { ran = append(ran, "stub "+s); return nil }
	_ = Run("a", stub, work)
	_ = Run("b", nil, work)
	if want := []string{"stub a", "work b"}; !slices.Equal(ran, want) {
		t.Errorf("ran %q, want %q", ran, want)
	}
}
