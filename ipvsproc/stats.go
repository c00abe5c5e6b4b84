package ipvsproc

import (
	"io"
	"os"
	"strconv"
)

// CPUStats are the counters of one CPU from /proc/net/ip_vs_stats_percpu
// (no rates: the kernel estimates rates only for the total).
type CPUStats struct {
	CPU      int
	Conns    uint64
	InPkts   uint64
	OutPkts  uint64
	InBytes  uint64
	OutBytes uint64
}

// ParseStats reads /proc/net/ip_vs_stats from r: two title lines, a line
// of hex totals, a blank line, a title and a line of hex rates.
func ParseStats(r io.Reader) (Stats, error) {
	name := StatsFile
	if f, ok := r.(*os.File); ok {
		name = f.Name()
	}
	var st Stats
	lr := newLineReader(r)
	defer lr.release()
	var nums int
	for {
		line, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return st, lineErr(name, lr, line, err)
		}
		var f [6][]byte
		n, _ := fields(line, f[:])
		if n == 0 || !isHexField(f[0]) {
			continue // titles and the blank line
		}
		if n != 5 {
			return st, &ParseError{File: name, Line: lr.line, Msg: "want 5 hex numbers, got " + strconv.Itoa(n) + " fields", Text: shorten(line)}
		}
		var v [5]uint64
		for i := range v {
			x, ok := parseHex(f[i])
			if !ok {
				return st, &ParseError{File: name, Line: lr.line, Msg: "bad hex number " + strconv.Quote(string(f[i])), Text: shorten(line)}
			}
			v[i] = x
		}
		switch nums {
		case 0:
			st.Conns, st.InPkts, st.OutPkts, st.InBytes, st.OutBytes = v[0], v[1], v[2], v[3], v[4]
		case 1:
			st.CPS, st.InPPS, st.OutPPS, st.InBPS, st.OutBPS = v[0], v[1], v[2], v[3], v[4]
		default:
			return st, &ParseError{File: name, Line: lr.line, Msg: "more than two lines of numbers", Text: shorten(line)}
		}
		nums++
	}
	if nums != 2 {
		return st, &ParseError{File: name, Line: lr.line, Msg: "want a line of totals and a line of rates, got " + strconv.Itoa(nums) + " lines of numbers"}
	}
	return st, nil
}

// ParseStatsPerCPU reads /proc/net/ip_vs_stats_percpu from r: one line of
// counters per possible CPU, then the total ("  ~" line) and the rates.
func ParseStatsPerCPU(r io.Reader) ([]CPUStats, Stats, error) {
	name := StatsPerCPUFile
	if f, ok := r.(*os.File); ok {
		name = f.Name()
	}
	var cpus []CPUStats
	var total Stats
	lr := newLineReader(r)
	defer lr.release()
	state := 0 // 0: per-CPU lines, 1: after the total, 2: after the rates
	for {
		line, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return cpus, total, lineErr(name, lr, line, err)
		}
		var f [7][]byte
		n, _ := fields(line, f[:])
		if n == 0 || lr.line <= 2 || (n > 0 && !isHexField(f[0]) && string(f[0]) != "~") {
			continue // titles and the blank line
		}
		var v [5]uint64
		off := n - 5
		if n != 5 && n != 6 {
			return cpus, total, &ParseError{File: name, Line: lr.line, Msg: "want 5 or 6 fields, got " + strconv.Itoa(n), Text: shorten(line)}
		}
		for i := range v {
			x, ok := parseHex(f[off+i])
			if !ok {
				return cpus, total, &ParseError{File: name, Line: lr.line, Msg: "bad hex number " + strconv.Quote(string(f[off+i])), Text: shorten(line)}
			}
			v[i] = x
		}
		switch {
		case state == 0 && n == 6 && string(f[0]) == "~":
			total.Conns, total.InPkts, total.OutPkts, total.InBytes, total.OutBytes = v[0], v[1], v[2], v[3], v[4]
			state = 1
		case state == 0 && n == 6:
			cpu, ok := parseHex(f[0])
			if !ok || cpu > 1<<20 {
				return cpus, total, &ParseError{File: name, Line: lr.line, Field: "cpu", Msg: "bad CPU number", Text: shorten(line)}
			}
			cpus = append(cpus, CPUStats{CPU: int(cpu), Conns: v[0], InPkts: v[1], OutPkts: v[2], InBytes: v[3], OutBytes: v[4]})
		case state == 1 && n == 5:
			total.CPS, total.InPPS, total.OutPPS, total.InBPS, total.OutBPS = v[0], v[1], v[2], v[3], v[4]
			state = 2
		default:
			return cpus, total, &ParseError{File: name, Line: lr.line, Msg: "unexpected line", Text: shorten(line)}
		}
	}
	if state != 2 {
		return cpus, total, &ParseError{File: name, Line: lr.line, Msg: "input ends before the total and rate lines"}
	}
	return cpus, total, nil
}

func isHexField(b []byte) bool {
	_, ok := parseHex(b)
	return ok
}

// lineErr turns a lineReader error into the package's error types.
func lineErr(name string, lr *lineReader, line []byte, err error) error {
	if err == errLineTooLong {
		return &ParseError{File: name, Line: lr.line, Msg: "line longer than 64 KiB", Text: shorten(line)}
	}
	return &readError{name: name, err: err}
}
