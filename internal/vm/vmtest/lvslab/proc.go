package lvslab

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Usage is what a process has used: CPU time and resident memory, read
// from /proc/PID/stat and /proc/PID/status.
type Usage struct {
	PID  int
	Comm string
	// UTime and STime are user and system CPU time in clock ticks
	// (ClockTicks a second), of the process itself (all its threads),
	// not of its children.
	UTime, STime uint64
	// RSS is VmRSS in bytes.
	RSS int64
}

// Ticks returns user plus system time in clock ticks.
func (u Usage) Ticks() uint64 { return u.UTime + u.STime }

// CPU returns user plus system time.
func (u Usage) CPU() time.Duration { return TicksDuration(u.Ticks()) }

// String formats the usage for logs.
func (u Usage) String() string {
	return fmt.Sprintf("pid %d (%s): cpu %v (user %d + system %d ticks), rss %.1f MiB",
		u.PID, u.Comm, u.CPU(), u.UTime, u.STime, float64(u.RSS)/(1<<20))
}

// Sum adds usages: ticks and RSS (which counts pages shared between the
// processes twice). PID and Comm are the first one's.
func Sum(us []Usage) Usage {
	var s Usage
	for i, u := range us {
		if i == 0 {
			s.PID, s.Comm = u.PID, u.Comm
		}
		s.UTime += u.UTime
		s.STime += u.STime
		s.RSS += u.RSS
	}
	return s
}

// ReadUsage reads the usage of process pid.
func ReadUsage(pid int) (Usage, error) {
	st, err := readStat(pid)
	if err != nil {
		return Usage{}, err
	}
	u := Usage{PID: pid, Comm: st.comm, UTime: st.utime, STime: st.stime}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Usage{}, err
	}
	u.RSS, err = parseVmRSS(status)
	if err != nil {
		return Usage{}, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	return u, nil
}

// parseVmRSS returns the VmRSS line of /proc/PID/status in bytes; a
// process without memory (a zombie) has none, which is 0.
func parseVmRSS(status []byte) (int64, error) {
	for _, l := range strings.Split(string(status), "\n") {
		rest, ok := strings.CutPrefix(l, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("VmRSS line %q", l)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmRSS line %q: %w", l, err)
		}
		return kb << 10, nil
	}
	return 0, nil
}

// TreeUsage reads the usage of pid and of its descendants, pid first,
// then the others by PID.
func TreeUsage(pid int) ([]Usage, error) {
	pids, err := Descendants(pid)
	if err != nil {
		return nil, err
	}
	out := make([]Usage, 0, len(pids)+1)
	for _, p := range append([]int{pid}, pids...) {
		u, err := ReadUsage(p)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// Descendants returns the PIDs of pid's children, their children and so
// on, sorted, from the parent PIDs in /proc/*/stat.
func Descendants(pid int) ([]int, error) {
	parents, err := parentMap()
	if err != nil {
		return nil, err
	}
	var out []int
	want := map[int]bool{pid: true}
	// Parents can have larger PIDs than their children (PIDs wrap),
	// so repeat until nothing is added.
	for added := true; added; {
		added = false
		for p, pp := range parents {
			if want[pp] && !want[p] {
				want[p] = true
				out = append(out, p)
				added = true
			}
		}
	}
	sort.Ints(out)
	return out, nil
}

// Children returns the PIDs of pid's direct children, sorted.
func Children(pid int) ([]int, error) {
	parents, err := parentMap()
	if err != nil {
		return nil, err
	}
	var out []int
	for p, pp := range parents {
		if pp == pid {
			out = append(out, p)
		}
	}
	sort.Ints(out)
	return out, nil
}

// parentMap maps every process in /proc to its parent.
func parentMap() (map[int]int, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return nil, err
	}
	m := make(map[int]int, len(dirs))
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err != nil {
			continue // it ended
		}
		m[pid] = st.ppid
	}
	return m, nil
}

type procStat struct {
	comm         string
	state        byte
	ppid         int
	utime, stime uint64
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	st, err := parseStat(b)
	if err != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return st, nil
}

// parseStat parses /proc/PID/stat: "pid (comm) state ppid ...", where comm
// can hold spaces and parentheses, so the fields are counted from the last
// ")". utime and stime are fields 14 and 15 (proc(5)).
func parseStat(b []byte) (procStat, error) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return procStat{}, fmt.Errorf("no (comm) in %q", b)
	}
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 13 || len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("too few fields in %q", b)
	}
	st := procStat{comm: string(b[open+1 : end]), state: f[0][0]}
	var err error
	if st.ppid, err = strconv.Atoi(f[1]); err != nil {
		return procStat{}, fmt.Errorf("ppid: %w", err)
	}
	if st.utime, err = strconv.ParseUint(f[11], 10, 64); err != nil {
		return procStat{}, fmt.Errorf("utime: %w", err)
	}
	if st.stime, err = strconv.ParseUint(f[12], 10, 64); err != nil {
		return procStat{}, fmt.Errorf("stime: %w", err)
	}
	return st, nil
}

// atClkTck is the auxiliary vector's entry for the clock tick rate.
const atClkTck = 17

var clockTicks = sync.OnceValue(func() uint64 {
	if b, err := os.ReadFile("/proc/self/auxv"); err == nil {
		if hz := auxvValue(b, atClkTck); hz > 0 {
			return hz
		}
	}
	return 100 // USER_HZ on every Linux architecture Go runs on here
})

// auxvValue returns the value of key in an auxiliary vector of 64-bit
// little-endian pairs, or 0.
func auxvValue(b []byte, key uint64) uint64 {
	for ; len(b) >= 16; b = b[16:] {
		k, v := binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
		if k == key {
			return v
		}
		if k == 0 {
			break
		}
	}
	return 0
}

// ClockTicks returns the clock ticks per second of /proc/PID/stat's times
// (sysconf(_SC_CLK_TCK), from the auxiliary vector; 100 if unreadable).
func ClockTicks() uint64 { return clockTicks() }

// TicksDuration converts clock ticks to a duration.
func TicksDuration(ticks uint64) time.Duration {
	return time.Duration(ticks) * time.Second / time.Duration(ClockTicks())
}

// MappedFiles returns the files process pid has mapped (/proc/PID/maps),
// sorted, each once: its program and every shared library it loaded,
// whether the dynamic linker or dlopen() did.
func MappedFiles(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, err
	}
	return parseMaps(string(b)), nil
}

// parseMaps returns the distinct absolute paths in /proc/PID/maps
// content: the sixth field, which may hold spaces.
func parseMaps(s string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range strings.Split(s, "\n") {
		f := strings.SplitN(l, " ", 6)
		if len(f) < 6 {
			continue
		}
		p := strings.TrimSpace(f[5])
		if strings.HasPrefix(p, "/") && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
