package fleet

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/agent"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/healthcheck"
	"github.com/ipvs-tools/ipvs/internal/etcdtest"
)

// bigDoc is a 1,000-service document whose first servers have weight w.
func bigDoc(w int) string {
	var b strings.Builder
	b.WriteString("apiVersion: ipvsctl/v1\nservices:\n")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&b, "  - protocol: tcp\n    address: 10.100.%d.%d\n    port: 80\n    scheduler: wrr\n    destinations:\n      - {address: 10.90.0.1, port: 80, forward: masq, weight: %d}\n      - {address: 10.90.0.2, port: 80, forward: masq}\n", i/256, i%256, w)
	}
	return b.String()
}

// BenchmarkMemberChange is one director of a fleet taking a change of one
// weight in each of 1,000 services: from the push to etcd to the member
// reporting it in sync (validation, the agent's reload, the fake kernel's
// writes, the report). The VM's BenchmarkVMFleetConverge measures three
// directors on a real kernel.
func BenchmarkMemberChange(b *testing.B) {
	srv := etcdtest.Start(b)
	c := srv.Client(b)
	k := fakeipvs.New()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mon := healthcheck.NewMonitor(healthcheck.MonitorOptions{MaxInFlight: 8})
	a := agent.New(agent.Options{IPVS: k, Prober: mon})
	drv := NewDriver(ctx, a, nil)
	m := NewMember(MemberOptions{Client: c, Layout: layout, Name: "d1", Validate: validate, Apply: drv.Apply, AgentStatus: a.Status,
		ReportInterval: time.Second, LeaseTTL: 5 * time.Second})
	go m.Run(ctx)
	put := func(w int) int64 {
		r, err := c.Put(context.Background(), layout.Document(Target{}), bigDoc(w))
		if err != nil {
			b.Fatal(err)
		}
		return r.Header.Revision
	}
	wait := func(rev int64) {
		for m.Status().Revision != rev || m.Status().State != StateInSync {
			time.Sleep(time.Millisecond)
		}
	}
	wait(put(1))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		wait(put(2 + i%2))
	}
}
