package factory

import (
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/ipvsproc"
	"github.com/ipvs-tools/ipvs/ipvssysctl"
)

// newSysctls returns the sysctls of the selected namespace.
func newSysctls(f *Factory) func() (backend.Sysctls, error) {
	return func() (backend.Sysctls, error) {
		return ipvssysctl.New(ipvssysctl.WithNetNS(f.Options.NetNS)), nil
	}
}

// newProcFile opens /proc/net/NAME (ipvsproc.ConnFile, ...) of the
// selected namespace.
func newProcFile(f *Factory) func(string) (ReadCloser, error) {
	return func(name string) (ReadCloser, error) {
		return ipvsproc.Open(name, ipvsproc.WithNetNS(f.Options.NetNS))
	}
}
