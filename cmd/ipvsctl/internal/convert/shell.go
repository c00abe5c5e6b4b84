package convert

import (
	"fmt"
	"strings"
)

// splitQuoted splits s into words as keepalived re-reads a script line
// (alloc_strvec_quoted_escaped): blanks separate words, single and double
// quotes group (and are removed), and a backslash takes the next
// character literally. With escapes, \n, \t, \r, \a, \b, \f, \v, \E,
// \xHH, \cX and octal \NNN stand for their characters; without, the
// backslash is kept. Nothing is expanded: there is no shell.
func splitQuoted(s string, escapes bool) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\\':
			if i+1 == len(s) {
				return nil, fmt.Errorf("a backslash ends %q", s)
			}
			inWord = true
			i++
			if !escapes {
				w.WriteByte('\\')
				w.WriteByte(s[i])
				continue
			}
			n := unescape(s[i:], &w)
			i += n - 1
		case quote != 0:
			if ch == quote {
				quote = 0
				continue
			}
			w.WriteByte(ch)
		case ch == '"' || ch == '\'':
			quote = ch
			inWord = true
		case ch == ' ' || ch == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteByte(ch)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("missing closing %c in %q", quote, s)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// unescape writes the character of the escape sequence at the start of s
// (after its backslash) and returns how many bytes of s it used.
func unescape(s string, w *strings.Builder) int {
	hexVal := func(c byte) (byte, bool) {
		switch {
		case c >= '0' && c <= '9':
			return c - '0', true
		case c >= 'a' && c <= 'f':
			return c - 'a' + 10, true
		case c >= 'A' && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	switch c := s[0]; {
	case c == 'x' && len(s) > 1:
		if v, ok := hexVal(s[1]); ok {
			n := 2
			if len(s) > 2 {
				if v2, ok := hexVal(s[2]); ok {
					v, n = v<<4|v2, 3
				}
			}
			w.WriteByte(v)
			return n
		}
		w.WriteByte(c)
		return 1
	case c == 'c' && len(s) > 1:
		w.WriteByte(s[1] & 0x1f)
		return 2
	case c >= '0' && c <= '7':
		v, n := c-'0', 1
		for n < 3 && n < len(s) && s[n] >= '0' && s[n] <= '7' {
			v = v<<3 | (s[n] - '0')
			n++
		}
		w.WriteByte(v)
		return n
	default:
		if r, ok := map[byte]byte{'a': '\a', 'b': '\b', 'E': 0x1b, 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v'}[c]; ok {
			w.WriteByte(r)
		} else {
			w.WriteByte(c)
		}
		return 1
	}
}
