package ipvsprobe

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
	"github.com/ipvs-tools/ipvs/ipvssysctl"
)

// TestVMProbe asks each pinned kernel for the schedulers and tunnel types
// and checks the answers against what the kernel really has: twos on 6.12
// only (Debian 13; not 5.10 or 6.1); GUE and GRE on all three (5.2, 5.3). The live table is
// not touched.
//
//vmtest:kernels all
func TestVMProbe(t *testing.T) {
	vmtest.Require(t)
	vmtest.Reset(t)
	vmtest.MustShell(t, vmtest.IPFull+" link set lo up")
	if r := vmtest.RefInput(t, "-A -t 10.0.0.1:80 -s wlc\n-a -t 10.0.0.1:80 -r 192.168.0.1 -m\n", "-R"); r.Code != 0 {
		t.Fatalf("setup: %s", r)
	}
	before := vmtest.Ref(t, "-Sn")
	all := append(ipvs.Schedulers(), "nosuch")
	tunnels := []ipvs.TunnelType{ipvs.TunnelIPIP, ipvs.TunnelGUE, ipvs.TunnelGRE}
	r, err := Probe(Request{Schedulers: all, PEs: []string{"nosuch"}, Tunnels: tunnels})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.MissingPEs, []string{"nosuch"}) || len(r.PEs) != 0 {
		t.Errorf("persistence engines %v, missing %v", r.PEs, r.MissingPEs)
	}
	t.Logf("kernel %s (%s): schedulers %v, missing %v; tunnels %v, missing %v", vmtest.Kernel(), r.Kernel,
		r.Schedulers, r.MissingSchedulers, r.Tunnels, r.MissingTunnels)
	missing := []string{"twos", "nosuch"}
	if vmtest.Kernel() == "6.12" {
		missing = []string{"nosuch"}
	}
	if !slices.Equal(r.MissingSchedulers, missing) {
		t.Errorf("missing schedulers %v, want %v", r.MissingSchedulers, missing)
	}
	if len(r.Schedulers)+len(r.MissingSchedulers) != len(all) {
		t.Errorf("%d answers for %d schedulers", len(r.Schedulers)+len(r.MissingSchedulers), len(all))
	}
	if !slices.Equal(r.Tunnels, tunnels) || len(r.MissingTunnels) != 0 {
		t.Errorf("tunnels %v, missing %v: every pinned kernel has all three", r.Tunnels, r.MissingTunnels)
	}
	// The reference agrees on twos, and the live table is as it was.
	ref := vmtest.Ref(t, "-A", "-t", "10.0.0.2:80", "-s", "twos")
	if probed := slices.Contains(r.Schedulers, "twos"); (ref.Code == 0) != probed {
		t.Errorf("ipvsadm -A -s twos: %s; the probe says twos is present: %v", ref, probed)
	}
	vmtest.Ref(t, "-D", "-t", "10.0.0.2:80")
	if after := vmtest.Ref(t, "-Sn"); after != before {
		t.Errorf("the live table changed:\nbefore %s\nafter %s", before, after)
	}
}

// update makes TestVMKernelFeatures print its result for tools/goldens
// instead of comparing.
var update = flag.Bool("update", false, "print the kernel features for tools/goldens (-dir ipvsprobe)")

// TestVMKernelFeatures writes down what each pinned kernel offers where
// kernels differ (schedulers, tunnel types, IPVS sysctls and whether they
// are writable) and compares it with testdata/features.golden, which has a
// section per kernel that differs from 6.1. Moving a pin to a newer kernel
// shows here what changed. Regenerate with
//
//	go run ./tools/vmrun test -v -kernel all -testarg -update -run TestVMKernelFeatures ./ipvsprobe | go run ./tools/goldens -dir ipvsprobe
//
//vmtest:kernels all
func TestVMKernelFeatures(t *testing.T) {
	vmtest.Require(t)
	vmtest.Reset(t)
	all := ipvs.Schedulers()
	r, err := Probe(Request{Schedulers: all, Tunnels: []ipvs.TunnelType{ipvs.TunnelIPIP, ipvs.TunnelGUE, ipvs.TunnelGRE}})
	if err != nil {
		t.Fatal(err)
	}
	sysctls, err := ipvssysctl.New().List()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "schedulers: %s\n", strings.Join(slices.Sorted(slices.Values(r.Schedulers)), " "))
	fmt.Fprintf(&b, "schedulers missing: %s\n", strings.Join(slices.Sorted(slices.Values(r.MissingSchedulers)), " "))
	fmt.Fprintf(&b, "tunnels: %v\n", r.Tunnels)
	fmt.Fprintf(&b, "tunnels missing: %v\n", r.MissingTunnels)
	for _, s := range sysctls {
		mode := "rw"
		if !s.Writable {
			mode = "ro"
		}
		fmt.Fprintf(&b, "sysctl %s %s known=%v\n", s.Name, mode, s.Known)
	}
	got := vmtest.Result{Stdout: b.String()}
	const path = "testdata/features.golden"
	if *update {
		vmtest.PrintGolden(path, got)
		return
	}
	if want := vmtest.WantGolden(t, path); got != want {
		t.Errorf("kernel %s offers other features than %s says:\n--- want\n%s--- got\n%s", vmtest.Kernel(), path, want.Stdout, got.Stdout)
	}
}
