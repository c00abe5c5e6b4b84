// Package man holds the manual pages. The hand-written ones are ipvsadm(8),
// ipvsadm-save(8) and ipvsadm-restore(8); the ipvsctl pages are generated
// from the command tree (see internal/mangen). These tests check that every
// page renders without a warning and that ipvsadm(8) documents the whole
// grammar of ipvsadm.
package man_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs/internal/ipvsadmfmt"
)

// pages returns every manual page below this directory.
func pages(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && regexp.MustCompile(`\.[1-9]$`).MatchString(path) {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	if len(out) < 3 {
		t.Fatalf("found only %d pages: %v", len(out), out)
	}
	return out
}

func need(t *testing.T, prog string) string {
	t.Helper()
	p, err := exec.LookPath(prog)
	if err != nil {
		t.Skipf("%s is not installed (scripts/deps.sh installs it): %v", prog, err)
	}
	return p
}

// runQuiet runs cmd and returns its output; it fails the test if cmd fails
// or writes to stderr (a warning).
func runQuiet(t *testing.T, what string, cmd *exec.Cmd) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("%s wrote to stderr:\n%s", what, stderr.String())
	}
	return stdout.String()
}

// TestGroffNoWarnings renders every page with all warnings enabled; any
// diagnostic fails the test.
func TestGroffNoWarnings(t *testing.T) {
	groff := need(t, "groff")
	for _, p := range pages(t) {
		t.Run(p, func(t *testing.T) {
			if out := runQuiet(t, "groff -ww", exec.Command(groff, "-man", "-Tutf8", "-ww", p)); out == "" {
				t.Errorf("groff printed nothing")
			}
		})
	}
}

// TestManL formats every page the way a reader would see it, with man -l.
func TestManL(t *testing.T) {
	man := need(t, "man")
	for _, p := range pages(t) {
		t.Run(p, func(t *testing.T) {
			cmd := exec.Command(man, "-l", "-P", "cat", p)
			cmd.Env = append(os.Environ(), "MANWIDTH=80", "LC_ALL=C.UTF-8", "MANROFFSEQ=")
			out := runQuiet(t, "man -l", cmd)
			name := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
			for _, want := range []string{"NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO"} {
				if !strings.Contains(out, want) {
					t.Errorf("rendered page lacks %q", want)
				}
			}
			if !regexp.MustCompile(`(?m)^NAME\n\s+` + regexp.QuoteMeta(name) + `\s+-\s`).MatchString(out) {
				t.Errorf("the NAME section does not start with %q", name+" - ")
			}
			// Lines longer than the width mean an unbreakable run,
			// usually a missing space or a runaway example. Only for
			// the hand-written pages: the generated ones set the
			// commands' own example lines as they are.
			if filepath.Dir(p) != "." {
				return
			}
			for _, line := range strings.Split(out, "\n") {
				if n := len([]rune(line)); n > 80 {
					t.Errorf("line of %d columns: %q", n, line)
				}
			}
		})
	}
}

// TestHeader checks the .TH line of every page: section 8, a fixed ISO
// date (never the build date), the project as the source.
func TestHeader(t *testing.T) {
	th := regexp.MustCompile(`(?m)^\.TH ([A-Z\\-]+) 8 (\d{4}-\d{2}-\d{2}) "ipvs-tools"`)
	for _, p := range pages(t) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m := th.FindSubmatch(b)
		if m == nil {
			t.Errorf("%s: no .TH NAME 8 YYYY-MM-DD \"ipvs-tools\" line", p)
			continue
		}
		name := strings.ReplaceAll(string(m[1]), `\-`, "-")
		want := strings.ToUpper(strings.TrimSuffix(filepath.Base(p), ".8"))
		if name != want {
			t.Errorf("%s: .TH names %s, want %s", p, name, want)
		}
	}
}

// roff turns an option as typed into its spelling in the page source.
func roff(opt string) string { return strings.ReplaceAll(opt, "-", `\-`) }

// TestIpvsadmOptionsDocumented checks that ipvsadm(8) describes every
// option of ipvsadm's help text, and the ones the help text leaves out.
func TestIpvsadmOptionsDocumented(t *testing.T) {
	page, err := os.ReadFile("ipvsadm.8")
	if err != nil {
		t.Fatal(err)
	}
	src := string(page)
	var help bytes.Buffer
	ipvsadmfmt.WriteHelp(&help, "ipvsadm")
	longs := regexp.MustCompile(`--[a-z0-9][a-z0-9-]*`).FindAllString(help.String(), -1)
	shorts := regexp.MustCompile(`(?m)(?:^|[ |])(-[A-Za-z0-9])\b`).FindAllStringSubmatch(help.String(), -1)
	opts := map[string]bool{"-X": true, "-l": true, "-v": true, "--version": true}
	for _, o := range longs {
		opts[o] = true
	}
	for _, m := range shorts {
		opts[m[1]] = true
	}
	if len(opts) < 60 {
		t.Fatalf("found only %d options in the help text", len(opts))
	}
	for o := range opts {
		// An option is documented where it starts a tagged paragraph
		// or a synopsis item, not just mentioned.
		re := regexp.MustCompile(`(?m)^\.(?:B|BR|TP|RB|BI)[^\n]*` + regexp.QuoteMeta(roff(o)) + `(?:[^a-z0-9\\-]|\\-[^a-z]|$)`)
		if !re.MatchString(src) {
			t.Errorf("ipvsadm.8 does not document %s", o)
		}
	}
}

// TestIpvsadmFacts pins the values that ipvsadm 1.31's own man page and
// help text got wrong, and the scheduler list.
func TestIpvsadmFacts(t *testing.T) {
	page, err := os.ReadFile("ipvsadm.8")
	if err != nil {
		t.Fatal(err)
	}
	man := need(t, "man")
	cmd := exec.Command(man, "-l", "-P", "cat", "ipvsadm.8")
	cmd.Env = append(os.Environ(), "MANWIDTH=1000", "LC_ALL=C.UTF-8")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	// Join the paragraphs' lines so that phrases can be searched.
	text := strings.Join(strings.Fields(string(out)), " ")
	for _, want := range []string{
		"the default is 360 seconds",                // -p (1.31's page says 300)
		"0 to 2147483647; the default is 1",         // -w
		"0 to 2147483647; 0 (the default) means no", // -x
		"0 to 255; the default is 0",                // --syncid (1.31's -h says 255)
		"The default is wlc",
		"1 to 65507",   // --sync-maxlen
		"1 to 2678400", // -p
		"0 to 2678400", // --set
		"IP in IP (the default)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("ipvsadm(8) does not say %q", want)
		}
	}
	for _, s := range []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"} {
		if !regexp.MustCompile(`(?m)^\.B ` + s + `$`).Match(page) {
			t.Errorf("scheduler %s is not described", s)
		}
	}
}
