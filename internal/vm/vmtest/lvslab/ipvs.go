package lvslab

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
)

// IPVSService is a virtual service as the reference ipvsadm -Ln lists it.
type IPVSService struct {
	// Proto is TCP, UDP, SCTP or FWM.
	Proto string
	// Addr is the virtual address and port (invalid for FWM).
	Addr netip.AddrPort
	// FWMark is the firewall mark of an FWM service.
	FWMark uint64
	// Sched is the scheduler; Flags the rest of the line (persistent
	// 300, ops, ...).
	Sched, Flags string
	Dests        []IPVSDest
}

// IPVSDest is a destination (real server) of an IPVSService.
type IPVSDest struct {
	Addr netip.AddrPort
	// Forward is Masq, Local, Route or Tunnel.
	Forward               string
	Weight                int
	ActiveConn, InActConn int
}

// Dest returns the destination at addr.
func (s IPVSService) Dest(addr netip.AddrPort) (IPVSDest, bool) {
	for _, d := range s.Dests {
		if d.Addr == addr {
			return d, true
		}
	}
	return IPVSDest{}, false
}

// ParseIpvsadmList parses the output of ipvsadm -Ln (without --stats or
// --rate), with or without its first line (ipvsadm -Ln -t VIP has none).
func ParseIpvsadmList(out string) ([]IPVSService, error) {
	var svcs []IPVSService
	for i, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || strings.HasPrefix(l, "IP Virtual Server ") || f[0] == "Prot" ||
			len(f) > 1 && f[0] == "->" && f[1] == "RemoteAddress:Port" {
			continue
		}
		if f[0] == "->" {
			if len(svcs) == 0 || len(f) != 6 {
				return nil, fmt.Errorf("line %d %q: not a destination of a service", i+1, l)
			}
			var d IPVSDest
			var err error
			if d.Addr, err = netip.ParseAddrPort(f[1]); err != nil {
				return nil, fmt.Errorf("line %d %q: %w", i+1, l, err)
			}
			d.Forward = f[2]
			for j, p := range []*int{&d.Weight, &d.ActiveConn, &d.InActConn} {
				if *p, err = strconv.Atoi(f[3+j]); err != nil {
					return nil, fmt.Errorf("line %d %q: %w", i+1, l, err)
				}
			}
			s := &svcs[len(svcs)-1]
			s.Dests = append(s.Dests, d)
			continue
		}
		if len(f) < 3 {
			return nil, fmt.Errorf("line %d %q: not a service", i+1, l)
		}
		s := IPVSService{Proto: f[0], Sched: f[2], Flags: strings.Join(f[3:], " ")}
		var err error
		if s.Proto == "FWM" {
			s.FWMark, err = strconv.ParseUint(f[1], 10, 32)
		} else {
			s.Addr, err = netip.ParseAddrPort(f[1])
		}
		if err != nil {
			return nil, fmt.Errorf("line %d %q: %w", i+1, l, err)
		}
		svcs = append(svcs, s)
	}
	return svcs, nil
}

// ListIPVS lists the whole table with the reference ipvsadm -Ln.
func ListIPVS(t testing.TB) []IPVSService {
	t.Helper()
	return listIPVS(t, "-Ln")
}

// ListIPVSService lists the TCP service at vip with ipvsadm -Ln -t VIP;
// false if there is none.
func ListIPVSService(t testing.TB, vip netip.AddrPort) (IPVSService, bool) {
	t.Helper()
	r := vmtest.Ref(t, "-Ln", "-t", vip.String())
	if r.Code != 0 {
		// "No such service"
		return IPVSService{}, false
	}
	svcs, err := ParseIpvsadmList(r.Stdout)
	if err != nil || len(svcs) != 1 {
		t.Fatalf("ipvsadm -Ln -t %v: %v\n%s", vip, err, r)
	}
	return svcs[0], true
}

func listIPVS(t testing.TB, args ...string) []IPVSService {
	t.Helper()
	r := vmtest.Ref(t, args...)
	if r.Code != 0 {
		t.Fatalf("ipvsadm %s: %s", strings.Join(args, " "), r)
	}
	svcs, err := ParseIpvsadmList(r.Stdout)
	if err != nil {
		t.Fatalf("ipvsadm %s: %v\n%s", strings.Join(args, " "), err, r.Stdout)
	}
	return svcs
}

// DestCond is a condition on a destination of a service: d is the
// destination and ok says whether the service has it.
type DestCond func(d IPVSDest, ok bool) bool

// DestWeight holds when the destination is in the table with weight w.
func DestWeight(w int) DestCond {
	return func(d IPVSDest, ok bool) bool { return ok && d.Weight == w }
}

// DestDown holds when the destination is gone from the table or has
// weight 0 (keepalived's inhibit_on_failure).
func DestDown(d IPVSDest, ok bool) bool { return !ok || d.Weight == 0 }

// PollInterval is how often WaitDest lists the service.
var PollInterval = 50 * time.Millisecond

// WaitDest lists the TCP service vip with the reference ipvsadm every
// PollInterval until its destination rs meets cond, and returns how long
// that took from the call. It fails the test after timeout, saying what
// (a description of cond) it waited for.
func WaitDest(t testing.TB, vip, rs netip.AddrPort, what string, cond DestCond, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		svc, _ := ListIPVSService(t, vip)
		d, ok := svc.Dest(rs)
		if cond(d, ok) {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("after %v, %v -> %v is not %s: %+v (present %v)", timeout, vip, rs, what, d, ok)
		}
		time.Sleep(PollInterval)
	}
}

// WaitIPVS lists the whole table with the reference ipvsadm -Ln every
// PollInterval until cond holds for it, and returns how long that took
// from the call. It fails the test after timeout, saying what (a
// description of cond) it waited for.
func WaitIPVS(t testing.TB, what string, cond func([]IPVSService) bool, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		svcs := ListIPVS(t)
		if cond(svcs) {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("after %v, the IPVS table is not %s: %+v", timeout, what, svcs)
		}
		time.Sleep(PollInterval)
	}
}
