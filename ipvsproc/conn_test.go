package ipvsproc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// The real lines captured in the 6.1 VM (testdata/conn-6.1-mixed.txt): IPv6,
// IPv4, a persistence template, and an IPv6 connection to an IPv4 tunnel
// destination.
var mixedWant = []Conn{
	{Protocol: ProtoTCP, Client: ap("[fd00:1::2]:42300"), Virtual: ap("[fd00:1::1]:80"), Dest: ap("[fd00:2::2]:80"), State: "TIME_WAIT", Expires: 116},
	{Protocol: ProtoTCP, Client: ap("10.1.0.2:48372"), Virtual: ap("10.1.0.1:82"), Dest: ap("10.2.0.2:81"), State: "TIME_WAIT", Expires: 118},
	{Protocol: ProtoTCP, Client: ap("10.1.0.0:0"), Virtual: ap("10.1.0.1:82"), Dest: ap("10.2.0.2:81"), State: "ASSURED", Expires: 58},
	{Protocol: ProtoTCP, Client: ap("10.1.0.2:37994"), Virtual: ap("10.1.0.1:80"), Dest: ap("10.2.0.2:80"), State: "TIME_WAIT", Expires: 116},
	{Protocol: ProtoTCP, Client: ap("[fd00:1::2]:57574"), Virtual: ap("[fd00:1::1]:81"), Dest: ap("10.2.0.2:81"), State: "SYN_RECV", Expires: 57},
}

func openTestdata(t testing.TB, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// mustConns reads every entry of r.
func mustConns(t testing.TB, r io.Reader) []Conn {
	t.Helper()
	conns, err := ReadAllConns(r)
	if err != nil {
		t.Fatal(err)
	}
	return conns
}

// mustServices parses the /proc/net/ip_vs text of r.
func mustServices(t testing.TB, r io.Reader) *ServiceTable {
	t.Helper()
	tab, err := ParseServices(r)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// wantParseError fails the test unless err is a *ParseError at line and
// field.
func wantParseError(t *testing.T, err error, line int, field string) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a *ParseError", err)
	}
	if pe.Line != line || pe.Field != field {
		t.Fatalf("error at line %d field %q, want line %d field %q: %v", pe.Line, pe.Field, line, field, err)
	}
}

func TestConnsRealMixed(t *testing.T) {
	got := mustConns(t, openTestdata(t, "conn-6.1-mixed.txt"))
	if !reflect.DeepEqual(got, mixedWant) {
		t.Fatalf("got\n%v\nwant\n%v", got, mixedWant)
	}
	if !got[2].IsTemplate() || got[0].IsTemplate() {
		t.Error("IsTemplate wrong")
	}
	if !got[4].Dest.Addr().Is4() || !got[4].Client.Addr().Is6() {
		t.Error("mixed-family entry: want an IPv6 client and an IPv4 destination")
	}
}

func TestConnSyncRealMixed(t *testing.T) {
	s := NewConnScanner(openTestdata(t, "conn_sync-6.1-mixed.txt"))
	var got []Conn
	for s.Scan() {
		got = append(got, *s.Conn())
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if !s.Sync() {
		t.Fatal("Sync() = false for the ip_vs_conn_sync header")
	}
	want := append([]Conn(nil), mixedWant...)
	for i := range want {
		want[i].Origin = OriginLocal
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%v\nwant\n%v", got, want)
	}
}

// TestConnsMatchReferenceOutput formats the parsed entries the way
// ipvsadm -Lcn does and compares them with what the reference printed for
// the same table in the VM.
func TestConnsMatchReferenceOutput(t *testing.T) {
	conns := mustConns(t, openTestdata(t, "conn-6.1-mixed.txt"))
	ref, err := os.ReadFile(filepath.Join("testdata", "conn-6.1-mixed.ipvsadm-Lcn.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := lcnRowsFromOutput(string(ref), true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := range conns {
		got = append(got, lcnRow(&conns[i], true))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows differ:\n%s\ngot:\n%s\nwant:\n%s", diffRows(got, want), strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestConnsRealFwmark reads a table captured in the VM with templates of
// an IPv4 and an IPv6 firewall-mark service (local clients with SO_MARK 7
// and 8): protocol IP, the mark in the first 32 bits of the virtual
// address.
func TestConnsRealFwmark(t *testing.T) {
	conns := mustConns(t, openTestdata(t, "conn-6.1-fwmark.txt"))
	if len(conns) != 16 {
		t.Fatalf("%d entries, want 16", len(conns))
	}
	marks := map[uint32]Conn{}
	for _, c := range conns {
		if m, ok := c.FWMark(); ok {
			marks[m] = c
		}
	}
	if c, ok := marks[7]; !ok || c.Client != ap("10.10.0.1:0") || c.Dest != ap("10.11.0.2:0") || c.State != "ASSURED" || !c.IsTemplate() {
		t.Errorf("IPv4 fwmark template: %+v", c)
	}
	if c, ok := marks[8]; !ok || c.Client != ap("[fd10::1]:0") || c.Virtual != ap("[0:8::]:0") || c.Dest != ap("[fd12::2]:0") {
		t.Errorf("IPv6 fwmark template: %+v", c)
	}
	if len(marks) != 2 {
		t.Errorf("%d fwmark templates, want 2", len(marks))
	}
}

func TestConnPEData(t *testing.T) {
	in := ConnHeader + "\n" +
		"UDP 0A00000A 13C4 0A000001 13C4 C0A80004 13C4 UDP             179 sip 3f1b2c@host\n" +
		"UDP 0A00000A 0000 0A000001 13C4 C0A80004 13C4 NONE            179 sip a b  c\n" +
		"UDP 0A00000A 0000 0A000001 13C4 C0A80004 13C4 NONE            179 sip \n"
	got := mustConns(t, strings.NewReader(in))
	want := []struct{ name, data string }{{"sip", "3f1b2c@host"}, {"sip", "a b  c"}, {"sip", ""}}
	if len(got) != len(want) {
		t.Fatalf("%d entries", len(got))
	}
	for i, w := range want {
		if got[i].PEName != w.name || got[i].PEData != w.data {
			t.Errorf("entry %d: PE %q %q, want %q %q", i, got[i].PEName, got[i].PEData, w.name, w.data)
		}
	}
	if got[0].Client != ap("10.0.0.10:5060") || got[0].Expires != 179 || got[0].State != "UDP" {
		t.Errorf("entry 0 = %v", got[0])
	}
}

func TestConnProtocolsAndTemplates(t *testing.T) {
	in := ConnHeader + "\n" +
		// fwmark template: protocol IP, the mark (7) in the virtual address
		"IP  0A010002 0000 00000007 0000 0A020002 0000 NONE            119\n" +
		"IP  fd00:0001:0000:0000:0000:0000:0000:0002 0000 0000:0008:0000:0000:0000:0000:0000:0000 0000 fd00:0002:0000:0000:0000:0000:0000:0002 0000 NONE            119\n" +
		"SCTP 0A010002 8001 0A010001 0050 0A020002 0050 ESTABLISHED     899\n" +
		"ICMPv6 fd00:0001:0000:0000:0000:0000:0000:0002 0000 fd00:0001:0000:0000:0000:0000:0000:0001 0000 fd00:0002:0000:0000:0000:0000:0000:0002 0000 OTHER            10\n" +
		"IP_47 0A010002 0000 0A010001 0000 0A020002 0000 NONE             1\n"
	got := mustConns(t, strings.NewReader(in))
	if len(got) != 5 {
		t.Fatalf("%d entries", len(got))
	}
	if m, ok := got[0].FWMark(); !ok || m != 7 {
		t.Errorf("IPv4 fwmark template: FWMark() = %d, %v", m, ok)
	}
	if m, ok := got[1].FWMark(); !ok || m != 8 {
		t.Errorf("IPv6 fwmark template: FWMark() = %d, %v", m, ok)
	}
	if _, ok := got[2].FWMark(); ok {
		t.Error("FWMark of an SCTP entry")
	}
	for i, p := range []Protocol{ProtoIP, ProtoIP, ProtoSCTP, ProtoICMPv6, 47} {
		if got[i].Protocol != p {
			t.Errorf("entry %d: protocol %v, want %v", i, got[i].Protocol, p)
		}
	}
	if got[4].Protocol.String() != "IP_47" {
		t.Errorf("String of protocol 47 = %q", got[4].Protocol)
	}
}

func TestConnRoundTrip(t *testing.T) {
	for _, sync := range []bool{false, true} {
		var b []byte
		if sync {
			b = append(b, ConnSyncHeader+"\n"...)
		} else {
			b = append(b, ConnHeader+"\n"...)
		}
		want := append([]Conn(nil), mixedWant...)
		want = append(want, Conn{Protocol: ProtoUDP, Client: ap("10.0.0.10:5060"), Virtual: ap("10.0.0.1:5060"),
			Dest: ap("[2001:db8::5]:5060"), State: "UDP", Expires: 1<<64 - 1, PEName: "sip", PEData: "x@y"})
		for i := range want {
			if sync {
				want[i].Origin = OriginSync
				want[i].PEName, want[i].PEData = "", ""
			}
			b = want[i].AppendProcLine(b, sync)
		}
		got, err := ReadAllConns(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("sync=%v: %v\n%s", sync, err, b)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("sync=%v: got\n%v\nwant\n%v\ninput:\n%s", sync, got, want, b)
		}
	}
	// The formatter reproduces the kernel's bytes.
	raw, err := os.ReadFile(filepath.Join("testdata", "conn-6.1-mixed.txt"))
	if err != nil {
		t.Fatal(err)
	}
	b := []byte(ConnHeader + "\n")
	for i := range mixedWant {
		b = mixedWant[i].AppendProcLine(b, false)
	}
	if !bytes.Equal(b, raw) {
		t.Fatalf("AppendProcLine:\n%s\nkernel:\n%s", b, raw)
	}
}

func TestConnMalformed(t *testing.T) {
	good := "TCP 0A010002 BCF4 0A010001 0052 0A020002 0051 TIME_WAIT       118"
	cases := []struct {
		name, in string
		line     int
		field    string
	}{
		{"empty", "", 1, "header"},
		{"no header", good + "\n", 1, "header"},
		{"short line", ConnHeader + "\n" + good + "\nTCP 0A010002 BCF4\n", 3, ""},
		{"bad protocol", ConnHeader + "\nXYZ 0A010002 BCF4 0A010001 0052 0A020002 0051 TIME_WAIT 1\n", 2, "protocol"},
		{"bad client", ConnHeader + "\nTCP 0A01000Z BCF4 0A010001 0052 0A020002 0051 TIME_WAIT 1\n", 2, "client address"},
		{"7 hex digits", ConnHeader + "\nTCP 0A01000 BCF4 0A010001 0052 0A020002 0051 TIME_WAIT 1\n", 2, "client address"},
		{"bad port", ConnHeader + "\nTCP 0A010002 BCF45 0A010001 0052 0A020002 0051 TIME_WAIT 1\n", 2, "client port"},
		{"bad vport", ConnHeader + "\nTCP 0A010002 BCF4 0A010001 -052 0A020002 0051 TIME_WAIT 1\n", 2, "virtual port"},
		{"bad dest", ConnHeader + "\nTCP 0A010002 BCF4 0A010001 0052 fd00::zz 0051 TIME_WAIT 1\n", 2, "destination address"},
		{"mixed client/virtual", ConnHeader + "\nTCP 0A010002 BCF4 fd00:0001:0000:0000:0000:0000:0000:0001 0052 0A020002 0051 TIME_WAIT 1\n", 2, "virtual address"},
		{"bad expiry", ConnHeader + "\nTCP 0A010002 BCF4 0A010001 0052 0A020002 0051 TIME_WAIT 1x\n", 2, "expires"},
		{"expiry overflow", ConnHeader + "\nTCP 0A010002 BCF4 0A010001 0052 0A020002 0051 TIME_WAIT 18446744073709551616\n", 2, "expires"},
		{"bad origin", ConnSyncHeader + "\n" + good[:62] + "REMOTE 1\n", 2, "origin"},
		{"sync extra", ConnSyncHeader + "\nTCP 0A010002 BCF4 0A010001 0052 0A020002 0051 TIME_WAIT LOCAL 1 sip x\n", 2, ""},
		{"long line", ConnHeader + "\n" + strings.Repeat("x", MaxLineLen+10) + "\n", 2, ""},
		{"long line at EOF", ConnHeader + "\n" + good + "\n" + strings.Repeat("x", MaxLineLen+10), 3, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadAllConns(strings.NewReader(c.in))
			wantParseError(t, err, c.line, c.field)
			if !strings.Contains(err.Error(), fmt.Sprintf("ip_vs_conn:%d:", c.line)) {
				t.Fatalf("message %q lacks the file and line", err)
			}
		})
	}
}

func TestConnScannerStopsAtFirstError(t *testing.T) {
	in := ConnHeader + "\n" + "TCP 0A010002 BCF4 0A010001 0052 0A020002 0051 TIME_WAIT       118\n" +
		"bad\n" + "TCP 0A010002 BCF4 0A010001 0052 0A020002 0051 TIME_WAIT       118\n"
	s := NewConnScanner(strings.NewReader(in))
	n := 0
	for s.Scan() {
		n++
	}
	if n != 1 || s.Err() == nil || s.Scan() {
		t.Fatalf("n=%d err=%v", n, s.Err())
	}
	// All yields the entries, then the error once.
	s = NewConnScanner(strings.NewReader(in))
	var errs []error
	n = 0
	for c, err := range s.All() {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
		_ = c
	}
	if n != 1 || len(errs) != 1 {
		t.Fatalf("All: %d entries, errors %v", n, errs)
	}
}

func TestScanConnsCallbackError(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	err := ScanConns(openTestdata(t, "conn-6.1-mixed.txt"), func(*Conn) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Fatalf("err=%v calls=%d", err, calls)
	}
}

func TestConnReaderErrors(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader(ConnHeader+"\n"), iotest.ErrReader(boom))
	_, err := ReadAllConns(r)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want it to wrap boom", err)
	}
	// A final line without a newline is still an entry.
	in := ConnHeader + "\nTCP 0A010002 BCF4 0A010001 0052 0A020002 0051 TIME_WAIT       118"
	got, err := ReadAllConns(strings.NewReader(in))
	if err != nil || len(got) != 1 {
		t.Fatalf("got %d entries, %v", len(got), err)
	}
	// Blank lines are skipped; CRs are not expected and fail clearly.
	got, err = ReadAllConns(strings.NewReader(ConnHeader + "\n\n"))
	if err != nil || len(got) != 0 {
		t.Fatalf("header and blank line: %d entries, %v", len(got), err)
	}
}

// bigConnTable builds n synthetic entries mixing IPv4, IPv6 and templates.
func bigConnTable(n int) []byte {
	b := []byte(ConnHeader + "\n")
	c := Conn{Protocol: ProtoTCP, State: "ESTABLISHED"}
	for i := 0; i < n; i++ {
		switch i % 10 {
		case 9:
			c.Client = netip.AddrPortFrom(netip.AddrFrom16([16]byte{0xfd, 0, 0, 1, 14: byte(i >> 8), 15: byte(i)}), uint16(i))
			c.Virtual = ap("[fd00:1::1]:443")
			c.Dest = ap("10.2.0.2:443")
		default:
			c.Client = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 16), byte(i >> 8)}), uint16(i))
			c.Virtual = ap("10.1.0.1:80")
			c.Dest = ap("10.2.0.3:8080")
		}
		c.Expires = uint64(i % 900)
		b = c.AppendProcLine(b, false)
	}
	return b
}

// sizeRecorder records the size of every Read request.
type sizeRecorder struct {
	r     io.Reader
	sizes []int
}

func (s *sizeRecorder) Read(p []byte) (int, error) {
	s.sizes = append(s.sizes, len(p))
	// Return small pieces, like a seq_file does, so that many reads happen
	// and lines straddle them.
	if len(p) > 4000 {
		p = p[:4000]
	}
	return s.r.Read(p)
}

func TestConnLargeReadsAndSplitLines(t *testing.T) {
	data := bigConnTable(20000)
	rec := &sizeRecorder{r: bytes.NewReader(data)}
	s := NewConnScanner(rec)
	n := 0
	for s.Scan() {
		n++
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 20000 {
		t.Fatalf("%d entries, want 20000", n)
	}
	for i, sz := range rec.sizes {
		if sz < MinReadSize {
			t.Fatalf("read %d asked for %d bytes, want at least %d", i, sz, MinReadSize)
		}
	}
	calls, total, largest := s.Reads()
	if calls != len(rec.sizes) || total != int64(len(data)) || largest != 4000 {
		t.Fatalf("Reads() = %d, %d, %d; want %d, %d, 4000", calls, total, largest, len(rec.sizes), len(data))
	}
	// One byte at a time, and half reads, give the same entries.
	want := mustConns(t, bytes.NewReader(data))
	cut := bytes.LastIndexByte(data[:50000], '\n') + 1
	for _, r := range []io.Reader{iotest.OneByteReader(bytes.NewReader(data[:cut])), iotest.HalfReader(bytes.NewReader(data))} {
		got, err := ReadAllConns(r)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want[:len(got)]) || len(got) < 400 {
			t.Fatalf("split reads: %d entries differ", len(got))
		}
	}
}

func TestConnParseAllocs(t *testing.T) {
	lines := bytes.Split(bigConnTable(10), []byte("\n"))[1:11]
	var c Conn
	allocs := testing.AllocsPerRun(100, func() {
		for _, l := range lines {
			if err := ParseConnLine(l, false, &c); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per 10 lines, want 0", allocs)
	}
	// A whole scan allocates its buffer and scanner, not per line.
	data := bigConnTable(50000)
	allocs = testing.AllocsPerRun(3, func() {
		if err := ScanConns(bytes.NewReader(data), func(*Conn) error { return nil }); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 20 {
		t.Fatalf("%.0f allocations to scan 50000 entries", allocs)
	}
}

func BenchmarkScanConns(b *testing.B) {
	data := bigConnTable(100000)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		if err := ScanConns(bytes.NewReader(data), func(*Conn) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != 100000 {
			b.Fatal(n)
		}
	}
}

func TestOpenWithDir(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile(filepath.Join("testdata", "conn-6.1-mixed.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConnFile), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := AllConns(WithDir(dir))
	if err != nil || len(got) != len(mixedWant) {
		t.Fatalf("AllConns: %d, %v", len(got), err)
	}
	n := 0
	if err := ReadConns(func(*Conn) error { n++; return nil }, WithDir(dir)); err != nil || n != len(mixedWant) {
		t.Fatalf("ReadConns: %d, %v", n, err)
	}
	_, err = AllSyncConns(WithDir(dir))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v, want os.ErrNotExist", err)
	}
	var pe *ParseError
	if _, err := ReadAllConns(openTestdata(t, "ip_vs-6.1-mixed.txt")); !errors.As(err, &pe) ||
		!strings.Contains(err.Error(), "testdata/ip_vs-6.1-mixed.txt:1:") {
		t.Fatalf("wrong file: %v", err)
	}
}

// TestEnumStrings pins the names the /proc files use.
func TestEnumStrings(t *testing.T) {
	for _, c := range []struct {
		v    fmt.Stringer
		want string
	}{
		{ProtoIP, "IP"}, {ProtoICMP, "ICMP"}, {ProtoTCP, "TCP"}, {ProtoUDP, "UDP"}, {ProtoICMPv6, "ICMPv6"},
		{ProtoSCTP, "SCTP"}, {Protocol(47), "IP_47"},
		{OriginUnknown, ""}, {OriginLocal, "LOCAL"}, {OriginSync, "SYNC"}, {Origin(3), "origin(3)"},
	} {
		if got := c.v.String(); got != c.want {
			t.Errorf("%T(%d).String() = %q, want %q", c.v, c.v, got, c.want)
		}
	}
}
