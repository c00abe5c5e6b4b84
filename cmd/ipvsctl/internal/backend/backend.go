// Package backend defines what ipvsctl needs from the kernel, so commands
// can run against the real netlink client or a fake in tests.
package backend

import (
	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/ipvssysctl"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
)

// IPVS is the IPVS generic netlink API; *netlinkipvs.Client satisfies it.
type IPVS interface {
	Info() (ipvs.Info, error)
	Services() ([]ipvs.Service, error)
	Service(ipvs.ServiceKey) (ipvs.Service, error)
	Destinations(ipvs.ServiceKey) ([]ipvs.Destination, error)
	Table() ([]ipvs.VirtualServer, error)

	NewService(ipvs.Service) error
	UpdateService(ipvs.Service) error
	DeleteService(ipvs.ServiceKey) error
	NewDestination(ipvs.ServiceKey, ipvs.Destination) error
	UpdateDestination(ipvs.ServiceKey, ipvs.Destination) error
	DeleteDestination(ipvs.ServiceKey, ipvs.DestKey) error
	Flush() error
	ZeroAll() error
	ZeroService(ipvs.ServiceKey) error

	Timeouts() (ipvs.Timeouts, error)
	SetTimeouts(ipvs.Timeouts) error

	Daemons() ([]ipvs.Daemon, error)
	NewDaemon(ipvs.Daemon) error
	DeleteDaemon(ipvs.DaemonState) error

	Batch([]ipvs.Op) ([]error, error)
	Close() error

	// Requests counts the requests sent so far ("N requests sent").
	Requests() netlinkipvs.Requests
}

var _ IPVS = (*netlinkipvs.Client)(nil)

// Sysctls reads and writes the IPVS sysctls of one network namespace;
// *ipvssysctl.Sysctls satisfies it (tests point one at a directory tree
// with ipvssysctl.WithDir).
type Sysctls interface {
	List() ([]ipvssysctl.Sysctl, error)
	Get(name string) (string, error)
	Set(name, value string) error
	Defense() (ipvssysctl.Defense, error)
	SetDefense(ipvssysctl.Defense) error
}

var _ Sysctls = (*ipvssysctl.Sysctls)(nil)
