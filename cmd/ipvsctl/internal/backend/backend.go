// Package backend defines what ipvsctl needs from the kernel, so commands
// can run against the real netlink client or a fake in tests.
package backend

import (
	"sync/atomic"

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
}

var _ IPVS = (*netlinkipvs.Client)(nil)

// Counting wraps an IPVS and counts the write requests sent through it
// (each write method is one request, a Batch is one per op), so commands
// can report "N requests sent" and tests and users can see that a no-op
// apply sends none.
type Counting struct {
	IPVS
	writes atomic.Int64
}

// NewCounting wraps b.
func NewCounting(b IPVS) *Counting { return &Counting{IPVS: b} }

// Writes returns the number of write requests sent so far.
func (c *Counting) Writes() int64 { return c.writes.Load() }

func (c *Counting) count(n int) { c.writes.Add(int64(n)) }

func (c *Counting) NewService(s ipvs.Service) error { c.count(1); return c.IPVS.NewService(s) }
func (c *Counting) UpdateService(s ipvs.Service) error {
	c.count(1)
	return c.IPVS.UpdateService(s)
}
func (c *Counting) DeleteService(k ipvs.ServiceKey) error {
	c.count(1)
	return c.IPVS.DeleteService(k)
}
func (c *Counting) NewDestination(k ipvs.ServiceKey, d ipvs.Destination) error {
	c.count(1)
	return c.IPVS.NewDestination(k, d)
}
func (c *Counting) UpdateDestination(k ipvs.ServiceKey, d ipvs.Destination) error {
	c.count(1)
	return c.IPVS.UpdateDestination(k, d)
}
func (c *Counting) DeleteDestination(k ipvs.ServiceKey, d ipvs.DestKey) error {
	c.count(1)
	return c.IPVS.DeleteDestination(k, d)
}
func (c *Counting) Flush() error   { c.count(1); return c.IPVS.Flush() }
func (c *Counting) ZeroAll() error { c.count(1); return c.IPVS.ZeroAll() }
func (c *Counting) ZeroService(k ipvs.ServiceKey) error {
	c.count(1)
	return c.IPVS.ZeroService(k)
}
func (c *Counting) SetTimeouts(t ipvs.Timeouts) error {
	c.count(1)
	return c.IPVS.SetTimeouts(t)
}
func (c *Counting) NewDaemon(d ipvs.Daemon) error { c.count(1); return c.IPVS.NewDaemon(d) }
func (c *Counting) DeleteDaemon(s ipvs.DaemonState) error {
	c.count(1)
	return c.IPVS.DeleteDaemon(s)
}
func (c *Counting) Batch(ops []ipvs.Op) ([]error, error) {
	c.count(len(ops))
	return c.IPVS.Batch(ops)
}

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
