package dest

import (
	"context"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
)

// drainFake is a fake kernel with one service of key k and one real
// server 192.168.0.1:80 of weight 5 in it, with active and inactive
// entries.
func drainFake(t *testing.T, k ipvs.ServiceKey, weight, active, inactive uint32) (*fakeipvs.Fake, ipvs.DestKey) {
	t.Helper()
	fake := fakeipvs.New()
	svc := ipvs.Service{Family: k.Family, Protocol: k.Protocol, Address: k.Address, Port: k.Port, FWMark: k.FWMark, Scheduler: "wlc", Netmask: 0xffffffff}
	if err := fake.NewService(svc); err != nil {
		t.Fatal(err)
	}
	d := ipvs.Destination{Family: ipvs.AFInet, Address: netip.MustParseAddr("192.168.0.1"), Port: 80, Weight: weight, ForwardMethod: ipvs.FwdMasq}
	if err := fake.NewDestination(k, d); err != nil {
		t.Fatal(err)
	}
	fake.SetConns(k, d.Key(), active, inactive)
	return fake, d.Key()
}

// TestDrainWaitsFor: a drain waits for what stays of the server's
// traffic, by the kind of service: active connections (TCP), every
// entry (UDP, whose entries are never active; firewall marks, which may
// carry UDP), and says so.
func TestDrainWaitsFor(t *testing.T) {
	udp53 := testutil.Key(ipvs.AFInet, ipvs.ProtoUDP, "10.0.0.1", 53)
	mark := ipvs.ServiceKey{Family: ipvs.AFInet, FWMark: 7}
	for _, tc := range []struct {
		name             string
		svc              ipvs.ServiceKey
		args             []string
		active, inactive uint32
		polls            int // until the server is gone: each poll ends one entry
		progress         string
		timeout          string // stderr with --timeout 1s, not on a terminal
	}{
		{"tcp", tcp80, []string{"tcp:10.0.0.1:80"}, 2, 4, 2,
			"draining 192.168.0.1:80 of tcp:10.0.0.1:80: 0s of 5m0s, waiting for 2 active connections to end",
			"ipvsctl: drain 192.168.0.1:80 of tcp:10.0.0.1:80: 2 active connections left after 1s\n"},
		{"tcp, only inactive", tcp80, []string{"tcp:10.0.0.1:80"}, 0, 4, 0, "", ""},
		{"udp", udp53, []string{"udp:10.0.0.1:53"}, 0, 3, 3,
			"draining 192.168.0.1:80 of udp:10.0.0.1:53: 0s of 5m0s, waiting for 3 UDP entries to expire (udp timeout 300s)",
			"ipvsctl: drain 192.168.0.1:80 of udp:10.0.0.1:53: 3 UDP entries left after 1s (udp timeout 300s)\n"},
		{"fwmark", mark, []string{"fwmark:7"}, 1, 2, 3,
			"draining 192.168.0.1:80 of fwmark:7: 0s of 5m0s, waiting for 3 connections (1 active, 2 inactive) to end",
			"ipvsctl: drain 192.168.0.1:80 of fwmark:7: 3 connections (1 active, 2 inactive) left after 1s\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, dk := drainFake(t, tc.svc, 5, tc.active, tc.inactive)
			ios, _, _, errOut := iostreams.Test()
			ios.SetStderrTTY(true)
			f := factory.NewTest(ios, fake)
			now := time.Unix(0, 0)
			f.Now = func() time.Time { return now }
			polls := 0
			f.Sleep = func(dd time.Duration) {
				now = now.Add(dd)
				polls++
				ds, _ := fake.Destinations(tc.svc)
				if a := ds[0].ActiveConns; a > 0 {
					fake.SetConns(tc.svc, dk, a-1, ds[0].InactiveConns)
				} else {
					fake.SetConns(tc.svc, dk, 0, ds[0].InactiveConns-1)
				}
			}
			args := append(tc.args, "192.168.0.1:80")
			if err := testutil.Execute(NewCmdDrain(f, nil), args...); err != nil {
				t.Fatal(err)
			}
			if polls != tc.polls {
				t.Errorf("polled %d times, want %d", polls, tc.polls)
			}
			if ds, _ := fake.Destinations(tc.svc); len(ds) != 0 {
				t.Errorf("not deleted: %+v", ds)
			}
			first, _, _ := strings.Cut(strings.TrimPrefix(errOut.String(), "\r\033[K"), "\r")
			if tc.progress == "" {
				tc.progress = "drained and deleted 192.168.0.1:80 of " + tc.args[0] + "\n"
			}
			if diff := cmp.Diff(tc.progress, first); diff != "" {
				t.Errorf("first progress line (-want +got):\n%s", diff)
			}

			// The same, timed out.
			fake, _ = drainFake(t, tc.svc, 5, tc.active, tc.inactive)
			ios, _, _, errOut = iostreams.Test()
			f = factory.NewTest(ios, fake)
			f.Now = func() time.Time { return now }
			f.Sleep = func(dd time.Duration) { now = now.Add(dd) }
			if err := testutil.Execute(NewCmdDrain(f, nil), append(args, "--timeout", "1s")...); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.timeout, errOut.String()); diff != "" {
				t.Errorf("timed out (-want +got):\n%s", diff)
			}
		})
	}
}

// stallSecond is a kernel whose second weight change waits for release
// (the first is the drain's own).
type stallSecond struct {
	backend.IPVS
	n       int
	release chan struct{}
}

func (s *stallSecond) UpdateDestination(k ipvs.ServiceKey, d ipvs.Destination) error {
	if s.n++; s.n == 2 {
		<-s.release
	}
	return s.IPVS.UpdateDestination(k, d)
}

// TestDrainInterrupted: a signal while waiting sets the weight back
// (unless --keep-weight, or someone changed it), says so and fails; a
// second one while setting it back stops at once and says what may be.
func TestDrainInterrupted(t *testing.T) {
	const object = "192.168.0.1:80 of tcp:10.0.0.1:80"
	for _, tc := range []struct {
		name    string
		weight  uint32 // before the drain
		args    []string
		signal  os.Signal
		meddle  uint32 // a weight someone sets during the drain (0: none)
		second  bool   // a second signal while setting the weight back
		want    string
		wantNow uint32 // the weight afterwards
	}{
		{name: "SIGINT", weight: 5, signal: os.Interrupt, wantNow: 5,
			want: "drain " + object + ": interrupted by SIGINT; weight set back to 5: it takes new connections again; run the drain again to finish it"},
		{name: "SIGTERM", weight: 5, signal: syscall.SIGTERM, wantNow: 5,
			want: "drain " + object + ": interrupted by SIGTERM; weight set back to 5: it takes new connections again; run the drain again to finish it"},
		{name: "--keep-weight", weight: 5, args: []string{"--keep-weight"}, signal: os.Interrupt, wantNow: 0,
			want: "drain " + object + ": interrupted by SIGINT; left quiesced at weight 0 (--keep-weight): ipvsctl dest edit tcp:10.0.0.1:80 192.168.0.1:80 -w 5 gives it back its weight 5"},
		{name: "changed meanwhile", weight: 5, signal: os.Interrupt, meddle: 7, wantNow: 7,
			want: "drain " + object + ": interrupted by SIGINT; its weight is 7 now, set by someone else during the drain: left as it is"},
		{name: "weight 0 before", weight: 0, signal: os.Interrupt, wantNow: 0,
			want: "drain " + object + ": interrupted by SIGINT; its weight was 0 before the drain and stays 0"},
		{name: "second signal", weight: 5, signal: os.Interrupt, second: true, wantNow: 0,
			want: "drain " + object + ": interrupted by SIGINT, then by SIGTERM while setting its weight back to 5: stopped at once, so it may still be at weight 0 (see ipvsctl get tcp:10.0.0.1:80; ipvsctl dest edit tcp:10.0.0.1:80 192.168.0.1:80 -w 5 restores it)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, dk := drainFake(t, tcp80, tc.weight, 3, 0)
			kernel := &stallSecond{IPVS: fake, release: make(chan struct{})}
			if tc.second {
				defer close(kernel.release)
			} else {
				close(kernel.release)
			}
			ios, _, _, _ := iostreams.Test()
			f := factory.NewTest(ios, kernel)
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			sigs := make(chan os.Signal, 1)
			if tc.second {
				sigs <- syscall.SIGTERM
			}
			polls := 0
			f.Sleep = func(time.Duration) {
				if polls++; polls > 1 {
					t.Errorf("polled again after the signal")
				}
				if tc.meddle != 0 {
					d := ipvs.Destination{Family: ipvs.AFInet, Address: dk.Address, Port: dk.Port, Weight: tc.meddle, ForwardMethod: ipvs.FwdMasq}
					if err := fake.UpdateDestination(tcp80, d); err != nil {
						t.Error(err)
					}
				}
				cancel(&Interrupt{Signal: tc.signal})
			}
			run := func(o *DrainOptions) error {
				o.Context, o.Signals = ctx, sigs
				return RunDrain(o)
			}
			err := testutil.Execute(NewCmdDrain(f, run), append([]string{"tcp:10.0.0.1:80", "192.168.0.1"}, tc.args...)...)
			if err == nil {
				t.Fatal("an interrupted drain succeeded")
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if tc.second {
				return // the weight is being set back
			}
			ds, _ := fake.Destinations(tcp80)
			if len(ds) != 1 || ds[0].Weight != tc.wantNow {
				t.Errorf("afterwards: %+v, want one server of weight %d", ds, tc.wantNow)
			}
		})
	}
}
