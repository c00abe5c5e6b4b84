package iostreams

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progressEvery is how often a Progress redraws its line at most, and
// how long an operation runs before it shows one at all.
const progressEvery = 250 * time.Millisecond

// Progress reports how far a long operation is on one line of standard
// error: "applying: 1200/5000 (24%), 480/s, 8s left". It redraws the line
// in place (\r) a few times a second at most, shows nothing for an
// operation that ends within a quarter of a second, and nothing at all
// when standard error is not a terminal. Its methods may be called from
// any goroutine; a nil *Progress does nothing.
type Progress struct {
	mu     sync.Mutex
	w      io.Writer
	text   func(string) string
	now    func() time.Time
	label  string
	total  int
	done   int
	start  time.Time
	drawn  time.Time // last redraw; zero before the first
	width  int       // length of the line last drawn
	closed bool
}

// NewProgress starts reporting an operation of total steps (0 if
// unknown), named by label ("applying"), timed by now (time.Now if nil;
// a fake clock in tests). On streams whose standard error is not a
// terminal it returns nil, which reports nothing.
func (s *IOStreams) NewProgress(label string, total int, now func() time.Time) *Progress {
	if !s.errTTY {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	return &Progress{w: s.ErrOut, text: s.Text, now: now, label: label, total: total, start: now()}
}

// Add counts n more steps done and redraws the line if it is time to.
func (p *Progress) Add(n int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.done += n
	now := p.now()
	last := p.drawn
	if last.IsZero() {
		last = p.start
	}
	if now.Sub(last) >= progressEvery {
		p.draw(now, false)
	}
}

// Done ends the report: if a line was shown, it is redrawn with the final
// count and ended with a newline, so what follows starts on a line of its
// own. Later calls do nothing.
func (p *Progress) Done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	if !p.drawn.IsZero() {
		p.draw(p.now(), true)
		io.WriteString(p.w, "\n")
	}
}

// draw writes the line for now over the one drawn before.
func (p *Progress) draw(now time.Time, final bool) {
	line := p.line(now.Sub(p.start), final)
	pad := ""
	if n := p.width - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
	p.width = len(line)
	p.drawn = now
}

// line is the report after elapsed: the count (of the total), the rate
// and, while unfinished and the total is known, the time left.
func (p *Progress) line(elapsed time.Duration, final bool) string {
	var b strings.Builder
	b.WriteString(p.text(p.label))
	b.WriteString(": ")
	if p.total > 0 {
		fmt.Fprintf(&b, "%d/%d (%d%%)", p.done, p.total, p.done*100/p.total)
	} else {
		fmt.Fprintf(&b, "%d", p.done)
	}
	if elapsed <= 0 {
		return b.String()
	}
	rate := float64(p.done) / elapsed.Seconds()
	fmt.Fprintf(&b, ", %s/s", rateText(rate))
	switch {
	case final:
		fmt.Fprintf(&b, ", done in %s", durationText(elapsed))
	case p.total > 0 && rate > 0 && p.done < p.total:
		left := time.Duration(float64(p.total-p.done) / rate * float64(time.Second))
		fmt.Fprintf(&b, ", %s left", durationText(left))
	}
	return b.String()
}

// rateText is a rate with the precision people read: 0.4, 12, 480, 12000.
func rateText(r float64) string {
	if r < 10 {
		return fmt.Sprintf("%.1f", r)
	}
	return fmt.Sprintf("%.0f", r)
}

// durationText is a duration as people read it: 0.7s, 8.5s, 42s, 3m5s.
func durationText(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.1fs", d.Round(100*time.Millisecond).Seconds())
	}
	return d.Round(time.Second).String()
}
