package root

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
)

// TestFlagValueWords: every command reports a value its flag cannot take
// in the user's words (cmdutil.FlagValue), with its usage line.
func TestFlagValueWords(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"dest add -w -1", []string{"dest", "add", "tcp:10.0.0.1:80", "192.168.0.9", "-w", "-1"},
			"ipvsctl: --weight -1: want a whole number 0..2147483647\nUsage: ipvsctl dest add SERVICE ADDR[:PORT] [flags]\nRun 'ipvsctl dest add --help' for more.\n"},
		{"service add -p x", []string{"service", "add", "tcp:10.0.0.9:80", "-p", "x"},
			"ipvsctl: --persistent x: want a whole number 0..4294967295\nUsage: ipvsctl service add SERVICE [flags]\nRun 'ipvsctl service add --help' for more.\n"},
		{"top -d 5", []string{"top", "-d", "5"},
			"ipvsctl: --interval 5: want a duration with its unit, such as 500ms, 10s, 5m or 1h30m\nUsage: ipvsctl top [flags]\nRun 'ipvsctl top --help' for more.\n"},
		{"persistent flag", []string{"--request-timeout", "1", "list"},
			"ipvsctl: --request-timeout 1: want a duration with its unit, such as 500ms, 10s, 5m or 1h30m\nUsage: ipvsctl list [flags]\nRun 'ipvsctl list --help' for more.\n"},
		{"a negative argument", []string{"timeout", "set", "-1", "120", "300"},
			"ipvsctl: -1 is not an option, and no value ipvsctl takes is negative\nUsage: ipvsctl timeout set [TCP TCPFIN UDP] [flags]\nRun 'ipvsctl timeout set --help' for more.\n"},
		{"not a number either", []string{"timeout", "set", "-inf"},
			"ipvsctl: unknown shorthand flag: 'i' in -inf\nUsage: ipvsctl timeout set [TCP TCPFIN UDP] [flags]\nRun 'ipvsctl timeout set --help' for more.\n"},
		{"not a number", []string{"timeout", "set", "-1x"},
			"ipvsctl: unknown shorthand flag: '1' in -1x\nUsage: ipvsctl timeout set [TCP TCPFIN UDP] [flags]\nRun 'ipvsctl timeout set --help' for more.\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, testutil.Sample(), "", tc.args...)
			if r.code != 1 {
				t.Errorf("exit status %d, want 1", r.code)
			}
			if diff := cmp.Diff(tc.want, r.err); diff != "" {
				t.Errorf("ipvsctl %s: stderr (-want +got):\n%s", strings.Join(tc.args, " "), diff)
			}
		})
	}
}

// TestPrefixHelp: --prefix's "not given" (-1) is no default to show.
func TestPrefixHelp(t *testing.T) {
	for _, c := range []string{"add", "edit"} {
		r := run(t, testutil.Sample(), "", "service", c, "--help")
		if !strings.Contains(r.out, "--prefix LENGTH") || strings.Contains(r.out, "default -1") || strings.Contains(r.out, "(default )") {
			t.Errorf("service %s --help:\n%s", c, r.out)
		}
	}
}
