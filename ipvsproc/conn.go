package ipvsproc

import (
	"bytes"
	"io"
	"iter"
	"net/netip"
	"os"
	"slices"
	"strconv"

	"github.com/ipvs-tools/ipvs/internal/intern"
)

// Headers of the connection files, as the 6.1 kernel prints them.
const (
	ConnHeader     = "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData"
	ConnSyncHeader = "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Origin Expires"
)

// ConnScanner reads a connection file (/proc/net/ip_vs_conn or
// /proc/net/ip_vs_conn_sync, told apart by the header) one entry at a time:
//
//	s := ipvsproc.NewConnScanner(f)
//	for s.Scan() {
//		c := s.Conn() // reused by the next Scan
//		...
//	}
//	if err := s.Err(); err != nil { ... }
//
// It reads with requests of at least MinReadSize bytes and, for entries
// without PE data and with known state names, allocates nothing per line.
type ConnScanner struct {
	lr     *lineReader
	name   string
	conn   Conn
	err    error
	header bool
	sync   bool
	done   bool
}

// NewConnScanner returns a scanner reading from r. Errors name the input
// by the file's name when r is an *os.File, otherwise "ip_vs_conn".
func NewConnScanner(r io.Reader) *ConnScanner {
	name := ConnFile
	if f, ok := r.(*os.File); ok {
		name = f.Name()
	}
	return &ConnScanner{lr: newLineReader(r), name: name}
}

// SetName sets the name used in error messages.
func (s *ConnScanner) SetName(name string) { s.name = name }

// Scan advances to the next entry and reports whether there is one. It
// returns false at the end of the input or at the first error (see Err).
func (s *ConnScanner) Scan() bool {
	if s.done {
		return false
	}
	for {
		line, err := s.lr.next()
		if err != nil {
			s.done = true
			defer s.lr.release()
			switch {
			case err == io.EOF:
				if !s.header {
					s.err = &ParseError{File: s.name, Line: 1, Field: "header", Msg: "empty input"}
				}
			case err == errLineTooLong:
				s.err = &ParseError{File: s.name, Line: s.lr.line, Msg: "line longer than 64 KiB", Text: shorten(line)}
			default:
				s.err = &readError{name: s.name, err: err}
			}
			return false
		}
		if !s.header {
			if err := s.parseHeader(line); err != nil {
				s.err, s.done = err, true
				s.lr.release()
				return false
			}
			continue
		}
		if len(line) == 0 {
			continue
		}
		if err := s.parse(line); err != nil {
			s.err, s.done = err, true
			s.lr.release()
			return false
		}
		return true
	}
}

func (s *ConnScanner) parseHeader(line []byte) error {
	s.header = true
	if !bytes.HasPrefix(line, []byte("Pro ")) || !bytes.Contains(line, []byte(" State ")) {
		return &ParseError{File: s.name, Line: s.lr.line, Field: "header",
			Msg: "not an ip_vs_conn or ip_vs_conn_sync header", Text: shorten(line)}
	}
	s.sync = bytes.Contains(line, []byte(" Origin "))
	return nil
}

func (s *ConnScanner) parse(line []byte) error {
	field, msg := parseConn(line, s.sync, &s.conn)
	if msg != "" {
		return &ParseError{File: s.name, Line: s.lr.line, Field: field, Msg: msg, Text: shorten(line)}
	}
	return nil
}

// Conn returns the current entry. The value is overwritten by the next
// call to Scan; copy it (c := *s.Conn()) to keep it.
func (s *ConnScanner) Conn() *Conn { return &s.conn }

// Err returns the first error met, or nil at a clean end of input.
func (s *ConnScanner) Err() error { return s.err }

// Sync reports whether the input has the ip_vs_conn_sync layout (known
// after the first call to Scan).
func (s *ConnScanner) Sync() bool { return s.sync }

// Line returns the number of the line of the current entry (the header is
// line 1).
func (s *ConnScanner) Line() int { return s.lr.line }

// Reads returns how many Read calls were made on the input, the bytes they
// returned, and the largest single result: with a /proc file, how many
// read(2) system calls the listing took.
func (s *ConnScanner) Reads() (calls int, bytes int64, largest int) {
	return s.lr.reads, s.lr.bytes, s.lr.maxRead
}

// All returns an iterator over the remaining entries. Each *Conn is reused
// by the next iteration. After a malformed line or a read error the
// iterator yields (nil, err) once and stops.
func (s *ConnScanner) All() iter.Seq2[*Conn, error] {
	return func(yield func(*Conn, error) bool) {
		for s.Scan() {
			if !yield(&s.conn, nil) {
				return
			}
		}
		if s.err != nil {
			yield(nil, s.err)
		}
	}
}

// ScanConns calls fn for every entry of the connection file read from r
// (either layout). The *Conn passed to fn is reused for the next entry. An
// error from fn stops the scan and is returned as is.
func ScanConns(r io.Reader, fn func(*Conn) error) error {
	s := NewConnScanner(r)
	for s.Scan() {
		if err := fn(&s.conn); err != nil {
			return err
		}
	}
	return s.Err()
}

// ReadAllConns reads every entry of the connection file from r into a
// slice. For big tables prefer ScanConns or ConnScanner, which hold one
// entry at a time.
func ReadAllConns(r io.Reader) ([]Conn, error) {
	var all []Conn
	err := ScanConns(r, func(c *Conn) error {
		all = append(all, *c)
		return nil
	})
	return all, err
}

// ParseConnLine parses one data line of ip_vs_conn (sync false) or
// ip_vs_conn_sync (sync true) into c. The error, if any, is a *ParseError
// with Line 0.
func ParseConnLine(line []byte, sync bool, c *Conn) error {
	field, msg := parseConn(line, sync, c)
	if msg != "" {
		name := ConnFile
		if sync {
			name = ConnSyncFile
		}
		return &ParseError{File: name, Field: field, Msg: msg, Text: shorten(line)}
	}
	return nil
}

// parseConn parses a data line into c; on failure it returns the field
// and a message.
func parseConn(line []byte, sync bool, c *Conn) (field, msg string) {
	var f [10][]byte
	n, rest := fields(line, f[:])
	want := 9 // proto, 3 x (addr, port), state, expires
	if sync {
		want = 10 // and origin before expires
	}
	if n < want {
		return "", "want " + strconv.Itoa(want) + " fields, got " + strconv.Itoa(n)
	}
	var ok bool
	if c.Protocol, ok = parseProtocol(f[0]); !ok {
		return "protocol", "unknown protocol " + strconv.Quote(string(f[0]))
	}
	var a netip.Addr
	var p uint16
	if a, ok = parseAddr(f[1]); !ok {
		return "client address", "bad address " + strconv.Quote(string(f[1]))
	}
	if p, ok = parsePort(f[2]); !ok {
		return "client port", "bad port " + strconv.Quote(string(f[2]))
	}
	c.Client = netip.AddrPortFrom(a, p)
	if a, ok = parseAddr(f[3]); !ok {
		return "virtual address", "bad address " + strconv.Quote(string(f[3]))
	}
	if p, ok = parsePort(f[4]); !ok {
		return "virtual port", "bad port " + strconv.Quote(string(f[4]))
	}
	c.Virtual = netip.AddrPortFrom(a, p)
	if a, ok = parseAddr(f[5]); !ok {
		return "destination address", "bad address " + strconv.Quote(string(f[5]))
	}
	if p, ok = parsePort(f[6]); !ok {
		return "destination port", "bad port " + strconv.Quote(string(f[6]))
	}
	c.Dest = netip.AddrPortFrom(a, p)
	if c.Client.Addr().Is4() != c.Virtual.Addr().Is4() {
		return "virtual address", "client and virtual addresses of different families"
	}
	c.State = stateIndex.Get(f[7])
	exp := f[8]
	c.Origin = OriginUnknown
	c.PEName, c.PEData = "", ""
	if sync {
		switch string(f[8]) {
		case "LOCAL":
			c.Origin = OriginLocal
		case "SYNC":
			c.Origin = OriginSync
		default:
			return "origin", "want LOCAL or SYNC, got " + strconv.Quote(string(f[8]))
		}
		exp = f[9]
		if rest != nil || n > want {
			return "", "unexpected text after the expiry"
		}
	}
	if c.Expires, ok = parseDec(exp, 1<<64-1); !ok {
		return "expires", "bad number " + strconv.Quote(string(exp))
	}
	if !sync && n > want {
		// " <pe_name> <pe_data>": the data is the rest of the line.
		c.PEName = string(f[9])
		if len(rest) > 0 {
			c.PEData = string(rest[1:])
		}
	}
	return "", ""
}

// knownStates are the state names of ip_vs_proto_*.c (6.1), interned so
// that parsing them allocates nothing.
var knownStates = []string{
	// TCP
	"NONE", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT", "TIME_WAIT",
	"CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "SYNACK",
	// UDP, templates
	"UDP", "ASSURED",
	// SCTP
	"INIT1", "INIT", "COOKIE_SENT", "COOKIE_REPLIED", "COOKIE_WAIT", "COOKIE",
	"COOKIE_ECHOED", "SHUTDOWN_SENT", "SHUTDOWN_RECEIVED", "SHUTDOWN_ACK_SENT",
	"REJECTED", "CLOSED", "C-SENT", "C-REPLIED", "C-WAIT", "C-ECHOED",
	"S-SENT", "S-RECEIVED", "S-ACK-SENT",
	// ICMP and others
	"ERR", "OTHER", "?",
}

var stateIndex = intern.New(knownStates...)

// States returns the connection state names of ip_vs_proto_*.c (6.1) as
// /proc/net/ip_vs_conn spells them: TCP's, then UDP's and templates',
// SCTP's, and the rest ("ERR", "OTHER", "?").
func States() []string { return slices.Clone(knownStates) }

// readError wraps an error of the underlying reader.
type readError struct {
	name string
	err  error
}

func (e *readError) Error() string { return "reading " + e.name + ": " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }
