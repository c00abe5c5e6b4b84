package timeout

import (
	"testing"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fakeipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
)

func TestSet(t *testing.T) {
	fake := fakeipvs.New()
	f, _ := testutil.NewFactory(fake)
	for _, tt := range []struct {
		args []string
		want ipvs.Timeouts
		err  string
	}{
		{[]string{"--tcp", "3600"}, ipvs.Timeouts{TCP: 3600}, ""},
		{[]string{"900", "120", "300"}, ipvs.Timeouts{TCP: 900, TCPFin: 120, UDP: 300}, ""},
		{[]string{"900", "120"}, ipvs.Timeouts{}, "all three"},
		{[]string{}, ipvs.Timeouts{}, "nothing to set"},
		{[]string{"--udp", "9999999"}, ipvs.Timeouts{}, "too large"},
		{[]string{"1", "2", "x"}, ipvs.Timeouts{}, "not a number"},
		{[]string{"1", "2", "3", "--tcp", "4"}, ipvs.Timeouts{}, "not both"},
	} {
		got, err := testutil.Parse(NewCmdSet, tt.args...)
		if testutil.WantErr(t, tt.args, err, tt.err) {
			continue
		}
		if got.Timeouts != tt.want {
			t.Errorf("%v: %v %+v", tt.args, err, got)
		}
	}
	cmd := NewCmdSet(f, nil)
	if err := testutil.Execute(cmd, "--tcp-fin", "60"); err != nil {
		t.Fatal(err)
	}
	if got, _ := fake.Timeouts(); got != (ipvs.Timeouts{TCP: 900, TCPFin: 60, UDP: 300}) {
		t.Errorf("timeouts %+v", got)
	}
}

func TestGet(t *testing.T) {
	f, out := testutil.NewFactory(fakeipvs.New())
	testutil.GoldenRun(t, "timeout.txt", out, NewCmdGet(f, nil))
}
