package ipvsproc

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
	"github.com/ipvs-tools/ipvs/netns"
)

// Helpers for the TestVM* tests, which run inside the QEMU guest (see
// internal/vm): network namespaces joined by veth pairs, processes inside
// them, and the reference ipvsadm run in a namespace.

const ipFull = vmtest.IPFull

// sh runs a shell script (set -e) and fails the test if it fails.
func sh(t testing.TB, script string) string {
	t.Helper()
	return vmtest.MustShell(t, "set -e\n"+script)
}

// addNetns creates the namespace name with lo up and deletes it when the
// test ends.
func addNetns(t testing.TB, name string) {
	t.Helper()
	vmtest.Run(t, ipFull, "ip", "", "netns", "delete", name)
	sh(t, fmt.Sprintf("%[1]s netns add %[2]s\n%[1]s -n %[2]s link set lo up", ipFull, name))
	t.Cleanup(func() { vmtest.Run(t, ipFull, "ip", "", "netns", "delete", name) })
}

// link joins namespace a (the root namespace if "") and namespace b with a
// veth pair ifA/ifB and gives them the addresses (CIDR form, "" for none).
func link(t testing.TB, a, ifA, addrsA, b, ifB, addrsB string) {
	t.Helper()
	in := func(ns string) string {
		if ns == "" {
			return ipFull
		}
		return ipFull + " -n " + ns
	}
	s := fmt.Sprintf("%s link add %s type veth peer name %s\n", in(a), ifA, ifB)
	s += fmt.Sprintf("%s link set %s netns %s\n", in(a), ifB, b)
	for _, x := range []struct{ ns, ifc, addrs string }{{a, ifA, addrsA}, {b, ifB, addrsB}} {
		for _, ad := range strings.Fields(x.addrs) {
			nodad := ""
			if strings.Contains(ad, ":") {
				nodad = " nodad"
			}
			s += fmt.Sprintf("%s addr add %s dev %s%s\n", in(x.ns), ad, x.ifc, nodad)
		}
		s += fmt.Sprintf("%s link set %s up\n", in(x.ns), x.ifc)
	}
	sh(t, s)
}

// inNetns returns a command that runs argv in namespace ns (directly if
// ns is "").
func inNetns(ns string, argv ...string) *exec.Cmd {
	if ns == "" {
		return exec.Command(argv[0], argv[1:]...)
	}
	return exec.Command(ipFull, append([]string{"netns", "exec", ns}, argv...)...)
}

// startIn starts argv in namespace ns in the background and kills it when
// the test ends.
func startIn(t *testing.T, ns string, argv ...string) {
	t.Helper()
	cmd := inNetns(ns, argv...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %q in %s: %v", argv, ns, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
}

// httpd serves a page saying name on port 80 of namespace ns.
func httpd(t *testing.T, ns, name string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/index.html", []byte(name+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	startIn(t, ns, "/bin/busybox", "httpd", "-f", "-p", "80", "-h", dir)
}

// waitListening waits until something accepts TCP connections on addr
// inside ns.
func waitListening(t *testing.T, ns, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		// (busybox 1.35's wget -T crashes; timeout bounds it instead)
		out, _ := inNetns(ns, "/bin/busybox", "timeout", "3", "/bin/busybox", "wget", "-q", "-O", "-", "http://"+addr+"/").CombinedOutput()
		if len(out) > 0 && !strings.Contains(string(out), "refused") && !strings.Contains(string(out), "Segmentation") {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s in %s", addr, ns)
}

// wget fetches url from namespace ns and returns the body.
func wget(t *testing.T, ns, url string) string {
	t.Helper()
	out, err := inNetns(ns, "/bin/busybox", "timeout", "10", "/bin/busybox", "wget", "-q", "-O", "-", url).CombinedOutput()
	if err != nil {
		t.Fatalf("wget %s in %s: %v\n%s", url, ns, err, out)
	}
	return strings.TrimSpace(string(out))
}

// ref runs the reference ipvsadm in namespace ns ("" for the root one).
func ref(t testing.TB, ns string, args ...string) vmtest.Result {
	t.Helper()
	if ns == "" {
		return vmtest.Ref(t, args...)
	}
	return vmtest.Run(t, ipFull, "ip", "", append([]string{"netns", "exec", ns, vmtest.RefPath}, args...)...)
}

// mustRef is ref that fails the test unless ipvsadm exits 0.
func mustRef(t testing.TB, ns string, args ...string) string {
	t.Helper()
	r := ref(t, ns, args...)
	if r.Code != 0 {
		t.Fatalf("ipvsadm %s (netns %q): %s", strings.Join(args, " "), ns, r)
	}
	return r.Stdout
}

// compareConnsWithRef reads the connection table of ns with the parser and
// with "ipvsadm -Lcn" and compares the two sets of rows (without the
// expiry, which moves between the reads). Entries can change state
// between the two reads, so it tries a few times before failing.
func compareConnsWithRef(t *testing.T, ns string) []Conn {
	t.Helper()
	var conns []Conn
	retryCompare(t, 500*time.Millisecond, fmt.Sprintf("netns %q: the parser and ipvsadm -Lcn disagree", ns), func() string {
		var err error
		if conns, err = AllConns(nsOptions(ns)...); err != nil {
			t.Fatal(err)
		}
		want, err := lcnRowsFromOutput(mustRef(t, ns, "-Lcn"), false)
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(want)
		return diffRows(sortedRows(conns, false), want)
	})
	return conns
}

// retryCompare calls compare, which reads a table two ways and describes
// how they differ, until it finds no difference: entries change between
// the two reads, so it tries four times, pausing between attempts, before
// it fails the test with msg and the last difference.
func retryCompare(t *testing.T, pause time.Duration, msg string, compare func() (diff string)) {
	t.Helper()
	var diff string
	for attempt := 0; attempt < 4; attempt++ {
		if diff = compare(); diff == "" {
			return
		}
		time.Sleep(pause)
	}
	t.Fatalf("%s:\n%s", msg, diff)
}

// nsOptions returns the options that read the files of namespace ns (none
// for "", the test's own).
func nsOptions(ns string) []Option {
	if ns == "" {
		return nil
	}
	return []Option{WithNetNS(ns)}
}

// newClient opens a netlinkipvs client, in namespace ns if not "".
func newClient(t *testing.T, ns string) *netlinkipvs.Client {
	t.Helper()
	var opts []netlinkipvs.Option
	if ns != "" {
		opts = append(opts, netlinkipvs.WithNetNS(ns))
	}
	c, err := netlinkipvs.New(opts...)
	if err != nil {
		t.Fatalf("netlinkipvs.New (netns %q): %v", ns, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// refStats parses "ipvsadm -Ln --stats --exact" into counters keyed by
// "SERVICE" and "SERVICE -> DEST" (SERVICE as ipvsadm prints it, e.g.
// "TCP 10.0.0.1:80" or "FWM 7").
func refStats(t *testing.T, out string) map[string][5]uint64 {
	t.Helper()
	m := map[string][5]uint64{}
	svc := ""
	for _, l := range strings.Split(out, "\n")[3:] {
		f := strings.Fields(l)
		if len(f) < 6 {
			continue
		}
		var nums [5]uint64
		for i := range nums {
			v, err := strconv.ParseUint(f[len(f)-5+i], 10, 64)
			if err != nil {
				t.Fatalf("ipvsadm --stats line %q: %v", l, err)
			}
			nums[i] = v
		}
		key := strings.Join(f[:len(f)-5], " ")
		if f[0] == "->" {
			key = svc + " " + key
		} else {
			svc = key
		}
		m[key] = nums
	}
	return m
}

// statsKey formats a netlink service key as ipvsadm -n prints it.
func statsKey(s ipvs.Service) string {
	if s.FWMark != 0 {
		if s.Family == ipvs.AFInet6 {
			return fmt.Sprintf("FWM %d IPv6", s.FWMark)
		}
		return fmt.Sprintf("FWM %d", s.FWMark)
	}
	return fmt.Sprintf("%s %s", s.Protocol, netip.AddrPortFrom(s.Address, s.Port))
}

func statNums(s ipvs.Stats) [5]uint64 {
	return [5]uint64{s.Conns, s.InPkts, s.OutPkts, s.InBytes, s.OutBytes}
}

// threadsOutside returns the threads of this process whose network
// namespace differs from the root one (by inode).
func threadsOutside(t *testing.T, root uint64) []string {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, task := range tasks {
		ino, err := netns.ID("/proc/self/task/" + task.Name() + "/ns/net")
		if err != nil {
			continue // the thread ended
		}
		if ino != root {
			out = append(out, fmt.Sprintf("tid %s in netns %d", task.Name(), ino))
		}
	}
	return out
}
