package apply

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/printers"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"github.com/ipvs-tools/ipvs/ipvslock"
	"golang.org/x/sys/unix"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		mk      func(*factory.Factory, func(*Options) error) interface{ Execute() error }
		args    []string
		want    Options
		wait    time.Duration // 0: the default
		wantErr string
	}{
		{args: []string{"-f", "x.yaml"}, want: Options{Mode: ModeApply, File: "x.yaml", Output: "table", BatchSize: 2000}},
		{args: []string{"-f", "-", "--prune", "--scope", "vip=10.0.0.0/8", "--dry-run", "--no-rollback", "--batch-size", "10", "--format", "json"},
			want: Options{Mode: ModeApply, File: "-", Prune: true, Scope: "vip=10.0.0.0/8", DryRun: true, NoRollback: true, BatchSize: 10, Format: "json", Output: "table"}},
		{args: []string{"-f", "x.yaml", "-w"}, want: Options{Mode: ModeApply, File: "x.yaml", Output: "table", BatchSize: 2000}, wait: ipvslock.Forever},
		{args: []string{"-f", "x.yaml", "--wait=30"}, want: Options{Mode: ModeApply, File: "x.yaml", Output: "table", BatchSize: 2000}, wait: 30 * time.Second},
		{args: []string{"-f", "x.yaml", "-w=1.5"}, want: Options{Mode: ModeApply, File: "x.yaml", Output: "table", BatchSize: 2000}, wait: 1500 * time.Millisecond},
		{args: []string{"-f", "x.yaml", "--wait=2m"}, want: Options{Mode: ModeApply, File: "x.yaml", Output: "table", BatchSize: 2000}, wait: 2 * time.Minute},
		{args: []string{"-f", "x.yaml", "--wait=-1"}, wantErr: `invalid argument "-1" for "-w, --wait" flag: "-1" is not a number of seconds (or a duration such as 2m)`},
		{args: []string{}, wantErr: "give the document with -f FILE"},
		{args: []string{"-f", "x", "--scope", "colour=red"}, wantErr: "unknown key"},
		{args: []string{"-f", "x", "--format", "xml"}, wantErr: "unknown --format"},
	}
	for _, tt := range tests {
		got, err := testutil.Parse(NewCmdApply, tt.args...)
		if testutil.WantErr(t, tt.args, err, tt.wantErr) {
			continue
		}
		wantWait := tt.wait
		if wantWait == 0 {
			wantWait = ipvslock.DefaultWait
		}
		if got.Wait != wantWait {
			t.Errorf("%v: wait %v, want %v", tt.args, got.Wait, wantWait)
		}
		got.Common, got.Probe, got.Now, got.Interrupts = factory.Common{}, nil, nil, nil
		if d := cmp.Diff(tt.want, *got, cmpopts.IgnoreUnexported(Options{})); d != "" {
			t.Errorf("%v (-want +got):\n%s", tt.args, d)
		}
	}
	// restore prunes unless told not to; diff has no --dry-run.
	if got, err := testutil.Parse(NewCmdRestore, "-f", "x"); err != nil || !got.Prune || got.Mode != ModeRestore {
		t.Errorf("restore: %v %+v", err, got)
	}
	if got, err := testutil.Parse(NewCmdRestore, "-f", "x", "--no-prune"); err != nil || got.Prune {
		t.Errorf("restore --no-prune: %v %+v", err, got)
	}
	if _, err := testutil.Parse(NewCmdDiff, "-f", "x", "--dry-run"); err == nil {
		t.Errorf("diff --dry-run should be unknown")
	}
}

type env struct {
	f             *factory.Factory
	fake          *fakeipvs.Fake
	out, err, inb *bytes.Buffer
	opts          *Options
}

func newEnv(t *testing.T, fake *fakeipvs.Fake, mode Mode, doc string) *env {
	t.Helper()
	ios, in, out, errb := iostreams.Test()
	f := factory.NewTest(ios, fake)
	file := filepath.Join(t.TempDir(), "doc.yaml")
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return &env{f: f, fake: fake, out: out, err: errb, inb: in, opts: &Options{Common: f.Common(), Interrupts: f.Interrupts,
		Now: time.Now, Mode: mode, File: file, Output: "table", BatchSize: 2000}}
}

// sampleDoc describes testutil.Sample's table in a user's shorthand.
const sampleDoc = `apiVersion: ipvsctl/v1
services:
  - protocol: tcp
    address: 10.0.0.1
    port: 80
    scheduler: rr
    destinations:
      - {address: 192.168.0.1, port: 8080, forward: masq}
      - {address: 192.168.0.2, port: 8080, forward: masq, weight: 2}
      - {address: 192.168.0.3, port: 8080, forward: masq, weight: 0, upperThreshold: 100, lowerThreshold: 50}
  - protocol: udp
    address: 2001:db8::1
    port: 53
    scheduler: sh
    schedFlags: [sh-port]
    onePacket: true
    destinations: [{address: 2001:db8::10}]
  - fwmark: 7
    persistence: {timeout: 600, prefixLength: 24}
    destinations:
      - {address: 10.1.1.1, forward: tunnel, weight: 5, tunnel: {type: gue, port: 6080, checksum: csum}}
      - {address: 10.1.1.2}
`

func TestNoOpApplySendsNothing(t *testing.T) {
	for _, mode := range []Mode{ModeApply, ModeRestore, ModeDiff} {
		e := newEnv(t, testutil.Sample(), mode, sampleDoc)
		e.opts.Prune = true
		e.opts.Verbose = true
		if err := Run(e.opts); err != nil {
			t.Fatalf("mode %d: %v\n%s", mode, err, e.err)
		}
		if len(e.fake.Writes) != 0 || e.fake.Batches != 0 {
			t.Errorf("mode %d: a no-op sent %d requests in %d batches", mode, len(e.fake.Writes), e.fake.Batches)
		}
		if !strings.Contains(e.err.String(), ": 0 requests sent") && !strings.Contains(e.err.String(), "; 0 requests sent") {
			t.Errorf("mode %d: verbose line missing: %s", mode, e.err)
		}
	}
	// The dry-run plan says so in JSON.
	e := newEnv(t, testutil.Sample(), ModeApply, sampleDoc)
	e.opts.DryRun, e.opts.Output = true, "json"
	if err := Run(e.opts); err != nil {
		t.Fatal(err)
	}
	var p PlanOutput
	if err := json.Unmarshal(e.out.Bytes(), &p); err != nil || p.Drift || len(p.Changes) != 0 || p.Requests == nil || *p.Requests != 0 {
		t.Errorf("dry-run json: %v %s", err, e.out)
	}
}

func TestDiffOutputsAndExitCode(t *testing.T) {
	doc := strings.Replace(sampleDoc, "scheduler: rr", "scheduler: wrr", 1)
	doc = strings.Replace(doc, "weight: 2}", "weight: 4}", 1)
	doc = strings.Replace(doc, "      - {address: 10.1.1.2}\n", "      - {address: 10.1.1.3}\n", 1)
	doc += "  - {protocol: sctp, address: 10.0.0.5, port: 3868}\ntimeouts: {tcp: 3600}\n"
	for _, out := range []string{"table", "json", "yaml"} {
		fake := testutil.Sample()
		e := newEnv(t, fake, ModeDiff, doc)
		e.opts.Output = printers.Format(out)
		err := Run(e.opts)
		var ee *cmdutil.ExitError
		if !errorsAs(err, &ee) || ee.Code != 2 {
			t.Errorf("%s: diff with drift returned %v, want exit 2", out, err)
		}
		if len(fake.Writes) != 0 {
			t.Errorf("diff wrote")
		}
		ext := map[string]string{"table": "txt", "json": "json", "yaml": "yaml"}[out]
		testutil.Golden(t, "diff."+ext, e.out.Bytes())
	}
}

func errorsAs(err error, target **cmdutil.ExitError) bool {
	e, ok := err.(*cmdutil.ExitError)
	if ok {
		*target = e
	}
	return ok
}

func TestApplyOnlyTheDifference(t *testing.T) {
	doc := strings.Replace(sampleDoc, "weight: 2}", "weight: 4}", 1)
	e := newEnv(t, testutil.Sample(), ModeApply, doc)
	if err := Run(e.opts); err != nil {
		t.Fatal(err)
	}
	if got := e.fake.WriteCmds(); !cmp.Equal(got, []ipvs.Command{ipvs.CmdSetDest}) {
		t.Errorf("writes %v, want one set-dest", got)
	}
	if e.fake.Writes[0].Destination.Weight != 4 {
		t.Errorf("weight %d", e.fake.Writes[0].Destination.Weight)
	}
	if !strings.Contains(e.out.String(), "Applied 1 changes: 0 added, 1 changed, 0 deleted.") {
		t.Errorf("summary: %s", e.out)
	}
}

func TestApplyRespectsScope(t *testing.T) {
	// The sample has tcp:10.0.0.1:80, udp:[2001:db8::1]:53, fwmark:7.
	doc := "apiVersion: ipvsctl/v1\nservices:\n  - {fwmark: 8, destinations: [{address: 10.1.1.9}]}\n"
	e := newEnv(t, testutil.Sample(), ModeApply, doc)
	e.opts.Prune, e.opts.Scope = true, "fwmark=1-10"
	if err := Run(e.opts); err != nil {
		t.Fatal(err)
	}
	want := []ipvs.Command{ipvs.CmdNewService, ipvs.CmdNewDest, ipvs.CmdDelService}
	if got := e.fake.WriteCmds(); !cmp.Equal(got, want) {
		t.Fatalf("writes %v, want %v", got, want)
	}
	if e.fake.Writes[2].Service.FWMark != 7 {
		t.Errorf("pruned %v, want fwmark 7", e.fake.Writes[2].Service.Key())
	}
	// Out-of-scope entries in the document are refused before anything
	// is sent.
	e = newEnv(t, testutil.Sample(), ModeApply, doc+"  - {protocol: tcp, address: 10.0.0.1, port: 80}\n")
	e.opts.Scope = "fwmark=1-10"
	err := Run(e.opts)
	if err == nil || !strings.Contains(err.Error(), "1 error; nothing was applied") || len(e.fake.Writes) != 0 || e.fake.Reads != 0 {
		t.Errorf("out-of-scope doc: %v, %d writes, %d reads", err, len(e.fake.Writes), e.fake.Reads)
	}
	if want := e.opts.File + ":4: services[1]: service tcp:10.0.0.1:80 is outside the scope fwmark=1-10 (see ipvsctl help scope)\n"; e.err.String() != want {
		t.Errorf("stderr %q, want %q", e.err, want)
	}
}

// TestRollbackOnMidBatchFailure: the kernel refuses a request in the
// middle of a batch; everything applied (before and after it, since the
// kernel goes on) is undone and the table is as before.
func TestRollbackOnMidBatchFailure(t *testing.T) {
	doc := strings.Replace(sampleDoc, "scheduler: rr", "scheduler: wrr", 1)
	doc = strings.Replace(doc, "weight: 2}", "weight: 4}", 1)
	doc = strings.Replace(doc, "      - {address: 10.1.1.2}\n", "      - {address: 10.1.1.3}\n", 1)
	doc += "  - {protocol: tcp, address: 10.0.0.5, port: 80, destinations: [{address: 192.168.9.1}, {address: 192.168.9.2}]}\n"
	fake := testutil.Sample()
	before, _ := fake.Table()
	fake.Fail = func(op ipvs.Op) unix.Errno {
		if op.Cmd == ipvs.CmdNewDest && op.Destination.Address.String() == "192.168.9.2" {
			return unix.ENOMEM
		}
		return 0
	}
	e := newEnv(t, fake, ModeRestore, doc)
	e.opts.Prune = true
	err := Run(e.opts)
	if err != cmdutil.ErrSilent {
		t.Fatalf("got %v, want a failure", err)
	}
	fake.Fail = nil
	after, _ := fake.Table()
	if d := cmp.Diff(before, after, cmp.Comparer(func(a, b ipvs.Service) bool { return a.Key() == b.Key() && a.Scheduler == b.Scheduler }),
		cmp.Comparer(func(a, b ipvs.Destination) bool { return a.Key() == b.Key() && a.Weight == b.Weight })); d != "" {
		t.Errorf("table not restored (-before +after):\n%s", d)
	}
	msg := e.err.String()
	for _, want := range []string{
		"restore failed: add destination 192.168.9.2:80 of tcp:10.0.0.5:80: cannot allocate memory (ENOMEM)",
		"rolled back the 6 applied changes",
		"the table is back to its state before restore",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr lacks %q:\n%s", want, msg)
		}
	}
}

func TestRollbackFailureIsReported(t *testing.T) {
	doc := sampleDoc + "  - {protocol: tcp, address: 10.0.0.5, port: 80, destinations: [{address: 192.168.9.1}]}\n  - {protocol: tcp, address: 10.0.0.6, port: 80, scheduler: nosuch}\n"
	fake := testutil.Sample()
	fake.Fail = func(op ipvs.Op) unix.Errno {
		if op.Cmd == ipvs.CmdDelService {
			return unix.EBUSY // the rollback's deletion fails
		}
		return 0
	}
	e := newEnv(t, fake, ModeApply, doc)
	if err := Run(e.opts); err != cmdutil.ErrSilent {
		t.Fatalf("got %v", err)
	}
	msg := e.err.String()
	for _, want := range []string{"apply failed: add service tcp:10.0.0.6:80: no such file or directory (ENOENT)",
		`hint: scheduler "nosuch" is not loaded: modprobe ip_vs_nosuch`, "ROLLBACK INCOMPLETE: 1 of 2 undo requests failed",
		"delete service tcp:10.0.0.5:80"} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr lacks %q:\n%s", want, msg)
		}
	}
}

func TestNoRollbackKeepsGoing(t *testing.T) {
	doc := sampleDoc + "  - {protocol: tcp, address: 10.0.0.6, port: 80, scheduler: nosuch}\n  - {protocol: tcp, address: 10.0.0.5, port: 80}\n"
	fake := testutil.Sample()
	e := newEnv(t, fake, ModeApply, doc)
	e.opts.NoRollback = true
	if err := Run(e.opts); err != cmdutil.ErrSilent {
		t.Fatalf("got %v", err)
	}
	if _, err := fake.Service(testutil.Key(ipvs.AFInet, ipvs.ProtoTCP, "10.0.0.5", 80)); err != nil {
		t.Errorf("the change after the failure was not kept: %v", err)
	}
	if !strings.Contains(e.err.String(), "1 of 2 changes failed; 1 were applied and kept") {
		t.Errorf("stderr: %s", e.err)
	}
}

// TestKernelLacksAFeature: a plan that needs a scheduler or tunnel type the
// kernel lacks is refused whole before anything is sent, in apply and
// restore and their dry runs; diff still shows it; what the live table
// already has is not probed again.
func TestKernelLacksAFeature(t *testing.T) {
	const doc = `apiVersion: ipvsctl/v1
services:
  - {protocol: tcp, address: 10.9.0.1, port: 80, scheduler: twos, destinations: [{address: 192.168.9.1}]}
  - {protocol: tcp, address: 10.9.0.2, port: 80, scheduler: rr, destinations: [{address: 10.1.1.9, forward: tunnel, tunnel: {type: gre}}]}
`
	for _, c := range []struct {
		name   string
		mode   Mode
		dryRun bool
	}{{"apply", ModeApply, false}, {"restore", ModeRestore, false}, {"apply dry run", ModeApply, true}} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, fakeipvs.New(), c.mode, doc)
			k := &testutil.Kernel{MissingSchedulers: []string{"twos"}, MissingTunnels: []ipvs.TunnelType{ipvs.TunnelGRE}}
			e.opts.Probe, e.opts.DryRun = k.Probe, c.dryRun
			err := Run(e.opts)
			want := "this kernel (6.1.0-test) lacks the twos scheduler (no ip_vs_twos module), gre tunnels (Linux 5.3 and later); nothing was applied"
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v, want one containing %q", err, want)
			}
			if len(e.fake.Writes) != 0 || e.out.Len() != 0 {
				t.Errorf("sent %d requests, printed %q", len(e.fake.Writes), e.out)
			}
		})
	}
	e := newEnv(t, fakeipvs.New(), ModeDiff, doc)
	k := &testutil.Kernel{MissingSchedulers: []string{"twos"}}
	e.opts.Probe = k.Probe
	if err := Run(e.opts); !errors.As(err, new(*cmdutil.ExitError)) || k.Probes != 0 {
		t.Errorf("diff: %v, %d probes", err, k.Probes)
	}
	// A kernel that has them: applied; the second apply needs no probe.
	// (The fake kernel is a 6.1 one: it has no twos either.)
	e = newEnv(t, fakeipvs.New(), ModeApply, strings.Replace(doc, "twos", "sed", 1))
	k = &testutil.Kernel{}
	e.opts.Probe = k.Probe
	if err := Run(e.opts); err != nil || k.Probes != 1 {
		t.Fatalf("apply: %v, %d probes\n%s", err, k.Probes, e.err)
	}
	if err := Run(e.opts); err != nil || k.Probes != 1 {
		t.Errorf("no-op apply: %v, %d probes", err, k.Probes)
	}
}

func TestValidationErrorsApplyNothing(t *testing.T) {
	doc := sampleDoc + "  - protocol: tcp\n    address: 10.0.0.1\n    port: 80\n  - {fwmark: 9, destinations: [{address: 10.0.0.1, forward: masq, tunnel: {type: gre}}]}\n"
	e := newEnv(t, testutil.Sample(), ModeRestore, doc)
	err := Run(e.opts)
	if err == nil || !strings.Contains(err.Error(), "2 errors; nothing was applied") {
		t.Fatalf("got %v", err)
	}
	lines := strings.Split(strings.TrimSpace(e.err.String()), "\n")
	want := []string{
		e.opts.File + ":23: services[3]: service tcp:10.0.0.1:80 is listed twice (first at line 3)",
		e.opts.File + ":26: services[4].destinations[0].tunnel: tunnel options need forward: tunnel",
	}
	if d := cmp.Diff(want, lines); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}
	if len(e.fake.Writes) != 0 || e.fake.Reads != 0 {
		t.Errorf("an invalid file touched the kernel: %d writes, %d reads", len(e.fake.Writes), e.fake.Reads)
	}
}

func TestRestoreRulesFile(t *testing.T) {
	fake := fakeipvs.New()
	e := newEnv(t, fake, ModeRestore, "")
	rules := filepath.Join(t.TempDir(), "saved")
	os.WriteFile(rules, []byte("# ipvsadm -Sn\n-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 192.168.0.1:8080 -m -w 2\n"), 0o644)
	e.opts.File = rules
	if err := Run(e.opts); err != nil {
		t.Fatalf("restore of a rules file: %v\n%s", err, e.err.String())
	}
	got, _ := fake.Table()
	if len(got) != 1 || got[0].Service.Scheduler != "rr" || len(got[0].Destinations) != 1 ||
		got[0].Destinations[0].Weight != 2 || got[0].Destinations[0].ForwardMethod != ipvs.FwdMasq {
		t.Errorf("table after restoring the rules file: %+v", got)
	}
	// A bad line is reported at its line number and nothing is applied.
	fake2 := fakeipvs.New()
	e2 := newEnv(t, fake2, ModeRestore, "")
	os.WriteFile(rules, []byte("-A -t 10.0.0.2:80\n-A -t 10.0.0.3\n"), 0o644)
	e2.opts.File = rules
	err := Run(e2.opts)
	if err == nil || !strings.Contains(e2.err.String()+err.Error(), rules+":2: Zero port specified for non-persistent service") {
		t.Errorf("bad rules file: %v\n%s", err, e2.err.String())
	}
	if len(fake2.Writes) != 0 {
		t.Errorf("a bad rules file was applied: %d writes", len(fake2.Writes))
	}
}

func TestApplyFromStdinAndDaemonsTimeouts(t *testing.T) {
	fake := fakeipvs.New()
	e := newEnv(t, fake, ModeApply, "")
	e.opts.File = "-"
	e.inb.WriteString(`{"apiVersion": "ipvsctl/v1", "timeouts": {"tcp": 3600, "tcpFin": 0, "udp": 0},
 "daemons": [{"state": "master", "interface": "eth0", "syncID": 3}], "services": []}`)
	if err := Run(e.opts); err != nil {
		t.Fatal(err)
	}
	if got := fake.WriteCmds(); !cmp.Equal(got, []ipvs.Command{ipvs.CmdSetConfig, ipvs.CmdNewDaemon}) {
		t.Errorf("writes %v", got)
	}
	tm, _ := fake.Timeouts()
	if tm != (ipvs.Timeouts{TCP: 3600, TCPFin: 120, UDP: 300}) {
		t.Errorf("timeouts %+v", tm)
	}
	// Applying again: the running daemon (with the kernel's defaults
	// filled in) matches, nothing is sent.
	fake.ResetWrites()
	e.inb.WriteString(`{"apiVersion": "ipvsctl/v1", "timeouts": {"tcp": 3600}, "daemons": [{"state": "master", "interface": "eth0", "syncID": 3}], "services": []}`)
	if err := Run(e.opts); err != nil {
		t.Fatal(err)
	}
	if len(fake.Writes) != 0 {
		t.Errorf("second apply wrote %v", fake.WriteCmds())
	}
	// An empty daemons list stops them.
	e.inb.WriteString(`{"apiVersion": "ipvsctl/v1", "daemons": [], "services": []}`)
	if err := Run(e.opts); err != nil {
		t.Fatal(err)
	}
	if got := fake.WriteCmds(); !cmp.Equal(got, []ipvs.Command{ipvs.CmdDelDaemon}) {
		t.Errorf("writes %v", got)
	}
}

// TestLoadErrorsSayWhatDidNotHappen: diff never applies, so a bad document
// stops it with "nothing was compared"; a missing file is named once.
func TestLoadErrorsSayWhatDidNotHappen(t *testing.T) {
	e := newEnv(t, testutil.Sample(), ModeDiff, "apiVersion: ipvsctl/v1\nservices:\n  - {protocol: tcp, address: 10.0.0.300, port: 80}\n")
	if err := Run(e.opts); err == nil || !strings.HasSuffix(err.Error(), "1 error; nothing was compared") {
		t.Errorf("diff of a bad document: %v", err)
	}
	e.opts.File = filepath.Join(t.TempDir(), "missing.yaml")
	err := Run(e.opts)
	if want := "read " + e.opts.File + ": no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("missing file: %v, want %s", err, want)
	}
}
