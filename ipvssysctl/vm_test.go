package ipvssysctl

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
)

// snapshot saves every writable sysctl of s and restores them when the
// test ends.
func snapshot(t *testing.T, s *Sysctls) map[string]string {
	t.Helper()
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	saved := map[string]string{}
	for _, sc := range list {
		if sc.Writable && sc.Err == nil {
			saved[sc.Name] = sc.Value
		}
	}
	t.Cleanup(func() {
		for _, n := range []string{"drop_entry", "drop_packet", "secure_tcp"} {
			s.SetRaw(n, "0") // before amemthresh, so nothing flips meanwhile
		}
		for n, v := range saved {
			if err := s.SetRaw(n, strings.ReplaceAll(v, "\t", " ")); err != nil {
				t.Errorf("restoring %s: %v", n, err)
			}
		}
	})
	return saved
}

// TestVMSysctls sets and reads back the DoS-defense sysctls and others in
// the real kernel, checks that out-of-range values are refused (by the
// package's validation, and by the kernel when validation is bypassed)
// and leave the value unchanged, and that discovery finds exactly the
// 6.1 set.
func TestVMSysctls(t *testing.T) {
	vmtest.Require(t)
	s := New()
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sc := range list {
		names = append(names, sc.Name)
		if !sc.Known {
			t.Errorf("%s is not known to the package", sc.Name)
		}
		if !sc.Writable || sc.Err != nil {
			t.Errorf("%s: writable %v, err %v", sc.Name, sc.Writable, sc.Err)
		}
	}
	t.Logf("%d sysctls: %s", len(list), strings.Join(names, " "))
	if len(list) < 27 {
		t.Fatalf("only %d sysctls found", len(list))
	}
	snapshot(t, s)

	// The DoS-defense group.
	for _, c := range []struct {
		name  string
		value int64
	}{
		{"amemthresh", 2048}, {"am_droprate", 25},
		{"drop_entry", 3}, {"drop_packet", 3}, {"secure_tcp", 3},
		{"drop_entry", 0}, {"drop_packet", 0}, {"secure_tcp", 0},
		{"amemthresh", 1024}, {"am_droprate", 10},
	} {
		if err := s.SetInt(c.name, c.value); err != nil {
			t.Fatalf("SetInt(%s, %d): %v", c.name, c.value, err)
		}
		if got, err := s.GetInt(c.name); err != nil || got != c.value {
			t.Fatalf("%s reads back %d, %v; want %d", c.name, got, err, c.value)
		}
	}
	// Mode 1 is "automatic": while memory is plentiful it reads back as
	// 1 (the kernel would turn it into 2 under memory pressure).
	for _, n := range []string{"drop_entry", "drop_packet", "secure_tcp"} {
		if err := s.SetDefenseMode(n, DefenseAutoIdle); err != nil {
			t.Fatal(err)
		}
		if m, err := s.GetInt(n); err != nil || (m != 1 && m != 2) {
			t.Fatalf("%s after writing 1: %d, %v", n, m, err)
		}
		s.SetDefenseMode(n, DefenseOff)
	}
	d, err := s.Defense()
	if err != nil {
		t.Fatal(err)
	}
	if d != (Defense{AMemThresh: 1024, AMDropRate: 10}) {
		t.Fatalf("Defense() = %+v", d)
	}

	// Out of range: refused by Validate, and by the kernel when written
	// raw; the value stays.
	for _, c := range []struct{ name, value string }{
		{"drop_entry", "4"}, {"drop_packet", "-1"}, {"secure_tcp", "7"},
		{"sync_version", "2"}, {"sync_ports", "3"}, {"sync_threshold", "100 10"},
		{"sync_threshold", "-1 10"}, {"sync_retries", "4"},
	} {
		before, err := s.Get(c.name)
		if err != nil {
			t.Fatal(err)
		}
		err = s.Set(c.name, c.value)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("Set(%s, %q) = %v, want ErrInvalid naming the sysctl", c.name, c.value, err)
		}
		err = s.SetRaw(c.name, c.value)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("the kernel took %s=%q: %v", c.name, c.value, err)
		} else {
			t.Logf("kernel: %v", err)
		}
		if after, _ := s.Get(c.name); after != before {
			t.Errorf("%s changed from %q to %q", c.name, before, after)
		}
	}

	// Other sysctls.
	if err := s.SetSyncThreshold(10, 100); err != nil {
		t.Fatal(err)
	}
	if th, p, err := s.SyncThreshold(); err != nil || th != 10 || p != 100 {
		t.Fatalf("SyncThreshold() = %d %d %v", th, p, err)
	}
	if v, _ := s.Get("sync_threshold"); v != "10\t100" {
		t.Fatalf("sync_threshold file %q", v)
	}
	for _, c := range []struct {
		name string
		v    int64
	}{{"sync_ports", 4}, {"sync_version", 0}, {"conn_reuse_mode", 2}, {"sloppy_tcp", 1},
		{"expire_nodest_conn", 1}, {"sync_refresh_period", 30}, {"sync_retries", 3}, {"lblc_expiration", 60}} {
		if err := s.SetInt(c.name, c.v); err != nil {
			t.Fatalf("SetInt(%s, %d): %v", c.name, c.v, err)
		}
		if got, err := s.GetInt(c.name); err != nil || got != c.v {
			t.Fatalf("%s = %d, %v; want %d", c.name, got, err, c.v)
		}
	}
	if _, err := s.Get("est_cpulist"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("est_cpulist on 6.1: %v, want os.ErrNotExist", err)
	}
}

// TestVMSysctlsNetns sets sysctls in another namespace and checks that the
// root namespace keeps its values, that the kernel itself flips an
// automatic defense mode from 1 to 2 under "low memory" (an amemthresh
// above the machine's memory) and back, and that a namespace owned by a
// non-init user namespace has no IPVS sysctls at all on 6.1.
func TestVMSysctlsNetns(t *testing.T) {
	vmtest.Require(t)
	root := New()
	rootDefense, err := root.Defense()
	if err != nil {
		t.Fatal(err)
	}
	vmtest.Run(t, vmtest.IPFull, "ip", "", "netns", "delete", "sy")
	vmtest.MustShell(t, vmtest.IPFull+" netns add sy")
	t.Cleanup(func() { vmtest.Run(t, vmtest.IPFull, "ip", "", "netns", "delete", "sy") })
	s := New(WithNetNS("sy"))
	d, err := s.Defense()
	if err != nil {
		t.Fatal(err)
	}
	if d != (Defense{AMemThresh: 1024, AMDropRate: 10}) {
		t.Fatalf("a new namespace's defense sysctls: %+v, want the defaults", d)
	}
	if err := s.SetDefense(Defense{AMemThresh: 4096, AMDropRate: 5, DropEntry: DefenseAlways, DropPacket: DefenseOff, SecureTCP: DefenseAlways}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSyncThreshold(1, 2); err != nil {
		t.Fatal(err)
	}
	out := vmtest.MustShell(t, vmtest.IPFull+" netns exec sy sh -c 'cat /proc/sys/net/ipv4/vs/drop_entry /proc/sys/net/ipv4/vs/amemthresh /proc/sys/net/ipv4/vs/sync_threshold'")
	if out != "3\n4096\n1\t2\n" {
		t.Fatalf("the namespace's files say %q", out)
	}
	if got, _ := root.Defense(); got != rootDefense {
		t.Fatalf("root namespace changed: %+v -> %+v", rootDefense, got)
	}
	if th, p, _ := root.SyncThreshold(); th == 1 && p == 2 {
		t.Fatal("root sync_threshold changed")
	}

	// The kernel's own 1 <-> 2 flipping: with amemthresh above all memory
	// the automatic mode turns on (2), with a small one it turns off (1).
	if err := s.SetDefense(Defense{AMemThresh: 1 << 30, AMDropRate: 10, DropEntry: DefenseAutoIdle, DropPacket: DefenseAutoIdle, SecureTCP: DefenseAutoIdle}); err != nil {
		t.Fatal(err)
	}
	waitMode := func(want DefenseMode) Defense {
		deadline := time.Now().Add(10 * time.Second)
		for {
			d, err := s.Defense()
			if err != nil {
				t.Fatal(err)
			}
			if d.DropEntry == want && d.DropPacket == want && d.SecureTCP == want {
				return d
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 10 s the modes are %+v, want all %v", d, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	d = waitMode(DefenseAutoActive)
	t.Logf("low memory: %+v (%v)", d, d.DropEntry)
	if err := s.SetInt("amemthresh", 1); err != nil {
		t.Fatal(err)
	}
	d = waitMode(DefenseAutoIdle)
	t.Logf("memory recovered: %+v (%v)", d, d.DropEntry)
	s.SetDefense(Defense{AMemThresh: 1024, AMDropRate: 10})

	// A network namespace of a non-init user namespace: no IPVS sysctls
	// in 6.1.
	cmd := exec.Command("/bin/busybox", "unshare", "-U", "-r", "-n", "/bin/busybox", "sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	nsPath := fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid)
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, _ := os.Readlink(nsPath)
		b, _ := os.Readlink("/proc/self/ns/net")
		if a != "" && a != b {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("unshare did not create a namespace")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// 6.1 registers an empty table there: the directory exists, empty.
	u := New(WithNetNS(nsPath))
	ul, err := u.List()
	if err != nil || len(ul) != 0 {
		t.Fatalf("List in a user-namespace-owned netns: %v, %v; want none", ul, err)
	}
	if _, err := u.Get("drop_entry"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Get in a user-namespace-owned netns: %v, want os.ErrNotExist", err)
	}
	if err := u.Set("drop_entry", "1"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Set in a user-namespace-owned netns: %v, want os.ErrNotExist", err)
	}
}
