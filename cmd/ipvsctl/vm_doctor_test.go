package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
)

// TestVMDoctor sets up a director with the classic mistakes in a fresh
// namespace (a NAT service whose VIP is not local, ip_forward=0, a sync
// daemon on an interface that is down): doctor exits 1 and names exactly
// those problems; once they are fixed it exits 0. A document's scheduler
// is tried in a scratch namespace.
//
//vmtest:budget 1m
func TestVMDoctor(t *testing.T) {
	vmtest.Require(t)
	ns := newTrafficNS(t, "ctl-doctor")
	ns.sh(fmt.Sprintf(`%[1]s link add sync0 type veth peer name sync1
%[1]s addr add 10.98.0.1/24 dev sync0
%[1]s link set sync0 up
echo 0 > /proc/sys/net/ipv4/ip_forward`, vmtest.IPFull))
	ns.mustCtl("service", "add", "tcp:10.99.5.1:80", "-s", "rr")
	ns.mustCtl("dest", "add", "tcp:10.99.5.1:80", "192.168.77.2:8080", "--forward", "masq")
	// The master connects to its group when it starts, which needs the
	// interface up; it goes down afterwards, as a link does.
	ns.mustCtl("sync", "start", "master", "--interface", "sync0", "--syncid", "3")
	ns.sh(vmtest.IPFull + " link set sync0 down")
	doc := writeFile(t, "lb.yaml", "apiVersion: ipvsctl/v1\nservices:\n  - {protocol: tcp, address: 10.99.0.1, port: 443, scheduler: mh}\n")

	type finding struct {
		Check    string
		Severity string
		Object   struct{ Kind, Name string }
	}
	problems := func(r vmtest.Result) []string {
		t.Helper()
		var rep struct {
			Kind     string
			Findings []finding
		}
		if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil || rep.Kind != "DoctorReport" {
			t.Fatalf("doctor -o json: %v\n%s", err, r)
		}
		var out []string
		for _, f := range rep.Findings {
			if f.Severity == "problem" {
				out = append(out, f.Check+" "+f.Object.Kind+" "+f.Object.Name)
			}
		}
		if !slices.ContainsFunc(rep.Findings, func(f finding) bool {
			return f.Check == "scheduler" && f.Severity == "ok" && f.Object.Name == "mh"
		}) {
			t.Errorf("the document's mh scheduler was not found in the kernel:\n%s", r.Stdout)
		}
		return out
	}

	r := ns.ctl("doctor", "-f", doc, "-o", "json")
	if r.Code != 1 {
		t.Errorf("doctor with three mistakes: exit %d, want 1\n%s", r.Code, r)
	}
	want := []string{
		"vip-local service tcp:10.99.5.1:80",
		"ip-forward sysctl net.ipv4.ip_forward",
		"sync-interface interface sync0",
	}
	if d := cmp.Diff(want, problems(r)); d != "" {
		t.Errorf("problems (-want +got):\n%s", d)
	}
	if r := ns.ctl("doctor", "-f", doc); r.Code != 1 || !strings.Contains(r.Stdout, "3 problems") {
		t.Errorf("doctor for people: %s", r)
	} else {
		t.Logf("before:\n%s", r.Stdout)
	}

	ns.sh(fmt.Sprintf(`%[1]s addr add 10.99.5.1/32 dev lo
echo 1 > /proc/sys/net/ipv4/ip_forward
%[1]s link set sync0 up`, vmtest.IPFull))
	r = ns.ctl("doctor", "-f", doc, "-o", "json")
	if r.Code != 0 {
		t.Errorf("doctor after the fixes: exit %d, want 0\n%s", r.Code, r)
	}
	if d := cmp.Diff([]string(nil), problems(r)); d != "" {
		t.Errorf("problems after the fixes (-want +got):\n%s", d)
	}
	t.Logf("after:\n%s", ns.ctl("doctor", "-f", doc).Stdout)
}
