package cmdutil

import (
	"fmt"
	"io"

	"github.com/ipvs-tools/ipvs/ipvsprobe"
)

// ProbeFunc tries kernel features (ipvsprobe.Probe, or a fake in tests).
type ProbeFunc func(ipvsprobe.Request) (*ipvsprobe.Report, error)

// CheckKernel asks the running kernel, before anything is sent, whether it
// has the schedulers, persistence engines and tunnel types of req. It returns an
// *ipvsprobe.UnsupportedError naming what is missing. When the probe itself
// cannot run (no privilege to create a namespace, say) it says so on warn
// (if not nil) and returns nil: the kernel's own answers then decide.
func CheckKernel(probe ProbeFunc, req ipvsprobe.Request, warn io.Writer) error {
	if probe == nil || len(req.Schedulers)+len(req.PEs)+len(req.Tunnels) == 0 {
		return nil
	}
	rep, err := probe(req)
	if err != nil {
		if warn != nil {
			fmt.Fprintf(warn, "warning: could not check the kernel's schedulers, persistence engines and tunnel types first (%v)\n", err)
		}
		return nil
	}
	return rep.Err()
}
