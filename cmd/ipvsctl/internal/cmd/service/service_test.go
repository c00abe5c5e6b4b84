package service

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
)

func TestAddParse(t *testing.T) {
	key := func(s string) ipvs.ServiceKey { k, _ := ipvsconfig.ParseServiceKey(s); return k }
	tests := []struct {
		args []string
		want Options
		err  string
	}{
		{args: []string{"tcp:10.0.0.1:80"}, want: Options{Service: key("tcp:10.0.0.1:80"), PrefixLength: -1, Set: map[string]bool{}}},
		{args: []string{"-t", "10.0.0.1:80", "-s", "rr", "-p", "60", "--prefix", "24", "-b", "sh-port,flag-1", "-O", "--pe", "sip"},
			want: Options{Service: key("tcp:10.0.0.1:80"), Scheduler: "rr", Persistent: 60, PrefixLength: 24, SchedFlags: []string{"sh-port", "flag-1"}, OnePacket: true, PE: "sip",
				Set: map[string]bool{"tcp-service": true, "scheduler": true, "persistent": true, "prefix": true, "sched-flags": true, "one-packet": true, "pe": true}}},
		{args: []string{"-f", "7", "-6"}, want: Options{Service: key("fwmark:7:v6"), PrefixLength: -1, Set: map[string]bool{"fwmark-service": true, "ipv6": true}}},
		{args: []string{}, err: "no service given"},
		{args: []string{"tcp:10.0.0.1:80", "-u", "10.0.0.1:53"}, err: "give the service once"},
		{args: []string{"tcp:10.0.0.1"}, want: Options{Service: key("tcp:10.0.0.1:0"), PrefixLength: -1, Set: map[string]bool{}}},
		{args: []string{"tcp:nohost:80"}, err: "is not an IP address"},
		{args: []string{"-t", "10.0.0.1:80", "-6"}, err: "-6 goes with -f"},
	}
	for _, tt := range tests {
		got, err := testutil.Parse(NewCmdAdd, tt.args...)
		if testutil.WantErr(t, tt.args, err, tt.err) {
			continue
		}
		got.Common, got.Probe = factory.Common{}, nil
		if d := cmp.Diff(tt.want, *got, cmp.Comparer(func(a, b ipvs.ServiceKey) bool { return a == b })); d != "" {
			t.Errorf("%v (-want +got):\n%s", tt.args, d)
		}
	}
}

func TestAddEditDeleteRun(t *testing.T) {
	fake := fakeipvs.New()
	f, _ := testutil.NewFactory(fake)
	if err := testutil.Execute(NewCmdAdd(f, nil), "udp:[2001:db8::1]:53", "-s", "sh", "-b", "sh-port", "-p", "30", "--prefix", "64", "-O"); err != nil {
		t.Fatal(err)
	}
	k, _ := ipvsconfig.ParseServiceKey("udp:[2001:db8::1]:53")
	s, err := fake.Service(k)
	if err != nil {
		t.Fatal(err)
	}
	want := ipvs.SvcPersistent | ipvs.SvcSched2 | ipvs.SvcOnePacket // netlinkipvs drops the kernel's hashed flag
	if s.Scheduler != "sh" || s.Flags != want || s.Timeout != 30 || s.Netmask != 64 {
		t.Errorf("added %+v", s)
	}
	// edit changes only what is given.
	if err := testutil.Execute(NewCmdEdit(f, nil), "udp:[2001:db8::1]:53", "-s", "mh", "-b", "flag-1"); err != nil {
		t.Fatal(err)
	}
	s, _ = fake.Service(k)
	if s.Scheduler != "mh" || s.Timeout != 30 || s.Netmask != 64 || s.Flags&ipvs.SvcSchedFlags != ipvs.SvcSched1 || s.Flags&ipvs.SvcOnePacket == 0 {
		t.Errorf("edited %+v", s)
	}
	if err := testutil.Execute(NewCmdEdit(f, nil), "udp:[2001:db8::1]:53", "--persistent", "0"); err != nil {
		t.Fatal(err)
	}
	s, _ = fake.Service(k)
	if s.Flags&ipvs.SvcPersistent != 0 {
		t.Errorf("persistence not removed: %+v", s)
	}
	// Validation errors name the option.
	err = testutil.Execute(NewCmdAdd(f, nil), "tcp:10.0.0.1:80", "-b", "sh-port")
	if err == nil || !strings.Contains(err.Error(), "service tcp:10.0.0.1:80: schedFlags[0]: flag sh-port needs scheduler sh, not wlc") {
		t.Errorf("bad flag: %v", err)
	}
	// Kernel errors name the operation and object and give the fix.
	err = testutil.Execute(NewCmdAdd(f, nil), "tcp:10.0.0.1:80", "-s", "twos")
	if err == nil || err.Error() != "add service tcp:10.0.0.1:80: no such file or directory (ENOENT)\n  hint: scheduler \"twos\" is not loaded: modprobe ip_vs_twos" {
		t.Errorf("unknown scheduler: %v", err)
	}
	err = testutil.Execute(NewCmdEdit(f, nil), "tcp:10.0.0.9:80", "-s", "rr")
	if err == nil || !strings.Contains(err.Error(), "edit service tcp:10.0.0.9:80: no such process (ESRCH)\n  hint: the service does not exist; see ipvsctl list") {
		t.Errorf("missing service: %v", err)
	}
	fake.ResetWrites()
	if err := testutil.Execute(NewCmdDelete(f, nil), "udp:[2001:db8::1]:53", "fwmark:3"); err == nil || !strings.Contains(err.Error(), "delete service fwmark:3") {
		t.Errorf("delete: %v", err)
	}
	if len(fake.Writes) != 2 {
		t.Errorf("delete goes on past a failure: %d requests", len(fake.Writes))
	}
	if _, err := fake.Service(k); err == nil {
		t.Errorf("service not deleted")
	}
}

// TestAddSchedulerTheKernelLacks: add (and edit that changes the scheduler)
// asks the kernel first and sends nothing for a scheduler it lacks.
func TestAddSchedulerTheKernelLacks(t *testing.T) {
	fake := fakeipvs.New()
	f, _ := testutil.NewFactory(fake)
	k := &testutil.Kernel{MissingSchedulers: []string{"twos"}}
	f.Probe = k.Probe
	err := testutil.Execute(NewCmdAdd(f, nil), "tcp:10.0.0.1:80", "-s", "twos")
	want := "add service tcp:10.0.0.1:80: this kernel (6.1.0-test) lacks the twos scheduler (no ip_vs_twos module)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
	if len(fake.Writes) != 0 {
		t.Errorf("sent %v", fake.Writes)
	}
	if err := testutil.Execute(NewCmdAdd(f, nil), "tcp:10.0.0.1:80", "-s", "rr"); err != nil {
		t.Fatal(err)
	}
	err = testutil.Execute(NewCmdEdit(f, nil), "tcp:10.0.0.1:80", "-s", "twos")
	if err == nil || !strings.Contains(err.Error(), "edit service tcp:10.0.0.1:80: this kernel") {
		t.Errorf("edit: %v", err)
	}
	// An edit that leaves the scheduler alone needs no probe.
	n := k.Probes
	if err := testutil.Execute(NewCmdEdit(f, nil), "tcp:10.0.0.1:80", "-p", "60"); err != nil || k.Probes != n {
		t.Errorf("edit -p: %v, %d probes", err, k.Probes-n)
	}
}
