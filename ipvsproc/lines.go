package ipvsproc

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"sync"
)

// MinReadSize is the smallest request the readers pass to each read(2)
// (1 MiB). On kernels whose seq_file restarts the walk of the connection
// hash table at every read(), small reads make listing quadratic; big
// requests let such kernels return as much as they can per call.
const MinReadSize = 1 << 20

// MaxLineLen is the longest line accepted (64 KiB); real lines are under
// 300 bytes, so anything longer is malformed input.
const MaxLineLen = 64 << 10

// lineReader splits an io.Reader into lines, reading with requests of at
// least MinReadSize bytes and returning slices of its own buffer (valid
// until the next call).
type lineReader struct {
	r          io.Reader
	buf        []byte
	start, end int
	err        error
	line       int   // number of the last line returned
	reads      int   // Read calls made
	bytes      int64 // bytes read
	maxRead    int   // largest single Read result
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: r}
}

// bufPool recycles the readers' buffers (1 MiB + 64 KiB each) between
// listings, which matters to callers that poll small files often.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, MinReadSize+MaxLineLen)
	return &b
}}

// release returns the buffer to the pool; the reader must not be used
// afterwards, nor any line it returned.
func (l *lineReader) release() {
	if l.buf != nil {
		b := l.buf
		l.buf = nil
		bufPool.Put(&b)
	}
}

// errLineTooLong is returned when a line exceeds MaxLineLen.
var errLineTooLong = errors.New("line too long")

// next returns the next line without its '\n'. A final line without '\n'
// is returned too. At the end it returns io.EOF, or the reader's error.
func (l *lineReader) next() ([]byte, error) {
	if l.buf == nil {
		l.buf = *bufPool.Get().(*[]byte)
		l.start, l.end = 0, 0
	}
	for {
		if i := bytes.IndexByte(l.buf[l.start:l.end], '\n'); i >= 0 {
			line := l.buf[l.start : l.start+i]
			l.start += i + 1
			l.line++
			if len(line) > MaxLineLen {
				return line, errLineTooLong
			}
			return line, nil
		}
		if l.end-l.start > MaxLineLen {
			l.line++
			return l.buf[l.start:l.end], errLineTooLong
		}
		if l.err != nil {
			if l.start < l.end {
				line := l.buf[l.start:l.end]
				l.start = l.end
				l.line++
				return line, nil
			}
			return nil, l.err
		}
		// Keep the partial line at the front; the rest of the buffer,
		// at least MinReadSize bytes, is one read request.
		n := copy(l.buf, l.buf[l.start:l.end])
		l.start, l.end = 0, n
		for empty := 0; ; empty++ {
			m, err := l.r.Read(l.buf[l.end:])
			l.reads++
			l.bytes += int64(m)
			if m > l.maxRead {
				l.maxRead = m
			}
			l.end += m
			if err != nil {
				l.err = err
				break
			}
			if m > 0 {
				break
			}
			if empty >= 100 {
				l.err = io.ErrNoProgress
				break
			}
		}
	}
}

// fields splits line on runs of spaces into at most len(dst) fields and
// returns how many it found; rest is what follows the last field found
// when dst was filled (starting at its first byte after the separator).
func fields(line []byte, dst [][]byte) (n int, rest []byte) {
	i := 0
	for n < len(dst) {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i >= len(line) {
			return n, nil
		}
		j := i
		for j < len(line) && line[j] != ' ' {
			j++
		}
		dst[n] = line[i:j]
		n++
		i = j
	}
	if i < len(line) {
		return n, line[i:]
	}
	return n, nil
}

// hexVal returns the value of an ASCII hex digit, or 0xff.
func hexVal(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 0xff
}

// parseHex parses 1..16 hex digits.
func parseHex(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		d := hexVal(c)
		if d == 0xff {
			return 0, false
		}
		v = v<<4 | uint64(d)
	}
	return v, true
}

// parseDec parses a decimal number no larger than max.
func parseDec(b []byte, max uint64) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (max-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// parseInt32 parses a decimal int32 (the kernel's %d) and returns its bits
// as a uint32, the way netlink carries the same value.
func parseInt32(b []byte) (uint32, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if neg {
		v, ok := parseDec(b, 1<<31)
		return uint32(-int64(v)), ok
	}
	v, ok := parseDec(b, 1<<31-1)
	return uint32(v), ok
}

// parsePort parses a port printed with %04X.
func parsePort(b []byte) (uint16, bool) {
	if len(b) == 0 || len(b) > 4 {
		return 0, false
	}
	v, ok := parseHex(b)
	return uint16(v), ok
}

// parseAddr parses an address field: 8 hex digits of a host-order IPv4
// address, or an IPv6 address (the uncompressed %pI6 form quickly, any
// other form through netip.ParseAddr).
func parseAddr(b []byte) (netip.Addr, bool) {
	if len(b) == 8 {
		v, ok := parseHex(b)
		if !ok {
			return netip.Addr{}, false
		}
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
	}
	if len(b) == 39 {
		var a [16]byte
		ok := true
		for g := 0; g < 8; g++ {
			o := g * 5
			if g < 7 && b[o+4] != ':' {
				ok = false
				break
			}
			h0, h1, h2, h3 := hexVal(b[o]), hexVal(b[o+1]), hexVal(b[o+2]), hexVal(b[o+3])
			if h0|h1|h2|h3 > 15 {
				ok = false
				break
			}
			a[2*g] = h0<<4 | h1
			a[2*g+1] = h2<<4 | h3
		}
		if ok {
			return netip.AddrFrom16(a), true
		}
	}
	if bytes.IndexByte(b, ':') < 0 || len(b) > 45 || bytes.IndexByte(b, '%') >= 0 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(string(b))
	if err != nil || !a.Is6() {
		return netip.Addr{}, false
	}
	return a, true
}
