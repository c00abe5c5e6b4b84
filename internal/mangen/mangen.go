// Package mangen writes man(7) pages for a cobra command tree: one page
// per command (ipvsctl(8), ipvsctl-service(8), ipvsctl-service-add(8),
// ...), from the commands' Use, Short, Long and Example texts and their
// flags.
//
// It walks the tree itself instead of using cobra's doc package, which
// would bring in go-md2man and blackfriday for a Markdown step the
// command texts do not need. The output is deterministic: the date is an
// input (see DateFromEnv for SOURCE_DATE_EPOCH), flags and commands come
// in a fixed order, and nothing depends on the environment.
package mangen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Header is what every page's .TH line says besides the name.
type Header struct {
	Section string    // "8"
	Date    time.Time // printed as YYYY-MM-DD (UTC)
	Source  string    // the project, e.g. "ipvs-tools"
	Manual  string    // e.g. "System Administration"
	// SeeAlso are extra references for the root page, e.g. "ipvsadm(8)".
	SeeAlso []string
}

// DateFromEnv returns the time SOURCE_DATE_EPOCH names, or fallback when
// it is unset. A malformed value is an error rather than a silent today.
func DateFromEnv(fallback time.Time) (time.Time, error) {
	v, ok := os.LookupEnv("SOURCE_DATE_EPOCH")
	if !ok || v == "" {
		return fallback.UTC(), nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: not a number of seconds", v)
	}
	return time.Unix(n, 0).UTC(), nil
}

// Commands returns the commands of the tree that get a page, root first,
// then depth first in name order: everything but hidden and deprecated
// commands and cobra's own help command.
func Commands(root *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		out = append(out, c)
		for _, sub := range children(c) {
			walk(sub)
		}
	}
	walk(root)
	return out
}

func children(c *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	for _, sub := range c.Commands() {
		if sub.Hidden || sub.Deprecated != "" || sub.Name() == "help" {
			continue
		}
		out = append(out, sub)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// PageName is the page's name: the command path joined with '-'.
func PageName(c *cobra.Command) string {
	return strings.ReplaceAll(c.CommandPath(), " ", "-")
}

// Stale regenerates the pages into a temporary directory and compares
// them with dir: it returns one line per page that is missing from dir,
// differs from it, or is in dir without a command (nil when dir is up to
// date). dir must hold only generated pages.
func Stale(root *cobra.Command, dir string, h Header) ([]string, error) {
	tmp, err := os.MkdirTemp("", "mangen-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	names, err := Generate(root, tmp, h)
	if err != nil {
		return nil, err
	}
	var problems []string
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
		fresh, err := os.ReadFile(filepath.Join(tmp, n))
		if err != nil {
			return nil, err
		}
		old, err := os.ReadFile(filepath.Join(dir, n))
		switch {
		case errors.Is(err, os.ErrNotExist):
			problems = append(problems, n+": missing")
		case err != nil:
			return nil, err
		case !bytes.Equal(old, fresh):
			problems = append(problems, n+": out of date")
		}
	}
	existing, _ := filepath.Glob(filepath.Join(dir, "*."+h.Section))
	for _, p := range existing {
		if n := filepath.Base(p); !want[n] {
			problems = append(problems, n+": no such command any more")
		}
	}
	sort.Strings(problems)
	return problems, nil
}

// Generate writes every page of the tree into dir as NAME.SECTION and
// returns the file names written. Files of other pages already in dir are
// left alone.
func Generate(root *cobra.Command, dir string, h Header) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var names []string
	for _, c := range Commands(root) {
		var buf bytes.Buffer
		if err := Page(&buf, c, h); err != nil {
			return names, err
		}
		name := PageName(c) + "." + h.Section
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			return names, err
		}
		names = append(names, name)
	}
	return names, nil
}

// Page writes the page of one command.
func Page(out io.Writer, c *cobra.Command, h Header) error {
	if h.Section == "" || h.Source == "" || h.Date.IsZero() {
		return errors.New("mangen: the header needs a section, a source and a date")
	}
	w := &bytes.Buffer{}
	// Cobra adds --version to the root only when it runs; add it here
	// too so that the page shows what the program accepts.
	if c == c.Root() && c.Version != "" {
		c.InitDefaultVersionFlag()
	}
	name := PageName(c)
	fmt.Fprintf(w, ".\\\" Generated from the %s command tree by internal/mangen. Do not edit.\n", c.Root().Name())
	fmt.Fprintf(w, ".TH %s %s %s %s %s\n", escape(strings.ToUpper(name)), h.Section,
		h.Date.UTC().Format("2006-01-02"), quoteArg(h.Source), quoteArg(h.Manual))

	w.WriteString(".SH NAME\n")
	fmt.Fprintf(w, "%s \\- %s\n", escape(name), escape(oneLine(c.Short)))

	w.WriteString(".SH SYNOPSIS\n")
	synopsis(w, c)

	w.WriteString(".SH DESCRIPTION\n")
	long := c.Long
	if strings.TrimSpace(long) == "" {
		long = c.Short
		if long != "" && !strings.HasSuffix(long, ".") {
			long += "."
		}
	}
	text(w, long)
	if len(c.Aliases) > 0 {
		w.WriteString(".PP\n")
		fmt.Fprintf(w, "Also called %s.\n", escape(strings.Join(c.Aliases, ", ")))
	}

	if subs := children(c); len(subs) > 0 {
		w.WriteString(".SH COMMANDS\n")
		for _, sub := range subs {
			fmt.Fprintf(w, ".TP\n.B %s\n%s.\n", escape(sub.Name()), escape(oneLine(sub.Short)))
		}
	}

	if fs := c.NonInheritedFlags(); fs.HasAvailableFlags() {
		w.WriteString(".SH OPTIONS\n")
		flags(w, fs)
	}
	if fs := c.InheritedFlags(); fs.HasAvailableFlags() {
		w.WriteString(".SH GLOBAL OPTIONS\n")
		flags(w, fs)
	}

	if strings.TrimSpace(c.Example) != "" {
		w.WriteString(".SH EXAMPLES\n")
		text(w, c.Example)
	}

	var refs []string
	if c.HasParent() {
		refs = append(refs, PageName(c.Parent())+"("+h.Section+")")
	} else {
		refs = append(refs, h.SeeAlso...)
	}
	for _, sub := range children(c) {
		refs = append(refs, PageName(sub)+"("+h.Section+")")
	}
	if len(refs) > 0 {
		w.WriteString(".SH SEE ALSO\n")
		for i, r := range refs {
			page, sect, _ := strings.Cut(strings.TrimSuffix(r, ")"), "(")
			sep := ","
			if i == len(refs)-1 {
				sep = ""
			}
			fmt.Fprintf(w, ".BR %s (%s)%s\n", escape(page), sect, sep)
		}
	}
	_, err := out.Write(w.Bytes())
	return err
}

// synopsis writes the usage line: the command path in bold, the rest of
// Use (arguments) in italics where it names one, and [flags].
func synopsis(w *bytes.Buffer, c *cobra.Command) {
	if !c.Runnable() && !c.HasAvailableSubCommands() {
		// A help topic: how to read it.
		fmt.Fprintf(w, ".B %s help %s\n", escape(c.Root().Name()), escape(c.Name()))
		return
	}
	fmt.Fprintf(w, ".B %s\n", escape(c.CommandPath()))
	_, args, _ := strings.Cut(c.Use, " ")
	args = strings.TrimSpace(args)
	switch {
	case !c.Runnable():
		w.WriteString(".I command\n")
	case args != "":
		w.WriteString(roffArgs(args) + "\n")
	}
	if c.HasAvailableFlags() {
		w.WriteString(".RI [ options ]\n")
	}
}

// roffArgs sets an argument synopsis such as "SERVICE [ADDR...]" with
// the names in italics and the punctuation roman.
func roffArgs(s string) string {
	var b strings.Builder
	word := func(r rune) bool {
		return r != '[' && r != ']' && r != '|' && r != ' ' && r != '{' && r != '}' && r != '(' && r != ')'
	}
	rs := []rune(s)
	for i := 0; i < len(rs); {
		if word(rs[i]) {
			j := i
			for j < len(rs) && word(rs[j]) {
				j++
			}
			b.WriteString(`\fI` + escape(string(rs[i:j])) + `\fR`)
			i = j
			continue
		}
		b.WriteString(escape(string(rs[i])))
		i++
	}
	return b.String()
}

// flags writes a tagged paragraph per flag, in name order.
func flags(w *bytes.Buffer, fs *pflag.FlagSet) {
	var list []*pflag.Flag
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Deprecated != "" || f.Name == "help" {
			return
		}
		list = append(list, f)
	})
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	for _, f := range list {
		varname, usage := pflag.UnquoteUsage(f)
		if varname == "bool" || f.Value.Type() == "bool" {
			varname = ""
		}
		w.WriteString(".TP\n")
		tag := ""
		if f.Shorthand != "" && f.ShorthandDeprecated == "" {
			tag = `\fB\-` + escape(f.Shorthand) + `\fR, `
		}
		tag += `\fB\-\-` + escape(f.Name) + `\fR`
		if varname != "" {
			tag += ` \fI` + escape(varname) + `\fR`
		}
		w.WriteString(tag + "\n")
		if def := defaultText(f); def != "" {
			usage = strings.TrimRight(usage, ".") + " (default " + def + ")"
		}
		text(w, usage)
	}
}

// defaultText is the default worth printing, or "".
func defaultText(f *pflag.Flag) string {
	switch f.DefValue {
	case "", "false", "0", "0s", "[]", "<nil>":
		return ""
	}
	if f.Value.Type() == "string" {
		return strconv.Quote(f.DefValue)
	}
	return f.DefValue
}

// text writes free text: paragraphs separated by blank lines are filled;
// lines indented by blanks or a tab are set as they are, in examples
// blocks, with their common indentation removed.
func text(w *bytes.Buffer, s string) {
	lines := strings.Split(strings.Trim(strings.ReplaceAll(s, "\r", ""), "\n"), "\n")
	first := true
	for i := 0; i < len(lines); {
		if strings.TrimSpace(lines[i]) == "" {
			i++
			continue
		}
		if !first {
			w.WriteString(".PP\n")
		}
		first = false
		if indented(lines[i]) {
			j := i
			for j < len(lines) && (indented(lines[j]) || strings.TrimSpace(lines[j]) == "" && j+1 < len(lines) && indented(lines[j+1])) {
				j++
			}
			block(w, lines[i:j])
			i = j
			continue
		}
		j := i
		for j < len(lines) && strings.TrimSpace(lines[j]) != "" && !indented(lines[j]) {
			w.WriteString(escapeLine(strings.TrimSpace(lines[j])) + "\n")
			j++
		}
		i = j
	}
}

func indented(l string) bool {
	return strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")
}

// block sets lines as an example, keeping their relative indentation.
func block(w *bytes.Buffer, lines []string) {
	common := -1
	for _, l := range lines {
		l = strings.ReplaceAll(l, "\t", "        ")
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " "))
		if common < 0 || n < common {
			common = n
		}
	}
	w.WriteString(".RS 2\n.EX\n")
	for _, l := range lines {
		l = strings.ReplaceAll(l, "\t", "        ")
		if len(l) >= common {
			l = l[common:]
		}
		w.WriteString(escapeLine(strings.TrimRight(l, " ")) + "\n")
	}
	w.WriteString(".EE\n.RE\n")
}

// escape makes s safe inside a roff line: backslashes, minus signs (so
// that options copy and paste as ASCII), and the dash-quote pairs.
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\e`)
		case '-':
			b.WriteString(`\-`)
		case '\'':
			b.WriteString(`\(aq`)
		case '`':
			b.WriteString(`\(ga`)
		case '~':
			b.WriteString(`\(ti`)
		case '^':
			b.WriteString(`\(ha`)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// escapeLine escapes a whole text line: a leading '.' or '\” would be
// a request, so it gets a zero-width escape; an empty line would be a
// blank line, which groff warns about in filled text.
func escapeLine(s string) string {
	e := escape(s)
	if e == "" {
		return `\&`
	}
	if strings.HasPrefix(e, ".") || strings.HasPrefix(e, "'") {
		return `\&` + e
	}
	return e
}

// quoteArg quotes a macro argument of the .TH line, whose hyphens are
// words' hyphens, not minus signs.
func quoteArg(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	return `"` + strings.ReplaceAll(s, `"`, `\(dq`) + `"`
}

// oneLine joins a text to one line without its final period.
func oneLine(s string) string {
	return strings.TrimSuffix(strings.Join(strings.Fields(s), " "), ".")
}
