package table

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"golang.org/x/sys/unix"
)

func TestFlush(t *testing.T) {
	// Without a scope: one FLUSH request.
	fake := testutil.Sample()
	f, out := testutil.NewFactory(fake)
	cmd := NewCmdFlush(f, nil)
	if err := testutil.Execute(cmd); err != nil {
		t.Fatal(err)
	}
	if c := fake.WriteCmds(); len(c) != 1 || c[0] != ipvs.CmdFlush {
		t.Errorf("writes %v", c)
	}
	// With a scope: only in-scope services, in one batch.
	fake = testutil.Sample()
	f, _ = testutil.NewFactory(fake)
	cmd = NewCmdFlush(f, nil)
	if err := testutil.Execute(cmd, "--scope", "vip=10.0.0.0/8,fwmark=7"); err != nil {
		t.Fatal(err)
	}
	if c := fake.WriteCmds(); len(c) != 2 || c[0] != ipvs.CmdDelService || c[1] != ipvs.CmdDelService || fake.Batches != 1 {
		t.Errorf("writes %v in %d batches", c, fake.Batches)
	}
	svcs, _ := fake.Services()
	if len(svcs) != 1 || svcs[0].Protocol != ipvs.ProtoUDP {
		t.Errorf("left %v, want only the IPv6 UDP service", svcs)
	}
	// Dry run lists and sends nothing.
	fake = testutil.Sample()
	f, out = testutil.NewFactory(fake)
	cmd = NewCmdFlush(f, nil)
	if err := testutil.Execute(cmd, "--scope", "port=80", "--dry-run"); err != nil {
		t.Fatal(err)
	}
	if len(fake.Writes) != 0 || !strings.Contains(out.String(), "- delete service tcp:10.0.0.1:80\n1 of 3 services in scope port=80 would be deleted.") {
		t.Errorf("dry run: %d writes, %q", len(fake.Writes), out)
	}
	cmd = NewCmdFlush(f, nil)
	if err := testutil.Execute(cmd, "--scope", "bogus"); err == nil {
		t.Errorf("bad scope accepted")
	}
}

func TestZero(t *testing.T) {
	fake := testutil.Sample()
	f, _ := testutil.NewFactory(fake)
	for _, tt := range []struct {
		args []string
		all  bool
		err  bool
	}{{nil, true, false}, {[]string{"fwmark:7"}, false, false}, {[]string{"-t", "10.0.0.1:80"}, false, false}, {[]string{"fwmark:99"}, false, true}} {
		fake.ResetWrites()
		cmd := NewCmdZero(f, nil)
		err := testutil.Execute(cmd, tt.args...)
		if (err != nil) != tt.err {
			t.Errorf("%v: %v", tt.args, err)
		}
		if len(fake.Writes) != 1 || fake.Writes[0].Cmd != ipvs.CmdZero || fake.Writes[0].AllServices != tt.all {
			t.Errorf("%v: writes %+v", tt.args, fake.Writes)
		}
	}
	s, _ := fake.Service(testutil.Key(ipvs.AFInet, ipvs.ProtoTCP, "10.0.0.1", 80))
	if s.Stats.Conns != 0 {
		t.Error("not zeroed")
	}
}

// TestFlushInterrupted: a signal during a scoped flush of 2,500 services
// lets the first batch (2,000 deletions) finish, sends no other, and says
// what is left.
func TestFlushInterrupted(t *testing.T) {
	fake := fakeipvs.New()
	for i := 1; i <= 2500; i++ {
		if err := fake.NewService(ipvs.Service{Family: ipvs.AFInet, FWMark: uint32(i), Scheduler: "rr", Netmask: 0xffffffff}); err != nil {
			t.Fatal(err)
		}
	}
	fake.ResetWrites()
	f, _ := testutil.NewFactory(fake)
	sigs := make(chan os.Signal, 1)
	var intr *cmdutil.Interrupt
	var errOut bytes.Buffer
	opts := &FlushOptions{Common: f.Common(), Scope: "fwmark=1-9999", Interrupts: func() *cmdutil.Interrupt {
		intr = cmdutil.NewInterrupt(&errOut, sigs, func(int) { t.Error("exited") })
		return intr
	}}
	fake.Fail = func(ipvs.Op) unix.Errno {
		if len(fake.Writes) == 10 {
			sigs <- syscall.SIGTERM
			<-intr.Context().Done()
		}
		return 0
	}
	err := RunFlush(opts)
	var ee *cmdutil.ExitError
	if !errors.As(err, &ee) || ee.Code != 143 {
		t.Fatalf("got %v, want exit status 143", err)
	}
	want := "flush interrupted by SIGTERM: deleted 2000 of the 2500 services in scope fwmark=1-9999; the other 500 are still there (run the same flush again to finish)"
	if err.Error() != want {
		t.Errorf("error\n got %s\nwant %s", err, want)
	}
	if svcs, _ := fake.Services(); len(svcs) != 500 {
		t.Errorf("%d services left, want 500", len(svcs))
	}
}
