package root

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/printers"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"github.com/spf13/cobra"
)

// completeWords asks ipvsctl, as the shell scripts do (cobra's __complete),
// for the completions of the last of args; it returns them and the
// directive line.
func completeWords(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	cmd := NewCmdRoot(factory.NewTest(ios, testutil.Sample()))
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs(append([]string{cobra.ShellCompRequestCmd}, args...))
	if err := cmd.Execute(); err != nil {
		t.Fatalf("__complete %q: %v", args, err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], ":") {
		t.Fatalf("__complete %q: no directive line in %q", args, out.String())
	}
	var words []string
	for _, l := range lines[:len(lines)-1] {
		w, _, _ := strings.Cut(l, "\t")
		words = append(words, w)
	}
	return words, lines[len(lines)-1]
}

// noFiles is the directive line of ShellCompDirectiveNoFileComp.
const noFiles = ":4"

// TestOutputCompletion: the shell offers, after -o, exactly the formats
// of the command (stats: prometheus too), with no file names; before a
// command's name, every format; after a command that prints no data,
// nothing.
func TestOutputCompletion(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	var walk func(*cobra.Command, []string)
	walk = func(c *cobra.Command, path []string) {
		if fs := printers.Formats(c); fs != nil {
			var want []string
			for _, f := range fs {
				want = append(want, string(f))
			}
			name := strings.Join(path, " ")
			for _, flag := range [][]string{{"-o", ""}, {"--output", ""}} {
				t.Run(name+" "+flag[0], func(t *testing.T) {
					got, dir := completeWords(t, append(slices.Clone(path), flag...)...)
					if d := cmp.Diff(want, got); d != "" || dir != noFiles {
						t.Errorf("formats (-want +got):\n%s\ndirective %s, want %s", d, dir, noFiles)
					}
				})
			}
		}
		for _, sub := range c.Commands() {
			walk(sub, append(slices.Clone(path), sub.Name()))
		}
	}
	walk(NewCmdRoot(factory.NewTest(ios, testutil.Sample())), nil)

	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"stats", []string{"stats", "-o", ""}, []string{"table", "json", "yaml", "prometheus"}},
		{"before the command", []string{"-o", ""}, []string{"table", "json", "yaml", "rules", "prometheus"}},
		{"no data", []string{"zero", "-o", ""}, nil},
		{"stats metric names", []string{"stats", "-o", "prometheus", "--metric-names", ""}, []string{"ipvsctl", "node-exporter"}},
		{"agent metric names", []string{"agent", "--metric-names", ""}, []string{"node-exporter", "ipvsctl"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, dir := completeWords(t, tt.args...)
			if d := cmp.Diff(tt.want, got); d != "" || dir != noFiles {
				t.Errorf("__complete %q (-want +got):\n%s\ndirective %s, want %s", tt.args, d, dir, noFiles)
			}
		})
	}
}
