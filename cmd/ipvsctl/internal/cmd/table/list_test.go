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
