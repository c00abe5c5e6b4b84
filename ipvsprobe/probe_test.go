package ipvsprobe

import (
	"errors"
	"slices"
	"testing"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
)

func TestReportErr(t *testing.T) {
	r := &Report{Kernel: "6.1.0-57-amd64", Schedulers: []string{"rr"}, Tunnels: []ipvs.TunnelType{ipvs.TunnelGUE}}
	if err := r.Err(); err != nil {
		t.Errorf("nothing missing: %v", err)
	}
	r.MissingSchedulers = []string{"twos"}
	r.MissingTunnels = []ipvs.TunnelType{ipvs.TunnelGRE}
	err := r.Err()
	want := "this kernel (6.1.0-57-amd64) lacks the twos scheduler (no ip_vs_twos module), gre tunnels (Linux 5.3 and later)"
	if err == nil || err.Error() != want {
		t.Errorf("Err() = %v, want %q", err, want)
	}
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Error("does not match errors.ErrUnsupported")
	}
}

func TestCompact(t *testing.T) {
	if got := compact([]string{"rr", "wlc", "rr", "twos", "wlc"}); !slices.Equal(got, []string{"rr", "wlc", "twos"}) {
		t.Errorf("compact: %v", got)
	}
}

// TestProbeNothing: an empty request creates no namespace and asks the
// kernel nothing, so it works anywhere.
func TestProbeNothing(t *testing.T) {
	r, err := Probe(Request{})
	if err != nil || r.Kernel == "" || r.Err() != nil {
		t.Errorf("Probe of nothing: %+v %v", r, err)
	}
}

// TestProbeWithoutIPVS: on a kernel without IPVS (the host's) the probe
// fails as a whole instead of calling every feature missing.
func TestProbeWithoutIPVS(t *testing.T) {
	if vmtest.InVM() {
		t.Skip("the guest has IPVS")
	}
	r, err := Probe(Request{Schedulers: []string{"rr"}})
	if err == nil {
		t.Skipf("this kernel has IPVS: %+v", r)
	}
	if r != nil {
		t.Errorf("a report with the error: %+v", r)
	}
}
