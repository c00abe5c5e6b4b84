package root

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
)

// TestNumericShorthand: -n is --numeric in every command, top's included
// (whose count of samples is -c), and top(1)'s "-n 10" is answered.
func TestNumericShorthand(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		code    int
		numeric bool
		stderr  string
	}{
		{"list -n --stats", []string{"list", "-n", "--stats"}, 0, true, ""},
		{"-n before the command", []string{"-n", "list"}, 0, true, ""},
		{"get -n", []string{"get", "-n", "fwmark:7"}, 0, true, ""},
		{"list", []string{"list"}, 0, false, ""},
		{"top -n -c 1", []string{"top", "-n", "-c", "1", "-d", "1ms"}, 0, true, ""},
		{"top -n 10", []string{"top", "-n", "10"}, 1, true,
			"ipvsctl: -n is --numeric in ipvsctl; for 10 samples, use -c 10 (--iterations 10)\nUsage: ipvsctl top [flags]\nRun 'ipvsctl top --help' for more.\n"},
		{"top extra argument", []string{"top", "x"}, 1, false,
			"ipvsctl: unknown command \"x\" for \"ipvsctl top\"\nUsage: ipvsctl top [flags]\nRun 'ipvsctl top --help' for more.\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, stdout, stderr := iostreams.Test()
			f := factory.NewTest(ios, testutil.Sample())
			f.Options.Numeric = false
			code := cmdutil.Execute(NewCmdRoot(f), tc.args, stdout, stderr)
			if code != tc.code || f.Options.Numeric != tc.numeric {
				t.Errorf("exit status %d, numeric %v; want %d, %v", code, f.Options.Numeric, tc.code, tc.numeric)
			}
			if diff := cmp.Diff(tc.stderr, stderr.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}
