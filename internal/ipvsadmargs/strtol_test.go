package ipvsadmargs

import (
	"math"
	"testing"
)

// TestStrtol pins the C library semantics the value parsers rely on.
func TestStrtol(t *testing.T) {
	for _, c := range []struct {
		s      string
		base   int
		val    int64
		end    int
		erange bool
	}{
		{"123", 10, 123, 3, false},
		{"  -42x", 10, -42, 5, false},
		{"+7", 10, 7, 2, false},
		{"0x1F", 16, 31, 4, false},
		{"1f", 16, 31, 2, false},
		{"0x", 16, 0, 1, false},   // "x" is not a prefix without a digit after it
		{"0x1F", 10, 0, 1, false}, // no prefix in base 10
		{"", 10, 0, 0, false},
		{"+", 10, 0, 0, false},
		{" x", 10, 0, 0, false},
		{"9223372036854775807", 10, math.MaxInt64, 19, false},
		{"9223372036854775808", 10, math.MaxInt64, 19, true},
		{"-9223372036854775808", 10, math.MinInt64, 20, false},
		{"-9223372036854775809", 10, math.MinInt64, 20, true},
		{"99999999999999999999999", 10, math.MaxInt64, 23, true},
	} {
		val, end, erange := strtol(c.s, c.base)
		if val != c.val || end != c.end || erange != c.erange {
			t.Errorf("strtol(%q, %d) = %d, %d, %v; want %d, %d, %v", c.s, c.base, val, end, erange, c.val, c.end, c.erange)
		}
	}
}

func TestStrtoul(t *testing.T) {
	for _, c := range []struct {
		s      string
		base   int
		val    uint64
		end    int
		erange bool
	}{
		{"42", 10, 42, 2, false},
		{"-1", 10, math.MaxUint64, 2, false}, // negated, as C does
		{"010", 0, 8, 3, false},
		{"08", 0, 0, 1, false}, // octal stops at 8
		{"0x10", 0, 16, 4, false},
		{"0x10", 16, 16, 4, false},
		{"10", 16, 16, 2, false},
		{"18446744073709551615", 10, math.MaxUint64, 20, false},
		{"18446744073709551616", 10, math.MaxUint64, 20, true},
		{"-18446744073709551616", 10, math.MaxUint64, 21, true},
		{"", 0, 0, 0, false},
		{"-", 10, 0, 0, false},
	} {
		val, end, erange := strtoul(c.s, c.base)
		if val != c.val || end != c.end || erange != c.erange {
			t.Errorf("strtoul(%q, %d) = %d, %d, %v; want %d, %d, %v", c.s, c.base, val, end, erange, c.val, c.end, c.erange)
		}
	}
}
