package netlinkipvs

import (
	"fmt"

	"github.com/ipvs-tools/ipvs"
)

// Info returns the IPVS version and the connection table size (GET_INFO).
func (c *Client) Info() (ipvs.Info, error) {
	return getOne(c, ipvs.CmdGetInfo, nil, decodeInfo)
}

// getOne sends the request cmd with attrs and decodes its one reply; no
// reply is an *Error.
func getOne[T any](c *Client, cmd ipvs.Command, attrs []byte, decode func([]byte) (T, error)) (T, error) {
	var (
		out T
		got bool
	)
	err := c.execute(cmd, false, attrs, nil, func(_ uint8, b []byte) error {
		var err error
		out, err = decode(b)
		got = true
		return err
	})
	if err == nil && !got {
		err = &Error{Op: cmd, Err: fmt.Errorf("no reply")}
	}
	return out, err
}

// dump runs the dump cmd with attrs and collects what decode makes of each
// reply in the kernel's order; an empty dump is an empty slice. With a
// key function, an entry whose key was met before in the same attempt is
// dropped (the kernel's dump is not a snapshot and can repeat entries
// while the table changes).
func dump[T any, K comparable](c *Client, cmd ipvs.Command, attrs []byte, decode func([]byte) (T, error), key func(T) K) ([]T, error) {
	var (
		out  []T
		seen map[K]struct{}
	)
	err := c.execute(cmd, true, attrs, func() {
		out = out[:0]
		seen = make(map[K]struct{})
	}, func(_ uint8, b []byte) error {
		v, err := decode(b)
		if err != nil {
			return err
		}
		if key != nil {
			k := key(v)
			if _, dup := seen[k]; dup {
				return nil
			}
			seen[k] = struct{}{}
		}
		out = append(out, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []T{}
	}
	return out, nil
}

// Services returns every virtual service (a GET_SERVICE dump) in the
// kernel's order. An empty table is an empty slice. A service met twice
// (the kernel's dump is not a snapshot and can repeat entries while the
// table changes) is returned once.
func (c *Client) Services() ([]ipvs.Service, error) {
	return dump(c, ipvs.CmdGetService, nil, decodeService, ipvs.Service.Key)
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
	return getOne(c, ipvs.CmdGetService, serviceIDAttrs(key), decodeService)
}

// Destinations returns the real servers of service svc (a GET_DEST dump),
// newest first as the kernel lists them. The kernel answers a missing
// service with an empty list, not an error.
func (c *Client) Destinations(svc ipvs.ServiceKey) ([]ipvs.Destination, error) {
	decode := func(b []byte) (ipvs.Destination, error) { return decodeDest(b, svc.Family) }
	return dump(c, ipvs.CmdGetDest, serviceIDAttrs(svc), decode, ipvs.Destination.Key)
}

// serviceIDAttrs returns a SERVICE nest naming the service k.
func serviceIDAttrs(k ipvs.ServiceKey) []byte {
	s := k.Service()
	var e attrEncoder
	encodeServiceID(&e, &s)
	return e.b
}

// write sends one acknowledged write request.
func (c *Client) write(op ipvs.Op) error {
	return c.execute(op.Cmd, false, encodeOp(op), nil, func(uint8, []byte) error { return nil })
}

// writer gives the write methods below their requests (ipvs.OpWriter).
func (c *Client) writer() ipvs.OpWriter { return c.write }

// NewService adds a virtual service (NEW_SERVICE). Scheduler, Flags,
// Timeout, Netmask and PEName are taken from s.
func (c *Client) NewService(s ipvs.Service) error { return c.writer().NewService(s) }

// UpdateService replaces the settings of an existing service (SET_SERVICE):
// every flag is replaced, and an empty PEName removes the persistence
// engine.
func (c *Client) UpdateService(s ipvs.Service) error { return c.writer().UpdateService(s) }

// DeleteService removes the service with the identity of s (DEL_SERVICE).
func (c *Client) DeleteService(s ipvs.ServiceKey) error { return c.writer().DeleteService(s) }

// NewDestination adds d to the service svc (NEW_DEST).
func (c *Client) NewDestination(svc ipvs.ServiceKey, d ipvs.Destination) error {
	return c.writer().NewDestination(svc, d)
}

// UpdateDestination replaces the settings of destination d of svc
// (SET_DEST).
func (c *Client) UpdateDestination(svc ipvs.ServiceKey, d ipvs.Destination) error {
	return c.writer().UpdateDestination(svc, d)
}

// DeleteDestination removes the destination with the identity of d from
// svc (DEL_DEST).
func (c *Client) DeleteDestination(svc ipvs.ServiceKey, d ipvs.DestKey) error {
	return c.writer().DeleteDestination(svc, d)
}

// Flush removes every service and destination (FLUSH).
func (c *Client) Flush() error { return c.writer().Flush() }

// ZeroAll zeroes the counters of every service and destination and the
// totals of /proc/net/ip_vs_stats (ZERO without a service).
func (c *Client) ZeroAll() error { return c.writer().ZeroAll() }

// ZeroService zeroes the counters of one service and its destinations.
func (c *Client) ZeroService(svc ipvs.ServiceKey) error { return c.writer().ZeroService(svc) }

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
func (c *Client) SetTimeouts(t ipvs.Timeouts) error { return c.writer().SetTimeouts(t) }

// Daemons returns the running sync daemons, master first (GET_DAEMON). None
// running is an empty slice.
func (c *Client) Daemons() ([]ipvs.Daemon, error) {
	return dump[ipvs.Daemon, struct{}](c, ipvs.CmdGetDaemon, nil, decodeDaemon, nil)
}

// NewDaemon starts a sync daemon (NEW_DAEMON).
func (c *Client) NewDaemon(d ipvs.Daemon) error { return c.writer().NewDaemon(d) }

// DeleteDaemon stops the sync daemon of the given role (DEL_DAEMON).
func (c *Client) DeleteDaemon(state ipvs.DaemonState) error { return c.writer().DeleteDaemon(state) }
