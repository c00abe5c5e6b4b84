package conn

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"github.com/ipvs-tools/ipvs/ipvsproc"
)

// newFactory reads the connection files from testdata/ipvsctl.
func newFactory(t *testing.T) (*factory.Factory, *bytes.Buffer) {
	f, out := testutil.NewFactory(testutil.Sample())
	dir := filepath.Join("..", "..", "..", "..", "..", "testdata", "ipvsctl")
	f.ProcFile = func(name string) (factory.ReadCloser, error) {
		return ipvsproc.Open(name, ipvsproc.WithDir(dir))
	}
	return f, out
}

func TestListGoldenAndFilters(t *testing.T) {
	f, out := newFactory(t)
	testutil.GoldenRun(t, "conn-list.txt", out, NewCmdList(f, nil))
	for _, tt := range []struct {
		args []string
		want int // rows
	}{
		{[]string{"--vip", "10.0.0.1:80"}, 5},
		{[]string{"--vip", "10.0.0.0/24", "--proto", "tcp"}, 5},
		{[]string{"--rs", "192.168.0.1:8080", "--state", "established,time_wait"}, 2},
		{[]string{"--client", "192.168.1.100"}, 2},
		{[]string{"--templates"}, 2},
		{[]string{"--no-templates", "--proto", "udp"}, 2},
		{[]string{"--pe", "sip"}, 1},
		{[]string{"--vip", "[2001:db8::1]:80"}, 1},
		{[]string{"--rs", "2001:db8::/32"}, 1},
		{[]string{"--sync"}, 2},
	} {
		out.Reset()
		if err := testutil.Execute(NewCmdList(f, nil), tt.args...); err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if n := strings.Count(out.String(), "\n") - 1; n != tt.want {
			t.Errorf("%v: %d rows, want %d:\n%s", tt.args, n, tt.want, out)
		}
	}
	out.Reset()
	if err := testutil.Execute(NewCmdList(f, nil), "--sync", "--client", "192.168.1.105"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(strings.TrimSpace(out.String()), "SYNC") {
		t.Errorf("sync origin missing:\n%s", out)
	}
	err := testutil.Execute(NewCmdList(f, nil), "--state", "established,ESTABLISH")
	if err == nil || !strings.HasPrefix(err.Error(), `--state "ESTABLISH": no connection is ever in that state; the states are NONE, ESTABLISHED, `) {
		t.Errorf("a misspelt state: %v", err)
	}
	for _, bad := range [][]string{{"--vip", "host"}, {"--proto", "gre"}, {"--templates", "--no-templates"}} {
		if err := testutil.Execute(NewCmdList(f, nil), bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestListNDJSON(t *testing.T) {
	f, out := newFactory(t)
	if err := testutil.Execute(NewCmdList(f, nil), "--proto", "ip,udp", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 NDJSON lines:\n%s", out)
	}
	var c ConnJSON
	if err := json.Unmarshal([]byte(lines[1]), &c); err != nil || c.FWMark != 7 || !c.Template || c.Protocol != "IP" || c.Destination != "10.1.1.1:0" {
		t.Errorf("fwmark template: %v %+v", err, c)
	}
	if err := json.Unmarshal([]byte(lines[2]), &c); err != nil || c.PE != "sip" || c.PEData != "3848276298@10.0.0.1" || c.Expires != 170 {
		t.Errorf("sip: %v %+v", err, c)
	}
	testutil.Golden(t, "conn-list.ndjson", out.Bytes())
}

func TestSummary(t *testing.T) {
	f, out := newFactory(t)
	testutil.GoldenRun(t, "conn-summary.txt", out, NewCmdSummary(f, nil))
	out.Reset()
	if err := testutil.Execute(NewCmdSummary(f, nil), "--vip", "10.0.0.1", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	var s Summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if s.Total != 5 || s.Templates != 1 || s.ByState["ESTABLISHED"] != 2 || s.ByState["UDP"] != 1 || s.ConnTableSize != 4096 || s.Destinations[0].Destination != "192.168.0.1:8080" || s.Destinations[0].Total != 3 {
		t.Errorf("summary %+v", s)
	}
}

func TestMissingFile(t *testing.T) {
	f, _ := testutil.NewFactory(testutil.Sample())
	dir := t.TempDir()
	f.ProcFile = func(name string) (factory.ReadCloser, error) { return ipvsproc.Open(name, ipvsproc.WithDir(dir)) }
	cmd := NewCmdList(f, nil)
	err := testutil.Execute(cmd)
	if err == nil || !strings.Contains(err.Error(), "read connections /proc/net/ip_vs_conn") || !strings.Contains(err.Error(), "hint:") {
		t.Errorf("got %v", err)
	}
}
