package cmdutil

import (
	"bufio"
	"bytes"
	"io"
	"strings"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Table is a borderless, left-aligned text table with an upper-case
// header, like kubectl's.
type Table struct {
	w    io.Writer
	t    *tablewriter.Table
	buf  bytes.Buffer
	rows int
	// cs colours the header and the dim rows (by index) once laid out.
	cs  *iostreams.ColorScheme
	dim map[int]bool
}

// NewTable starts a table with the given column headers.
func NewTable(w io.Writer, header ...string) *Table {
	tb := &Table{w: w}
	tb.t = tablewriter.NewTable(&tb.buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenColumns: tw.Off, BetweenRows: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.Off},
			},
		})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithTrimSpace(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: "  ", Overwrite: true}),
	)
	h := make([]any, len(header))
	for i, s := range header {
		h[i] = s
	}
	tb.t.Header(h...)
	return tb
}

// Accent makes the header bold and DimRow's rows dim when cs is enabled;
// the colour goes around laid-out lines, so the columns stay aligned.
func (tb *Table) Accent(cs *iostreams.ColorScheme) { tb.cs = cs }

// DimRow adds a row that matters less, such as a destination that takes
// no new connections: dim if Accent gave a scheme that colours.
func (tb *Table) DimRow(cells ...string) {
	if tb.dim == nil {
		tb.dim = map[int]bool{}
	}
	tb.dim[tb.rows] = true
	tb.Row(cells...)
}

// Row adds a row.
func (tb *Table) Row(cells ...string) {
	r := make([]any, len(cells))
	for i, s := range cells {
		r[i] = s
	}
	tb.t.Append(r...)
	tb.rows++
}

// Render writes the table without trailing blanks.
func (tb *Table) Render() error {
	if err := tb.t.Render(); err != nil {
		return err
	}
	sc := bufio.NewScanner(&tb.buf)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	bw := bufio.NewWriter(tb.w)
	// Line 0 is the header, line i+1 row i.
	for line := 0; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), " ")
		switch {
		case line == 0:
			text = tb.cs.Bold(text)
		case tb.dim[line-1]:
			text = tb.cs.Dim(text)
		}
		bw.WriteString(text)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// Plural is "s" unless n is 1: fmt.Sprintf("%d change%s", n, Plural(n)).
func Plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
