package factory

import (
	"net"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/ipvsproc"
	"github.com/ipvs-tools/ipvs/ipvssysctl"
	"github.com/ipvs-tools/ipvs/netns"
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

// interfaces names the network interfaces of namespace ns ("" for the
// caller's), looked up on a thread inside it.
func interfaces(ns string) ([]string, error) {
	var names []string
	err := netns.Do(ns, func() error {
		ifs, err := net.Interfaces()
		for _, i := range ifs {
			names = append(names, i.Name)
		}
		return err
	})
	return names, err
}
