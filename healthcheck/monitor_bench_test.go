//go:build linux

package healthcheck

import (
	"context"
	"net/netip"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMonitor10000: 10,000 targets probed every second by an
// instant probe; an op is a probe. It reports the rate (about 10,000/s
// once the schedule runs, by construction) and what a probe costs the
// monitor: CPU time and allocations.
func BenchmarkMonitor10000(b *testing.B) {
	const n = 10000
	chk := &Check{Type: TCP, Interval: time.Second, Timeout: time.Second}
	targets := make([]Target, n)
	for i := range targets {
		targets[i] = Target{Check: chk, Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 80)}
	}
	var probes atomic.Int64
	want := int64(b.N)
	enough := make(chan struct{})
	m := NewMonitor(MonitorOptions{Probe: func(context.Context, Env, *Check, netip.AddrPort) Result {
		if probes.Add(1) == want {
			close(enough)
		}
		return Result{OK: true, Weight: -1}
	}})
	m.Set(targets)
	go func() {
		for range m.Changes() {
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)

	b.ReportAllocs()
	b.ResetTimer()
	cpu, start := cpuTime(b), time.Now()
	go func() { done <- m.Run(ctx) }()
	<-enough
	elapsed, cpu := time.Since(start), cpuTime(b)-cpu
	b.StopTimer()
	cancel()
	<-done

	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "probes/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/probe")
}
