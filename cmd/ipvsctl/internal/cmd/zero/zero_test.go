package zero

import (
	"testing"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
)

func TestZero(t *testing.T) {
	fake := testutil.Sample()
	f, _ := testutil.NewFactory(fake)
	for _, tt := range []struct {
		args []string
		all  bool
		err  bool
	}{{nil, true, false}, {[]string{"fwmark:7"}, false, false}, {[]string{"-t", "10.0.0.1:80"}, false, false}, {[]string{"fwmark:99"}, false, true}} {
		fake.ResetWrites()
		cmd := NewCmdZero(f, nil)
		err := testutil.Execute(cmd, tt.args...)
		if (err != nil) != tt.err {
			t.Errorf("%v: %v", tt.args, err)
		}
		if len(fake.Writes) != 1 || fake.Writes[0].Cmd != ipvs.CmdZero || fake.Writes[0].AllServices != tt.all {
			t.Errorf("%v: writes %+v", tt.args, fake.Writes)
		}
	}
	s, _ := fake.Service(testutil.Key(ipvs.AFInet, ipvs.ProtoTCP, "10.0.0.1", 80))
	if s.Stats.Conns != 0 {
		t.Error("not zeroed")
	}
}
