package netlinkipvs

import "github.com/ipvs-tools/ipvs"

// Table fetches every service and its destinations: one service dump, then
// one destination dump per service, in kernel order. The kernel offers no
// snapshot, so a table changed by someone else meanwhile may be seen part
// way through a change.
func (c *Client) Table() ([]ipvs.VirtualServer, error) {
	svcs, err := c.Services()
	if err != nil {
		return nil, err
	}
	out := make([]ipvs.VirtualServer, len(svcs))
	for i, s := range svcs {
		ds, err := c.Destinations(s.Key())
		if err != nil {
			return nil, err
		}
		out[i] = ipvs.VirtualServer{Service: s, Destinations: ds}
	}
	return out, nil
}
