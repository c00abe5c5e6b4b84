package rulesfile

import (
	"bufio"
	"bytes"
)

// maxToken is the width of ipvsadm's "%4096[^ \t\n\r]" token conversion.
const maxToken = 4096

// Reader reads the input of ipvsadm -R as its config_stream_read does,
// one line's argv at a time. Tokens are separated by blanks, tabs, CRs
// and LFs; a token equal to "ipvsadm" is dropped; there is no quoting and
// no comment syntax; a token longer than 4096 bytes is split, and a NUL
// ends the token it is in. A last line that ends in two or more blanks
// without a newline is lost, as with fscanf in ipvsadm.
//
// Parse splits lines the same way (appendTokens) but reads whole lines:
// it skips comment lines, keeps long tokens and NULs, and never loses the
// last line.
type Reader struct {
	br   *bufio.Reader
	buf  []byte
	ends []int
	argv []string
	// ByteByByte disables the fast path, which splits a whole buffered
	// line at once; the result is the same (tests compare the two).
	ByteByByte bool
}

// NewReader returns a Reader of br.
func NewReader(br *bufio.Reader) *Reader { return &Reader{br: br} }

// Next returns the argv of the next input line (argv0 first), or false
// at the end of the input. The argv is valid until the next call; all of
// a line's tokens share one string.
func (r *Reader) Next(argv0 string) ([]string, bool) {
	r.buf = r.buf[:0]
	r.ends = r.ends[:0]
	// Fast path: a whole line ending in a newline is in the buffer and
	// has no NUL and no token that fscanf would split: split it at once.
	// Everything else (the last line, long tokens) goes byte by byte.
	if _, err := r.br.Peek(1); err == nil && !r.ByteByByte {
		b, _ := r.br.Peek(r.br.Buffered())
		if i := bytes.IndexByte(b, '\n'); i >= 0 && i < maxToken && bytes.IndexByte(b[:i], 0) < 0 {
			r.argv = appendTokens(append(r.argv[:0], argv0), b[:i])
			r.br.Discard(i + 1)
			return r.argv, true
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

// finish builds the argv of the line's tokens (the byte-by-byte path).
func (r *Reader) finish(argv0 string) []string {
	s := string(r.buf)
	argv := append(r.argv[:0], argv0)
	for i := 0; i < len(r.ends); i += 2 {
		argv = append(argv, s[r.ends[i]:r.ends[i+1]])
	}
	r.argv = argv
	return argv
}

// scanToken is fscanf(stream, "%4096[^ \t\n\r]%1[ \t\n\r]", token, tail),
// appending the token to r.buf: status -1 at the end of the input, 0 when
// the next character is white space, 1 for a token without a following
// white-space character, 2 for a token and its tail.
func (r *Reader) scanToken() (int, byte) {
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

// appendTokens appends the tokens of line to argv as ipvsadm -R separates
// them: at blanks, tabs, CRs and LFs, dropping a token "ipvsadm". The
// tokens share one string.
func appendTokens(argv []string, line []byte) []string {
	all := string(line)
	for i := 0; i < len(all); {
		for i < len(all) && isBlank(all[i]) {
			i++
		}
		j := i
		for j < len(all) && !isBlank(all[j]) {
			j++
		}
		if j > i && all[i:j] != "ipvsadm" {
			argv = append(argv, all[i:j])
		}
		i = j
	}
	return argv
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
