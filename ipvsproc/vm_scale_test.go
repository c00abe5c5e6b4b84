package ipvsproc

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
	"github.com/ipvs-tools/ipvs/netns"
	"golang.org/x/sys/unix"
)

// gateConns is how many connection entries TestVMScale creates: more than
// the kernel's 4,096 hash buckets, so that its reads cross pages in the
// middle of bucket chains and the parser's large reads span hundreds of
// the kernel's pages, as at 100,000, in seconds rather than minutes.
// BenchmarkVMConnList makes benchConns.
const (
	gateConns  = 10000
	benchConns = 100000
)

// TestVMScale fills a director's connection table with 10,000 entries and
// checks that the parser and the reference ipvsadm -Lcn agree
// on every one, and that our ipvsadm -Lcn prints what the reference prints.
//
//vmtest:budget 2m
func TestVMScale(t *testing.T) {
	vmtest.Require(t)
	connScale(t, gateConns)
}

// BenchmarkVMConnList is TestVMScale with 100,000 entries, timed: the
// parser and our ipvsadm -Lcn against the reference ipvsadm -Lcn in the
// same boot (go run ./tools/vmrun bench -run ConnList ./ipvsproc).
//
//vmtest:budget 20m
func BenchmarkVMConnList(b *testing.B) {
	vmtest.Require(b)
	m := connScale(b, benchConns)
	b.ReportMetric(float64(m.entries), "entries")
	b.ReportMetric(float64(m.refRead)/float64(m.parser), "x-parser-vs-ipvsadm")
	b.ReportMetric(float64(m.ref)/float64(m.ours), "x-Lcn-vs-ipvsadm")
}

// connMeasures are the timings of one connScale run, all in one boot.
type connMeasures struct {
	entries int
	// parser is the library parser's read of the whole table; refRead
	// the reference ipvsadm -Lcn read during the comparison.
	parser, refRead time.Duration
	// ours and ref are the best of two runs of each ipvsadm -Lcn.
	ours, ref time.Duration
}

// connScale fills a director's connection table with at least want
// entries, made by a packet generator in this test binary that sends TCP
// SYNs (then an ACK, which moves them to ESTABLISHED and its settable
// timeout) from many source ports and a few source addresses in a client
// namespace. It then reads the table with the parser and with the
// reference ipvsadm -Lcn, checks that both give the same set of entries,
// checks that our ipvsadm -Lcn prints what the reference prints, and
// returns how long each took.
func connScale(t testing.TB, want int) connMeasures {
	t.Helper()
	addNetns(t, "xd") // director
	addNetns(t, "xc") // client
	link(t, "xd", "c0", "10.70.0.1/16", "xc", "eth0", "10.70.0.2/16 10.70.0.3/16 10.70.0.4/16 10.70.0.5/16")
	// The real servers are addresses behind a dummy device: the SYNs leave
	// and nothing answers, so no RST closes the entries.
	sh(t, ipFull+` -n xd link add d0 type dummy
`+ipFull+` -n xd addr add 10.71.0.1/24 dev d0
`+ipFull+` -n xd link set d0 up
echo 1 > /proc/sys/net/ipv4/ip_forward
echo 200000 > /proc/sys/net/core/netdev_max_backlog
`)
	mustRef(t, "xd", "--set", "3600", "120", "300")
	mustRef(t, "xd", "-A", "-t", "10.70.0.1:80", "-s", "rr")
	mustRef(t, "xd", "-a", "-t", "10.70.0.1:80", "-r", "10.71.0.2:80", "-m")
	mustRef(t, "xd", "-a", "-t", "10.70.0.1:80", "-r", "10.71.0.3:80", "-m")

	srcs := []netip.Addr{
		netip.MustParseAddr("10.70.0.2"), netip.MustParseAddr("10.70.0.3"),
		netip.MustParseAddr("10.70.0.4"), netip.MustParseAddr("10.70.0.5"),
	}
	perAddr := (want + len(srcs) - 1) / len(srcs)
	if perAddr > 60000 {
		t.Fatalf("%d entries need more than 60000 ports per address", want)
	}
	gen, err := newSynGen("xc")
	if err != nil {
		t.Fatal(err)
	}
	defer gen.close()
	dst := netip.MustParseAddrPort("10.70.0.1:80")

	count := func() int {
		n := 0
		err := ReadConns(func(c *Conn) error {
			if c.State == "ESTABLISHED" {
				n++
			}
			return nil
		}, WithNetNS("xd"))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	start := time.Now()
	have := 0
	for pass := 1; pass <= 4 && have < want; pass++ {
		p0 := time.Now()
		sent := 0
		for _, src := range srcs {
			n, err := gen.send(src, dst, 1024, perAddr)
			if err != nil {
				t.Fatal(err)
			}
			sent += n
		}
		have = count()
		t.Logf("generator pass %d: %d packets in %v; table now has %d ESTABLISHED entries", pass, sent, time.Since(p0).Round(time.Millisecond), have)
	}
	t.Logf("created %d connection entries in %v", have, time.Since(start).Round(time.Millisecond))
	if have < want {
		t.Fatalf("only %d ESTABLISHED entries after 4 passes, want %d", have, want)
	}

	// Time the parser and the reference on the same table, in this boot.
	// Both pay the kernel's walk of the hash table from the start on every
	// read(2) (one page per read in 6.1); ipvsadm also formats its output.
	runtime.GC()
	t0 := time.Now()
	f, err := Open(ConnFile, WithNetNS("xd"))
	if err != nil {
		t.Fatal(err)
	}
	s := NewConnScanner(f)
	conns := make([]Conn, 0, have)
	for s.Scan() {
		conns = append(conns, *s.Conn())
	}
	f.Close()
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	m := connMeasures{parser: time.Since(t0)}
	calls, bytes, largest := s.Reads()
	t.Logf("parser: %d entries in %v; %d read(2) calls asking %d bytes each, %d bytes in all, largest result %d",
		len(conns), m.parser.Round(time.Millisecond), calls, MinReadSize, bytes, largest)

	t0 = time.Now()
	refOut := mustRef(t, "xd", "-Lcn")
	m.refRead = time.Since(t0)
	t.Logf("ipvsadm -Lcn (via ip netns exec): %d bytes of output in %v", len(refOut), m.refRead.Round(time.Millisecond))

	// Same entries: every ESTABLISHED one (an hour to live, so nothing
	// changes in between), without the expiry column. Entries the
	// generator left in another state (a SYN whose ACK was lost: 60 s in
	// SYN_RECV) may expire between the two reads and are not compared.
	wantRows, err := lcnRowsFromOutput(refOut, false)
	if err != nil {
		t.Fatal(err)
	}
	wantRows, refOther := establishedRows(wantRows)
	sort.Strings(wantRows)
	gotRows, ourOther := establishedRows(sortedRows(conns, false))
	t.Logf("entries in other states (not compared): %d read by the parser, %d by ipvsadm", ourOther, refOther)
	if d := diffRows(gotRows, wantRows); d != "" {
		t.Fatalf("parser (%d entries) and ipvsadm -Lcn (%d rows) disagree:\n%s", len(gotRows), len(wantRows), d)
	}
	for i := range conns {
		if conns[i].State == "ESTABLISHED" {
			m.entries++
		}
	}
	t.Logf("parser and ipvsadm -Lcn agree on all %d entries (%d ESTABLISHED); sample: %s", len(conns), m.entries, lcnRow(&conns[len(conns)/2], true))
	t.Logf("MEASURE entries=%d parser=%v ipvsadm-Lcn=%v ratio(ipvsadm/parser)=%.2f", len(conns),
		m.parser.Round(time.Millisecond), m.refRead.Round(time.Millisecond), float64(m.refRead)/float64(m.parser))

	// Our ipvsadm -Lcn against the reference, both started the same way
	// (ip netns exec) and timed alternately: the same output, apart from
	// the expiry column, which moves between the runs.
	nsRun := func(bin string) (string, time.Duration) {
		runtime.GC()
		t0 := time.Now()
		r := vmtest.Run(t, ipFull, "ip", "", "netns", "exec", "xd", bin, "-Lcn")
		d := time.Since(t0)
		if r.Code != 0 {
			t.Fatalf("%s -Lcn: %s", bin, r)
		}
		return r.Stdout, d
	}
	var oursOut string
	for i := 0; i < 2; i++ {
		o, d := nsRun(vmtest.OursPath)
		if i == 0 || d < m.ours {
			m.ours = d
		}
		oursOut = o
		r, d := nsRun(vmtest.RefPath)
		if i == 0 || d < m.ref {
			m.ref = d
		}
		refOut = r
	}
	// Entries in other states may expire between the runs (see above).
	if got, want := onlyEstablished(maskExpiry(oursOut)), onlyEstablished(maskExpiry(refOut)); got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("our ipvsadm -Lcn differs from the reference at line %d:\nours: %q\nref:  %q", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("our ipvsadm -Lcn has %d lines, the reference %d", len(gl), len(wl))
	}
	t.Logf("MEASURE entries=%d ours-ipvsadm-Lcn=%v ref-ipvsadm-Lcn=%v ratio(ref/ours)=%.2f (best of 2 each; output identical apart from expiry and entries not ESTABLISHED)",
		len(conns), m.ours.Round(time.Millisecond), m.ref.Round(time.Millisecond), float64(m.ref)/float64(m.ours))
	return m
}

// establishedRows keeps the rows (as lcnRow formats them) in state
// ESTABLISHED and counts the others.
func establishedRows(rows []string) (kept []string, other int) {
	for _, r := range rows {
		if f := strings.Fields(r); len(f) > 2 && f[2] == "ESTABLISHED" {
			kept = append(kept, r)
		} else {
			other++
		}
	}
	return kept, other
}

// onlyEstablished drops the connection rows of an ipvsadm -Lc output
// whose state is not ESTABLISHED, keeping the titles.
func onlyEstablished(out string) string {
	lines := strings.Split(out, "\n")
	kept := lines[:0]
	for i, l := range lines {
		if f := strings.Fields(l); i < 2 || len(f) < 3 || f[2] == "ESTABLISHED" {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "\n")
}

// maskExpiry blanks the expire column (the second) of ipvsadm -Lc rows.
func maskExpiry(out string) string {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if len(l) > 10 && l[3] == ' ' && !strings.HasPrefix(l, "pro ") && !strings.HasPrefix(l, "IPVS ") {
			lines[i] = l[:4] + "XXXXXX" + l[10:]
		}
	}
	return strings.Join(lines, "\n")
}

// synGen sends hand-made TCP segments from a raw socket opened in a
// namespace.
type synGen struct {
	fd int
}

func newSynGen(ns string) (*synGen, error) {
	g := &synGen{fd: -1}
	err := netns.Do(ns, func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
		g.fd = fd
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("raw socket in %s: %w", ns, err)
	}
	if err := unix.SetsockoptInt(g.fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 16<<20); err != nil {
		return nil, err
	}
	return g, nil
}

func (g *synGen) close() { unix.Close(g.fd) }

// mmsghdr is struct mmsghdr of sendmmsg(2).
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

// send sends, for each of count source ports starting at firstPort, a SYN
// and then an ACK from src to dst, in batches with sendmmsg(2). It returns
// the number of packets sent.
func (g *synGen) send(src netip.Addr, dst netip.AddrPort, firstPort, count int) (int, error) {
	const batch = 256 // half SYNs, half ACKs
	const plen = 40
	bufs := make([]byte, batch*plen)
	iovs := make([]unix.Iovec, batch)
	msgs := make([]mmsghdr, batch)
	sa := unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: dst.Addr().As4()}
	sent := 0
	for base := 0; base < count; base += batch / 2 {
		n := 0
		for i := 0; i < batch/2 && base+i < count; i++ {
			port := uint16(firstPort + base + i)
			seq := uint32(port)<<16 | 0x1234
			buildTCP(bufs[n*plen:(n+1)*plen], src, dst, port, seq, 0, 0x02) // SYN
			n++
			buildTCP(bufs[n*plen:(n+1)*plen], src, dst, port, seq+1, 1, 0x10) // ACK
			n++
		}
		for i := 0; i < n; i++ {
			iovs[i].Base = &bufs[i*plen]
			iovs[i].SetLen(plen)
			msgs[i].hdr.Name = (*byte)(unsafe.Pointer(&sa))
			msgs[i].hdr.Namelen = unix.SizeofSockaddrInet4
			msgs[i].hdr.Iov = &iovs[i]
			msgs[i].hdr.SetIovlen(1)
		}
		for off := 0; off < n; {
			r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(g.fd), uintptr(unsafe.Pointer(&msgs[off])), uintptr(n-off), 0, 0, 0)
			if errno == unix.ENOBUFS || errno == unix.EAGAIN || errno == unix.EINTR {
				time.Sleep(time.Millisecond)
				continue
			}
			if errno != 0 {
				return sent, fmt.Errorf("sendmmsg: %w", errno)
			}
			off += int(r)
			sent += int(r)
		}
		runtime.KeepAlive(bufs)
		runtime.KeepAlive(iovs)
		runtime.KeepAlive(&sa)
	}
	return sent, nil
}

// buildTCP writes a 20-byte IPv4 header and a 20-byte TCP header with the
// given flags into b (the kernel fills in the IPv4 checksum and ID).
func buildTCP(b []byte, src netip.Addr, dst netip.AddrPort, sport uint16, seq, ack uint32, flags byte) {
	clear(b)
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], 40)
	b[6] = 0x40 // DF
	b[8] = 64
	b[9] = unix.IPPROTO_TCP
	s4, d4 := src.As4(), dst.Addr().As4()
	copy(b[12:16], s4[:])
	copy(b[16:20], d4[:])
	tcp := b[20:40]
	binary.BigEndian.PutUint16(tcp[0:], sport)
	binary.BigEndian.PutUint16(tcp[2:], dst.Port())
	binary.BigEndian.PutUint32(tcp[4:], seq)
	binary.BigEndian.PutUint32(tcp[8:], ack)
	tcp[12] = 5 << 4
	tcp[13] = flags
	binary.BigEndian.PutUint16(tcp[14:], 65535)
	// checksum over the pseudo-header and the segment
	var sum uint32
	for i := 0; i < 4; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(s4[i:])) + uint32(binary.BigEndian.Uint16(d4[i:]))
	}
	sum += unix.IPPROTO_TCP + 20
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(tcp[i:]))
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(tcp[16:], ^uint16(sum))
}
