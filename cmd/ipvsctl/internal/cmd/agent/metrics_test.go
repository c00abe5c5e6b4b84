package agent

import (
	"net/netip"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/healthcheck"
)

// Two checks of one type against one target (two services probing
// 192.168.0.1:80 with different paths, or different intervals) give
// ipvsctl_agent_probe_state the same check and target: the probe label
// tells them apart, so the gather does not fail.
func TestMetricsTwoChecksOneTarget(t *testing.T) {
	m := newMetrics(fakeipvs.New(), func() (ipvs.Stats, error) { return ipvs.Stats{}, nil })
	mon := healthcheck.NewMonitor(healthcheck.MonitorOptions{})
	addr := netip.MustParseAddrPort("192.168.0.1:80")
	mon.Set([]healthcheck.Target{
		{Check: &healthcheck.Check{Type: healthcheck.HTTP, Path: "/a", Interval: time.Second}, Addr: addr},
		{Check: &healthcheck.Check{Type: healthcheck.HTTP, Path: "/b", Interval: time.Second}, Addr: addr},
	})
	m.monitor = mon
	if _, err := m.reg.Gather(); err != nil {
		t.Errorf("gather: %v", err)
	}
}
