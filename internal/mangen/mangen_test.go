package mangen

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

var header = Header{
	Section: "8",
	Date:    time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
	Source:  "ipvs-tools",
	Manual:  "System Administration",
	SeeAlso: []string{"ipvsadm(8)"},
}

// tinyTree is a small command tree with everything the generator
// handles: persistent and local flags (with a `name` in the usage, a
// default, a shorthand, a hidden one), a group command, aliases, a
// long text with indented blocks and roff-dangerous characters, an
// example, a hidden command and a help topic.
func tinyTree() *cobra.Command {
	root := &cobra.Command{
		Use:     "tinyctl",
		Short:   "Manage tiny things",
		Long:    "tinyctl manages tiny things.\n\nExit status: 0 success, 1 error.",
		Version: "1.2.3",
	}
	root.PersistentFlags().StringP("output", "o", "table", "output `format`: table or json")
	root.PersistentFlags().Bool("numeric", false, "print numbers")
	run := func(*cobra.Command, []string) error { return nil }
	thing := &cobra.Command{Use: "thing", Short: "Add or delete things", Aliases: []string{"th"}}
	add := &cobra.Command{
		Use:   "add THING [NAME...]",
		Short: "Add a thing.",
		Long: `Add a thing.
.A line that starts with a dot, a back\slash and 'quotes'.

Indented blocks stay as they are:

  key=VALUE     what it means
    deeper      still indented

Done.`,
		Example: "  tinyctl thing add box --weight 3\n  tinyctl thing add -w 0 crate",
		RunE:    run,
	}
	add.Flags().IntP("weight", "w", 1, "the `WEIGHT` of the thing")
	add.Flags().Duration("wait", 0, "wait this long")
	add.Flags().String("secret", "", "not shown")
	add.Flags().MarkHidden("secret")
	del := &cobra.Command{Use: "delete THING", Short: "Delete a thing", Aliases: []string{"del", "rm"}, RunE: run}
	thing.AddCommand(add, del)
	hidden := &cobra.Command{Use: "internal", Hidden: true, RunE: run}
	topic := &cobra.Command{Use: "rules", Short: "How rules work", Long: "Rules are\nsimple."}
	root.AddCommand(thing, hidden, topic)
	return root
}

func generate(t *testing.T, root *cobra.Command) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	names, err := Generate(root, dir, header)
	if err != nil {
		t.Fatal(err)
	}
	return dir, names
}

func TestGenerateNames(t *testing.T) {
	_, names := generate(t, tinyTree())
	want := []string{"tinyctl.8", "tinyctl-rules.8", "tinyctl-thing.8", "tinyctl-thing-add.8", "tinyctl-thing-delete.8"}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("pages %q, want %q (no hidden command, no help)", names, want)
	}
}

func TestPageContent(t *testing.T) {
	dir, _ := generate(t, tinyTree())
	// read returns the page n after checking that it holds each of wants.
	read := func(n string, wants ...string) string {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		page := string(b)
		for _, want := range wants {
			if !strings.Contains(page, want) {
				t.Errorf("%s lacks\n%s\n--- page:\n%s", n, want, page)
			}
		}
		return page
	}
	add := read("tinyctl-thing-add.8",
		".TH TINYCTL\\-THING\\-ADD 8 2026-11-25 \"ipvs-tools\" \"System Administration\"\n",
		".SH NAME\ntinyctl\\-thing\\-add \\- Add a thing\n",
		".SH SYNOPSIS\n.B tinyctl thing add\n\\fITHING\\fR [\\fINAME...\\fR]\n.RI [ options ]\n",
		"\\&.A line that starts with a dot, a back\\eslash and \\(aqquotes\\(aq.\n",
		".RS 2\n.EX\nkey=VALUE     what it means\n  deeper      still indented\n.EE\n.RE\n",
		".TP\n\\fB\\-w\\fR, \\fB\\-\\-weight\\fR \\fIWEIGHT\\fR\nthe WEIGHT of the thing (default 1)\n",
		".TP\n\\fB\\-\\-wait\\fR \\fIduration\\fR\nwait this long\n",
		".SH GLOBAL OPTIONS\n",
		".TP\n\\fB\\-o\\fR, \\fB\\-\\-output\\fR \\fIformat\\fR\noutput format: table or json (default \"table\")\n",
		".TP\n\\fB\\-\\-numeric\\fR\nprint numbers\n",
		".SH EXAMPLES\n.RS 2\n.EX\ntinyctl thing add box \\-\\-weight 3\ntinyctl thing add \\-w 0 crate\n.EE\n.RE\n",
		".SH SEE ALSO\n.BR tinyctl\\-thing (8)\n",
	)
	if strings.Contains(add, "secret") || strings.Contains(add, "help") {
		t.Errorf("hidden or help flag shown:\n%s", add)
	}

	root := read("tinyctl.8",
		".SH SYNOPSIS\n.B tinyctl\n.I command\n.RI [ options ]\n",
		".SH COMMANDS\n.TP\n.B rules\nHow rules work.\n.TP\n.B thing\nAdd or delete things.\n",
		"\\fB\\-\\-version\\fR\nversion for tinyctl\n",
		".SH SEE ALSO\n.BR ipvsadm (8),\n.BR tinyctl\\-rules (8),\n.BR tinyctl\\-thing (8)\n",
	)
	if strings.Contains(root, ".B internal") || strings.Contains(root, "tinyctl\\-internal") {
		t.Errorf("hidden command listed")
	}
	read("tinyctl-thing.8", "Also called th.\n")
	read("tinyctl-thing-delete.8", ".SH DESCRIPTION\nDelete a thing.\n", "Also called del, rm.\n")
	read("tinyctl-rules.8", ".SH SYNOPSIS\n.B tinyctl help rules\n")
}

// TestRendersCleanly renders every page of the tiny tree with groff -ww
// and man -l.
func TestRendersCleanly(t *testing.T) {
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skipf("groff is not installed (scripts/deps.sh installs it): %v", err)
	}
	dir, names := generate(t, tinyTree())
	for _, n := range names {
		var stderr bytes.Buffer
		cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z", filepath.Join(dir, n))
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("groff %s: %v\n%s", n, err, stderr.String())
		}
	}
	if man, err := exec.LookPath("man"); err == nil {
		out, err := exec.Command(man, "-l", "-P", "cat", filepath.Join(dir, "tinyctl-thing-add.8")).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "tinyctl thing add -w 0 crate") {
			t.Errorf("man -l: %v\n%s", err, out)
		}
	}
}

func TestDeterministic(t *testing.T) {
	d1, names := generate(t, tinyTree())
	d2, _ := generate(t, tinyTree())
	for _, n := range names {
		a, _ := os.ReadFile(filepath.Join(d1, n))
		b, _ := os.ReadFile(filepath.Join(d2, n))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs", n)
		}
	}
}

func TestDateFromEnv(t *testing.T) {
	fallback := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	t.Setenv("SOURCE_DATE_EPOCH", "")
	if d, err := DateFromEnv(fallback); err != nil || !d.Equal(fallback) {
		t.Errorf("empty: %v %v", d, err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	if d, err := DateFromEnv(fallback); err != nil || d.Format("2006-01-02") != "2023-11-14" {
		t.Errorf("1700000000: %v %v", d, err)
	}
	for _, bad := range []string{"yesterday", "-5", "1.5"} {
		t.Setenv("SOURCE_DATE_EPOCH", bad)
		if _, err := DateFromEnv(fallback); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestStale is the staleness check the checked-in pages rely on: fresh
// pages pass; a changed flag, a removed page and a page without a command
// are each reported.
func TestStale(t *testing.T) {
	dir, _ := generate(t, tinyTree())
	if p, err := Stale(tinyTree(), dir, header); err != nil || len(p) != 0 {
		t.Fatalf("fresh pages reported stale: %q %v", p, err)
	}
	changed := tinyTree()
	for _, c := range changed.Commands() {
		if c.Name() == "thing" {
			c.Commands()[0].Flags().Bool("force", false, "do it anyway")
		}
	}
	if p, _ := Stale(changed, dir, header); !slices.Equal(p, []string{"tinyctl-thing-add.8: out of date"}) {
		t.Errorf("changed flag: %q", p)
	}
	os.Remove(filepath.Join(dir, "tinyctl-rules.8"))
	os.WriteFile(filepath.Join(dir, "tinyctl-gone.8"), []byte(".TH X 8\n"), 0o644)
	p, _ := Stale(tinyTree(), dir, header)
	if !slices.Equal(p, []string{"tinyctl-gone.8: no such command any more", "tinyctl-rules.8: missing"}) {
		t.Errorf("missing and extra pages: %q", p)
	}
	other := header
	other.Date = other.Date.AddDate(0, 0, 1)
	if p, _ := Stale(tinyTree(), dir, other); len(p) < 4 {
		t.Errorf("a different date is not noticed: %q", p)
	}
}
