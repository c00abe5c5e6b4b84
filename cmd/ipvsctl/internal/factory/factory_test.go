package factory

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"golang.org/x/sys/unix"
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

func TestNetnsError(t *testing.T) {
	open := func(err error) error {
		return fmt.Errorf("network namespace %q: %w", "typo", &os.PathError{Op: "open", Path: "/run/netns/typo", Err: err})
	}
	for _, tc := range []struct {
		name string
		ns   string
		err  error
		want string
	}{
		{"missing", "typo", open(unix.ENOENT), "--netns typo: there is no network namespace /run/netns/typo (ip netns list shows them; a path or pid:PID works too)"},
		{"refused", "typo", open(unix.EACCES), "--netns typo: /run/netns/typo: permission denied"},
		{"no --netns", "", open(unix.ENOENT), `network namespace "typo": open /run/netns/typo: no such file or directory`},
		{"not a file error", "typo", errors.New("other"), "other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := netnsError(tc.ns, tc.err).Error(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
