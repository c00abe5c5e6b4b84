package convert

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// stmt is a keepalived statement: the words of one line up to a brace,
// and the block that follows when it has one.
type stmt struct {
	at    pos
	words []string
	// raw is the text of the statement's line from its first word,
	// comments removed (misc_path re-reads it with its own quoting).
	raw      string
	hasBlock bool
	block    []*stmt
}

func (s *stmt) key() string    { return s.words[0] }
func (s *stmt) args() []string { return s.words[1:] }

// line is the statement as written, for messages: "real_server 10.0.0.2 80".
func (s *stmt) line() string { return strings.Join(s.words, " ") }

// token is a word of a line, or a brace.
type token struct {
	text  string
	brace byte // '{' or '}', 0 for a word
}

// lexLine splits a line as keepalived does: "#" and "!" start a comment
// outside double quotes ("\#" and "\!" are the characters), a quoted
// string is one word without its quotes, and braces outside quotes are
// tokens of their own. It returns the tokens and the text before the
// comment.
func lexLine(s string) (toks []token, raw string, err error) {
	var word strings.Builder
	inWord := false
	end := len(s)
	flush := func() {
		if inWord {
			toks = append(toks, token{text: word.String()})
			word.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '"':
			flush()
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return nil, "", fmt.Errorf("unterminated quote: %s", strings.TrimSpace(s[i:]))
			}
			toks = append(toks, token{text: s[i+1 : i+1+j]})
			i += j + 1
		case ch == '\\' && i+1 < len(s) && (s[i+1] == '#' || s[i+1] == '!'):
			word.WriteByte(s[i+1])
			inWord = true
			i++
		case ch == '#' || ch == '!':
			end = i
			i = len(s)
		case ch == '{' || ch == '}':
			flush()
			toks = append(toks, token{brace: ch})
		case ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v':
			flush()
		default:
			word.WriteByte(ch)
			inWord = true
		}
	}
	flush()
	return toks, strings.TrimSpace(s[:end]), nil
}

// maxIncludeDepth bounds nested includes (a file that includes itself).
const maxIncludeDepth = 16

// kaParser builds the statement tree of a keepalived.conf and the files it
// includes, which are read in place of their include line as keepalived
// reads them.
type kaParser struct {
	c     *conv
	stack []*stmt
	// pending is the statement that ended the last line, which a "{" at
	// the start of the next line opens.
	pending *stmt
}

// parseKeepalived returns the top-level statements of the file.
func parseKeepalived(c *conv, name string, data []byte) ([]*stmt, error) {
	root := &stmt{hasBlock: true}
	p := &kaParser{c: c, stack: []*stmt{root}}
	if err := p.file(name, data, 0); err != nil {
		return nil, err
	}
	if len(p.stack) > 1 {
		open := p.stack[len(p.stack)-1]
		return nil, &Error{File: open.at.file, Line: open.at.line, Msg: fmt.Sprintf("the block of %q is never closed (a missing })", open.line())}
	}
	return root.block, nil
}

func (p *kaParser) file(name string, data []byte, depth int) error {
	for i, text := range splitLines(data) {
		at := pos{name, i + 1}
		t := strings.TrimLeft(text, " \t")
		switch {
		case strings.HasPrefix(t, "@"):
			p.c.warnf(at, "conditional configuration (@ID lines) depends on keepalived's config id: line skipped")
			continue
		case strings.HasPrefix(t, "$") && strings.Contains(strings.SplitN(t, " ", 2)[0], "="):
			p.c.warnf(at, "parameter definitions ($NAME=VALUE) are not supported: values that use them are not converted")
			continue
		case strings.HasPrefix(t, "~SEQ"):
			p.c.warnf(at, "~SEQ lines are not supported: line skipped")
			continue
		}
		toks, raw, err := lexLine(text)
		if err != nil {
			return &Error{File: name, Line: i + 1, Msg: err.Error()}
		}
		if len(toks) == 0 {
			continue
		}
		if w := toks[0].text; toks[0].brace == 0 && isInclude(w) {
			pattern := strings.TrimSpace(strings.TrimPrefix(raw, w))
			if err := p.include(at, strings.Trim(pattern, `"`), depth); err != nil {
				return err
			}
			continue
		}
		if err := p.line(at, toks, raw); err != nil {
			return err
		}
	}
	return nil
}

func isInclude(w string) bool {
	switch w {
	case "include", "includer", "includem", "includew", "includeb", "includea":
		return true
	}
	return false
}

func (p *kaParser) include(at pos, pattern string, depth int) error {
	if pattern == "" {
		p.c.warnf(at, "include without a file name")
		return nil
	}
	if depth >= maxIncludeDepth {
		return &Error{File: at.file, Line: at.line, Msg: fmt.Sprintf("include %s: more than %d nested includes (does a file include itself?)", pattern, maxIncludeDepth)}
	}
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(filepath.Dir(at.file), pattern)
	}
	files, err := filepath.Glob(pattern)
	if err != nil {
		p.c.warnf(at, "include %s: %v", pattern, err)
		return nil
	}
	if len(files) == 0 {
		p.c.warnf(at, "include %s: no file matches", pattern)
		return nil
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the path is said once ("open" is Go's)
			}
			return &Error{File: at.file, Line: at.line, Msg: fmt.Sprintf("include %s: %v", f, err)}
		}
		if err := p.file(f, data, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// line adds the statements of one line to the tree.
func (p *kaParser) line(at pos, toks []token, raw string) error {
	var words []string
	flush := func() *stmt {
		if len(words) == 0 {
			return nil
		}
		top := p.stack[len(p.stack)-1]
		s := &stmt{at: at, words: words, raw: raw}
		top.block = append(top.block, s)
		words = nil
		return s
	}
	first := true
	for _, t := range toks {
		switch t.brace {
		case '{':
			s := flush()
			if s == nil {
				if !first || p.pending == nil {
					return &Error{File: at.file, Line: at.line, Msg: "unexpected { (it must follow a keyword such as virtual_server or real_server)"}
				}
				s = p.pending
			}
			s.hasBlock = true
			p.stack = append(p.stack, s)
			p.pending = nil
		case '}':
			flush()
			if len(p.stack) == 1 {
				return &Error{File: at.file, Line: at.line, Msg: "unexpected } (no block is open)"}
			}
			p.stack = p.stack[:len(p.stack)-1]
			p.pending = nil
		default:
			words = append(words, t.text)
		}
		first = false
	}
	if s := flush(); s != nil {
		p.pending = s
	}
	return nil
}
