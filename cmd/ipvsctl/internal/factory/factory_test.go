package factory

import (
	"errors"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
)

// TestIPVSErrorExplained: a failure to reach IPVS comes out of the
// factory already explained, so no command has to (run where the kernel
// has no IPVS, as on this project's build machines; skipped where the
// connection succeeds).
func TestIPVSErrorExplained(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := New("test", ios)
	defer f.Close()
	_, err := f.IPVS()
	if err == nil {
		t.Skip("this kernel has IPVS: no connection error to check")
	}
	var oe *cmdutil.OpError
	if !errors.As(err, &oe) || !strings.Contains(err.Error(), "connect to IPVS") {
		t.Errorf("IPVS() error %q (%T) is not explained as \"connect to IPVS\"", err, err)
	}
	if _, again := f.IPVS(); again != err {
		t.Errorf("second IPVS() = %v, want the same error", again)
	}
}
