package ipvssysctl

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTree writes a directory that stands in for /proc/sys/net/ipv4/vs,
// with the 6.1 defaults, one read-only entry and one unknown one.
func fakeTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"amemthresh": "1024", "am_droprate": "10", "drop_entry": "2", "drop_packet": "0",
		"secure_tcp": "0", "sync_threshold": "3\t50", "sync_ports": "1", "sync_version": "1",
		"conn_reuse_mode": "1", "sloppy_tcp": "0", "sync_qlen_max": "15193",
		"future_knob": "abc", // unknown to the package
	}
	for n, v := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// read-only, as some are in non-init user namespaces
	if err := os.WriteFile(filepath.Join(dir, "run_estimation"), []byte("1\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	return dir
}

func read(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestList(t *testing.T) {
	dir := fakeTree(t)
	s := New(WithDir(dir))
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 13 {
		t.Fatalf("%d sysctls, want 13", len(list))
	}
	by := map[string]Sysctl{}
	for i, sc := range list {
		if i > 0 && list[i-1].Name >= sc.Name {
			t.Fatalf("not sorted: %s before %s", list[i-1].Name, sc.Name)
		}
		by[sc.Name] = sc
	}
	if sc := by["sync_threshold"]; sc.Value != "3\t50" || !sc.Known || sc.Info.Kind != KindIntPair || !sc.Writable {
		t.Errorf("sync_threshold = %+v", sc)
	}
	if sc := by["future_knob"]; sc.Known || sc.Value != "abc" {
		t.Errorf("unknown sysctl = %+v", sc)
	}
	if sc := by["run_estimation"]; sc.Writable || sc.Value != "1" {
		t.Errorf("read-only sysctl = %+v", sc)
	}
	if sc := by["drop_entry"]; !sc.Info.Defense || sc.Info.Description == "" {
		t.Errorf("drop_entry info = %+v", sc.Info)
	}
	_, err = New(WithDir(filepath.Join(dir, "missing"))).List()
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing directory: %v, want os.ErrNotExist", err)
	}
}

func TestGetSet(t *testing.T) {
	dir := fakeTree(t)
	s := New(WithDir(dir))
	if v, err := s.GetInt("amemthresh"); err != nil || v != 1024 {
		t.Fatalf("GetInt(amemthresh) = %d, %v", v, err)
	}
	if err := s.SetInt("amemthresh", 2048); err != nil {
		t.Fatal(err)
	}
	if got := read(t, dir, "amemthresh"); got != "2048\n" {
		t.Fatalf("file holds %q", got)
	}
	// Unknown sysctls take raw strings.
	if err := s.Set("future_knob", "x y z"); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get("future_knob"); v != "x y z" {
		t.Fatalf("future_knob = %q", v)
	}
	// Absent.
	_, err := s.Get("lblc_expiration")
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Get(absent) = %v, want os.ErrNotExist", err)
	}
	if err := s.Set("lblc_expiration", "60"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Set(absent) = %v, want os.ErrNotExist", err)
	}
	// The message says the kernel lacks it, and since when the known
	// ones exist; without the directory, that IPVS is not loaded.
	for _, c := range []struct {
		s    *Sysctls
		name string
		want string
	}{
		{s, "est_nice", "ipvs sysctl est_nice: get: this kernel has no such sysctl (Linux 6.2 and later)"},
		{s, "no_such_knob", "ipvs sysctl no_such_knob: get: this kernel has no such sysctl"},
		{New(WithDir(filepath.Join(dir, "missing"))), "amemthresh", "ipvs sysctl amemthresh: get: there are no IPVS sysctls here (" +
			filepath.Join(dir, "missing") + "): the ip_vs module is not loaded, or not visible in this namespace"},
	} {
		_, err := c.s.Get(c.name)
		if err == nil || err.Error() != c.want || !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Get(%s) = %v, want %q", c.name, err, c.want)
		}
	}
	if err := s.Set("est_cpulist", "0"); err == nil || err.Error() != `ipvs sysctl est_cpulist: set "0": this kernel has no such sysctl (Linux 6.2 and later)` {
		t.Errorf("Set(est_cpulist) = %v", err)
	}
	// Read-only: refused without writing, even for root.
	err = s.Set("run_estimation", "0")
	if !errors.Is(err, os.ErrPermission) {
		t.Fatalf("Set(read-only) = %v, want os.ErrPermission", err)
	}
	if got := read(t, dir, "run_estimation"); got != "1\n" {
		t.Fatalf("read-only file changed to %q", got)
	}
	var e *Error
	if !errors.As(err, &e) || e.Name != "run_estimation" || e.Op != "set" {
		t.Fatalf("error %#v", err)
	}
	if !strings.Contains(err.Error(), "run_estimation") {
		t.Fatalf("message %q does not name the sysctl", err)
	}
	// Bad names never escape the directory.
	for _, n := range []string{"", "..", "../x", "a/b", "x\x00"} {
		if _, err := s.Get(n); !errors.Is(err, ErrInvalid) {
			t.Errorf("Get(%q) = %v, want ErrInvalid", n, err)
		}
	}
	// GetInt of a non-number.
	if _, err := s.GetInt("future_knob"); !errors.Is(err, ErrInvalid) {
		t.Errorf("GetInt(text) = %v", err)
	}
}

func TestOutOfRangeLeavesValue(t *testing.T) {
	dir := fakeTree(t)
	s := New(WithDir(dir))
	cases := []struct{ name, value, why string }{
		{"drop_entry", "4", "defense mode"},
		{"drop_packet", "-1", "defense mode"},
		{"secure_tcp", "on", "integer"},
		{"sync_version", "2", "0..1"},
		{"sync_ports", "3", "power of two"},
		{"sync_ports", "0", "power of two"},
		{"sync_threshold", "50 50", "below period"},
		{"sync_threshold", "60 50", "below period"},
		{"sync_threshold", "-1 0", "0.."},
		{"sync_threshold", "3", "two integers"},
		{"conn_reuse_mode", "4", "bits"},
		{"sloppy_tcp", "2", "0 (off) or 1"},
		{"amemthresh", "-5", "0..2147483647 pages"},
		{"amemthresh", "99999999999", "0..2147483647"},
		{"sync_qlen_max", "x", "integer"},
		{"am_droprate", "1\n2", "newline"},
	}
	for _, c := range cases {
		before := read(t, dir, c.name)
		err := s.Set(c.name, c.value)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Set(%s, %q) = %v, want ErrInvalid", c.name, c.value, err)
			continue
		}
		if !strings.Contains(err.Error(), c.name) || !strings.Contains(err.Error(), c.why) {
			t.Errorf("Set(%s, %q): message %q lacks %q", c.name, c.value, err, c.why)
		}
		if after := read(t, dir, c.name); after != before {
			t.Errorf("Set(%s, %q) changed the file from %q to %q", c.name, c.value, before, after)
		}
	}
	// Valid edge values pass.
	for _, c := range []struct{ name, value string }{
		{"sync_threshold", "0 0"}, {"sync_threshold", "5 0"}, {"sync_threshold", "49 50"},
		{"sync_ports", "64"}, {"conn_reuse_mode", "3"}, {"conn_reuse_mode", "0"},
		{"drop_entry", "3"}, {"drop_entry", "2"}, {"amemthresh", "0"},
	} {
		if err := s.Set(c.name, c.value); err != nil {
			t.Errorf("Set(%s, %q) = %v", c.name, c.value, err)
		}
	}
}

func TestSyncThreshold(t *testing.T) {
	dir := fakeTree(t)
	s := New(WithDir(dir))
	th, p, err := s.SyncThreshold()
	if err != nil || th != 3 || p != 50 {
		t.Fatalf("SyncThreshold() = %d, %d, %v", th, p, err)
	}
	if err := s.SetSyncThreshold(10, 100); err != nil {
		t.Fatal(err)
	}
	if got := read(t, dir, "sync_threshold"); got != "10 100\n" {
		t.Fatalf("file %q", got)
	}
	if err := s.SetSyncThreshold(100, 10); !errors.Is(err, ErrInvalid) {
		t.Fatalf("SetSyncThreshold(100, 10) = %v", err)
	}
}

func TestDefense(t *testing.T) {
	dir := fakeTree(t)
	s := New(WithDir(dir))
	d, err := s.Defense()
	if err != nil {
		t.Fatal(err)
	}
	// drop_entry reads 2: the automatic mode while memory is low.
	want := Defense{AMemThresh: 1024, AMDropRate: 10, DropEntry: DefenseAutoActive}
	if d != want {
		t.Fatalf("Defense() = %+v, want %+v", d, want)
	}
	if !d.DropEntry.Auto() || !d.DropEntry.Active() || d.DropPacket.Active() || d.DropEntry.String() != "auto (active)" {
		t.Fatal("DefenseMode methods")
	}
	d = Defense{AMemThresh: 4096, AMDropRate: 20, DropEntry: DefenseAutoIdle, DropPacket: DefenseAlways, SecureTCP: DefenseOff}
	if err := s.SetDefense(d); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Defense(); got != d {
		t.Fatalf("after SetDefense: %+v", got)
	}
	// One bad value: nothing is written.
	bad := Defense{AMemThresh: 1, AMDropRate: 1, DropEntry: 0, DropPacket: 0, SecureTCP: 7}
	if err := s.SetDefense(bad); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "secure_tcp") {
		t.Fatalf("SetDefense(bad) = %v", err)
	}
	if got, _ := s.Defense(); got != d {
		t.Fatalf("a rejected SetDefense changed the values: %+v", got)
	}
	if err := s.SetDefenseMode("amemthresh", 1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("SetDefenseMode(amemthresh) = %v", err)
	}
	if err := s.SetDefenseMode("secure_tcp", DefenseAlways); err != nil {
		t.Fatal(err)
	}
	// A value outside 0..3 in the file is reported, not mapped.
	os.WriteFile(filepath.Join(dir, "drop_packet"), []byte("9\n"), 0o644)
	if _, err := s.Defense(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Defense() with drop_packet 9 = %v", err)
	}
}

func TestValidateCPUList(t *testing.T) {
	for v, ok := range map[string]bool{
		"": true, "0": true, "0-3": true, "0-3,8": true, "0-15:2/4": true, "1,2,3": true,
		"a": false, "3-1": false, "0-": false, ",": false, "0:1/2": false, "0-7:0/2": false, "0-7:3/2": false,
	} {
		err := Validate("est_cpulist", v)
		if (err == nil) != ok {
			t.Errorf("Validate(est_cpulist, %q) = %v, want ok=%v", v, err, ok)
		}
	}
}

func TestKnown(t *testing.T) {
	k := Known()
	seen := map[string]bool{}
	for i, info := range k {
		if info.Description == "" {
			t.Errorf("%s has no description", info.Name)
		}
		if seen[info.Name] {
			t.Errorf("%s twice", info.Name)
		}
		seen[info.Name] = true
		if i > 0 && k[i-1].Name > info.Name {
			t.Error("Known() not sorted")
		}
		if info.Default != "" && info.Kind != KindString {
			if err := Validate(info.Name, info.Default); err != nil {
				t.Errorf("default of %s fails validation: %v", info.Name, err)
			}
		}
	}
	// Every sysctl of the 6.1 VM is known.
	for _, n := range strings.Fields(`am_droprate amemthresh backup_only cache_bypass conn_reuse_mode
		conntrack drop_entry drop_packet expire_nodest_conn expire_quiescent_template ignore_tunneled
		nat_icmp_send pmtu_disc run_estimation schedule_icmp secure_tcp sloppy_sctp sloppy_tcp
		snat_reroute sync_persist_mode sync_ports sync_qlen_max sync_refresh_period sync_retries
		sync_sock_size sync_threshold sync_version lblc_expiration lblcr_expiration`) {
		if !seen[n] {
			t.Errorf("%s unknown", n)
		}
	}
	n := 0
	for _, info := range k {
		if info.Defense {
			n++
		}
	}
	if n != len(DefenseNames) {
		t.Errorf("%d defense sysctls, want %d", n, len(DefenseNames))
	}
}

// TestDefenseModeString pins the names of the defence modes.
func TestDefenseModeString(t *testing.T) {
	for m, want := range map[DefenseMode]string{
		DefenseOff: "off", DefenseAutoIdle: "auto (idle)", DefenseAutoActive: "auto (active)", DefenseAlways: "always",
		4: "mode(4)", -1: "mode(-1)",
	} {
		if got := m.String(); got != want {
			t.Errorf("DefenseMode(%d).String() = %q, want %q", int(m), got, want)
		}
	}
}
