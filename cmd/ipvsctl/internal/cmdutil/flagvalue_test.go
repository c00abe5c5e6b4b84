package cmdutil

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
)

// TestFlagValue: a value a flag cannot take is reported with the flag,
// the value and what the flag takes, not with strconv's or time's words.
func TestFlagValue(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"uint32 negative, range from help", []string{"-w", "-1"}, "--weight -1: want a whole number 0..2147483647"},
		{"uint32 too large, range from help", []string{"--weight", "99999999999"}, "--weight 99999999999: want a whole number 0..2147483647"},
		{"uint32 not a number", []string{"--weight=x"}, "--weight x: want a whole number 0..2147483647"},
		{"uint32, range of the type", []string{"-x", "-1"}, "--u-threshold -1: want a whole number 0..4294967295"},
		{"uint16", []string{"--port", "70000"}, "--port 70000: want a whole number 0..65535"},
		{"uint8", []string{"--ttl", "256"}, "--ttl 256: want a whole number 0..255"},
		{"prefix ranges are not the flag's", []string{"--prefix", "x"}, "--prefix x: want a whole number"},
		{"int", []string{"--limit", "ten"}, "--limit ten: want a whole number"},
		{"empty", []string{"--limit="}, "--limit '': want a whole number"},
		{"duration without unit", []string{"--interval", "5"}, "--interval 5: want a duration with its unit, such as 500ms, 10s, 5m or 1h30m"},
		{"bool", []string{"--stats=maybe"}, "--stats=maybe: want true or false (--stats alone is true)"},
		{"float", []string{"--ratio", "half"}, "--ratio half: want a number"},
		{"other values keep their words", []string{"--addr", "nope"}, `--addr nope: failed to parse IP: "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			fs.Uint32P("weight", "w", 1, "scheduling `WEIGHT` 0..2147483647 (0 quiesces)")
			fs.Uint32P("u-threshold", "x", 0, "upper connection `THRESHOLD` (0: none)")
			fs.Uint16("port", 0, "UDP `PORT`")
			fs.Uint8("ttl", 0, "multicast `TTL`")
			fs.Int("prefix", -1, "a prefix `LENGTH` (/0../32 IPv4, /1../128 IPv6)")
			fs.Int("limit", 0, "at most `N`")
			fs.Duration("interval", time.Second, "poll interval")
			fs.Bool("stats", false, "counters")
			fs.Float64("ratio", 0, "a ratio")
			fs.IP("addr", nil, "an address")
			err := fs.Parse(tc.args)
			if err == nil {
				t.Fatalf("%v parsed", tc.args)
			}
			if diff := cmp.Diff(tc.want, FlagValue(err).Error()); diff != "" {
				t.Errorf("%v (pflag: %v) (-want +got):\n%s", tc.args, err, diff)
			}
		})
	}
	other := errors.New("unknown flag: --nope")
	if got := FlagValue(other); got != other {
		t.Errorf("FlagValue(%v) = %v, want it unchanged", other, got)
	}
}
