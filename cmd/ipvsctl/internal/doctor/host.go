package doctor

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"

	"github.com/ipvs-tools/ipvs/ipvsprobe"
	"github.com/ipvs-tools/ipvs/netns"
)

// NewHost returns the Host of the network namespace nameOrPath (the
// caller's if empty): its sysctls under /proc/sys, its interfaces and
// addresses, and whether an address is local.
func NewHost(nameOrPath string) Host { return host{ns: nameOrPath} }

type host struct{ ns string }

func (h host) Kernel() string { return ipvsprobe.Kernel() }

func (h host) Sysctl(path string) (string, error) {
	f, err := netns.OpenFile(h.ns, "/proc/sys/"+path, os.O_RDONLY, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func (h host) Interfaces() ([]Interface, error) {
	var out []Interface
	err := netns.Do(h.ns, func() error {
		ifs, err := net.Interfaces()
		if err != nil {
			return err
		}
		for _, ifc := range ifs {
			x := Interface{Name: ifc.Name, Up: ifc.Flags&net.FlagUp != 0,
				Multicast: ifc.Flags&net.FlagMulticast != 0, Loopback: ifc.Flags&net.FlagLoopback != 0}
			addrs, err := ifc.Addrs()
			if err != nil {
				return err
			}
			for _, a := range addrs {
				if n, ok := a.(*net.IPNet); ok {
					if ip, ok := netip.AddrFromSlice(n.IP); ok {
						x.Addrs = append(x.Addrs, ip.Unmap())
					}
				}
			}
			out = append(out, x)
		}
		return nil
	})
	return out, err
}

// IsLocal binds a UDP socket to a in the namespace: the kernel allows it
// exactly for local addresses and local routes (EADDRNOTAVAIL otherwise),
// unless ip_nonlocal_bind is on; then the interfaces' addresses decide.
func (h host) IsLocal(a netip.Addr) (bool, error) {
	nonlocal := "net/ipv4/ip_nonlocal_bind"
	if a.Is6() {
		nonlocal = "net/ipv6/ip_nonlocal_bind"
	}
	if v, err := h.Sysctl(nonlocal); err == nil && v != "0" {
		ifs, err := h.Interfaces()
		if err != nil {
			return false, err
		}
		for _, ifc := range ifs {
			for _, x := range ifc.Addrs {
				if x == a {
					return true, nil
				}
			}
		}
		return false, nil
	}
	network := "udp4"
	if a.Is6() {
		network = "udp6"
	}
	var local bool
	err := netns.Do(h.ns, func() error {
		c, err := net.ListenPacket(network, netip.AddrPortFrom(a, 0).String())
		if err != nil {
			if errors.Is(err, syscall.EADDRNOTAVAIL) {
				return nil
			}
			return err
		}
		local = true
		return c.Close()
	})
	return local, err
}
