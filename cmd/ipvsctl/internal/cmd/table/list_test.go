package table

import (
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
)

func TestParse(t *testing.T) {
	if got, err := testutil.Parse(NewCmdList, "--stats", "--scope", "port=80", "--no-sort"); err != nil || !got.Stats || got.Scope != "port=80" || !got.NoSort || got.Get {
		t.Errorf("list: %v %+v", err, got)
	}
	if _, err := testutil.Parse(NewCmdList, "--stats", "--rate"); err == nil {
		t.Error("--stats with --rate accepted")
	}
	if _, err := testutil.Parse(NewCmdList, "extra"); err == nil {
		t.Error("argument accepted")
	}
	if got, err := testutil.Parse(NewCmdGet, "-f", "7"); err != nil || !got.Get || got.Service.FWMark != 7 {
		t.Errorf("get: %v %+v", err, got)
	}
	if _, err := testutil.Parse(NewCmdList, "-o", "rules"); err == nil || err.Error() != "-o rules: list prints table, json or yaml" {
		t.Errorf("-o rules: %v", err)
	}
}

func TestRunErrors(t *testing.T) {
	f, _ := testutil.NewFactory(testutil.Sample())
	err := testutil.Execute(NewCmdGet(f, nil), "tcp:10.9.9.9:80")
	if err == nil || !strings.Contains(err.Error(), "get service tcp:10.9.9.9:80: no such process (ESRCH)") {
		t.Errorf("missing service: %v", err)
	}
	if err := testutil.Execute(NewCmdList(f, nil), "--scope", "x=1"); err == nil {
		t.Error("bad scope accepted")
	}
}

// TestListColor checks the accents of list: a bold header and dim
// destinations of weight 0 when colour is on; none when it is off, and
// never in JSON or YAML.
func TestListColor(t *testing.T) {
	const (
		header = "\x1b[1mSERVICE                 SCHED/FORWARD  WEIGHT  ACTIVE  INACTIVE  PERSIST  OPTIONS\x1b[0m\n"
		quiet  = "\n\x1b[2m  -> 192.168.0.3:8080   masq           0       0       0         0        thresholds=100/50\x1b[0m\n"
	)
	for _, tt := range []struct {
		name    string
		color   bool
		args    []string
		want    []string // substrings
		wantNot string
	}{
		{"table, colour", true, nil, []string{header, quiet, "\n  -> 192.168.0.1:8080   masq           1       7       3         0\n"}, ""},
		{"table, no colour", false, nil, []string{"SERVICE ", "  -> 192.168.0.3:8080"}, "\x1b["},
		{"json, colour", true, []string{"-o", "json"}, []string{`"weight": 0`}, "\x1b["},
		{"yaml, colour", true, []string{"-o", "yaml"}, []string{"weight: 0"}, "\x1b["},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, out := testutil.NewFactory(testutil.Sample())
			f.IOStreams.SetColorEnabled(tt.color)
			if err := testutil.Execute(NewCmdList(f, nil), tt.args...); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tt.wantNot != "" && strings.Contains(out.String(), tt.wantNot) {
				t.Errorf("output has %q:\n%s", tt.wantNot, out)
			}
		})
	}
}
