package main

// The man pages under man/ipvsctl and the completion scripts
// completions/ipvsctl.bash, _ipvsctl and ipvsctl.fish are generated from
// the command tree and checked in. These tests fail when they are stale;
//
//	go test ./cmd/ipvsctl -run TestGenerated -update
//
// rewrites them. The pages keep the date they have (their .TH lines), so
// regenerating changes only what the commands changed; set
// SOURCE_DATE_EPOCH to give them another date.

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/root"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/internal/mangen"
	"github.com/spf13/cobra"
)

const (
	manDir         = "../../man/ipvsctl"
	completionsDir = "../../completions"
	regenerate     = "go test ./cmd/ipvsctl -run TestGenerated -update"
)

// updating reports whether -update (registered by internal/testutil,
// which vm_test.go imports) was given.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// newRoot is the command tree as main builds it, on test streams.
func newRoot() *cobra.Command {
	ios, _, _, _ := iostreams.Test()
	return root.NewCmdRoot(factory.New(version, ios))
}

// pagesDate is the date of the checked-in pages (from ipvsctl.8's .TH
// line), or today for a first generation.
func pagesDate(t *testing.T) time.Time {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(manDir, "ipvsctl.8"))
	if err != nil {
		return time.Now().UTC().Truncate(24 * time.Hour)
	}
	m := regexp.MustCompile(`(?m)^\.TH \S+ 8 (\d{4}-\d{2}-\d{2}) `).FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s/ipvsctl.8 has no dated .TH line", manDir)
	}
	d, err := time.Parse("2006-01-02", string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func header(date time.Time) mangen.Header {
	return mangen.Header{
		Section: "8",
		Date:    date,
		Source:  "ipvs-tools",
		Manual:  "System Administration",
		SeeAlso: []string{"ipvsadm(8)", "ipvsadm-save(8)", "ipvsadm-restore(8)"},
	}
}

func TestGeneratedManPages(t *testing.T) {
	date := pagesDate(t)
	if updating() {
		d, err := mangen.DateFromEnv(date)
		if err != nil {
			t.Fatal(err)
		}
		old, _ := filepath.Glob(filepath.Join(manDir, "*.8"))
		for _, p := range old {
			os.Remove(p)
		}
		names, err := mangen.Generate(newRoot(), manDir, header(d))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %d pages to %s", len(names), manDir)
		return
	}
	problems, err := mangen.Stale(newRoot(), manDir, header(date))
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Errorf("the ipvsctl man pages are stale; run\n\t%s\n%s", regenerate, strings.Join(problems, "\n"))
	}
}

// TestGeneratedCompletions runs "ipvsctl completion SHELL" and compares
// its output with the checked-in script.
func TestGeneratedCompletions(t *testing.T) {
	for shell, file := range map[string]string{"bash": "ipvsctl.bash", "zsh": "_ipvsctl", "fish": "ipvsctl.fish"} {
		ios, _, out, errOut := iostreams.Test()
		f := factory.New(version, ios)
		if code := cmdutil.Execute(root.NewCmdRoot(f), []string{"completion", shell}, out, errOut); code != 0 || errOut.Len() > 0 {
			t.Fatalf("ipvsctl completion %s: exit %d: %s", shell, code, errOut.String())
		}
		path := filepath.Join(completionsDir, file)
		if updating() {
			if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(old, out.Bytes()) {
			t.Errorf("completions/%s is stale (%v); run\n\t%s", file, err, regenerate)
		}
	}
}
