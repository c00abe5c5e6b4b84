package ipvsproc

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/bits"
	"net/netip"
	"os"
	"strconv"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/intern"
)

// Family is an address family with the kernel's values, equal to
// ipvs.AddressFamily's.
type Family uint16

// Address families.
const (
	FamilyUnknown Family = 0  // not shown (firewall-mark services)
	FamilyInet    Family = 2  // AF_INET
	FamilyInet6   Family = 10 // AF_INET6
)

// String returns "inet", "inet6" or "unknown".
func (f Family) String() string {
	switch f {
	case FamilyInet:
		return "inet"
	case FamilyInet6:
		return "inet6"
	}
	return "unknown"
}

// ServicesHeader is what the first line of /proc/net/ip_vs says.
type ServicesHeader struct {
	// Version is the IPVS version, "1.2.1".
	Version string
	// ConnTableSize is the number of buckets of the connection hash table
	// (4096 unless the module's conn_tab_bits was changed).
	ConnTableSize int
}

// ServiceTable is the whole of /proc/net/ip_vs.
type ServiceTable struct {
	ServicesHeader
	// Services in the kernel's order (hash order, fwmark services last).
	Services []Service
}

// Service is one virtual service of /proc/net/ip_vs with its destinations.
//
// The file lacks what netlink has beyond the listing basics: scheduler
// flags, thresholds, tunnel options, persistent-connection counts, PE
// name, statistics; and firewall-mark lines say nothing of the family, so
// an IPv4 and an IPv6 service with the same mark are told apart only by
// order. Join with a netlink service dump (one request) for those.
type Service struct {
	// Family is FamilyInet or FamilyInet6 for address services and
	// FamilyUnknown for firewall-mark services.
	Family Family
	// Protocol is TCP, UDP or SCTP (0 for firewall-mark services).
	Protocol Protocol
	// Address is the virtual address and port; invalid for firewall-mark
	// services.
	Address netip.AddrPort
	// FWMark is the firewall mark of a firewall-mark service, else 0.
	FWMark uint32
	// Scheduler is the scheduler's name ("none" if it has none).
	Scheduler string
	// OnePacket is set for one-packet scheduling ("ops"); the kernel
	// never prints it for IPv6 services, so it is always false there.
	OnePacket bool
	// Persistent is set for persistent services.
	Persistent bool
	// TimeoutJiffies is the persistence timeout as printed, in jiffies
	// (seconds times the kernel's HZ, 250 on Debian); see Timeout.
	TimeoutJiffies uint32
	// RawNetmask is the persistence netmask as printed (ntohl of the
	// kernel's value); see Netmask.
	RawNetmask uint32
	// Dests are the destinations in the kernel's order.
	Dests []Dest
}

// Timeout returns the persistence timeout in seconds for a kernel with
// the given HZ (CONFIG_HZ; 250 on Debian's kernels). /proc/net/ip_vs
// prints jiffies; netlink reports seconds.
func (s *Service) Timeout(hz int) uint32 {
	if hz <= 0 {
		return 0
	}
	return s.TimeoutJiffies / uint32(hz)
}

// Netmask returns the persistence granularity the way netlink reports it:
// for IPv4 the mask as a number (0xffffff00 for 255.255.255.0), for IPv6
// the prefix length (the kernel prints it byte-swapped by ntohl, so 128
// shows as 80000000 on little-endian machines). ok is false when the
// family is unknown (firewall-mark services); RawNetmask is then all there
// is.
func (s *Service) Netmask() (mask uint32, ok bool) {
	switch s.Family {
	case FamilyInet:
		return s.RawNetmask, true
	case FamilyInet6:
		if littleEndian {
			return bits.ReverseBytes32(s.RawNetmask), true
		}
		return s.RawNetmask, true
	}
	return s.RawNetmask, false
}

// littleEndian reports whether ntohl swaps bytes on this machine.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// Dest is one destination (real server) of a Service.
type Dest struct {
	// Address is the real server's address and port, in its own family
	// (IPv6 services may have IPv4 tunnel destinations and vice versa).
	Address netip.AddrPort
	// Forward is the forwarding method.
	Forward ForwardMethod
	// Weight, ActiveConns and InactiveConns are printed with %d; they hold
	// the same bits netlink reports as u32.
	Weight        uint32
	ActiveConns   uint32
	InactiveConns uint32
}

// ParseServices reads /proc/net/ip_vs from r.
func ParseServices(r io.Reader) (*ServiceTable, error) {
	t := &ServiceTable{}
	h, err := ScanServices(r, func(s *Service) error {
		c := *s
		c.Dests = append([]Dest(nil), s.Dests...)
		t.Services = append(t.Services, c)
		return nil
	})
	t.ServicesHeader = h
	return t, err
}

// ScanServices reads /proc/net/ip_vs from r and calls fn for each service
// once its destinations are read. The *Service (and its Dests slice) is
// reused for the next service. An error from fn stops the scan and is
// returned as is.
func ScanServices(r io.Reader, fn func(*Service) error) (ServicesHeader, error) {
	name := ServicesFile
	if f, ok := r.(*os.File); ok {
		name = f.Name()
	}
	lr := newLineReader(r)
	defer lr.release()
	var h ServicesHeader
	perr := func(field, msg string, line []byte) error {
		return &ParseError{File: name, Line: lr.line, Field: field, Msg: msg, Text: shorten(line)}
	}
	var svc Service
	have := false
	for {
		line, err := lr.next()
		if err != nil {
			if err == errLineTooLong {
				return h, perr("", "line longer than 64 KiB", line)
			}
			if err != io.EOF {
				return h, &readError{name: name, err: err}
			}
			if lr.line < 3 {
				return h, &ParseError{File: name, Line: lr.line + 1, Field: "header", Msg: "input ends inside the header"}
			}
			if have {
				return h, fn(&svc)
			}
			return h, nil
		}
		switch lr.line {
		case 1:
			v, size, ok := parseVersionLine(line)
			if !ok {
				return h, perr("header", "want \"IP Virtual Server version X.Y.Z (size=N)\"", line)
			}
			h.Version, h.ConnTableSize = v, size
			continue
		case 2:
			if !bytes.HasPrefix(line, []byte("Prot ")) {
				return h, perr("header", "want the \"Prot LocalAddress:Port\" title", line)
			}
			continue
		case 3:
			if !bytes.HasPrefix(line, []byte("  -> ")) {
				return h, perr("header", "want the \"  -> RemoteAddress:Port\" title", line)
			}
			continue
		}
		if len(bytes.TrimRight(line, " ")) == 0 {
			continue
		}
		if bytes.HasPrefix(line, []byte("  -> ")) {
			if !have {
				return h, perr("destination", "destination before any service", line)
			}
			var d Dest
			if field, msg := parseDestLine(line, &d); msg != "" {
				return h, perr(field, msg, line)
			}
			svc.Dests = append(svc.Dests, d)
			continue
		}
		if have {
			if err := fn(&svc); err != nil {
				return h, err
			}
		}
		dests := svc.Dests[:0]
		svc = Service{Dests: dests}
		if field, msg := parseServiceLine(line, &svc); msg != "" {
			return h, perr(field, msg, line)
		}
		have = true
	}
}

// parseVersionLine parses "IP Virtual Server version 1.2.1 (size=4096)".
func parseVersionLine(line []byte) (version string, size int, ok bool) {
	const prefix = "IP Virtual Server version "
	if !bytes.HasPrefix(line, []byte(prefix)) {
		return "", 0, false
	}
	rest := line[len(prefix):]
	sp := bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		return "", 0, false
	}
	version = string(rest[:sp])
	rest = rest[sp+1:]
	if !bytes.HasPrefix(rest, []byte("(size=")) || !bytes.HasSuffix(rest, []byte(")")) {
		return "", 0, false
	}
	n, ok := parseDec(rest[len("(size="):len(rest)-1], 1<<31-1)
	if !ok {
		return "", 0, false
	}
	return version, int(n), true
}

// parseServiceLine parses "TCP  0A000001:0050 wlc ops persistent 75000
// FFFFFFFF" and its IPv6 and FWM variants.
func parseServiceLine(line []byte, s *Service) (field, msg string) {
	var f [8][]byte
	n, rest := fields(line, f[:])
	if rest != nil {
		return "", "unexpected text at the end"
	}
	if n < 3 {
		return "", "want at least protocol, address and scheduler"
	}
	if string(f[0]) == "FWM" {
		m, ok := parseHex(f[1])
		if !ok || len(f[1]) > 8 {
			return "fwmark", "bad firewall mark " + strconv.Quote(string(f[1]))
		}
		s.FWMark = uint32(m)
		s.Family = FamilyUnknown
	} else {
		p, ok := parseProtocol(f[0])
		if !ok {
			return "protocol", "unknown protocol " + strconv.Quote(string(f[0]))
		}
		s.Protocol = p
		ap, ok := parseProcAddrPort(f[1])
		if !ok {
			return "address", "bad address:port " + strconv.Quote(string(f[1]))
		}
		s.Address = ap
		s.Family = FamilyInet
		if ap.Addr().Is6() {
			s.Family = FamilyInet6
		}
	}
	s.Scheduler = schedulers.Get(f[2])
	i := 3
	if i < n && string(f[i]) == "ops" {
		s.OnePacket = true
		i++
	}
	if i < n && string(f[i]) == "persistent" {
		if n-i != 3 {
			return "persistent", "want \"persistent <timeout> <mask>\""
		}
		t, ok := parseInt32(f[i+1])
		if !ok {
			return "persistent timeout", "bad number " + strconv.Quote(string(f[i+1]))
		}
		m, ok := parseHex(f[i+2])
		if !ok || len(f[i+2]) > 8 {
			return "persistent netmask", "bad mask " + strconv.Quote(string(f[i+2]))
		}
		s.Persistent, s.TimeoutJiffies, s.RawNetmask = true, t, uint32(m)
		i += 3
	}
	if i != n {
		return "", "unexpected " + strconv.Quote(string(f[i]))
	}
	return "", ""
}

// parseDestLine parses "  -> 0A000002:1F90      Masq    5      0          0".
func parseDestLine(line []byte, d *Dest) (field, msg string) {
	var f [6][]byte
	n, rest := fields(line, f[:])
	if rest != nil && len(bytes.TrimRight(rest, " ")) > 0 {
		return "", "unexpected text at the end"
	}
	if n != 6 {
		return "", "want 5 fields after \"->\", got " + strconv.Itoa(n-1)
	}
	ap, ok := parseProcAddrPort(f[1])
	if !ok {
		return "destination address", "bad address:port " + strconv.Quote(string(f[1]))
	}
	d.Address = ap
	if d.Forward, ok = parseForward(f[2]); !ok {
		return "forward", "unknown forwarding method " + strconv.Quote(string(f[2]))
	}
	if d.Weight, ok = parseInt32(f[3]); !ok {
		return "weight", "bad number " + strconv.Quote(string(f[3]))
	}
	if d.ActiveConns, ok = parseInt32(f[4]); !ok {
		return "active connections", "bad number " + strconv.Quote(string(f[4]))
	}
	if d.InactiveConns, ok = parseInt32(f[5]); !ok {
		return "inactive connections", "bad number " + strconv.Quote(string(f[5]))
	}
	return "", ""
}

// parseProcAddrPort parses "0A000001:0050" or "[v6]:0050".
func parseProcAddrPort(b []byte) (netip.AddrPort, bool) {
	i := bytes.LastIndexByte(b, ':')
	if i <= 0 {
		return netip.AddrPort{}, false
	}
	port, ok := parsePort(b[i+1:])
	if !ok {
		return netip.AddrPort{}, false
	}
	ab := b[:i]
	if ab[0] == '[' {
		if len(ab) < 3 || ab[len(ab)-1] != ']' {
			return netip.AddrPort{}, false
		}
		ab = ab[1 : len(ab)-1]
		if len(ab) == 8 {
			return netip.AddrPort{}, false
		}
	} else if len(ab) != 8 {
		return netip.AddrPort{}, false
	}
	a, ok := parseAddr(ab)
	if !ok {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a, port), true
}

// schedulers interns the scheduler names a listing repeats: the kernel's,
// and "none" (services without a scheduler).
var schedulers = intern.New(append(ipvs.Schedulers(), "none")...)
