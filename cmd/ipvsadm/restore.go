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
	argv := []string{argv0}
	ntoken := 0
	for {
		tok, status, tail := scanToken(br)
		if status < 0 {
			break
		}
		if status == 0 {
			// The next character is white space.
			for {
				c, err := br.ReadByte()
				if err != nil {
					return nil, false
				}
				switch c {
				case '\n':
					return argv, true
				case '\t', '\r', ' ':
					continue
				}
				br.UnreadByte()
				break
			}
			continue
		}
		if tok != "ipvsadm" {
			ntoken++
			argv = append(argv, tok)
		}
		if status == 2 && tail == '\n' {
			return argv, true
		}
	}
	if ntoken == 0 {
		return nil, false
	}
	return argv, true
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// scanToken is fscanf(stream, "%4096[^ \t\n\r]%1[ \t\n\r]", token, tail):
// status -1 at the end of the input, 0 when the next character is white
// space, 1 for a token without a following white-space character, 2 for a
// token and its tail.
func scanToken(br *bufio.Reader) (string, int, byte) {
	var tok []byte
	for len(tok) < maxToken {
		c, err := br.ReadByte()
		if err != nil {
			break
		}
		if isBlank(c) {
			br.UnreadByte()
			break
		}
		tok = append(tok, c)
	}
	if len(tok) == 0 {
		if _, err := br.Peek(1); err != nil {
			return "", -1, 0
		}
		return "", 0, 0
	}
	// A NUL ends the C string.
	if i := bytes.IndexByte(tok, 0); i >= 0 {
		tok = tok[:i]
	}
	c, err := br.ReadByte()
	if err != nil {
		return string(tok), 1, 0
	}
	if !isBlank(c) {
		br.UnreadByte()
		return string(tok), 1, 0
	}
	return string(tok), 2, c
}
