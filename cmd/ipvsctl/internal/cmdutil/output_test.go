package cmdutil

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
)

// TestTableAccent checks that accents wrap whole laid-out lines: the
// header bold, dim rows dim, the columns where they are without colour.
func TestTableAccent(t *testing.T) {
	render := func(color bool) string {
		ios, _, _, _ := iostreams.Test()
		ios.SetColorEnabled(color)
		var b strings.Builder
		tb := NewTable(&b, "NAME", "WEIGHT")
		tb.Accent(ios.ColorScheme())
		tb.Row("a-long-name", "1")
		tb.DimRow("b", "0")
		tb.Row("c", "2")
		if err := tb.Render(); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	for _, tt := range []struct {
		name  string
		color bool
		want  string
	}{
		{"off", false, "NAME         WEIGHT\na-long-name  1\nb            0\nc            2\n"},
		{"on", true, "\x1b[1mNAME         WEIGHT\x1b[0m\na-long-name  1\n\x1b[2mb            0\x1b[0m\nc            2\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, render(tt.color)); d != "" {
				t.Errorf("table (-want +got):\n%s", d)
			}
		})
	}
}
