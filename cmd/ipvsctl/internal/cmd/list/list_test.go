package list

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"github.com/spf13/cobra"
)

func execute(cmd *cobra.Command, args ...string) error {
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	return cmd.Execute()
}

func TestParse(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := factory.NewTest(ios, testutil.Sample())
	var got *Options
	stub := func(o *Options) error { got = o; return nil }
	if err := execute(NewCmdList(f, stub), "--stats", "--scope", "port=80", "--no-sort"); err != nil || !got.Stats || got.Scope != "port=80" || !got.NoSort || got.Get {
		t.Errorf("list: %v %+v", err, got)
	}
	if err := execute(NewCmdList(f, stub), "--stats", "--rate"); err == nil {
		t.Error("--stats with --rate accepted")
	}
	if err := execute(NewCmdList(f, stub), "extra"); err == nil {
		t.Error("argument accepted")
	}
	if err := execute(NewCmdGet(f, stub), "-f", "7"); err != nil || !got.Get || got.Service.FWMark != 7 {
		t.Errorf("get: %v %+v", err, got)
	}
	if err := execute(NewCmdList(f, stub), "-o", "rules"); err == nil || err.Error() != "-o rules: list prints table, json or yaml" {
		t.Errorf("-o rules: %v", err)
	}
}

func TestRunErrors(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := factory.NewTest(ios, testutil.Sample())
	err := execute(NewCmdGet(f, nil), "tcp:10.9.9.9:80")
	if err == nil || !strings.Contains(err.Error(), "get service tcp:10.9.9.9:80: no such process (ESRCH)") {
		t.Errorf("missing service: %v", err)
	}
	if err := execute(NewCmdList(f, nil), "--scope", "x=1"); err == nil {
		t.Error("bad scope accepted")
	}
}
