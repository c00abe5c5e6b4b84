package vm

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

// JobResult is what one job printed and how it ended.
type JobResult struct {
	// Name is the job's name.
	Name string
	// Output is everything the job printed (stdout and stderr mixed as on
	// the console), with "\r" removed and a trailing newline per line.
	Output string
	// RC is the job's exit status; -1 if the job did not finish.
	RC int
	// Finished reports whether the end marker was seen.
	Finished bool
	// Duration is the host-side time between the job's markers.
	Duration time.Duration
}

// Lines returns the job's output split into lines.
func (j *JobResult) Lines() []string {
	if j.Output == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(j.Output, "\n"), "\n")
}

// tailLines is how many console lines a ConsoleParser remembers.
const tailLines = 60

// ConsoleParser reads a guest's console output and picks out the init
// script's markers. It is an io.Writer: feed it the console bytes as they
// arrive, in any chunks, then call Close. "\r" characters are dropped.
// Markers are recognised anywhere in a line, so noise before them on the
// same line (escape sequences, a job's last line without a newline) does
// not hide them; text before an end marker counts as job output.
// It is safe for concurrent use.
type ConsoleParser struct {
	mu      sync.Mutex
	now     func() time.Time
	lines   LineWriter
	res     Result
	cur     *JobResult
	out     strings.Builder // output of cur
	begun   time.Time
	tail    []string
	initAt  time.Time
	started time.Time
	notify  func(event string)
}

// NewConsoleParser returns a parser. now supplies timestamps for job
// durations; nil means time.Now.
func NewConsoleParser(now func() time.Time) *ConsoleParser {
	if now == nil {
		now = time.Now
	}
	p := &ConsoleParser{now: now, started: now()}
	p.lines.Line = p.line
	return p
}

// Write feeds console output to the parser. It never fails.
func (p *ConsoleParser) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lines.Write(b)
}

// Close handles a last line that has no newline.
func (p *ConsoleParser) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines.Flush()
	return nil
}

// line handles one complete console line.
func (p *ConsoleParser) line(s string) {
	s = strings.ReplaceAll(s, "\r", "")
	p.tail = append(p.tail, s)
	if len(p.tail) > tailLines {
		p.tail = p.tail[len(p.tail)-tailLines:]
	}
	if strings.Contains(s, "Kernel panic - not syncing") && p.res.Panic == "" {
		p.res.Panic = strings.TrimSpace(s)
	}
	for _, k := range []string{"BUG: ", "Oops: ", "general protection fault", "WARNING: CPU:"} {
		if strings.Contains(s, k) {
			p.res.KernelErrors = append(p.res.KernelErrors, strings.TrimSpace(s))
			break
		}
	}
	switch {
	case strings.Contains(s, MarkerJobBegin):
		_, rest, _ := strings.Cut(s, MarkerJobBegin)
		p.finishCurrent(-1, false)
		p.cur = &JobResult{Name: strings.TrimSpace(rest), RC: -1}
		p.begun = p.now()
		p.event("begin " + p.cur.Name)
	case strings.Contains(s, MarkerJobEnd):
		before, rest, _ := strings.Cut(s, MarkerJobEnd)
		name, rc := parseEnd(rest)
		if p.cur == nil || p.cur.Name != name {
			// An end marker without its begin marker: record the job
			// anyway so the rc is not lost.
			p.finishCurrent(-1, false)
			p.cur = &JobResult{Name: name, RC: -1}
			p.begun = p.now()
		}
		if before != "" {
			p.out.WriteString(before + "\n")
		}
		p.finishCurrent(rc, true)
		p.event("end " + name)
	case strings.Contains(s, MarkerDone):
		p.finishCurrent(-1, false)
		p.res.Done = true
		p.event("done")
	case strings.Contains(s, MarkerKernel):
		_, rest, _ := strings.Cut(s, MarkerKernel)
		rel, build, _ := strings.Cut(strings.TrimSpace(rest), " ")
		p.res.KernelRelease, p.res.KernelBuild = rel, build
	case strings.Contains(s, MarkerNoControl):
		p.res.NoControl = true
	case strings.Contains(s, MarkerModFail):
		_, rest, _ := strings.Cut(s, MarkerModFail)
		p.res.ModuleFailures = append(p.res.ModuleFailures, strings.TrimSpace(rest))
	case strings.Contains(s, MarkerInit):
		if p.initAt.IsZero() {
			p.initAt = p.now()
			p.res.BootTime = p.initAt.Sub(p.started)
		}
		p.event("init")
	default:
		if p.cur != nil {
			p.out.WriteString(s)
			p.out.WriteByte('\n')
		}
	}
}

// parseEnd parses "name rc=N" after an end marker.
func parseEnd(rest string) (string, int) {
	f := strings.Fields(rest)
	if len(f) == 0 {
		return "", -1
	}
	rc := -1
	if len(f) > 1 {
		if v, ok := strings.CutPrefix(f[1], "rc="); ok {
			if n, err := strconv.Atoi(v); err == nil {
				rc = n
			}
		}
	}
	return f[0], rc
}

// finishCurrent closes the current job, if any.
func (p *ConsoleParser) finishCurrent(rc int, finished bool) {
	if p.cur == nil {
		return
	}
	p.cur.RC = rc
	p.cur.Finished = finished
	p.cur.Output = p.out.String()
	p.out.Reset()
	p.cur.Duration = p.now().Sub(p.begun)
	p.res.Jobs = append(p.res.Jobs, *p.cur)
	p.cur = nil
}

// event calls the notify hook, if any.
func (p *ConsoleParser) event(e string) {
	if p.notify != nil {
		p.notify(e)
	}
}

// Result returns what the parser has seen so far. A job still running is
// included with Finished false.
func (p *ConsoleParser) Result() *Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.res
	r.Jobs = append([]JobResult(nil), p.res.Jobs...)
	if p.cur != nil {
		c := *p.cur
		c.Output = p.out.String()
		c.Duration = p.now().Sub(p.begun)
		r.Jobs = append(r.Jobs, c)
	}
	r.KernelErrors = append([]string(nil), p.res.KernelErrors...)
	r.ModuleFailures = append([]string(nil), p.res.ModuleFailures...)
	r.Tail = append([]string(nil), p.tail...)
	if l := p.lines.Pending(); l != "" {
		r.Tail = append(r.Tail, strings.ReplaceAll(l, "\r", ""))
	}
	return &r
}
