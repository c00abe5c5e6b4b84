package factory

import (
	"errors"
	"os"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/netns"
)

var (
	errNoSysctls = errors.New("sysctl access is not available in this build yet (it comes with package ipvssysctl)")
	errNoProc    = errors.New("no /proc access in this environment")
)

// newSysctls is replaced by the ipvssysctl-backed implementation once that
// package is available.
func newSysctls(f *Factory) func() (backend.Sysctls, error) {
	return func() (backend.Sysctls, error) { return nil, errNoSysctls }
}

// newProcFile opens /proc/net/NAME of the selected namespace. The file is
// opened from a thread inside the namespace (through /proc/thread-self),
// and keeps reading that namespace's table after the thread leaves.
func newProcFile(f *Factory) func(string) (ReadCloser, error) {
	return func(name string) (ReadCloser, error) {
		var file *os.File
		err := netns.Do(f.Options.NetNS, func() error {
			var err error
			file, err = os.Open("/proc/thread-self/net/" + name)
			return err
		})
		if err != nil {
			return nil, err
		}
		return file, nil
	}
}
