// Package nss answers the host and service name lookups ipvsadm makes
// through glibc (gethostbyname, gethostbyaddr, getservbyname,
// getservbyport) the way glibc's "files" backends answer them: from
// /etc/hosts and /etc/services, first match wins. Host lookups fall back to
// DNS (Go's resolver) when /etc/nsswitch.conf lists dns for hosts.
//
// Go's net package has no port-to-name lookup and its host lookups do not
// return glibc's canonical name, so the files are parsed here.
package nss

import (
	"bufio"
	"bytes"
	"context"
	"iter"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DB looks names up in a set of files. The files are read on first use.
type DB struct {
	HostsPath    string
	ServicesPath string
	// NsswitchPath is read to decide whether DNS is consulted for hosts;
	// empty means never.
	NsswitchPath string
	// DNSTimeout bounds a DNS lookup.
	DNSTimeout time.Duration

	once     sync.Once
	hosts    []hostEntry
	services []servEntry
	dns      bool
}

type hostEntry struct {
	addr  netip.Addr
	names []string
}

type servEntry struct {
	names []string // official name first
	port  uint16
	proto string
}

// System returns a DB on the system's files.
func System() *DB {
	return &DB{
		HostsPath:    "/etc/hosts",
		ServicesPath: "/etc/services",
		NsswitchPath: "/etc/nsswitch.conf",
		DNSTimeout:   5 * time.Second,
	}
}

func (d *DB) load() {
	d.once.Do(func() {
		d.hosts = parseHosts(readFile(d.HostsPath))
		d.services = parseServices(readFile(d.ServicesPath))
		if d.NsswitchPath != "" {
			d.dns = hostsUseDNS(readFile(d.NsswitchPath), d.NsswitchPath)
		}
	})
}

func readFile(path string) []byte {
	if path == "" {
		return nil
	}
	b, _ := os.ReadFile(path)
	return b
}

// fields splits a line of a files database: '#' starts a comment.
func fields(line string) []string {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	return strings.Fields(line)
}

// records yields the fields of each line of a hosts or services file that
// has two or more.
func records(b []byte) iter.Seq[[]string] {
	return func(yield func([]string) bool) {
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if f := fields(sc.Text()); len(f) >= 2 && !yield(f) {
				return
			}
		}
	}
}

func parseHosts(b []byte) []hostEntry {
	var out []hostEntry
	for f := range records(b) {
		a, err := netip.ParseAddr(f[0])
		if err != nil || a.Zone() != "" {
			continue
		}
		out = append(out, hostEntry{addr: a, names: f[1:]})
	}
	return out
}

func parseServices(b []byte) []servEntry {
	var out []servEntry
	for f := range records(b) {
		portProto := strings.SplitN(f[1], "/", 2)
		if len(portProto) != 2 {
			continue
		}
		port, err := strconv.ParseUint(portProto[0], 10, 16)
		if err != nil {
			continue
		}
		names := append([]string{f[0]}, f[2:]...)
		out = append(out, servEntry{names: names, port: uint16(port), proto: portProto[1]})
	}
	return out
}

// hostsUseDNS reports whether the hosts line of nsswitch.conf names dns;
// without the file glibc's default ("dns [!UNAVAIL=return] files") does.
func hostsUseDNS(b []byte, path string) bool {
	if b == nil {
		if _, err := os.Stat(path); err != nil {
			return true
		}
		return false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := fields(sc.Text())
		if len(f) == 0 || f[0] != "hosts:" {
			continue
		}
		for _, s := range f[1:] {
			if s == "dns" {
				return true
			}
		}
		return false
	}
	return true
}

// LookupHost is gethostbyname(name) restricted to IPv4: the first address.
func (d *DB) LookupHost(name string) ([4]byte, bool) {
	d.load()
	for _, h := range d.hosts {
		if !h.addr.Is4() {
			continue
		}
		for _, n := range h.names {
			if strings.EqualFold(n, name) {
				return h.addr.As4(), true
			}
		}
	}
	if !d.dns || name == "" {
		return [4]byte{}, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout())
	defer cancel()
	ips, err := (&net.Resolver{PreferGo: true}).LookupNetIP(ctx, "ip4", name)
	if err != nil || len(ips) == 0 {
		return [4]byte{}, false
	}
	return ips[0].Unmap().As4(), true
}

// HostByAddr is gethostbyaddr: the official (first) name of the first
// hosts line with the address, else a DNS PTR name.
func (d *DB) HostByAddr(a netip.Addr) (string, bool) {
	d.load()
	for _, h := range d.hosts {
		if h.addr == a {
			return h.names[0], true
		}
	}
	if !d.dns {
		return "", false
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout())
	defer cancel()
	names, err := (&net.Resolver{PreferGo: true}).LookupAddr(ctx, a.String())
	if err != nil || len(names) == 0 {
		return "", false
	}
	return strings.TrimSuffix(names[0], "."), true
}

// LookupService is getservbyname(name, proto).
func (d *DB) LookupService(name, proto string) (uint16, bool) {
	d.load()
	for _, s := range d.services {
		if s.proto != proto {
			continue
		}
		for _, n := range s.names {
			if n == name {
				return s.port, true
			}
		}
	}
	return 0, false
}

// ServByPort is getservbyport(port, proto): the official name.
func (d *DB) ServByPort(port uint16, proto string) (string, bool) {
	d.load()
	for _, s := range d.services {
		if s.port == port && s.proto == proto {
			return s.names[0], true
		}
	}
	return "", false
}

func (d *DB) timeout() time.Duration {
	if d.DNSTimeout > 0 {
		return d.DNSTimeout
	}
	return 5 * time.Second
}
