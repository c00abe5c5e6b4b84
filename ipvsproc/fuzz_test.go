package ipvsproc

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// addTestdataSeeds adds each testdata file whose name starts with prefix,
// whole and line by line, to the fuzz corpus: real lines captured in the VM.
func addTestdataSeeds(f *testing.F, prefix string, whole func([]byte)) {
	files, err := filepath.Glob(filepath.Join("testdata", prefix+"*.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		if strings.Contains(p, "ipvsadm") {
			continue // the reference program's output, not kernel input
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		whole(b)
	}
}

// FuzzConnScanner feeds arbitrary input to the connection scanner: it must
// not panic, and every entry it accepts must survive a round trip through
// AppendProcLine and ParseConnLine.
func FuzzConnScanner(f *testing.F) {
	addTestdataSeeds(f, "conn", func(b []byte) {
		f.Add(b)
		lines := bytes.SplitAfter(b, []byte("\n"))
		for _, l := range lines[1:] {
			f.Add(append(append([]byte(nil), lines[0]...), l...))
		}
	})
	f.Add([]byte(ConnHeader + "\nUDP 0A00000A 13C4 0A000001 13C4 C0A80004 13C4 UDP             179 sip 3f1b2c@host\n"))
	f.Add([]byte(ConnHeader + "\nIP  0A010002 0000 00000007 0000 0A020002 0000 NONE            119\n"))
	f.Add(bigConnTable(30))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := NewConnScanner(bytes.NewReader(data))
		for s.Scan() {
			c := *s.Conn()
			line := c.AppendProcLine(nil, s.Sync())
			var back Conn
			if err := ParseConnLine(bytes.TrimSuffix(line, []byte("\n")), s.Sync(), &back); err != nil {
				t.Fatalf("re-parsing %q (from line %d): %v", line, s.Line(), err)
			}
			if back != c {
				t.Fatalf("round trip of line %d: %+v became %+v via %q", s.Line(), c, back, line)
			}
			_ = c.String()
			c.FWMark()
		}
		if err := s.Err(); err != nil {
			_ = err.Error()
		}
	})
}

// FuzzServices feeds arbitrary input to the /proc/net/ip_vs parser.
func FuzzServices(f *testing.F) {
	addTestdataSeeds(f, "ip_vs-", func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := ParseServices(bytes.NewReader(data))
		if err != nil {
			_ = err.Error()
			return
		}
		for i := range tab.Services {
			s := &tab.Services[i]
			s.Netmask()
			s.Timeout(250)
			if s.FWMark == 0 && !s.Address.IsValid() {
				t.Fatalf("service %d has neither a mark nor an address", i)
			}
		}
	})
}

// FuzzStats feeds arbitrary input to the ip_vs_stats parsers.
func FuzzStats(f *testing.F) {
	addTestdataSeeds(f, "ip_vs_stats", func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseStats(bytes.NewReader(data))
		ParseStatsPerCPU(bytes.NewReader(data))
	})
}
