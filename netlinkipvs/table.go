package netlinkipvs

import "github.com/ipvs-tools/ipvs"

// Table fetches every service and its destinations (ipvs.ReadTable): one
// service dump, then one destination dump per service, in kernel order.
func (c *Client) Table() ([]ipvs.VirtualServer, error) {
	return ipvs.ReadTable(c, nil)
}
