package main

import (
	"fmt"
	"io"
	"os"

	"github.com/ipvs-tools/ipvs"
)

// countEnv names the environment variable that, when set to a file name,
// makes ipvsadm append a line "reads=R writes=W procreads=P" to that file
// at exit: R netlink read requests (GET_INFO, dumps, single GETs), W write
// requests (one per command or batched op), P reads of /proc/net/ip_vs.
// Tests use it to prove a restore's cost; nothing is printed otherwise.
const countEnv = "IPVSADM_COUNT_REQUESTS"

// counting wraps a Backend (which must also be a Batcher) and counts its
// requests.
type counting struct {
	b                       Backend
	reads, writes, procRead int
}

func (c *counting) report(path string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	fmt.Fprintf(f, "reads=%d writes=%d procreads=%d\n", c.reads, c.writes, c.procRead)
	f.Close()
}

func (c *counting) openProc(open func() (io.ReadCloser, error)) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		c.procRead++
		return open()
	}
}

func (c *counting) Info() (ipvs.Info, error) { c.reads++; return c.b.Info() }
func (c *counting) Services() ([]ipvs.Service, error) {
	c.reads++
	return c.b.Services()
}
func (c *counting) Service(k ipvs.ServiceKey) (ipvs.Service, error) {
	c.reads++
	return c.b.Service(k)
}
func (c *counting) Destinations(k ipvs.ServiceKey) ([]ipvs.Destination, error) {
	c.reads++
	return c.b.Destinations(k)
}
func (c *counting) NewService(s ipvs.Service) error { c.writes++; return c.b.NewService(s) }
func (c *counting) UpdateService(s ipvs.Service) error {
	c.writes++
	return c.b.UpdateService(s)
}
func (c *counting) DeleteService(k ipvs.ServiceKey) error {
	c.writes++
	return c.b.DeleteService(k)
}
func (c *counting) NewDestination(k ipvs.ServiceKey, d ipvs.Destination) error {
	c.writes++
	return c.b.NewDestination(k, d)
}
func (c *counting) UpdateDestination(k ipvs.ServiceKey, d ipvs.Destination) error {
	c.writes++
	return c.b.UpdateDestination(k, d)
}
func (c *counting) DeleteDestination(k ipvs.ServiceKey, d ipvs.DestKey) error {
	c.writes++
	return c.b.DeleteDestination(k, d)
}
func (c *counting) Flush() error   { c.writes++; return c.b.Flush() }
func (c *counting) ZeroAll() error { c.writes++; return c.b.ZeroAll() }
func (c *counting) ZeroService(k ipvs.ServiceKey) error {
	c.writes++
	return c.b.ZeroService(k)
}
func (c *counting) Timeouts() (ipvs.Timeouts, error) { c.reads++; return c.b.Timeouts() }
func (c *counting) SetTimeouts(t ipvs.Timeouts) error {
	c.writes++
	return c.b.SetTimeouts(t)
}
func (c *counting) Daemons() ([]ipvs.Daemon, error) { c.reads++; return c.b.Daemons() }
func (c *counting) NewDaemon(d ipvs.Daemon) error   { c.writes++; return c.b.NewDaemon(d) }
func (c *counting) DeleteDaemon(s ipvs.DaemonState) error {
	c.writes++
	return c.b.DeleteDaemon(s)
}
func (c *counting) Close() error { return c.b.Close() }
func (c *counting) Batch(ops []ipvs.Op) ([]error, error) {
	c.writes += len(ops)
	return c.b.(Batcher).Batch(ops)
}

func (c *counting) ScanServices(start func(), fn func(*ipvs.Service) error) error {
	c.reads++
	return c.b.(serviceScanner).ScanServices(start, fn)
}
