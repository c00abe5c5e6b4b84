package lvslab

import (
	"encoding/binary"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A comm with a space and a parenthesis, as keepalived's children
	// do not have but a test must survive.
	line := "138 (keep alived) ) S 136 0 0 0 -1 4194560 1092 0 0 0 17 42 0 0 20 0 1 0 561 0 0\n"
	st, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if st.comm != "keep alived) " || st.state != 'S' || st.ppid != 136 || st.utime != 17 || st.stime != 42 {
		t.Errorf("parseStat = %+v", st)
	}
	for _, bad := range []string{"", "1 comm S 0", "1 (x) S 0 1 2", "1 (x) S p 0 0 0 0 0 0 0 0 0 1 1"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q): no error", bad)
		}
	}
}

func TestParseVmRSS(t *testing.T) {
	rss, err := parseVmRSS([]byte("Name:\tkeepalived\nVmHWM:\t   10000 kB\nVmRSS:\t    9944 kB\nRssAnon:\t 1 kB\n"))
	if err != nil || rss != 9944<<10 {
		t.Errorf("parseVmRSS = %d, %v", rss, err)
	}
	if rss, err := parseVmRSS([]byte("Name:\tzombie\nState:\tZ (zombie)\n")); err != nil || rss != 0 {
		t.Errorf("zombie: %d, %v", rss, err)
	}
	if _, err := parseVmRSS([]byte("VmRSS:\t12 MB\n")); err == nil {
		t.Error("VmRSS in MB: no error")
	}
}

func TestAuxvValue(t *testing.T) {
	var b []byte
	for _, kv := range [][2]uint64{{6, 4096}, {atClkTck, 250}, {0, 0}, {atClkTck, 1}} {
		b = binary.LittleEndian.AppendUint64(b, kv[0])
		b = binary.LittleEndian.AppendUint64(b, kv[1])
	}
	if v := auxvValue(b, atClkTck); v != 250 {
		t.Errorf("auxvValue = %d", v)
	}
	if v := auxvValue(b[:16], atClkTck); v != 0 {
		t.Errorf("missing key: %d", v)
	}
	if hz := ClockTicks(); hz != 100 {
		t.Logf("clock ticks %d (not the usual 100)", hz)
	}
	if d := TicksDuration(ClockTicks() * 3); d != 3*time.Second {
		t.Errorf("TicksDuration = %v", d)
	}
}

// TestTreeUsage reads this process and a sleeping child on the host.
func TestTreeUsage(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	self := os.Getpid()
	kids, err := Children(self)
	if err != nil || !slices.Contains(kids, cmd.Process.Pid) {
		t.Fatalf("Children = %v, %v; want %d among them", kids, err, cmd.Process.Pid)
	}
	us, err := TreeUsage(self)
	if err != nil {
		t.Fatal(err)
	}
	if us[0].PID != self || us[0].RSS <= 0 || !slices.ContainsFunc(us, func(u Usage) bool { return u.PID == cmd.Process.Pid }) {
		t.Fatalf("TreeUsage = %v", us)
	}
	s := Sum(us)
	if s.PID != self || s.RSS < us[0].RSS || s.Ticks() < us[0].Ticks() {
		t.Errorf("Sum = %v", s)
	}
}

func TestParseMaps(t *testing.T) {
	maps := `55f0c5a00000-55f0c5a1d000 r--p 00000000 00:02 123   /usr/sbin/keepalived
7f1c2a000000-7f1c2a022000 r--p 00000000 00:02 456   /lib/x86_64-linux-gnu/libc.so.6
7f1c2a022000-7f1c2a197000 r-xp 00022000 00:02 456   /lib/x86_64-linux-gnu/libc.so.6
7f1c2a1a0000-7f1c2a1a1000 rw-p 00000000 00:00 0 
7ffd1c9e0000-7ffd1ca01000 rw-p 00000000 00:00 0     [stack]
7f1c2a200000-7f1c2a201000 r--p 00000000 00:02 789   /tmp/a file (deleted)
`
	got := parseMaps(maps)
	want := []string{"/lib/x86_64-linux-gnu/libc.so.6", "/tmp/a file (deleted)", "/usr/sbin/keepalived"}
	if !slices.Equal(got, want) {
		t.Errorf("parseMaps = %q, want %q", got, want)
	}
	if files, err := MappedFiles(os.Getpid()); err != nil || len(files) == 0 {
		t.Errorf("MappedFiles(self) = %v, %v", files, err)
	}
}
