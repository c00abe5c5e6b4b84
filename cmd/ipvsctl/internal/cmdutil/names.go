package cmdutil

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
)

// Names turns addresses and ports into host and service names for table
// output; with Numeric it returns numbers. Machine formats never use it.
type Names struct {
	Numeric bool
	// LookupAddr resolves an address (net.DefaultResolver if nil).
	LookupAddr func(ctx context.Context, addr string) ([]string, error)
	// ServicesFile is /etc/services unless set.
	ServicesFile string

	mu       sync.Mutex
	hosts    map[netip.Addr]string
	services map[string]string // "80/tcp" -> "http"
	// noDNS is set after a lookup timed out: the resolver is unreachable,
	// and waiting for it once per address would take forever on a big
	// table, so the remaining addresses stay numeric.
	noDNS bool
}

// Host returns the name of a, or its text.
func (n *Names) Host(a netip.Addr) string {
	if n == nil || n.Numeric {
		return a.String()
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.hosts == nil {
		n.hosts = map[netip.Addr]string{}
	}
	if h, ok := n.hosts[a]; ok {
		return h
	}
	h := a.String()
	if n.noDNS {
		return h
	}
	look := n.LookupAddr
	if look == nil {
		look = net.DefaultResolver.LookupAddr
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if names, err := look(ctx, a.String()); err == nil && len(names) > 0 {
		h = strings.TrimSuffix(names[0], ".")
	} else if ctx.Err() != nil {
		n.noDNS = true
	}
	n.hosts[a] = h
	return h
}

// Port returns the service name of port for the protocol, or the number.
func (n *Names) Port(port uint16, proto ipvs.Protocol) string {
	num := strconv.Itoa(int(port))
	if n == nil || n.Numeric || port == 0 {
		return num
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.services == nil {
		n.loadServices()
	}
	if s, ok := n.services[num+"/"+ipvsconfig.ProtocolName(proto)]; ok {
		return s
	}
	return num
}

func (n *Names) loadServices() {
	n.services = map[string]string{}
	path := n.ServicesFile
	if path == "" {
		path = "/etc/services"
	}
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fs := strings.Fields(line)
		if len(fs) < 2 {
			continue
		}
		if _, dup := n.services[fs[1]]; !dup {
			n.services[fs[1]] = fs[0]
		}
	}
}

// AddrPort formats an address and port as host:port or [host]:port.
func (n *Names) AddrPort(a netip.Addr, port uint16, proto ipvs.Protocol) string {
	h := n.Host(a)
	if a.Is6() && !a.Is4In6() {
		h = "[" + h + "]"
	}
	return h + ":" + n.Port(port, proto)
}

// Service formats a service key for tables: tcp:host:port or fwmark:N.
func (n *Names) Service(k ipvs.ServiceKey) string {
	if k.IsFWMark() || n == nil || n.Numeric {
		return ipvsconfig.FormatServiceKey(k)
	}
	return ipvsconfig.ProtocolName(k.Protocol) + ":" + n.AddrPort(k.Address, k.Port, k.Protocol)
}
