package main

// Tests against the real kernel, run inside the test VM by
// "go run ./tools/vmrun test" (which installs this program as
// /usr/local/sbin/ipvsctl). Debian's ipvsadm 1.31 is the reference: it
// sets up foreign rules and reads the table back for comparison.

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/table"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	_ "github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil" // its -update flag, for go test ./... -update
	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/ipvs-tools/ipvs/ipvssysctl"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
	"github.com/ipvs-tools/ipvs/netns"
)

const ctlPath = "/usr/local/sbin/ipvsctl"

func ctl(t testing.TB, args ...string) vmtest.Result {
	t.Helper()
	return vmtest.Run(t, ctlPath, "ipvsctl", "", args...)
}

func mustCtl(t testing.TB, args ...string) vmtest.Result {
	t.Helper()
	r := ctl(t, args...)
	if r.Code != 0 {
		t.Fatalf("ipvsctl %s: %s", strings.Join(args, " "), r)
	}
	return r
}

func mustRef(t testing.TB, args ...string) string {
	t.Helper()
	r := vmtest.Ref(t, args...)
	if r.Code != 0 {
		t.Fatalf("ipvsadm %s: %s", strings.Join(args, " "), r)
	}
	return r.Stdout
}

func refRestore(t testing.TB, rules string) {
	t.Helper()
	if r := vmtest.RefInput(t, rules, "-R"); r.Code != 0 || r.Stderr != "" {
		t.Fatalf("ipvsadm -R: %s\ninput:\n%s", r, rules)
	}
}

func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func setupLo(t testing.TB) {
	t.Helper()
	vmtest.MustShell(t, "ip link set lo up")
}

// TestVMApply applies a document of 500 services with 5 real servers each
// (3,000 requests: several batch windows) to an empty table, then applies
// it again: the second run must find nothing to do and send no request.
// The reference sees the whole table, and ipvsctl save -o rules prints
// what ipvsadm -Sn prints. BenchmarkVMApply does the same with 10,000
// services.
//
//vmtest:budget 2m
func TestVMApply(t *testing.T) {
	vmtest.Require(t)
	applyScale(t, 500, 5)
}

// BenchmarkVMApply is TestVMApply with 10,000 services x 5 real servers,
// timed against ipvsadm -R of the same rules in the same boot (go run
// ./tools/vmrun bench -run Apply ./cmd/ipvsctl).
//
//vmtest:budget 15m
func BenchmarkVMApply(b *testing.B) {
	vmtest.Require(b)
	m := applyScale(b, 10000, 5)
	tableReadCost(b)
	b.ReportMetric(m.apply.Seconds(), "s-apply")
	b.ReportMetric(m.refRestore.Seconds(), "s-ipvsadm-R")
	b.ReportMetric(float64(m.refRestore)/float64(m.apply), "x-apply-vs-ipvsadm-R")
	b.ReportMetric(m.noop.Seconds(), "s-noop-apply")
	b.ReportMetric(float64(m.refSave)/float64(m.ourSave), "x-save-vs-ipvsadm-Sn")
}

// applyMeasures are the timings of one applyScale run, in one boot.
type applyMeasures struct {
	apply, noop, refSave, ourSave, refRestore time.Duration
}

// applyScale applies a document of nsvc services with ndst destinations
// each into an empty table and checks the request counts, the no-op
// re-apply (no request, empty dry-run plan), that ipvsctl save -o rules
// equals ipvsadm -Sn, and that ipvsadm -R of those rules gives the same
// table; it returns the timings.
func applyScale(t testing.TB, nsvc, ndst int) applyMeasures {
	t.Helper()
	vmtest.Reset(t)
	setupLo(t)
	var b strings.Builder
	b.WriteString(`{"apiVersion": "ipvsctl/v1", "services": [`)
	for i := range nsvc {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n{\"protocol\": \"tcp\", \"address\": \"10.%d.%d.%d\", \"port\": 80, \"scheduler\": \"rr\", \"destinations\": [", 1+i/65536, i/256%256, i%256)
		for j := range ndst {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, `{"address": "192.168.%d.%d", "port": 8080, "forward": "masq", "weight": %d}`, i%200, 1+j, 1+j)
		}
		b.WriteString("]}")
	}
	b.WriteString("\n]}\n")
	doc := writeFile(t, "doc.json", b.String())

	var m applyMeasures
	start := time.Now()
	r := mustCtl(t, "apply", "-f", doc, "-v")
	m.apply = time.Since(start)
	t.Logf("apply of %d services x %d destinations into an empty table: %v\n%s", nsvc, ndst, m.apply, r.Stderr)
	if !strings.Contains(r.Stdout, fmt.Sprintf("Applied %d changes", nsvc*(ndst+1))) {
		t.Errorf("first apply: %s", r)
	}
	if !strings.Contains(r.Stderr, fmt.Sprintf("%d requests sent", nsvc*(ndst+1))) {
		t.Errorf("first apply should report %d requests: %s", nsvc*(ndst+1), r.Stderr)
	}

	start = time.Now()
	r = mustCtl(t, "apply", "-f", doc, "-v")
	m.noop = time.Since(start)
	t.Logf("no-op apply of the same document: %v\n%s", m.noop, r.Stderr)
	if !strings.Contains(r.Stderr, "; 0 requests sent") || !strings.Contains(r.Stdout, "No changes") {
		t.Errorf("no-op apply sent requests or found changes: %s", r)
	}
	r = mustCtl(t, "apply", "-f", doc, "--dry-run", "-o", "json")
	var plan struct {
		Drift    bool
		Changes  []any
		Requests int
	}
	if err := json.Unmarshal([]byte(r.Stdout), &plan); err != nil || plan.Drift || len(plan.Changes) != 0 || plan.Requests != 0 {
		t.Errorf("dry-run plan of the no-op apply: %v %+v\n%s", err, plan, r.Stdout)
	}

	// The reference sees the whole table, and its own timing for scale.
	start = time.Now()
	saved := mustRef(t, "-Sn")
	m.refSave = time.Since(start)
	if n := strings.Count(saved, "\n"); n != nsvc*(ndst+1) {
		t.Errorf("ipvsadm -Sn has %d lines, want %d", n, nsvc*(ndst+1))
	}
	start = time.Now()
	ours := mustCtl(t, "save", "-o", "rules").Stdout
	m.ourSave = time.Since(start)
	if ours != saved {
		t.Errorf("ipvsctl save -o rules differs from ipvsadm -Sn on the %d-service table", nsvc)
	}
	// The reference's restore of the same table, for the ratio, into a
	// new namespace: after a flush here, the kernel keeps the removed
	// destinations in this namespace's trash list, which every new
	// destination walks, and would slow the reference down.
	vmtest.MustShell(t, vmtest.IPFull+" netns add applyref && "+vmtest.IPFull+" -n applyref link set lo up")
	t.Cleanup(func() { vmtest.Run(t, vmtest.IPFull, "ip", "", "netns", "delete", "applyref") })
	inRef := func(stdin string, args ...string) vmtest.Result {
		return vmtest.Run(t, vmtest.IPFull, "ip", stdin, append([]string{"netns", "exec", "applyref", vmtest.RefPath}, args...)...)
	}
	start = time.Now()
	if r := inRef(saved, "-R"); r.Code != 0 || r.Stderr != "" {
		t.Fatalf("ipvsadm -R in a new namespace: %s", r)
	}
	m.refRestore = time.Since(start)
	if got := inRef("", "-Sn"); got.Stdout != saved {
		t.Errorf("ipvsadm -R of the saved rules gave another table")
	}
	t.Logf("TIMINGS (TCG, compare only as ratios): apply %d x %d into an empty table: %v (ipvsadm -R of the same into a new namespace: %v); no-op apply: %v; ipvsadm -Sn: %v; ipvsctl save -o rules: %v",
		nsvc, ndst, m.apply, m.refRestore, m.noop, m.refSave, m.ourSave)
	return m
}

// tableReadCost logs where the time of reading a large table goes, in
// this process: the service dump, the destination dumps, and the effect
// of the garbage collector.
func tableReadCost(t testing.TB) {
	c, err := netlinkipvs.New()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	measure := func(label string, fn func() error) {
		start := time.Now()
		if err := fn(); err != nil {
			t.Fatal(err)
		}
		t.Logf("in-process %s: %v", label, time.Since(start))
	}
	var svcs []ipvs.Service
	measure("Services() dump", func() (err error) { svcs, err = c.Services(); return })
	measure(fmt.Sprintf("%d Destinations() dumps", len(svcs)), func() error {
		for _, s := range svcs {
			if _, err := c.Destinations(s.Key()); err != nil {
				return err
			}
		}
		return nil
	})
	measure("Table()", func() error { _, err := c.Table(); return err })
	old := debug.SetGCPercent(-1)
	measure("Table() with the GC off", func() error { _, err := c.Table(); return err })
	debug.SetGCPercent(old)
}

// TestVMRestoreErrorLastLine: a file whose last line is invalid changes
// nothing; a kernel error half-way is rolled back.
func TestVMRestoreErrorLastLine(t *testing.T) {
	vmtest.Require(t)
	vmtest.Reset(t)
	setupLo(t)
	refRestore(t, "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 192.168.0.1:80 -m -w 1\n-A -f 5 -s wlc\n")
	before := mustRef(t, "-Sn")

	doc := `apiVersion: ipvsctl/v1
services:
  - protocol: tcp
    address: 10.0.0.2
    port: 80
    destinations:
      - address: 192.168.0.7
  - protocol: udp
    address: 10.0.0.3
    port: 53
    destinations:
      - {address: 192.168.0.8, weight: -1}
`
	file := writeFile(t, "bad.yaml", doc)
	r := ctl(t, "restore", "-f", file)
	if r.Code != 1 || !strings.Contains(r.Stderr, file+":12:") {
		t.Errorf("restore of a file with an error on its last line: want exit 1 and %s:12: ..., got %s", file, r)
	}
	if after := mustRef(t, "-Sn"); after != before {
		t.Errorf("table changed by a rejected file:\nbefore:\n%safter:\n%s", before, after)
	}

	// A kernel error on the last service (a multicast real server, which
	// only the kernel refuses): everything applied before it is rolled
	// back.
	doc2 := `apiVersion: ipvsctl/v1
services:
  - {protocol: tcp, address: 10.0.0.1, port: 80, scheduler: wrr, destinations: [{address: 192.168.0.1, forward: masq, weight: 4}, {address: 192.168.0.2}]}
  - {protocol: tcp, address: 10.0.0.2, port: 80, destinations: [{address: 192.168.0.7}]}
  - {protocol: udp, address: 10.0.0.3, port: 53, destinations: [{address: 224.0.0.9}]}
`
	file2 := writeFile(t, "kernel-error.yaml", doc2)
	r = ctl(t, "restore", "-f", file2)
	if r.Code != 1 || !strings.Contains(r.Stderr, "EINVAL") || !strings.Contains(r.Stderr, "rolled back") {
		t.Errorf("restore with a kernel error: %s", r)
	}
	if after := mustRef(t, "-Sn"); after != before {
		t.Errorf("rollback did not restore the table:\nbefore:\n%safter:\n%s", before, after)
	}
	t.Logf("restore with a kernel error reported:\n%s", r.Stderr)

	// A scheduler the kernel lacks is found before anything is sent.
	doc3 := strings.Replace(doc2, "{address: 224.0.0.9}", "{address: 192.168.0.9}", 1)
	doc3 = strings.Replace(doc3, "port: 53,", "port: 53, scheduler: nosuchsched,", 1)
	r = ctl(t, "restore", "-f", writeFile(t, "no-scheduler.yaml", doc3), "-v")
	if r.Code != 1 || !strings.Contains(r.Stderr, "lacks the nosuchsched scheduler (no ip_vs_nosuchsched module); nothing was applied") ||
		strings.Contains(r.Stderr, "requests sent") {
		t.Errorf("restore with a missing scheduler: %s", r)
	}
	if after := mustRef(t, "-Sn"); after != before {
		t.Errorf("the table changed:\nbefore:\n%safter:\n%s", before, after)
	}
}

// TestVMScope: apply --prune and flush with --scope leave rules added by
// another tool (the reference ipvsadm) alone.
func TestVMScope(t *testing.T) {
	vmtest.Require(t)
	vmtest.Reset(t)
	setupLo(t)
	foreign := "-A -t 10.96.0.1:443 -s rr\n-a -t 10.96.0.1:443 -r 10.244.0.5:6443 -m -w 1\n-A -f 3 -s wlc\n-A -u 192.0.3.1:53 -s rr\n"
	refRestore(t, foreign)
	doc := writeFile(t, "mine.yaml", `apiVersion: ipvsctl/v1
services:
  - {protocol: tcp, address: 192.0.2.10, port: 80, scheduler: rr, destinations: [{address: 198.51.100.1, forward: masq}]}
  - {fwmark: 150, destinations: [{address: 198.51.100.2}]}
`)
	scope := "vip=192.0.2.0/24,fwmark=100-199"
	mustCtl(t, "apply", "-f", doc, "--prune", "--scope", scope)
	want := "-A -t 10.96.0.1:443 -s rr\n-a -t 10.96.0.1:443 -r 10.244.0.5:6443 -m -w 1\n" +
		"-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 198.51.100.1:80 -m -w 1\n" +
		"-A -u 192.0.3.1:53 -s rr\n-A -f 3 -s wlc\n-A -f 150 -s wlc\n-a -f 150 -r 198.51.100.2:0 -g -w 1\n"
	if got := mustRef(t, "-Sn"); sortedLines(got) != sortedLines(want) {
		t.Errorf("after apply --prune --scope:\n%s\nwant:\n%s", got, want)
	} else if ours := mustCtl(t, "save", "-o", "rules").Stdout; ours != got {
		t.Errorf("save -o rules does not keep ipvsadm's order:\n%s\nipvsadm -Sn:\n%s", ours, got)
	}
	// A document listing a service outside the scope is refused.
	bad := writeFile(t, "outside.yaml", "apiVersion: ipvsctl/v1\nservices:\n  - {protocol: tcp, address: 10.96.0.1, port: 443}\n")
	if r := ctl(t, "apply", "-f", bad, "--scope", scope); r.Code != 1 || !strings.Contains(r.Stderr, "outside the scope") {
		t.Errorf("out-of-scope document: %s", r)
	}
	// Prune with an empty document removes only in-scope services.
	empty := writeFile(t, "empty.yaml", "apiVersion: ipvsctl/v1\nservices: []\n")
	mustCtl(t, "apply", "-f", empty, "--prune", "--scope", scope)
	if got := mustRef(t, "-Sn"); sortedLines(got) != sortedLines(foreign) {
		t.Errorf("after pruning the scope:\n%s\nwant the foreign rules:\n%s", got, foreign)
	}
	mustCtl(t, "apply", "-f", doc, "--scope", scope)
	mustCtl(t, "flush", "--scope", scope)
	if got := mustRef(t, "-Sn"); sortedLines(got) != sortedLines(foreign) {
		t.Errorf("after flush --scope:\n%s\nwant the foreign rules:\n%s", got, foreign)
	}
}

// sortedLines sorts the lines of s: ipvsadm -S sorts with an overflowing
// comparison (addresses more than 2^31 apart compare backwards), so
// tables mixing 10.x and 192.x are compared as sets of lines.
func sortedLines(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	slices.Sort(l)
	return strings.Join(l, "\n")
}

// TestVMOutputAgreesWithIpvsadm: a varied table set up by the reference
// ipvsadm reads back identically through ipvsctl save -o rules and
// through the JSON of ipvsctl list.
func TestVMOutputAgreesWithIpvsadm(t *testing.T) {
	vmtest.Require(t)
	vmtest.Reset(t)
	setupLo(t)
	rules := `-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 192.168.0.1:8080 -m -w 3
-a -t 10.0.0.1:80 -r 192.168.0.2:80 -g -w 0
-A -u 10.0.0.1:53 -s sh -o -b sh-fallback,sh-port
-a -u 10.0.0.1:53 -r 192.168.0.3:53 -i -w 1 --tun-type gue --tun-port 6080 --tun-remcsum
-A -t [2001:db8::1]:443 -s wlc -p 600 -M 64
-a -t [2001:db8::1]:443 -r [2001:db8::10]:443 -g -w 2
-a -t [2001:db8::1]:443 -r 192.168.0.4:443 -i -w 1 --tun-type ipip
-A --sctp-service 10.0.0.2:3868 -s mh -b mh-port
-A -f 7 -s lc -p 300 -M 255.255.255.0
-a -f 7 -r 192.168.0.5:0 -i -w 1 --tun-type gre --tun-csum
-A -f 9 -6 -s rr
`
	refRestore(t, rules)
	ref := mustRef(t, "-Sn")
	if got := mustCtl(t, "save", "-o", "rules").Stdout; got != ref {
		t.Errorf("ipvsctl save -o rules:\n%s\nipvsadm -Sn:\n%s", got, ref)
	}
	for _, format := range []string{"json", "yaml"} {
		out := mustCtl(t, "list", "-o", format).Stdout
		doc, err := ipvsconfig.Parse("list."+format, []byte(out), "")
		if err != nil {
			t.Fatal(err)
		}
		want, err := doc.Desired()
		if err != nil {
			t.Fatal(err)
		}
		cmdutil.SortTable(want.Services)
		var b strings.Builder
		if err := table.WriteRules(&b, want.Services); err != nil {
			t.Fatal(err)
		}
		if b.String() != ref {
			t.Errorf("ipvsctl list -o %s, written as rules:\n%s\nipvsadm -Sn:\n%s\n%s", format, b.String(), ref, out)
		}
	}
	// save | restore | save through our own file format is stable.
	saved := mustCtl(t, "save").Stdout
	file := writeFile(t, "saved.yaml", saved)
	vmtest.Ref(t, "-C")
	mustCtl(t, "restore", "-f", file)
	if again := mustCtl(t, "save").Stdout; again != saved {
		t.Errorf("save | restore | save differs:\n%s\n---\n%s", saved, again)
	}
	if got := mustRef(t, "-Sn"); got != ref {
		t.Errorf("after restore, ipvsadm -Sn:\n%s\nwant:\n%s", got, ref)
	}
}

// TestVMServiceDestAndDrain drives the imperative commands and checks
// them with the reference.
func TestVMServiceDestAndDrain(t *testing.T) {
	vmtest.Require(t)
	vmtest.Reset(t)
	setupLo(t)
	mustCtl(t, "service", "add", "tcp:10.0.0.1:80", "-s", "rr")
	mustCtl(t, "dest", "add", "tcp:10.0.0.1:80", "192.168.0.1:8080", "--forward", "masq", "-w", "3")
	mustCtl(t, "dest", "add", "-t", "10.0.0.1:80", "-r", "192.168.0.2", "-g")
	mustCtl(t, "service", "edit", "tcp:10.0.0.1:80", "--persistent", "60")
	mustCtl(t, "dest", "edit", "tcp:10.0.0.1:80", "192.168.0.1:8080", "-x", "10")
	want := "-A -t 10.0.0.1:80 -s rr -p 60\n-a -t 10.0.0.1:80 -r 192.168.0.1:8080 -m -w 3\n-a -t 10.0.0.1:80 -r 192.168.0.2:80 -g -w 1\n"
	if got := mustRef(t, "-Sn"); got != want {
		t.Errorf("ipvsadm -Sn:\n%s\nwant:\n%s", got, want)
	}
	if !regexp.MustCompile(`192\.168\.0\.1:8080 +10 +0 `).MatchString(mustRef(t, "-Ln", "--thresholds")) {
		t.Errorf("threshold not set: %s", mustRef(t, "-Ln", "--thresholds"))
	}
	// Errors name the object and give the fix.
	r := ctl(t, "service", "add", "tcp:10.0.0.1:80")
	if r.Code != 1 || !strings.Contains(r.Stderr, "add service tcp:10.0.0.1:80: file exists (EEXIST)") {
		t.Errorf("duplicate service: %s", r)
	}
	r = ctl(t, "service", "add", "tcp:10.0.0.9:80", "-s", "nosuch")
	if r.Code != 1 || !strings.Contains(r.Stderr, "add service tcp:10.0.0.9:80: this kernel ("+ctlRelease(t)+") lacks the nosuch scheduler (no ip_vs_nosuch module)") {
		t.Errorf("unknown scheduler: %s", r)
	}
	r = ctl(t, "service", "delete", "tcp:10.0.0.9:80")
	if r.Code != 1 || !strings.Contains(r.Stderr, "ESRCH") || !strings.Contains(r.Stderr, "ipvsctl list") {
		t.Errorf("missing service: %s", r)
	}
	r = ctl(t, "dest", "add", "tcp:10.0.0.1:80", "2001:db8::5", "--forward", "masq")
	if r.Code != 1 || !strings.Contains(r.Stderr, "forward: tunnel") {
		t.Errorf("mixed family: %s", r)
	}
	// Drain: weight 0 first, then deletion once no connection is active.
	r = mustCtl(t, "dest", "drain", "tcp:10.0.0.1:80", "192.168.0.1:8080", "--timeout", "10s")
	if r.Stderr != "" {
		t.Errorf("drain is quiet when not on a terminal: %q", r.Stderr)
	}
	mustCtl(t, "dest", "drain", "tcp:10.0.0.1:80", "192.168.0.2", "--no-delete")
	want = "-A -t 10.0.0.1:80 -s rr -p 60\n-a -t 10.0.0.1:80 -r 192.168.0.2:80 -g -w 0\n"
	if got := mustRef(t, "-Sn"); got != want {
		t.Errorf("after drain, ipvsadm -Sn:\n%s\nwant:\n%s", got, want)
	}
	mustCtl(t, "timeout", "set", "--tcp", "3600")
	if got := mustRef(t, "-L", "--timeout"); got != "Timeout (tcp tcpfin udp): 3600 120 300\n" {
		t.Errorf("timeouts: %q", got)
	}
	mustCtl(t, "zero")
	mustCtl(t, "service", "delete", "tcp:10.0.0.1:80")
	if got := mustRef(t, "-Sn"); got != "" {
		t.Errorf("after delete: %q", got)
	}
}

// TestVMSync starts and stops daemons and compares with ipvsadm --daemon.
func TestVMSync(t *testing.T) {
	vmtest.Require(t)
	vmtest.Reset(t)
	setupLo(t)
	mustCtl(t, "sync", "start", "master", "--interface", "lo", "--syncid", "7")
	mustCtl(t, "sync", "start", "backup", "--interface", "lo", "--syncid", "8", "--port", "9000")
	ref := mustRef(t, "-L", "--daemon")
	if !strings.Contains(ref, "master sync daemon (mcast=lo, syncid=7") || !strings.Contains(ref, "backup sync daemon (mcast=lo, syncid=8") {
		t.Errorf("ipvsadm -L --daemon: %s", ref)
	}
	// The syncid mismatch is a problem: exit status 1, the status printed.
	r := ctl(t, "sync", "status", "-o", "json")
	if r.Code != 1 {
		t.Errorf("sync status with a syncid mismatch: exit %d, want 1", r.Code)
	}
	var st struct {
		Daemons []struct {
			State       string
			Interface   string
			SyncID      uint32
			Port        uint16
			InterfaceUp *bool
		}
		Problems []string
	}
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		t.Fatalf("%v\n%s", err, r.Stdout)
	}
	if len(st.Daemons) != 2 || st.Daemons[0].State != "master" || st.Daemons[0].SyncID != 7 || st.Daemons[1].Port != 9000 ||
		st.Daemons[0].InterfaceUp == nil || !*st.Daemons[0].InterfaceUp {
		t.Errorf("sync status: %s", r.Stdout)
	}
	if !strings.Contains(r.Stdout, "syncid mismatch") {
		t.Errorf("sync status should name the syncid mismatch: %s", r.Stdout)
	}
	t.Logf("sync status:\n%s", ctl(t, "sync", "status").Stdout)
	// Starting the same role again explains itself.
	if r := ctl(t, "sync", "start", "master", "--interface", "lo"); r.Code != 1 || !strings.Contains(r.Stderr, "already running") {
		t.Errorf("second master: %s", r)
	}
	if r := ctl(t, "sync", "start", "master", "--interface", "nosuch0"); r.Code != 1 {
		t.Errorf("bad interface: %s", r)
	}
	// save -o rules --complete | ipvsadm -R brings the daemons back.
	mustCtl(t, "timeout", "set", "--udp", "200")
	rules := mustCtl(t, "save", "-o", "rules", "--complete").Stdout
	want := "--set 900 120 200\n--start-daemon master --mcast-interface lo --syncid 7 --sync-maxlen 1472 --mcast-group 224.0.0.81 --mcast-port 8848 --mcast-ttl 1\n"
	if !strings.HasPrefix(rules, want) {
		t.Errorf("save -o rules --complete:\n%s", rules)
	}
	mustCtl(t, "sync", "stop", "all")
	vmtest.Ref(t, "--set", "900", "120", "300")
	refRestore(t, rules)
	if got := mustRef(t, "-L", "--daemon"); got != ref {
		t.Errorf("ipvsadm -R of save --complete: daemons\n%s\nwant\n%s", got, ref)
	}
	if got := mustRef(t, "-L", "--timeout"); got != "Timeout (tcp tcpfin udp): 900 120 200\n" {
		t.Errorf("timeouts after ipvsadm -R: %q", got)
	}
	mustCtl(t, "sync", "stop", "all")
	if got := mustRef(t, "-L", "--daemon"); got != "" {
		t.Errorf("after sync stop all: %q", got)
	}
	if r := ctl(t, "sync", "stop", "master"); r.Code != 1 || !strings.Contains(r.Stderr, "not running") {
		t.Errorf("stop without daemon: %s", r)
	}
}

// TestVMNetns: --netns works on another namespace's table only.
func TestVMNetns(t *testing.T) {
	vmtest.Require(t)
	vmtest.Reset(t)
	vmtest.MustShell(t, vmtest.IPFull+" netns add ctltest && "+vmtest.IPFull+" -n ctltest link set lo up")
	t.Cleanup(func() { vmtest.MustShell(t, vmtest.IPFull+" netns del ctltest") })
	mustCtl(t, "--netns", "ctltest", "service", "add", "tcp:10.0.0.1:80")
	mustCtl(t, "--netns", "ctltest", "dest", "add", "tcp:10.0.0.1:80", "127.0.0.1")
	if got := mustRef(t, "-Sn"); got != "" {
		t.Errorf("root namespace got rules: %q", got)
	}
	out := vmtest.MustShell(t, vmtest.IPFull+" netns exec ctltest "+vmtest.RefPath+" -Sn")
	if out != "-A -t 10.0.0.1:80 -s wlc\n-a -t 10.0.0.1:80 -r 127.0.0.1:80 -g -w 1\n" {
		t.Errorf("ipvsadm -Sn in the namespace: %q", out)
	}
	if got := mustCtl(t, "--netns", "/run/netns/ctltest", "save", "-o", "rules").Stdout; got != out {
		t.Errorf("ipvsctl --netns PATH save: %q", got)
	}
}

// TestVMVersionWithoutKernel: version never needs the kernel.
func TestVMVersion(t *testing.T) {
	vmtest.Require(t)
	r := mustCtl(t, "version")
	if !regexp.MustCompile(`^ipvsctl \S+ \(go`).MatchString(r.Stdout) {
		t.Errorf("version: %s", r)
	}
	r = mustCtl(t, "version", "--kernel")
	if !strings.Contains(r.Stdout, "IP Virtual Server version 1.2.1 (size=4096)") {
		t.Errorf("version --kernel: %s", r)
	}
}

// trafficNS creates a network namespace for a test that makes real
// connections, so that its connection entries, addresses and sysctl
// changes stay out of the root namespace that other packages' VM tests
// use (the namespace, and with it its IPVS state, goes away at the end).
// It returns ctl-style arguments and helpers bound to the namespace.
type trafficNS struct {
	t    *testing.T
	name string
}

func newTrafficNS(t *testing.T, name string) *trafficNS {
	t.Helper()
	vmtest.MustShell(t, fmt.Sprintf("%[1]s netns add %[2]s && %[1]s -n %[2]s link set lo up && "+
		"%[1]s -n %[2]s addr add 10.99.0.1/32 dev lo && %[1]s -n %[2]s addr add 10.99.0.2/32 dev lo", vmtest.IPFull, name))
	t.Cleanup(func() { vmtest.MustShell(t, vmtest.IPFull+" netns del "+name) })
	return &trafficNS{t: t, name: name}
}

// sh runs a shell script inside the namespace.
func (n *trafficNS) sh(script string) string {
	n.t.Helper()
	out, err := exec.Command(vmtest.IPFull, "netns", "exec", n.name, "/bin/sh", "-c", script).CombinedOutput()
	if err != nil {
		n.t.Fatalf("in netns %s: %v\nscript:\n%s\noutput:\n%s", n.name, err, script, out)
	}
	return string(out)
}

// ref runs the reference ipvsadm inside the namespace.
func (n *trafficNS) ref(args ...string) string {
	n.t.Helper()
	out, err := exec.Command(vmtest.IPFull, append([]string{"netns", "exec", n.name, vmtest.RefPath}, args...)...).Output()
	if err != nil {
		n.t.Fatalf("ipvsadm %s in netns %s: %v", strings.Join(args, " "), n.name, err)
	}
	return string(out)
}

// ctl runs ipvsctl --netns NAME args.
func (n *trafficNS) ctl(args ...string) vmtest.Result {
	n.t.Helper()
	return ctl(n.t, append([]string{"--netns", n.name}, args...)...)
}

func (n *trafficNS) mustCtl(args ...string) vmtest.Result {
	n.t.Helper()
	return mustCtl(n.t, append([]string{"--netns", n.name}, args...)...)
}

// connect opens one TCP connection from the namespace to 10.99.0.1:80
// (through IPVS to a local busybox nc server) and keeps it open for secs
// seconds. Both sides hold their standard input open with a sleep, so
// neither closes early; all output goes to /dev/null so the shell returns
// at once.
func (n *trafficNS) connect(secs int) {
	n.t.Helper()
	n.sh(fmt.Sprintf("( (sleep %d) | busybox nc -l -p 80 ) >/dev/null 2>&1 </dev/null & sleep 0.5; "+
		"( (sleep %d) | busybox nc 10.99.0.1 80 ) >/dev/null 2>&1 </dev/null & sleep 0.5", secs+2, secs))
}

// TestVMDrainWithTraffic drains a real server that has a live connection:
// drain must wait until the client closes it, then delete the server.
// The client and the "real server" are local: a connection from the host
// to a VIP on lo is scheduled by IPVS (LOCAL_OUT) to the local server.
func TestVMDrainWithTraffic(t *testing.T) {
	vmtest.Require(t)
	ns := newTrafficNS(t, "ctl-drain")
	ns.mustCtl("service", "add", "tcp:10.99.0.1:80", "-s", "rr")
	ns.mustCtl("dest", "add", "tcp:10.99.0.1:80", "127.0.0.1:80", "--forward", "local")
	ns.connect(4)
	out := ns.ref("-Ln")
	if !regexp.MustCompile(`127\.0\.0\.1:80 +Local +1 +1 `).MatchString(out) {
		t.Fatalf("no active connection through IPVS:\n%s\n%s", out, ns.sh("cat /proc/net/ip_vs_conn"))
	}
	start := time.Now()
	r := ns.mustCtl("dest", "drain", "tcp:10.99.0.1:80", "127.0.0.1:80", "--interval", "200ms", "--timeout", "60s")
	took := time.Since(start)
	t.Logf("drain with one live connection took %v", took)
	if took < 2*time.Second {
		t.Errorf("drain did not wait for the connection (%v): %s", took, r)
	}
	if got := ns.ref("-Sn"); got != "-A -t 10.99.0.1:80 -s rr\n" {
		t.Errorf("after drain: %q", got)
	}
	// A connection that stays: drain gives up after --timeout and says so.
	ns.mustCtl("dest", "add", "tcp:10.99.0.1:80", "127.0.0.1:80", "--forward", "local")
	ns.connect(8)
	r = ns.ctl("dest", "drain", "tcp:10.99.0.1:80", "127.0.0.1:80", "--interval", "200ms", "--timeout", "2s", "--no-delete")
	if r.Code != 1 || !strings.Contains(r.Stderr, "1 active connection left after 2s") {
		t.Errorf("drain timeout: %s", r)
	}
	if got := ns.ref("-Sn"); got != "-A -t 10.99.0.1:80 -s rr\n-a -t 10.99.0.1:80 -r 127.0.0.1:80 -g -w 0\n" {
		t.Errorf("after drain --no-delete: %q", got)
	}

	// UDP: an entry is never active, it expires after the udp timeout;
	// drain waits for it instead of deleting the server at once.
	ns.mustCtl("timeout", "set", "--udp", "30")
	ns.mustCtl("service", "add", "udp:10.99.0.1:53", "-s", "rr")
	ns.mustCtl("dest", "add", "udp:10.99.0.1:53", "127.0.0.1:53", "--forward", "local")
	if err := netns.Do(ns.name, func() error {
		c, err := net.Dial("udp", "10.99.0.1:53")
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("hi"))
		return err
	}); err != nil {
		t.Fatalf("send a UDP datagram: %v", err)
	}
	if out := ns.ref("-Ln"); !regexp.MustCompile(`127\.0\.0\.1:53 +Local +1 +0 +1`).MatchString(out) {
		t.Fatalf("no UDP entry through IPVS:\n%s\n%s", out, ns.sh("cat /proc/net/ip_vs_conn"))
	}
	r = ns.ctl("dest", "drain", "udp:10.99.0.1:53", "127.0.0.1:53", "--interval", "200ms", "--timeout", "1s", "--no-delete")
	if r.Code != 1 || !strings.Contains(r.Stderr, "drain 127.0.0.1:53 of udp:10.99.0.1:53: 1 UDP entry left after 1s (udp timeout 30s)") {
		t.Errorf("UDP drain: %s", r)
	}
	if got := ns.ref("-Sn"); !strings.Contains(got, "-a -u 10.99.0.1:53 -r 127.0.0.1:53 -g -w 0\n") {
		t.Errorf("after the UDP drain timed out: %q", got)
	}
}

// TestVMConnSysctlDos: connection listing against ipvsadm -Lcn, sysctls
// and the DoS group against /proc/sys, all in a namespace of their own
// (--netns for netlink, /proc/net and sysctls alike).
func TestVMConnSysctlDos(t *testing.T) {
	vmtest.Require(t)
	vmtest.Reset(t)
	ns := newTrafficNS(t, "ctl-conn")
	ns.mustCtl("service", "add", "tcp:10.99.0.1:80", "-s", "rr")
	ns.mustCtl("dest", "add", "tcp:10.99.0.1:80", "127.0.0.1:80", "--forward", "local")
	ns.connect(6)
	ref := ns.ref("-Lcn")
	r := ns.mustCtl("conn", "list", "--vip", "10.99.0.1:80", "-o", "json")
	var c struct {
		Protocol, Client, Virtual, Destination, State string
	}
	if err := json.Unmarshal([]byte(strings.SplitN(r.Stdout, "\n", 2)[0]), &c); err != nil {
		t.Fatalf("%v\n%s", err, r.Stdout)
	}
	if c.Protocol != "TCP" || c.Virtual != "10.99.0.1:80" || c.Destination != "127.0.0.1:80" || c.State != "ESTABLISHED" ||
		!strings.Contains(ref, "ESTABLISHED") || !strings.Contains(ref, c.Client) {
		t.Errorf("conn list: %+v\nipvsadm -Lcn:\n%s", c, ref)
	}
	if n := strings.Count(ref, "\n") - 2; strings.Count(r.Stdout, "\n") != n {
		t.Errorf("conn list has %d entries, ipvsadm -Lcn %d:\n%s\n%s", strings.Count(r.Stdout, "\n"), n, r.Stdout, ref)
	}
	r = ns.mustCtl("conn", "summary", "-o", "json")
	if !strings.Contains(r.Stdout, `"ESTABLISHED": 1`) || !strings.Contains(r.Stdout, `"total": 1`) || !strings.Contains(r.Stdout, `"connTableSize": 4096`) {
		t.Errorf("conn summary: %s", r.Stdout)
	}
	if r := ns.mustCtl("conn", "list", "--state", "SYN_RECV"); strings.Count(r.Stdout, "\n") != 1 {
		t.Errorf("state filter: %s", r.Stdout)
	}
	// The root namespace's table does not show the namespace's entries.
	if r := mustCtl(t, "conn", "list", "--vip", "10.99.0.1:80"); strings.Count(r.Stdout, "\n") != 1 {
		t.Errorf("root namespace sees the connection:\n%s", r.Stdout)
	}

	const vs = "/proc/sys/net/ipv4/vs/"
	ns.mustCtl("sysctl", "set", "expire_nodest_conn=1", "sync_threshold=4 60")
	if got := ns.sh("cat " + vs + "expire_nodest_conn " + vs + "sync_threshold"); got != "1\n4\t60\n" {
		t.Errorf("sysctl set: %q", got)
	}
	if got := vmtest.MustShell(t, "cat "+vs+"expire_nodest_conn"); got != "0\n" {
		t.Errorf("the root namespace's sysctl changed: %q", got)
	}
	ns.sh("echo '3 50' > " + vs + "sync_threshold")
	if r := ns.ctl("sysctl", "set", "drop_entry=7"); r.Code != 1 || !strings.Contains(r.Stderr, "invalid value") {
		t.Errorf("invalid sysctl: %s", r)
	}
	if got := ns.mustCtl("sysctl", "get", "expire_nodest_conn").Stdout; got != "1\n" {
		t.Errorf("sysctl get: %q", got)
	}
	ns.mustCtl("dos", "preset", "auto")
	if got := ns.sh("cat " + vs + "drop_entry " + vs + "drop_packet " + vs + "secure_tcp"); got != "1\n1\n1\n" {
		t.Errorf("dos preset auto: %q", got)
	}
	t.Logf("dos:\n%s", ns.mustCtl("dos").Stdout)
	list := ns.mustCtl("sysctl", "list").Stdout
	if !regexp.MustCompile(`(?m)^expire_nodest_conn +1 \* +0 +rw`).MatchString(list) {
		t.Errorf("sysctl list:\n%s", list)
	}
	// save --sysctls | restore carries them.
	saved := ns.mustCtl("save", "--sysctls").Stdout
	if !strings.Contains(saved, "expire_nodest_conn: 1") || !strings.Contains(saved, "sync_threshold: 3 50") {
		t.Errorf("save --sysctls:\n%s", saved)
	}
	file := writeFile(t, "with-sysctls.yaml", saved)
	ns.sh("echo 0 > " + vs + "expire_nodest_conn")
	r = ns.mustCtl("restore", "-f", file, "-v")
	if got := ns.sh("cat " + vs + "expire_nodest_conn"); got != "1\n" || !strings.Contains(r.Stdout, "1 changed") {
		t.Errorf("restore of sysctls: %q %s", got, r)
	}
}

// TestVMStatsTop: the Prometheus textfile and top's rates from counter
// deltas against real traffic.
//
// On 6.1 the counters that netlink reports are summed from the per-CPU
// counters by the rate estimator every 2 s, so with run_estimation=0 they
// stop moving too (the test logs this); top warns about it.
func TestVMStatsTop(t *testing.T) {
	vmtest.Require(t)
	ns := newTrafficNS(t, "ctl-stats")
	ns.mustCtl("service", "add", "tcp:10.99.0.2:81", "-s", "rr")
	ns.mustCtl("dest", "add", "tcp:10.99.0.2:81", "127.0.0.1:81", "--forward", "local")
	// n short connections, one every 0.5 s from now on.
	traffic := func(n int) {
		ns.sh(fmt.Sprintf("( for i in $(seq %d); do (sleep 0.1) | busybox nc -l -p 81; done ) >/dev/null 2>&1 </dev/null & sleep 0.3; "+
			"( for i in $(seq %d); do (sleep 0.1) | busybox nc 10.99.0.2 81; sleep 0.4; done ) >/dev/null 2>&1 </dev/null &", n, n))
	}
	// top samples over 5 s, so the estimator has summed the counters in
	// between.
	traffic(8)
	r := ns.mustCtl("top", "--once", "-d", "5s", "-o", "json")
	var sample struct {
		Services []struct {
			Service string
			Rates   struct{ CPS, InPPS float64 }
		}
	}
	if err := json.Unmarshal([]byte(r.Stdout), &sample); err != nil || len(sample.Services) != 1 {
		t.Fatalf("top: %v\n%s", err, r.Stdout)
	}
	if s := sample.Services[0]; s.Service != "tcp:10.99.0.2:81" || s.Rates.CPS <= 0 || s.Rates.InPPS <= 0 {
		t.Errorf("top shows no rate from the counter deltas: %s", r.Stdout)
	}
	t.Logf("top --once -d 5s: %s", r.Stdout)
	time.Sleep(3 * time.Second)
	prom := filepath.Join(t.TempDir(), "ipvs.prom")
	ns.mustCtl("stats", "--textfile", prom)
	b, err := os.ReadFile(prom)
	if err != nil {
		t.Fatal(err)
	}
	stats := ns.ref("-Ln", "--stats", "--exact")
	m := regexp.MustCompile(`127\.0\.0\.1:81 +(\d+) +(\d+)`).FindStringSubmatch(stats)
	if m == nil {
		t.Fatalf("ipvsadm --stats:\n%s", stats)
	}
	want := fmt.Sprintf(`ipvs_destination_connections_total{service="tcp:10.99.0.2:81",family="inet",protocol="tcp",address="10.99.0.2",port="81",fwmark="",server="127.0.0.1:81",server_address="127.0.0.1",server_port="81",forward="local"} %s`, m[1])
	wantPkts := fmt.Sprintf(`server="127.0.0.1:81",server_address="127.0.0.1",server_port="81",forward="local",direction="in"} %s`, m[2])
	if !strings.Contains(string(b), want) || !strings.Contains(string(b), wantPkts) || m[1] == "0" {
		t.Errorf("textfile lacks\n%s\n%s\nipvsadm:\n%s\ntextfile:\n%s", want, wantPkts, stats, b)
	}

	// With run_estimation=0 the 6.1 counters freeze; top says why.
	ns.sh("echo 0 > /proc/sys/net/ipv4/vs/run_estimation")
	before := ns.ref("-Ln", "--stats", "--exact")
	traffic(3)
	time.Sleep(4 * time.Second)
	after := ns.ref("-Ln", "--stats", "--exact")
	t.Logf("counters with run_estimation=0 %s:\nbefore:\n%safter:\n%s",
		map[bool]string{true: "did not change", false: "changed"}[before == after], before, after)
	r = ns.mustCtl("top", "--once", "-d", "100ms")
	if !strings.Contains(r.Stderr, "run_estimation=0") {
		t.Errorf("top does not warn about run_estimation=0: %s", r)
	}
}

// TestVMKernelDifferences: where the pinned kernels differ, ipvsctl asks
// the running one and says what it lacks, before changing anything: the
// twos scheduler (6.12 only) in service add and apply; est_nice (6.2+)
// and run_estimation (not on 5.10) in sysctl list and get. dos works on
// all three.
//
//vmtest:kernels all
func TestVMKernelDifferences(t *testing.T) {
	vmtest.Require(t)
	vmtest.Reset(t)
	setupLo(t)
	k := vmtest.Kernel()
	hasTwos, hasEst, hasRunEst := k == "6.12", k == "6.12", k != "5.10"

	r := ctl(t, "service", "add", "tcp:10.0.0.1:80", "-s", "twos")
	if hasTwos != (r.Code == 0) {
		t.Errorf("kernel %s: service add -s twos: %s", k, r)
	}
	if !hasTwos && !strings.Contains(r.Stderr, "add service tcp:10.0.0.1:80: this kernel ("+ctlRelease(t)+") lacks the twos scheduler (no ip_vs_twos module)") {
		t.Errorf("service add -s twos: %s", r)
	}
	vmtest.Ref(t, "-C")

	doc := writeFile(t, "twos.yaml", `apiVersion: ipvsctl/v1
services:
  - {protocol: tcp, address: 10.0.0.2, port: 80, scheduler: rr, destinations: [{address: 192.168.0.1, forward: masq}]}
  - {protocol: tcp, address: 10.0.0.3, port: 80, scheduler: twos, destinations: [{address: 192.168.0.2, forward: masq}]}
`)
	r = ctl(t, "apply", "-f", doc)
	table := mustRef(t, "-Sn")
	if hasTwos {
		if r.Code != 0 || strings.Count(table, "\n") != 4 {
			t.Errorf("apply on %s: %s\ntable:\n%s", k, r, table)
		}
	} else if r.Code != 1 || !strings.Contains(r.Stderr, "lacks the twos scheduler") || !strings.Contains(r.Stderr, "nothing was applied") || table != "" {
		t.Errorf("apply on %s: %s\ntable:\n%s", k, r, table)
	}

	list := mustCtl(t, "sysctl", "list").Stdout
	if strings.Contains(list, "est_nice") != hasEst || strings.Contains(list, "run_estimation") != hasRunEst {
		t.Errorf("kernel %s: sysctl list:\n%s", k, list)
	}
	r = ctl(t, "sysctl", "get", "est_nice")
	if hasEst {
		if r.Code != 0 || strings.TrimSpace(r.Stdout) != "0" {
			t.Errorf("sysctl get est_nice: %s", r)
		}
	} else if r.Code == 0 || !strings.Contains(r.Stderr, "est_nice") || !strings.Contains(r.Stderr, "this kernel has no such sysctl (Linux 6.2 and later)") {
		t.Errorf("sysctl get est_nice on %s: %s", k, r)
	}
	dos := mustCtl(t, "dos").Stdout
	for _, name := range ipvssysctl.DefenseNames {
		if !strings.Contains(dos, name) {
			t.Errorf("dos lacks %s:\n%s", name, dos)
		}
	}
}

// ctlRelease is the guest kernel's release, as uname -r prints it.
func ctlRelease(t *testing.T) string {
	t.Helper()
	return strings.TrimSpace(vmtest.MustShell(t, "uname -r"))
}
