package fleet

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/reconcile"
	"github.com/ipvs-tools/ipvs/ipvsplan"
)

// TestWritePlan checks a plan's lines: coloured by action on a colour
// terminal, plain otherwise, with ASCII arrows outside a UTF-8 locale.
func TestWritePlan(t *testing.T) {
	svc := func(port uint16, sched string) ipvs.Service {
		return ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: netip.MustParseAddr("10.0.0.1"),
			Port: port, Scheduler: sched, Netmask: 0xffffffff}
	}
	before := []ipvs.VirtualServer{{Service: svc(80, "rr")}, {Service: svc(81, "rr")}}
	after := []ipvs.VirtualServer{{Service: svc(80, "wlc")}, {Service: svc(82, "rr")}}
	p, err := ipvsplan.Diff(before, after, ipvsplan.Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	plan := &reconcile.Plan{Services: p}
	for _, tt := range []struct {
		name        string
		color, utf8 bool
		want        string
	}{
		{"plain", false, true, "" +
			"  + add service tcp:10.0.0.1:82 (scheduler rr, persistence off)\n" +
			"  ~ update service tcp:10.0.0.1:80: scheduler rr → wlc\n" +
			"  - delete service tcp:10.0.0.1:81\n" +
			"  Plan: 1 to add, 1 to change, 1 to delete\n"},
		{"colour", true, true, "" +
			"  \x1b[32m+ add service tcp:10.0.0.1:82 (scheduler rr, persistence off)\x1b[0m\n" +
			"  \x1b[33m~ update service tcp:10.0.0.1:80: scheduler rr → wlc\x1b[0m\n" +
			"  \x1b[31m- delete service tcp:10.0.0.1:81\x1b[0m\n" +
			"  Plan: 1 to add, 1 to change, 1 to delete\n"},
		{"C locale", false, false, "" +
			"  + add service tcp:10.0.0.1:82 (scheduler rr, persistence off)\n" +
			"  ~ update service tcp:10.0.0.1:80: scheduler rr -> wlc\n" +
			"  - delete service tcp:10.0.0.1:81\n" +
			"  Plan: 1 to add, 1 to change, 1 to delete\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			ios.SetColorEnabled(tt.color)
			ios.SetUTF8(tt.utf8)
			var out bytes.Buffer
			writePlan(&out, ios, plan)
			if d := cmp.Diff(tt.want, out.String()); d != "" {
				t.Errorf("writePlan (-want +got):\n%s", d)
			}
		})
	}
}
