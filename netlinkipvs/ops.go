package netlinkipvs

import (
	"fmt"

	"github.com/ipvs-tools/ipvs"
)

// Info returns the IPVS version and the connection table size (GET_INFO).
func (c *Client) Info() (ipvs.Info, error) {
	var (
		info ipvs.Info
		got  bool
	)
	err := c.execute(ipvs.CmdGetInfo, false, nil, nil, func(cmd uint8, attrs []byte) error {
		var err error
		info, err = decodeInfo(attrs)
		got = true
		return err
	})
	if err == nil && !got {
		err = &Error{Op: ipvs.CmdGetInfo, Err: fmt.Errorf("no reply")}
	}
	return info, err
}

// Services returns every virtual service (a GET_SERVICE dump) in the
// kernel's order. An empty table is an empty slice. A service met twice
// (the kernel's dump is not a snapshot and can repeat entries while the
// table changes) is returned once.
func (c *Client) Services() ([]ipvs.Service, error) {
	var (
		svcs []ipvs.Service
		seen map[ipvs.ServiceKey]struct{}
	)
	err := c.execute(ipvs.CmdGetService, true, nil, func() {
		svcs = svcs[:0]
		seen = make(map[ipvs.ServiceKey]struct{})
	}, func(cmd uint8, attrs []byte) error {
		s, err := decodeService(attrs)
		if err != nil {
			return err
		}
		k := s.Key()
		if _, dup := seen[k]; dup {
			return nil
		}
		seen[k] = struct{}{}
		svcs = append(svcs, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if svcs == nil {
		svcs = []ipvs.Service{}
	}
	return svcs, nil
}

// ScanServices is a GET_SERVICE dump that hands each service to fn instead
// of collecting them, for callers that keep large tables in their own,
// smaller form. The *Service is reused for the next call. start, if not
// nil, is called before the dump and before each repetition of it (when
// the kernel flagged it interrupted, the dump starts over). Unlike
// Services, a service met twice while the table changes during the dump
// is passed twice. An error from fn ends the dump, as any failure in the
// middle of a dump does (the socket is replaced), and is returned wrapped
// in an *Error.
func (c *Client) ScanServices(start func(), fn func(*ipvs.Service) error) error {
	var s ipvs.Service
	return c.execute(ipvs.CmdGetService, true, nil, start, func(cmd uint8, attrs []byte) error {
		var err error
		if s, err = decodeService(attrs); err != nil {
			return err
		}
		return fn(&s)
	})
}

// Service fetches one service by the identity of key (GET_SERVICE). A
// missing service is an *Error with ESRCH (errors.Is os.ErrNotExist).
func (c *Client) Service(key ipvs.ServiceKey) (ipvs.Service, error) {
	s := ipvs.Service{Family: key.Family, Protocol: key.Protocol, Address: key.Address, Port: key.Port, FWMark: key.FWMark}
	var e attrEncoder
	encodeServiceID(&e, &s)
	var (
		out ipvs.Service
		got bool
	)
	err := c.execute(ipvs.CmdGetService, false, e.b, nil, func(cmd uint8, attrs []byte) error {
		var err error
		out, err = decodeService(attrs)
		got = true
		return err
	})
	if err == nil && !got {
		err = &Error{Op: ipvs.CmdGetService, Err: fmt.Errorf("no reply")}
	}
	return out, err
}

// Destinations returns the real servers of service svc (a GET_DEST dump),
// newest first as the kernel lists them. The kernel answers a missing
// service with an empty list, not an error.
func (c *Client) Destinations(svc ipvs.ServiceKey) ([]ipvs.Destination, error) {
	s := ipvs.Service{Family: svc.Family, Protocol: svc.Protocol, Address: svc.Address, Port: svc.Port, FWMark: svc.FWMark}
	var e attrEncoder
	encodeServiceID(&e, &s)
	var (
		dests []ipvs.Destination
		seen  map[ipvs.DestKey]struct{}
	)
	err := c.execute(ipvs.CmdGetDest, true, e.b, func() {
		dests = dests[:0]
		seen = make(map[ipvs.DestKey]struct{})
	}, func(cmd uint8, attrs []byte) error {
		d, err := decodeDest(attrs, svc.Family)
		if err != nil {
			return err
		}
		k := d.Key()
		if _, dup := seen[k]; dup {
			return nil
		}
		seen[k] = struct{}{}
		dests = append(dests, d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if dests == nil {
		dests = []ipvs.Destination{}
	}
	return dests, nil
}

// write sends one acknowledged write request.
func (c *Client) write(cmd ipvs.Command, attrs []byte) error {
	return c.execute(cmd, false, attrs, nil, func(uint8, []byte) error { return nil })
}

// NewService adds a virtual service (NEW_SERVICE). Scheduler, Flags,
// Timeout, Netmask and PEName are taken from s.
func (c *Client) NewService(s ipvs.Service) error {
	return c.write(ipvs.CmdNewService, encodeOp(ipvs.Op{Cmd: ipvs.CmdNewService, Service: s}))
}

// UpdateService replaces the settings of an existing service (SET_SERVICE):
// every flag is replaced, and an empty PEName removes the persistence
// engine.
func (c *Client) UpdateService(s ipvs.Service) error {
	return c.write(ipvs.CmdSetService, encodeOp(ipvs.Op{Cmd: ipvs.CmdSetService, Service: s}))
}

// DeleteService removes the service with the identity of s (DEL_SERVICE).
func (c *Client) DeleteService(s ipvs.ServiceKey) error {
	return c.write(ipvs.CmdDelService, encodeOp(ipvs.Op{Cmd: ipvs.CmdDelService, Service: serviceOf(s)}))
}

// NewDestination adds d to the service svc (NEW_DEST).
func (c *Client) NewDestination(svc ipvs.ServiceKey, d ipvs.Destination) error {
	return c.write(ipvs.CmdNewDest, encodeOp(ipvs.Op{Cmd: ipvs.CmdNewDest, Service: serviceOf(svc), Destination: d}))
}

// UpdateDestination replaces the settings of destination d of svc
// (SET_DEST).
func (c *Client) UpdateDestination(svc ipvs.ServiceKey, d ipvs.Destination) error {
	return c.write(ipvs.CmdSetDest, encodeOp(ipvs.Op{Cmd: ipvs.CmdSetDest, Service: serviceOf(svc), Destination: d}))
}

// DeleteDestination removes the destination with the identity of d from
// svc (DEL_DEST).
func (c *Client) DeleteDestination(svc ipvs.ServiceKey, d ipvs.DestKey) error {
	dest := ipvs.Destination{Family: d.Family, Address: d.Address, Port: d.Port}
	return c.write(ipvs.CmdDelDest, encodeOp(ipvs.Op{Cmd: ipvs.CmdDelDest, Service: serviceOf(svc), Destination: dest}))
}

// Flush removes every service and destination (FLUSH).
func (c *Client) Flush() error {
	return c.write(ipvs.CmdFlush, nil)
}

// ZeroAll zeroes the counters of every service and destination and the
// totals of /proc/net/ip_vs_stats (ZERO without a service).
func (c *Client) ZeroAll() error {
	return c.write(ipvs.CmdZero, nil)
}

// ZeroService zeroes the counters of one service and its destinations.
func (c *Client) ZeroService(svc ipvs.ServiceKey) error {
	return c.write(ipvs.CmdZero, encodeOp(ipvs.Op{Cmd: ipvs.CmdZero, Service: serviceOf(svc)}))
}

// Timeouts returns the TCP, TCP FIN_WAIT and UDP timeouts (GET_CONFIG).
func (c *Client) Timeouts() (ipvs.Timeouts, error) {
	var t ipvs.Timeouts
	err := c.execute(ipvs.CmdGetConfig, false, nil, nil, func(cmd uint8, attrs []byte) error {
		var err error
		t, err = decodeTimeouts(attrs)
		return err
	})
	return t, err
}

// SetTimeouts sets the timeouts (SET_CONFIG); zero fields are left
// unchanged by the kernel.
func (c *Client) SetTimeouts(t ipvs.Timeouts) error {
	return c.write(ipvs.CmdSetConfig, encodeOp(ipvs.Op{Cmd: ipvs.CmdSetConfig, Timeouts: t}))
}

// Daemons returns the running sync daemons, master first (GET_DAEMON). None
// running is an empty slice.
func (c *Client) Daemons() ([]ipvs.Daemon, error) {
	var ds []ipvs.Daemon
	err := c.execute(ipvs.CmdGetDaemon, true, nil, func() { ds = ds[:0] }, func(cmd uint8, attrs []byte) error {
		d, err := decodeDaemon(attrs)
		if err != nil {
			return err
		}
		ds = append(ds, d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if ds == nil {
		ds = []ipvs.Daemon{}
	}
	return ds, nil
}

// NewDaemon starts a sync daemon (NEW_DAEMON).
func (c *Client) NewDaemon(d ipvs.Daemon) error {
	return c.write(ipvs.CmdNewDaemon, encodeOp(ipvs.Op{Cmd: ipvs.CmdNewDaemon, Daemon: d}))
}

// DeleteDaemon stops the sync daemon of the given role (DEL_DAEMON).
func (c *Client) DeleteDaemon(state ipvs.DaemonState) error {
	return c.write(ipvs.CmdDelDaemon, encodeOp(ipvs.Op{Cmd: ipvs.CmdDelDaemon, Daemon: ipvs.Daemon{State: state}}))
}

// serviceOf returns a Service carrying only the identity k.
func serviceOf(k ipvs.ServiceKey) ipvs.Service {
	return ipvs.Service{Family: k.Family, Protocol: k.Protocol, Address: k.Address, Port: k.Port, FWMark: k.FWMark}
}
