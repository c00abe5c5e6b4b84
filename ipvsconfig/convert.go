package ipvsconfig

import (
	"errors"
	"fmt"
	"maps"
	"math/bits"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/ipvssysctl"
)

// Defaults applied when a document leaves a value out.
const (
	DefaultScheduler          = "wlc"
	DefaultPersistenceTimeout = 360 // seconds, as ipvsadm -p without a value
	DefaultWeight             = 1
	DefaultForward            = ipvs.FwdRoute
	// MaxTimeout is the largest timeout accepted (31 days, as ipvsadm).
	MaxTimeout = 2678400
	maxInt32   = 1<<31 - 1
)

// Desired is the kernel-level content of a validated document.
type Desired struct {
	// Services with their destinations, in document order.
	Services []ipvs.VirtualServer
	// Timeouts to set, or nil.
	Timeouts *ipvs.Timeouts
	// Daemons that should run, or nil when the document does not manage
	// daemons.
	Daemons []ipvs.Daemon
	// ManageDaemons reports whether the document has a daemons section.
	ManageDaemons bool
	// Sysctls to set, or nil.
	Sysctls map[string]string
	// Health[i] is the health checking of Services[i], nil for a service
	// without; Health is nil when no service has any.
	Health []*ServiceHealth
}

var (
	schedNameRE = regexp.MustCompile(`^[a-z0-9_]{1,15}$`)
	peNameRE    = regexp.MustCompile(`^[a-z0-9_]{1,16}$`)
	sysctlRE    = regexp.MustCompile(`^[a-z0-9_]+$`)
)

// Validate checks the whole document and returns every problem found as
// an ErrorList ("FILE:LINE: path: message" each), or nil.
func (d *Document) Validate() error {
	_, err := d.Desired()
	return err
}

// Desired validates the document, applies the defaults and returns its
// content as kernel objects. Errors are an ErrorList.
func (d *Document) Desired() (*Desired, error) {
	var c errs
	out := &Desired{}
	if d.APIVersion == "" {
		c.add(Path{"apiVersion"}, "missing; this program reads apiVersion: %s", APIVersion)
	} else if d.APIVersion != APIVersion {
		c.add(Path{"apiVersion"}, "unsupported version %q (this program reads %s)", d.APIVersion, APIVersion)
	}
	if t := d.Timeouts; t != nil {
		for _, f := range []struct {
			name string
			v    uint32
		}{{"tcp", t.TCP}, {"tcpFin", t.TCPFin}, {"udp", t.UDP}} {
			if f.v > MaxTimeout {
				c.add(Path{"timeouts", f.name}, "%d is too large (at most %d seconds)", f.v, MaxTimeout)
			}
		}
		out.Timeouts = &ipvs.Timeouts{TCP: t.TCP, TCPFin: t.TCPFin, UDP: t.UDP}
	}
	if d.Daemons != nil {
		out.ManageDaemons = true
		out.Daemons = []ipvs.Daemon{}
		seen := map[ipvs.DaemonState]int{}
		for i, dm := range *d.Daemons {
			p := Path{"daemons", i}
			kd, ok := convertDaemon(&c, p, dm)
			if !ok {
				continue
			}
			if j, dup := seen[kd.State]; dup {
				c.addOther(p.with("state"), Path{"daemons", j}, "a %s daemon is listed twice", kd.State)
				continue
			}
			seen[kd.State] = i
			out.Daemons = append(out.Daemons, kd)
		}
	}
	if d.Sysctls != nil {
		out.Sysctls = make(map[string]string, len(d.Sysctls))
		for _, k := range slices.Sorted(maps.Keys(d.Sysctls)) {
			v := d.Sysctls[k]
			if !sysctlRE.MatchString(k) {
				c.add(Path{"sysctls", k}, "invalid sysctl name (a file name under /proc/sys/net/ipv4/vs)")
				continue
			}
			if strings.TrimSpace(string(v)) == "" {
				c.add(Path{"sysctls", k}, "empty value")
				continue
			}
			if err := ipvssysctl.Validate(k, string(v)); err != nil {
				var se *ipvssysctl.Error
				if errors.As(err, &se) && se.Reason != "" {
					c.add(Path{"sysctls", k}, "%s", se.Reason)
				} else {
					c.add(Path{"sysctls", k}, "%v", err)
				}
				continue
			}
			out.Sysctls[k] = strings.TrimSpace(string(v))
		}
	}
	seen := make(map[ipvs.ServiceKey]int, len(d.Services))
	out.Services = make([]ipvs.VirtualServer, 0, len(d.Services))
	for i := range d.Services {
		p := Path{"services", i}
		vs, ok := convertService(&c, p, &d.Services[i])
		h := convertHealth(&c, p, &d.Services[i], &vs)
		k := vs.Service.Key()
		if k.FWMark != 0 || k.Address.IsValid() {
			if j, dup := seen[k]; dup {
				c.addOther(p, Path{"services", j}, "service %s is listed twice", FormatServiceKey(k))
				continue
			}
			seen[k] = i
		}
		if ok {
			out.Services = append(out.Services, vs)
			if h != nil && out.Health == nil {
				out.Health = make([]*ServiceHealth, len(d.Services))
			}
			if out.Health != nil {
				out.Health[len(out.Services)-1] = h
			}
		}
	}
	if err := c.err(d); err != nil {
		return nil, err
	}
	return out, nil
}

func convertDaemon(c *errs, p Path, dm Daemon) (ipvs.Daemon, bool) {
	n := len(c.list)
	var kd ipvs.Daemon
	st, err := ParseDaemonState(dm.State)
	if err != nil {
		c.add(p.with("state"), "%v", err)
	}
	kd.State = st
	switch {
	case dm.Interface == "":
		c.add(p.with("interface"), "missing: the multicast interface, e.g. eth0")
	case len(dm.Interface) > ipvs.MaxIfNameLen:
		c.add(p.with("interface"), "%q is longer than %d bytes", dm.Interface, ipvs.MaxIfNameLen)
	}
	kd.Interface = dm.Interface
	if dm.SyncID > 255 {
		c.add(p.with("syncID"), "%d is out of range 0..255", dm.SyncID)
	}
	kd.SyncID = dm.SyncID
	kd.SyncMaxLen, kd.Port, kd.TTL = dm.SyncMaxLen, dm.Port, dm.TTL
	if dm.Group != "" {
		g, err := netip.ParseAddr(dm.Group)
		switch {
		case err != nil:
			c.add(p.with("group"), "%q is not an IP address", dm.Group)
		case !g.IsMulticast():
			c.add(p.with("group"), "%s is not a multicast address", g)
		default:
			kd.Group = g.Unmap()
		}
	}
	return kd, len(c.list) == n
}

func convertService(c *errs, p Path, s *Service) (ipvs.VirtualServer, bool) {
	n := len(c.list)
	var ks ipvs.Service
	if s.FWMark != 0 {
		if s.Protocol != "" {
			c.add(p.with("protocol"), "a firewall-mark service has no protocol (the mark selects the packets)")
		}
		if s.Address != "" {
			c.add(p.with("address"), "a firewall-mark service has no address")
		}
		if s.Port != 0 {
			c.add(p.with("port"), "a firewall-mark service has no port")
		}
		f, err := parseFamily(s.Family)
		if err != nil {
			c.add(p.with("family"), "%v", err)
		}
		if f == ipvs.AFUnspec {
			f = ipvs.AFInet
		}
		ks.Family, ks.FWMark = f, s.FWMark
	} else {
		switch {
		case s.Protocol == "" && s.Address == "":
			c.add(p, "a service needs protocol and address, or fwmark")
		case s.Protocol == "":
			c.add(p.with("protocol"), "missing: tcp, udp or sctp")
		default:
			proto, err := ParseProtocol(s.Protocol)
			if err != nil {
				c.add(p.with("protocol"), "%v", err)
			}
			ks.Protocol = proto
		}
		if s.Address == "" && s.Protocol != "" {
			c.add(p.with("address"), "missing: the virtual IP address")
		}
		ks.Address, ks.Family = convertAddr(c, p, s.Address, s.Family)
		ks.Port = s.Port
	}
	ks.Scheduler = s.Scheduler
	if ks.Scheduler == "" {
		ks.Scheduler = DefaultScheduler
	} else if !schedNameRE.MatchString(ks.Scheduler) {
		c.add(p.with("scheduler"), "invalid scheduler name %q (lower-case letters and digits, at most 15)", s.Scheduler)
	}
	for i, fl := range s.SchedFlags {
		f, err := ParseSchedFlag(fl)
		if err != nil {
			c.add(p.with("schedFlags", i), "%v", err)
			continue
		}
		l := strings.ToLower(fl)
		if (strings.HasPrefix(l, "sh-") && ks.Scheduler != "sh") || (strings.HasPrefix(l, "mh-") && ks.Scheduler != "mh") {
			c.add(p.with("schedFlags", i), "flag %s needs scheduler %s, not %s", fl, l[:2], ks.Scheduler)
		}
		ks.Flags |= f
	}
	if s.OnePacket {
		if ks.Protocol != ipvs.ProtoUDP && ks.FWMark == 0 {
			c.add(p.with("onePacket"), "one-packet scheduling is only for UDP (and fwmark) services")
		}
		ks.Flags |= ipvs.SvcOnePacket
	}
	// Netmask: the kernel keeps one even without persistence.
	if ks.Family == ipvs.AFInet6 {
		ks.Netmask = 128
	} else {
		ks.Netmask = 0xffffffff
	}
	if pr := s.Persistence; pr != nil {
		ks.Flags |= ipvs.SvcPersistent
		ks.Timeout = pr.Timeout
		if ks.Timeout == 0 {
			ks.Timeout = DefaultPersistenceTimeout
		} else if ks.Timeout > MaxTimeout {
			c.add(p.with("persistence", "timeout"), "%d is too large (at most %d seconds)", pr.Timeout, MaxTimeout)
		}
		if pr.PrefixLength != nil {
			pl := *pr.PrefixLength
			switch {
			case ks.Family == ipvs.AFInet6 && (pl < 1 || pl > 128):
				c.add(p.with("persistence", "prefixLength"), "%d is out of range 1..128 for IPv6", pl)
			case ks.Family != ipvs.AFInet6 && (pl < 0 || pl > 32):
				c.add(p.with("persistence", "prefixLength"), "%d is out of range 0..32 for IPv4", pl)
			case ks.Family == ipvs.AFInet6:
				ks.Netmask = uint32(pl)
			default:
				ks.Netmask = ^uint32(0) << (32 - pl)
				if pl == 0 {
					ks.Netmask = 0
				}
			}
		}
		if pr.Netmask != "" {
			m, err := netip.ParseAddr(pr.Netmask)
			switch {
			case ks.Family == ipvs.AFInet6:
				c.add(p.with("persistence", "netmask"), "IPv6 services take prefixLength, not a netmask")
			case err != nil || !m.Is4():
				c.add(p.with("persistence", "netmask"), "%q is not an IPv4 netmask", pr.Netmask)
			default:
				b := m.As4()
				ks.Netmask = uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
			}
		}
	}
	if s.PE != "" {
		if !peNameRE.MatchString(s.PE) {
			c.add(p.with("pe"), "invalid persistence engine name %q", s.PE)
		}
		ks.PEName = s.PE
	}
	vs := ipvs.VirtualServer{Service: ks, Destinations: make([]ipvs.Destination, 0, len(s.Destinations))}
	seen := make(map[ipvs.DestKey]int, len(s.Destinations))
	for i := range s.Destinations {
		dp := p.with("destinations", i)
		d, ok := convertDest(c, dp, &ks, &s.Destinations[i])
		if d.Address.IsValid() {
			if j, dup := seen[d.Key()]; dup {
				c.addOther(dp, p.with("destinations", j), "destination %s is listed twice", d.Key())
				continue
			}
			seen[d.Key()] = i
		}
		if ok {
			vs.Destinations = append(vs.Destinations, d)
		}
	}
	return vs, len(c.list) == n
}

// convertAddr reads the address and family fields at p where they are
// given: the address's family is the one returned, and a family field that
// names another is an error.
func convertAddr(c *errs, p Path, address, family string) (a netip.Addr, f ipvs.AddressFamily) {
	if address != "" {
		var err error
		if a, err = parseAddr(address); err != nil {
			c.add(p.with("address"), "%v", err)
		} else {
			f = FamilyOf(a)
		}
	}
	if family != "" {
		named, err := parseFamily(family)
		if err != nil {
			c.add(p.with("family"), "%v", err)
		} else if f != ipvs.AFUnspec && named != f {
			c.add(p.with("family"), "%s does not match the address %s", family, a)
		}
	}
	return a, f
}

func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%q is not an IP address (names are not resolved)", s)
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%q: zones are not allowed", s)
	}
	return a.Unmap(), nil
}

func convertDest(c *errs, p Path, svc *ipvs.Service, d *Destination) (ipvs.Destination, bool) {
	n := len(c.list)
	var kd ipvs.Destination
	if d.Address == "" {
		c.add(p.with("address"), "missing: the real server's IP address")
	}
	kd.Address, kd.Family = convertAddr(c, p, d.Address, d.Family)
	kd.Port = svc.Port
	if d.Port != nil {
		kd.Port = *d.Port
	}
	kd.ForwardMethod = DefaultForward
	if d.Forward != "" {
		m, err := ParseForward(d.Forward)
		if err != nil {
			c.add(p.with("forward"), "%v", err)
		}
		kd.ForwardMethod = m
	}
	if kd.Family != ipvs.AFUnspec && svc.Family != ipvs.AFUnspec && kd.Family != svc.Family &&
		kd.ForwardMethod != ipvs.FwdTunnel {
		c.add(p.with("address"), "an %s destination in an %s service needs forward: tunnel (the kernel allows mixed address families only for tunnelling)",
			kd.Family, svc.Family)
	}
	kd.Weight = DefaultWeight
	if d.Weight != nil {
		kd.Weight = *d.Weight
		if kd.Weight > maxInt32 {
			c.add(p.with("weight"), "%d is out of range 0..%d", kd.Weight, maxInt32)
		}
	}
	kd.UpperThreshold, kd.LowerThreshold = d.UpperThreshold, d.LowerThreshold
	if kd.UpperThreshold > maxInt32 {
		c.add(p.with("upperThreshold"), "%d is out of range 0..%d", kd.UpperThreshold, maxInt32)
	}
	if kd.LowerThreshold > kd.UpperThreshold {
		c.add(p.with("lowerThreshold"), "%d is above upperThreshold %d", kd.LowerThreshold, kd.UpperThreshold)
	}
	if t := d.Tunnel; t != nil {
		if kd.ForwardMethod != ipvs.FwdTunnel {
			c.add(p.with("tunnel"), "tunnel options need forward: tunnel")
		}
		tt, err := ParseTunnelType(t.Type)
		if err != nil {
			c.add(p.with("tunnel", "type"), "%v", err)
		}
		kd.TunnelType = tt
		kd.TunnelPort = t.Port
		switch {
		case tt == ipvs.TunnelGUE && t.Port == 0:
			c.add(p.with("tunnel", "port"), "missing: a gue tunnel needs the remote UDP port")
		case tt != ipvs.TunnelGUE && t.Port != 0:
			c.add(p.with("tunnel", "port"), "only gue tunnels have a port")
		}
		cs, err := ParseChecksum(t.Checksum)
		if err != nil {
			c.add(p.with("tunnel", "checksum"), "%v", err)
		}
		kd.TunnelFlags = cs
		switch {
		case tt == ipvs.TunnelIPIP && cs != ipvs.TunnelNoCsum:
			c.add(p.with("tunnel", "checksum"), "ipip tunnels have no checksum option")
		case tt == ipvs.TunnelGRE && cs == ipvs.TunnelRemCsum:
			c.add(p.with("tunnel", "checksum"), "remcsum is only for gue tunnels")
		}
	}
	return kd, len(c.list) == n
}

// FromOptions select what FromKernel writes.
type FromOptions struct {
	// Stats adds counters, rates and connection counts.
	Stats bool
}

// FromKernel converts kernel objects to document services, writing every
// setting explicitly (defaults included) so that the result reads back to
// the same objects.
func FromKernel(vss []ipvs.VirtualServer, opts FromOptions) []Service {
	out := make([]Service, len(vss))
	for i, vs := range vss {
		out[i] = FromKernelService(vs.Service, opts)
		out[i].Destinations = make([]Destination, len(vs.Destinations))
		for j, d := range vs.Destinations {
			out[i].Destinations[j] = FromKernelDest(d, opts)
		}
	}
	return out
}

// FromKernelService converts one service (without destinations).
func FromKernelService(ks ipvs.Service, opts FromOptions) Service {
	s := Service{Family: FamilyName(ks.Family), Scheduler: ks.Scheduler, PE: ks.PEName,
		SchedFlags: SchedFlagNames(ks.Flags), OnePacket: ks.Flags&ipvs.SvcOnePacket != 0,
		Destinations: []Destination{}}
	if ks.FWMark != 0 {
		s.FWMark = ks.FWMark
	} else {
		s.Protocol, s.Address, s.Port = ProtocolName(ks.Protocol), ks.Address.String(), ks.Port
	}
	if ks.Flags&ipvs.SvcPersistent != 0 {
		pr := &Persistence{Timeout: ks.Timeout}
		if ks.Family == ipvs.AFInet6 {
			pl := int(ks.Netmask)
			pr.PrefixLength = &pl
		} else if pl := bits.LeadingZeros32(^ks.Netmask); ks.Netmask == ^uint32(0)<<(32-pl) || (pl == 0 && ks.Netmask == 0) {
			pr.PrefixLength = &pl
		} else {
			m := ks.Netmask
			pr.Netmask = netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
		}
		s.Persistence = pr
	}
	if opts.Stats {
		s.Stats, s.Rates = stats(ks.Stats)
	}
	return s
}

// FromKernelDest converts one destination.
func FromKernelDest(d ipvs.Destination, opts FromOptions) Destination {
	port, w := d.Port, d.Weight
	fam := d.Family
	if fam == ipvs.AFUnspec {
		fam = FamilyOf(d.Address)
	}
	out := Destination{Address: d.Address.String(), Port: &port, Family: FamilyName(fam),
		Forward: ForwardName(d.ForwardMethod), Weight: &w,
		UpperThreshold: d.UpperThreshold, LowerThreshold: d.LowerThreshold}
	if d.ForwardMethod == ipvs.FwdTunnel {
		out.Tunnel = &Tunnel{Type: d.TunnelType.String(), Port: d.TunnelPort, Checksum: ChecksumName(d.TunnelFlags)}
	}
	if opts.Stats {
		out.Connections = &Connections{Active: d.ActiveConns, Inactive: d.InactiveConns, Persistent: d.PersistConns}
		out.Stats, out.Rates = stats(d.Stats)
	}
	return out
}

func stats(s ipvs.Stats) (*Stats, *Rates) {
	return &Stats{Conns: s.Conns, InPackets: s.InPkts, OutPackets: s.OutPkts, InBytes: s.InBytes, OutBytes: s.OutBytes},
		&Rates{CPS: s.CPS, InPPS: s.InPPS, OutPPS: s.OutPPS, InBPS: s.InBPS, OutBPS: s.OutBPS}
}

// FromKernelTimeouts converts timeouts.
func FromKernelTimeouts(t ipvs.Timeouts) *Timeouts {
	return &Timeouts{TCP: t.TCP, TCPFin: t.TCPFin, UDP: t.UDP}
}

// FromKernelDaemons converts running daemons (an empty list when none).
func FromKernelDaemons(ds []ipvs.Daemon) *[]Daemon {
	out := make([]Daemon, 0, len(ds))
	for _, d := range ds {
		dm := Daemon{State: d.State.String(), Interface: d.Interface, SyncID: d.SyncID,
			SyncMaxLen: d.SyncMaxLen, Port: d.Port, TTL: d.TTL}
		if d.Group.IsValid() {
			dm.Group = d.Group.String()
		}
		out = append(out, dm)
	}
	return &out
}
