package ipvsadmfmt

import (
	"bufio"
	"io"
	"math"
	"strconv"

	"github.com/ipvs-tools/ipvs/ipvsadmargs"
)

// ConnFile is the kernel's connection table.
const ConnFile = "/proc/net/ip_vs_conn"

// connReadBuffer is the read size for ConnFile: every read(2) makes the
// kernel restart its walk of the connection table, so reads are large.
const connReadBuffer = 1 << 20

// fgetsSize is the size of ipvsadm's line buffer: fgets returns at most
// 255 bytes, so longer lines are split.
const fgetsSize = 256

// ListError is a listing failure: the message (possibly empty) ipvsadm
// prints on stderr and its exit status.
type ListError struct {
	Msg    string
	Status int
}

func (e *ListError) Error() string { return e.Msg }

// connState holds print_conn's variables. ipvsadm's sscanf leaves
// variables it could not convert untouched, so values of an earlier line
// survive into a short line; they are kept here across lines.
type connState struct {
	protocol, temp1, temp2, temp3, state, peName, peData string
	cport, vport, dport                                  uint16
	expires                                              uint32
	caddr, vaddr, daddr                                  [16]byte
}

// WriteConnections writes the -L -c listing of the connection table read
// from r, as ipvsadm's list_conn and print_conn do. It returns a
// *ListError when ipvsadm would exit early.
func WriteConnections(w io.Writer, r io.Reader, f Format, res Resolver) error {
	if res == nil {
		res = NoNames{}
	}
	br := bufio.NewReaderSize(r, connReadBuffer)
	if _, ok := fgets(br); !ok {
		return &ListError{Msg: "unexpected input from " + ConnFile + "\n", Status: 1}
	}
	io.WriteString(w, "IPVS connection entries\n")
	if f.PersistentConn {
		io.WriteString(w, "pro expire "+padRight("state", 11)+" "+padRight("source", 18)+" "+
			padRight("virtual", 18)+" "+padRight("destination", 18)+" "+padRight("pe name", 16)+" pe_data\n")
	} else {
		io.WriteString(w, "pro expire "+padRight("state", 11)+" "+padRight("source", 18)+" "+
			padRight("virtual", 18)+" destination\n")
	}
	var st connState
	for {
		line, ok := fgets(br)
		if !ok {
			return nil
		}
		if err := st.printConn(w, line, f, res); err != nil {
			return err
		}
	}
}

// fgets reads what fgets(buf, 256, stream) would: up to and including a
// newline, at most 255 bytes.
func fgets(br *bufio.Reader) ([]byte, bool) {
	var line []byte
	for len(line) < fgetsSize-1 {
		c, err := br.ReadByte()
		if err != nil {
			// End of file or a read error: fgets returns what it has.
			if len(line) == 0 {
				return nil, false
			}
			return line, true
		}
		line = append(line, c)
		if c == '\n' {
			break
		}
	}
	return line, true
}

// printConn is ipvsadm's print_conn for one line.
func (st *connState) printConn(w io.Writer, buf []byte, f Format, res Resolver) error {
	n := st.scan(buf)
	if n == -1 {
		return &ListError{Status: 1}
	}
	var proto uint16
	switch st.protocol {
	case "TCP":
		proto = protoTCP
	case "UDP":
		proto = protoUDP
	case "SCTP":
		proto = protoSCTP
	}
	af, daf := afInet, afInet
	if a, ok := ipvsadmargs.InetPton6(st.temp1); ok {
		st.caddr = a
		if v, ok := ipvsadmargs.InetPton6(st.temp2); ok {
			st.vaddr = v
		}
		af = afInet6
	} else if a, ok := ipvsadmargs.InetPton4(st.temp1); ok {
		copy(st.caddr[:4], a[:])
		if v, ok := ipvsadmargs.InetPton4(st.temp2); ok {
			copy(st.vaddr[:4], v[:])
		}
	} else {
		putHex(&st.caddr, st.temp1)
		putHex(&st.vaddr, st.temp2)
	}
	if a, ok := ipvsadmargs.InetPton6(st.temp3); ok {
		st.daddr = a
		daf = afInet6
	} else if a, ok := ipvsadmargs.InetPton4(st.temp3); ok {
		copy(st.daddr[:4], a[:])
	} else {
		putHex(&st.daddr, st.temp3)
	}
	cname := addrPortToAnyname(af, st.caddr, st.cport, proto, f.Numeric, res)
	vname := addrPortToAnyname(af, st.vaddr, st.vport, proto, f.Numeric, res)
	dname := addrPortToAnyname(daf, st.daddr, st.dport, proto, f.Numeric, res)
	expire := twoDigits(int32(st.expires/60)) + ":" + twoDigits(int32(st.expires%60))
	if f.PersistentConn && n == 11 {
		io.WriteString(w, padRight(st.protocol, 3)+" "+padRight(expire, 6)+" "+padRight(st.state, 11)+" "+
			padRight(cname, 18)+" "+padRight(vname, 18)+" "+padRight(dname, 16)+" "+padRight(st.peName, 18)+" "+st.peData+"\n")
	} else {
		io.WriteString(w, padRight(st.protocol, 3)+" "+padRight(expire, 6)+" "+padRight(st.state, 11)+" "+
			padRight(cname, 18)+" "+padRight(vname, 18)+" "+dname+"\n")
	}
	return nil
}

// twoDigits is printf("%02d").
func twoDigits(v int32) string {
	s := strconv.Itoa(int(v))
	if len(s) < 2 {
		return "0" + s
	}
	return s
}

// putHex stores htonl(strtoul(s, NULL, 16)) in the first four bytes.
func putHex(b *[16]byte, s string) {
	v := hexStrtoul(s)
	u := uint32(v)
	b[0], b[1], b[2], b[3] = byte(u>>24), byte(u>>16), byte(u>>8), byte(u)
}

func hexStrtoul(s string) uint64 {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if i+2 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && hexDigit(s[i+2]) >= 0 {
		i += 2
	}
	var v uint64
	for ; i < len(s); i++ {
		d := hexDigit(s[i])
		if d < 0 {
			break
		}
		if v > (math.MaxUint64-uint64(d))/16 {
			return math.MaxUint64
		}
		v = v*16 + uint64(d)
	}
	if neg {
		v = -v
	}
	return v
}

func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// scanner emulates sscanf on one buffer.
type scanner struct {
	b []byte
	i int
}

// skip skips white space; false at the end of the input (input failure).
func (s *scanner) skip() bool {
	for s.i < len(s.b) && isSpace(s.b[s.i]) {
		s.i++
	}
	return s.i < len(s.b)
}

// str is %s.
func (s *scanner) str() (string, bool) {
	if !s.skip() {
		return "", false
	}
	start := s.i
	for s.i < len(s.b) && !isSpace(s.b[s.i]) && s.b[s.i] != 0 {
		s.i++
	}
	return string(s.b[start:s.i]), true
}

// num is %hX (base 16) or %d (base 10); ok=false with eof=false is a
// matching failure.
func (s *scanner) num(base int) (v int64, ok, eof bool) {
	if !s.skip() {
		return 0, false, true
	}
	i := s.i
	neg := false
	if s.b[i] == '+' || s.b[i] == '-' {
		neg = s.b[i] == '-'
		i++
	}
	if base == 16 && i+2 < len(s.b) && s.b[i] == '0' && (s.b[i+1] == 'x' || s.b[i+1] == 'X') && hexDigit(s.b[i+2]) >= 0 {
		i += 2
	}
	start := i
	var u uint64
	over := false
	for i < len(s.b) {
		d := hexDigit(s.b[i])
		if d < 0 || d >= base {
			break
		}
		if u > (math.MaxUint64-uint64(d))/uint64(base) {
			over = true
		} else {
			u = u*uint64(base) + uint64(d)
		}
		i++
	}
	if i == start {
		return 0, false, false
	}
	s.i = i
	if base == 16 {
		if over {
			u = math.MaxUint64
		}
		if neg {
			u = -u
		}
		return int64(u), true, false
	}
	// %d: strtol semantics, then truncated to int.
	if neg {
		if over || u > 1<<63 {
			return math.MinInt64, true, false
		}
		return -int64(u), true, false
	}
	if over || u > math.MaxInt64 {
		return math.MaxInt64, true, false
	}
	return int64(u), true, false
}

// scan is sscanf(buf, "%s %s %hX %s %hX %s %hX %s %d %s %s", ...): it
// returns the number of conversions, or -1 when the input ends before the
// first one.
func (st *connState) scan(buf []byte) int {
	s := &scanner{b: buf}
	// A NUL ends the C string.
	for i, c := range buf {
		if c == 0 {
			s.b = buf[:i]
			break
		}
	}
	n := 0
	strs := []*string{&st.protocol, &st.temp1}
	for _, p := range strs {
		v, ok := s.str()
		if !ok {
			return eofOr(n)
		}
		*p = v
		n++
	}
	steps := []struct {
		port *uint16
		str  *string
	}{
		{&st.cport, &st.temp2},
		{&st.vport, &st.temp3},
		{&st.dport, &st.state},
	}
	for _, step := range steps {
		v, ok, eof := s.num(16)
		if eof {
			return eofOr(n)
		}
		if !ok {
			return n
		}
		*step.port = uint16(v)
		n++
		str, ok := s.str()
		if !ok {
			return eofOr(n)
		}
		*step.str = str
		n++
	}
	v, ok, eof := s.num(10)
	if eof {
		return eofOr(n)
	}
	if !ok {
		return n
	}
	st.expires = uint32(int32(v))
	n++
	for _, p := range []*string{&st.peName, &st.peData} {
		v, ok := s.str()
		if !ok {
			return eofOr(n)
		}
		*p = v
		n++
	}
	return n
}

func eofOr(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
