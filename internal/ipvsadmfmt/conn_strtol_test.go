package ipvsadmfmt

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// oldNum is scanner.num as it was before it used ipvsadmargs's Strtol and
// Strtoul, kept to show what the merge changed: only a negative %hX
// field that overflows 64 bits, which glibc's sscanf (strtoul) makes
// ULONG_MAX and the old copy negated to 1.
func oldNum(b []byte, base int) (v int64, end int) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\v' || b[i] == '\f' || b[i] == '\r') {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	digit := func(c byte) int {
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
	if base == 16 && i+2 < len(b) && b[i] == '0' && (b[i+1] == 'x' || b[i+1] == 'X') && digit(b[i+2]) >= 0 {
		i += 2
	}
	start := i
	var u uint64
	over := false
	for ; i < len(b); i++ {
		d := digit(b[i])
		if d < 0 || d >= base {
			break
		}
		if u > (math.MaxUint64-uint64(d))/uint64(base) {
			over = true
		} else {
			u = u*uint64(base) + uint64(d)
		}
	}
	if i == start {
		return 0, 0
	}
	if base == 16 {
		if over {
			u = math.MaxUint64
		}
		if neg {
			u = -u
		}
		return int64(u), i
	}
	if neg {
		if over || u > 1<<63 {
			return math.MinInt64, i
		}
		return -int64(u), i
	}
	if over || u > math.MaxInt64 {
		return math.MaxInt64, i
	}
	return int64(u), i
}

// TestNumMatchesOldCopy feeds random fields through the old %hX/%d
// conversion and the one that uses ipvsadmargs's strtol.
func TestNumMatchesOldCopy(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	parts := []string{" ", "\t", "-", "+", "0", "x", "X", "1", "9", "a", "F", "g", "0x", "ffffffff", "99999999", "z"}
	for i := 0; i < 20000; i++ {
		var sb strings.Builder
		for n := 1 + r.IntN(8); n > 0; n-- {
			sb.WriteString(parts[r.IntN(len(parts))])
		}
		in := sb.String()
		for _, base := range []int{10, 16} {
			s := &scanner{b: []byte(in)}
			v, ok, eof := s.num(base)
			wv, wend := oldNum([]byte(in), base)
			if eof {
				if strings.TrimLeft(in, " \t") != "" {
					t.Fatalf("%q base %d: eof", in, base)
				}
				continue
			}
			if !ok {
				v = 0
				s.i = 0
			}
			if base == 16 && strings.Contains(in, "-") && wv == 1 && v == -1 {
				continue // the overflow case the merge fixed
			}
			if v != wv || s.i != wend {
				t.Fatalf("%q base %d: got %d end %d, old copy %d end %d", in, base, v, s.i, wv, wend)
			}
		}
	}
}

// TestConnOverflowingNegativePort pins glibc 2.36:
// sscanf("-111111111111111111", "%hX", &port) stores 65535.
func TestConnOverflowingNegativePort(t *testing.T) {
	in := "h\nTCP C0A80064 -111111111111111111 0A000001 0050 C0A80001 1F90 ESTABLISHED 10\n"
	out, err := conns(t, in, Format{Numeric: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := "TCP 00:10  ESTABLISHED 192.168.0.100:65535 10.0.0.1:80        192.168.0.1:8080\n"; !strings.HasSuffix(out, want) {
		t.Errorf("got\n%s\nwant the row\n%s", out, want)
	}
}
