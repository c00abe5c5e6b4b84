package vm

import "bytes"

// LineWriter is an io.Writer that calls Line with every complete line
// written to it, without its newline, however the bytes arrive in chunks.
// Flush hands on an unterminated last line. It is not safe for concurrent
// use.
type LineWriter struct {
	// Line receives each line.
	Line    func(line string)
	partial []byte
}

// Write splits p into lines. It never fails.
func (w *LineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.partial = append(w.partial, p...)
			break
		}
		line := string(append(w.partial, p[:i]...))
		w.partial = w.partial[:0]
		p = p[i+1:]
		w.Line(line)
	}
	return n, nil
}

// Pending returns the unterminated last line written so far.
func (w *LineWriter) Pending() string { return string(w.partial) }

// Flush calls Line with the unterminated last line, if there is one.
func (w *LineWriter) Flush() {
	if len(w.partial) > 0 {
		line := string(w.partial)
		w.partial = nil
		w.Line(line)
	}
}
