package ipvsadmfmt

import (
	"bufio"
	"bytes"
	"io"
	"strconv"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/intern"
	"github.com/ipvs-tools/ipvs/internal/ipvsadmargs"
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
	protocol, state, peName, peData string
	temp1, temp2, temp3             []byte // reused buffers
	cport, vport, dport             uint16
	expires                         uint32
	caddr, vaddr, daddr             [16]byte
	// line is the output line being built, reused.
	line []byte
}

// WriteConnections writes the -L -c listing of the connection table read
// from r, as ipvsadm's list_conn and print_conn do. It returns a
// *ListError when ipvsadm would exit early.
func WriteConnections(w io.Writer, r io.Reader, f Format, res Resolver) error {
	if res == nil {
		res = NoNames{}
	}
	lr := &lineReader{br: bufio.NewReaderSize(r, connReadBuffer)}
	if _, ok := lr.fgets(); !ok {
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
		line, ok := lr.fgets()
		if !ok {
			return nil
		}
		if err := st.printConn(w, line, f, res); err != nil {
			return err
		}
	}
}

// lineReader returns what successive fgets(buf, 256, stream) calls
// would: up to and including a newline, at most 255 bytes, so a longer
// line comes in pieces. Lines are slices of the reader's buffer, valid
// until the next call.
type lineReader struct {
	br   *bufio.Reader
	rest []byte // the part of the current line not yet returned
	long []byte // a line longer than the bufio buffer
}

func (lr *lineReader) fgets() ([]byte, bool) {
	if len(lr.rest) == 0 {
		line, err := lr.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			lr.long = append(lr.long[:0], line...)
			for err == bufio.ErrBufferFull {
				line, err = lr.br.ReadSlice('\n')
				lr.long = append(lr.long, line...)
			}
			line = lr.long
		}
		if len(line) == 0 {
			// End of file or a read error: fgets returns nothing.
			return nil, false
		}
		lr.rest = line
	}
	n := min(len(lr.rest), fgetsSize-1)
	out := lr.rest[:n]
	lr.rest = lr.rest[n:]
	return out, true
}

// printConn is ipvsadm's print_conn for one line.
func (st *connState) printConn(w io.Writer, buf []byte, f Format, res Resolver) error {
	n := st.scan(buf)
	if n == -1 {
		return &ListError{Status: 1}
	}
	var proto ipvs.Protocol
	switch st.protocol {
	case "TCP":
		proto = ipvs.ProtoTCP
	case "UDP":
		proto = ipvs.ProtoUDP
	case "SCTP":
		proto = ipvs.ProtoSCTP
	}
	af, daf := ipvs.AFInet, ipvs.AFInet
	if a, ok := pton6(st.temp1); ok {
		st.caddr = a
		if v, ok := pton6(st.temp2); ok {
			st.vaddr = v
		}
		af = ipvs.AFInet6
	} else if a, ok := pton4(st.temp1); ok {
		copy(st.caddr[:4], a[:])
		if v, ok := pton4(st.temp2); ok {
			copy(st.vaddr[:4], v[:])
		}
	} else {
		putHex(&st.caddr, st.temp1)
		putHex(&st.vaddr, st.temp2)
	}
	if a, ok := pton6(st.temp3); ok {
		st.daddr = a
		daf = ipvs.AFInet6
	} else if a, ok := pton4(st.temp3); ok {
		copy(st.daddr[:4], a[:])
	} else {
		putHex(&st.daddr, st.temp3)
	}
	b := st.line[:0]
	b = appendPadded(b, st.protocol, 3)
	b = append(b, ' ')
	start := len(b)
	b = appendTwoDigits(b, int32(st.expires/60))
	b = append(b, ':')
	b = appendTwoDigits(b, int32(st.expires%60))
	b = appendBlanks(b, 6-(len(b)-start))
	b = append(b, ' ')
	b = appendPadded(b, st.state, 11)
	b = append(b, ' ')
	start = len(b)
	b = appendAddrPort(b, af, st.caddr, st.cport, proto, f.Numeric, res)
	b = appendBlanks(b, 18-(len(b)-start))
	b = append(b, ' ')
	start = len(b)
	b = appendAddrPort(b, af, st.vaddr, st.vport, proto, f.Numeric, res)
	b = appendBlanks(b, 18-(len(b)-start))
	b = append(b, ' ')
	start = len(b)
	b = appendAddrPort(b, daf, st.daddr, st.dport, proto, f.Numeric, res)
	if f.PersistentConn && n == 11 {
		b = appendBlanks(b, 16-(len(b)-start))
		b = append(b, ' ')
		b = appendPadded(b, st.peName, 18)
		b = append(b, ' ')
		b = append(b, st.peData...)
	}
	b = append(b, '\n')
	st.line = b
	_, err := w.Write(b)
	return err
}

// appendAddrPort appends addrport_to_anyname's result; the numeric IPv4
// case, nearly every row, is formatted in place.
func appendAddrPort(b []byte, af ipvs.AddressFamily, a [16]byte, port uint16, proto ipvs.Protocol, numeric bool, res Resolver) []byte {
	if numeric && af == ipvs.AFInet {
		for i := 0; i < 4; i++ {
			if i > 0 {
				b = append(b, '.')
			}
			b = strconv.AppendUint(b, uint64(a[i]), 10)
		}
		b = append(b, ':')
		return strconv.AppendUint(b, uint64(port), 10)
	}
	return append(b, addrPortToAnyname(af, a, port, proto, numeric, res)...)
}

func appendPadded(b []byte, s string, n int) []byte {
	b = append(b, s...)
	return appendBlanks(b, n-len(s))
}

// appendTwoDigits is printf("%02d").
func appendTwoDigits(b []byte, v int32) []byte {
	if v >= 0 && v < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(v), 10)
}

// pton6 is inet_pton(AF_INET6); text without a colon can't be IPv6, and
// the kernel's hex IPv4 fields are the common case.
func pton6(b []byte) ([16]byte, bool) {
	if bytes.IndexByte(b, ':') < 0 {
		return [16]byte{}, false
	}
	return ipvsadmargs.InetPton6(string(b))
}

// pton4 is inet_pton(AF_INET), which needs dots.
func pton4(b []byte) ([4]byte, bool) {
	if bytes.IndexByte(b, '.') < 0 {
		return [4]byte{}, false
	}
	return ipvsadmargs.InetPton4(string(b))
}

// putHex stores htonl(strtoul(s, NULL, 16)) in the first four bytes.
func putHex(b *[16]byte, s []byte) {
	v, _, _ := ipvsadmargs.Strtoul(s, 16)
	u := uint32(v)
	b[0], b[1], b[2], b[3] = byte(u>>24), byte(u>>16), byte(u>>8), byte(u)
}

// scanner emulates sscanf on one buffer.
type scanner struct {
	b []byte
	i int
}

// skip skips white space; false at the end of the input (input failure).
func (s *scanner) skip() bool {
	for s.i < len(s.b) && ipvsadmargs.IsCSpace(s.b[s.i]) {
		s.i++
	}
	return s.i < len(s.b)
}

// str is %s; the result aliases the input.
func (s *scanner) str() ([]byte, bool) {
	if !s.skip() {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) && !ipvsadmargs.IsCSpace(s.b[s.i]) && s.b[s.i] != 0 {
		s.i++
	}
	return s.b[start:s.i], true
}

// num is %hX (base 16, strtoul's conversion) or %d (base 10, strtol's);
// ok=false with eof=false is a matching failure.
func (s *scanner) num(base int) (v int64, ok, eof bool) {
	if !s.skip() {
		return 0, false, true
	}
	var end int
	if base == 16 {
		var u uint64
		u, end, _ = ipvsadmargs.Strtoul(s.b[s.i:], 16)
		v = int64(u)
	} else {
		v, end, _ = ipvsadmargs.Strtol(s.b[s.i:], 10)
	}
	if end == 0 {
		return 0, false, false
	}
	s.i += end
	return v, true, false
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
	v, ok := s.str()
	if !ok {
		return eofOr(n)
	}
	st.protocol = interned.Get(v)
	n++
	if v, ok = s.str(); !ok {
		return eofOr(n)
	}
	st.temp1 = append(st.temp1[:0], v...)
	n++
	for step := 0; step < 3; step++ {
		v, ok, eof := s.num(16)
		if eof {
			return eofOr(n)
		}
		if !ok {
			return n
		}
		str, sok := s.str()
		switch step {
		case 0:
			st.cport = uint16(v)
		case 1:
			st.vport = uint16(v)
		case 2:
			st.dport = uint16(v)
		}
		n++
		if !sok {
			return eofOr(n)
		}
		switch step {
		case 0:
			st.temp2 = append(st.temp2[:0], str...)
		case 1:
			st.temp3 = append(st.temp3[:0], str...)
		case 2:
			st.state = interned.Get(str)
		}
		n++
	}
	num, ok, eof := s.num(10)
	if eof {
		return eofOr(n)
	}
	if !ok {
		return n
	}
	st.expires = uint32(int32(num))
	n++
	if v, ok = s.str(); !ok {
		return eofOr(n)
	}
	st.peName = string(v)
	n++
	if v, ok = s.str(); !ok {
		return eofOr(n)
	}
	st.peData = string(v)
	n++
	return n
}

// interned holds the protocol and state names the kernel prints, so that
// scanning them allocates nothing.
var interned = intern.New("TCP", "UDP", "SCTP", "IP", "ICMP", "ICMPv6",
	"NONE", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT", "TIME_WAIT", "CLOSE", "CLOSE_WAIT",
	"LAST_ACK", "LISTEN", "SYNACK", "ASSURED", "INIT1", "INIT", "C-SENT", "C-REPLIED", "C-WAIT",
	"COOKIE", "C-ECHOED", "S-SENT", "S-RECEIVED", "S-ACK-SENT", "REJECTED", "CLOSED")

func eofOr(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
