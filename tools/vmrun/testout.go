package main

import (
	"fmt"
	"strings"

	"github.com/ipvs-tools/ipvs/internal/vm"
)

// testReport is what a test binary's -test.v output says.
type testReport struct {
	Ran     []string // top-level TestVM tests that started
	Passed  []string // top-level tests that passed
	Failed  []string // tests (any level) that failed
	Skipped []string // TestVM tests (any level) that skipped
}

// parseTestOutput reads go test -test.v output.
func parseTestOutput(lines []string) testReport {
	var r testReport
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if name, ok := strings.CutPrefix(t, "=== RUN"); ok {
			name = strings.TrimSpace(name)
			if strings.HasPrefix(name, "TestVM") && !strings.Contains(name, "/") {
				r.Ran = append(r.Ran, name)
			}
			continue
		}
		for _, kind := range []string{"PASS", "FAIL", "SKIP"} {
			rest, ok := strings.CutPrefix(t, "--- "+kind+": ")
			if !ok {
				continue
			}
			name, _, _ := strings.Cut(rest, " ")
			switch kind {
			case "PASS":
				if !strings.Contains(name, "/") {
					r.Passed = append(r.Passed, name)
				}
			case "FAIL":
				r.Failed = append(r.Failed, name)
			case "SKIP":
				if strings.HasPrefix(name, "TestVM") {
					r.Skipped = append(r.Skipped, name)
				}
			}
		}
	}
	return r
}

// verdict is the outcome of one package's VM tests.
type verdict struct {
	OK      bool
	Reasons []string
	Report  testReport
}

// judge decides whether a package's job passed: it must have exited 0,
// reported no failure, skipped no TestVM test and run at least one.
func judge(j *vm.JobResult) verdict {
	if j == nil {
		return verdict{Reasons: []string{"the job never started"}}
	}
	rep := parseTestOutput(j.Lines())
	v := verdict{Report: rep}
	if !j.Finished {
		v.Reasons = append(v.Reasons, "the job did not finish")
	} else if j.RC != 0 {
		v.Reasons = append(v.Reasons, fmt.Sprintf("exit status %d", j.RC))
	}
	if len(rep.Failed) > 0 {
		v.Reasons = append(v.Reasons, "failed: "+strings.Join(rep.Failed, ", "))
	}
	if len(rep.Skipped) > 0 {
		v.Reasons = append(v.Reasons, "skipped inside the VM: "+strings.Join(rep.Skipped, ", "))
	}
	if len(rep.Ran) == 0 {
		v.Reasons = append(v.Reasons, "no TestVM test ran")
	}
	v.OK = len(v.Reasons) == 0
	return v
}

// judgeBench decides whether a benchmark job passed: it must have exited
// 0, reported no failure or skip, and printed the benchmark's result line.
func judgeBench(j *vm.JobResult, name string) verdict {
	if j == nil {
		return verdict{Reasons: []string{"the job never started"}}
	}
	var v verdict
	if !j.Finished {
		v.Reasons = append(v.Reasons, "the job did not finish")
	} else if j.RC != 0 {
		v.Reasons = append(v.Reasons, fmt.Sprintf("exit status %d", j.RC))
	}
	result := false
	for _, l := range j.Lines() {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "--- FAIL: "):
			v.Reasons = append(v.Reasons, "failed: "+strings.TrimPrefix(t, "--- FAIL: "))
		case strings.HasPrefix(t, "--- SKIP: "):
			v.Reasons = append(v.Reasons, "skipped inside the VM: "+strings.TrimPrefix(t, "--- SKIP: "))
		case strings.HasPrefix(l, name) && len(strings.Fields(l)) > 2:
			result = true
		}
	}
	if !result {
		v.Reasons = append(v.Reasons, "no result line for "+name)
	}
	v.OK = len(v.Reasons) == 0
	return v
}

// digestLines is how many lines of a failed job's output digest keeps.
const digestLines = 40

// digest shortens a failed job's output to what says why it failed, for
// the end of the report (CI shows a log's tail). A goroutine dump (a test
// that timed out or panicked) keeps only each goroutine's header and its
// frames in _test.go files; goroutines without such frames are dropped.
// Of the rest, the last digestLines lines are kept.
func digest(lines []string) []string {
	var out []string
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "goroutine ") || !strings.HasSuffix(lines[i], ":") {
			out = append(out, lines[i])
			continue
		}
		header := lines[i]
		var frames []string
		// A stack is pairs of lines, the function and its file:line, up
		// to a blank line.
		for i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" {
			i++
			if strings.Contains(lines[i], "_test.go:") && i > 0 {
				frames = append(frames, lines[i-1], lines[i])
			}
		}
		if len(frames) > 0 {
			out = append(out, header)
			out = append(out, frames...)
		}
	}
	for len(out) > 0 && strings.TrimSpace(out[len(out)-1]) == "" {
		out = out[:len(out)-1]
	}
	if len(out) > digestLines {
		out = out[len(out)-digestLines:]
	}
	return out
}
