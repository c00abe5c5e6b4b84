package main

import (
	"bufio"
	"bytes"
)

// maxToken is the width of ipvsadm's "%4096[^ \t\n\r]" token conversion.
const maxToken = 4096

// readRestoreLine emulates ipvsadm's config_stream_read: it returns the
// argv of the next input line (argv0 first), or false at the end of the
// input. Tokens are separated by blanks, tabs, CRs and LFs; a token equal
// to "ipvsadm" is dropped; there is no quoting and no comment syntax. A
// last line that ends in two or more blanks without a newline is lost, as
// with fscanf in ipvsadm.
func readRestoreLine(br *bufio.Reader, argv0 string) ([]string, bool) {
	argv, ok := (&restoreReader{br: br}).next(argv0)
	return append([]string(nil), argv...), ok
}

// restoreReader is readRestoreLine with buffers reused from line to line:
// the argv it returns is valid until the next call, and all of a line's
// tokens share one string.
type restoreReader struct {
	br   *bufio.Reader
	buf  []byte
	ends []int
	argv []string
	// slow disables the fast path (tests compare both).
	slow bool
}

func (r *restoreReader) next(argv0 string) ([]string, bool) {
	r.buf = r.buf[:0]
	r.ends = r.ends[:0]
	// Fast path: a whole line ending in a newline is in the buffer and
	// has no NUL and no token that fscanf would split: split it at once.
	// Everything else (the last line, long tokens) goes byte by byte.
	if _, err := r.br.Peek(1); err == nil && !r.slow {
		b, _ := r.br.Peek(r.br.Buffered())
		if i := bytes.IndexByte(b, '\n'); i >= 0 && i < maxToken && bytes.IndexByte(b[:i], 0) < 0 {
			line := b[:i]
			for j := 0; j < len(line); {
				for j < len(line) && isBlank(line[j]) {
					j++
				}
				k := j
				for k < len(line) && !isBlank(line[k]) {
					k++
				}
				if k > j && string(line[j:k]) != "ipvsadm" {
					r.ends = append(r.ends, len(r.buf), len(r.buf)+k-j)
					r.buf = append(r.buf, line[j:k]...)
				}
				j = k
			}
			r.br.Discard(i + 1)
			return r.finish(argv0), true
		}
	}
	ntoken := 0
	for {
		start := len(r.buf)
		status, tail := r.scanToken()
		if status < 0 {
			break
		}
		if status == 0 {
			// The next character is white space.
			for {
				c, err := r.br.ReadByte()
				if err != nil {
					return nil, false
				}
				switch c {
				case '\n':
					return r.finish(argv0), true
				case '\t', '\r', ' ':
					continue
				}
				r.br.UnreadByte()
				break
			}
			continue
		}
		// A NUL ends the C string.
		if i := bytes.IndexByte(r.buf[start:], 0); i >= 0 {
			r.buf = r.buf[:start+i]
		}
		if string(r.buf[start:]) == "ipvsadm" {
			r.buf = r.buf[:start]
		} else {
			ntoken++
			r.ends = append(r.ends, start, len(r.buf))
		}
		if status == 2 && tail == '\n' {
			return r.finish(argv0), true
		}
	}
	if ntoken == 0 {
		return nil, false
	}
	return r.finish(argv0), true
}

// finish builds the argv of the line's tokens.
func (r *restoreReader) finish(argv0 string) []string {
	s := string(r.buf)
	argv := append(r.argv[:0], argv0)
	for i := 0; i < len(r.ends); i += 2 {
		argv = append(argv, s[r.ends[i]:r.ends[i+1]])
	}
	r.argv = argv
	return argv
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// scanToken is fscanf(stream, "%4096[^ \t\n\r]%1[ \t\n\r]", token, tail),
// appending the token to r.buf: status -1 at the end of the input, 0 when
// the next character is white space, 1 for a token without a following
// white-space character, 2 for a token and its tail.
func (r *restoreReader) scanToken() (int, byte) {
	start := len(r.buf)
	for len(r.buf)-start < maxToken {
		c, err := r.br.ReadByte()
		if err != nil {
			break
		}
		if isBlank(c) {
			r.br.UnreadByte()
			break
		}
		r.buf = append(r.buf, c)
	}
	if len(r.buf) == start {
		if _, err := r.br.Peek(1); err != nil {
			return -1, 0
		}
		return 0, 0
	}
	c, err := r.br.ReadByte()
	if err != nil {
		return 1, 0
	}
	if !isBlank(c) {
		r.br.UnreadByte()
		return 1, 0
	}
	return 2, c
}
