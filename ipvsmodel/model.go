package ipvsmodel

import (
	"math"
	"net/netip"
	"slices"
	"syscall"

	"github.com/ipvs-tools/ipvs"
)

// Kernel is what the model asks of the machine it stands for. Every field
// is optional.
type Kernel struct {
	// Scheduler reports whether the kernel has (or can load) a scheduler;
	// nil: those of ipvs.Schedulers(). "none" needs no module and always
	// exists.
	Scheduler func(name string) bool
	// PE reports whether a persistence engine exists; nil: "sip" only.
	PE func(name string) bool
	// Local reports whether an IPv6 address is the director's own, which
	// the kernel accepts as a destination whatever its type; nil: none
	// is. It is asked only about addresses of a refused type.
	Local func(netip.Addr) bool
	// Interface reports whether a network interface exists (a sync daemon
	// needs one); nil: every name does.
	Interface func(name string) bool
	// SyncRunning, if set, answers whether a sync daemon runs in the
	// checks that depend on it (mixed-family destinations), instead of the
	// model's own daemons: ipvsadm-restore simulates the table but leaves
	// the daemons to the kernel.
	SyncRunning func() bool
}

// DefaultTimeouts are the TCP, TCP FIN and UDP timeouts of a new namespace
// (seconds).
var DefaultTimeouts = ipvs.Timeouts{TCP: 900, TCPFin: 120, UDP: 300}

// Model is one namespace's IPVS state. The zero value is not usable; call
// New. A Model is not safe for concurrent use.
type Model struct {
	k Kernel

	// services in creation order; a deleted one leaves a nil hole until
	// compact.
	services []*service
	index    map[ipvs.ServiceKey]int
	holes    int

	timeouts ipvs.Timeouts
	daemons  []ipvs.Daemon // sorted by state
}

// service is a service and its destinations, oldest first.
type service struct {
	svc   ipvs.Service
	dests []dest
}

// find returns the index of the destination with key k, or -1.
func (s *service) find(k ipvs.DestKey) int {
	for i := range s.dests {
		if d := &s.dests[i]; d.port == k.Port && d.addr == k.Address && d.family == k.Family {
			return i
		}
	}
	return -1
}

// New returns the model of an empty namespace on kernel k.
func New(k Kernel) *Model {
	return &Model{k: k, index: map[ipvs.ServiceKey]int{}, timeouts: DefaultTimeouts}
}

func kerr(cmd ipvs.Command, errno syscall.Errno) error {
	return &ipvs.Error{Op: cmd, Err: errno}
}

func (m *Model) find(k ipvs.ServiceKey) *service {
	if i, ok := m.index[k]; ok {
		return m.services[i]
	}
	return nil
}

// Apply carries out one write request as the kernel would (ip_vs_ctl.c,
// ip_vs_genl_set_cmd and the functions it calls), or returns the kernel's
// answer as an *ipvs.Error and leaves the model unchanged.
func (m *Model) Apply(op ipvs.Op) error {
	switch op.Cmd {
	case ipvs.CmdFlush:
		clear(m.services)
		m.services, m.holes = m.services[:0], 0
		clear(m.index)
		return nil
	case ipvs.CmdSetConfig:
		return m.setTimeouts(op.Timeouts)
	case ipvs.CmdNewDaemon:
		return m.newDaemon(op.Daemon)
	case ipvs.CmdDelDaemon:
		i := slices.IndexFunc(m.daemons, func(d ipvs.Daemon) bool { return d.State == op.Daemon.State })
		if i < 0 {
			return kerr(op.Cmd, syscall.ESRCH)
		}
		m.daemons = slices.Delete(m.daemons, i, i+1)
		return nil
	case ipvs.CmdZero:
		if op.AllServices {
			for _, s := range m.services {
				if s != nil {
					s.zero()
				}
			}
			return nil
		}
	case ipvs.CmdNewService, ipvs.CmdSetService, ipvs.CmdDelService,
		ipvs.CmdNewDest, ipvs.CmdSetDest, ipvs.CmdDelDest:
	default:
		return kerr(op.Cmd, syscall.EINVAL)
	}

	// Every other command names a service, which must exist unless it is
	// being created.
	s := m.find(op.Service.Key())
	if op.Cmd == ipvs.CmdNewService {
		if s != nil {
			return kerr(op.Cmd, syscall.EEXIST)
		}
		return m.addService(op.Service)
	}
	if s == nil {
		return kerr(op.Cmd, syscall.ESRCH)
	}
	switch op.Cmd {
	case ipvs.CmdSetService:
		return m.editService(s, op.Service)
	case ipvs.CmdDelService:
		m.deleteService(op.Service.Key())
		return nil
	case ipvs.CmdZero:
		s.zero()
		return nil
	}
	return m.destCmd(op.Cmd, s, op.Destination)
}

// checkService is the part of ip_vs_add_service and ip_vs_edit_service
// that can refuse a service: its scheduler, its persistence engine and an
// IPv6 prefix length.
func (m *Model) checkService(cmd ipvs.Command, svc ipvs.Service) error {
	if svc.Scheduler != "none" && !m.hasScheduler(svc.Scheduler) {
		return kerr(cmd, syscall.ENOENT)
	}
	if svc.PEName != "" && !m.hasPE(svc.PEName) {
		return kerr(cmd, syscall.ENOENT)
	}
	if svc.Family == ipvs.AFInet6 && (svc.Netmask < 1 || svc.Netmask > 128) {
		return kerr(cmd, syscall.EINVAL)
	}
	return nil
}

func (m *Model) hasScheduler(name string) bool {
	if m.k.Scheduler != nil {
		return m.k.Scheduler(name)
	}
	return slices.Contains(ipvs.Schedulers(), name)
}

func (m *Model) hasPE(name string) bool {
	if m.k.PE != nil {
		return m.k.PE(name)
	}
	return name == "sip"
}

// stored is a service as the kernel lists it: a firewall-mark service has
// no protocol, address or port, and the hashed flag is the kernel's own
// (netlinkipvs removes it when decoding).
func stored(svc ipvs.Service) ipvs.Service {
	if svc.FWMark != 0 {
		svc.Protocol, svc.Address, svc.Port = 0, netip.Addr{}, 0
	}
	svc.Flags &^= ipvs.SvcHashed
	return svc
}

func (m *Model) addService(svc ipvs.Service) error {
	if err := m.checkService(ipvs.CmdNewService, svc); err != nil {
		return err
	}
	svc = stored(svc)
	svc.Stats, svc.Stats64 = ipvs.Stats{}, true
	m.index[svc.Key()] = len(m.services)
	m.services = append(m.services, &service{svc: svc})
	return nil
}

func (m *Model) editService(s *service, svc ipvs.Service) error {
	if err := m.checkService(ipvs.CmdSetService, svc); err != nil {
		return err
	}
	svc = stored(svc)
	svc.Stats, svc.Stats64 = s.svc.Stats, s.svc.Stats64
	s.svc = svc
	return nil
}

func (m *Model) deleteService(k ipvs.ServiceKey) {
	i := m.index[k]
	m.services[i] = nil
	delete(m.index, k)
	m.holes++
	if m.holes > 64 && m.holes > len(m.services)/2 {
		m.compact()
	}
}

// compact closes the holes deleted services left.
func (m *Model) compact() {
	live := m.services[:0]
	for _, s := range m.services {
		if s != nil {
			m.index[s.svc.Key()] = len(live)
			live = append(live, s)
		}
	}
	clear(m.services[len(live):])
	m.services, m.holes = live, 0
}

func (s *service) zero() {
	s.svc.Stats = ipvs.Stats{}
	for i := range s.dests {
		if c := s.dests[i].counters; c != nil {
			c.stats = ipvs.Stats{}
			if *c == (counters{}) {
				s.dests[i].counters = nil
			}
		}
	}
}

// destCmd is NEW_DEST, SET_DEST and DEL_DEST on an existing service.
func (m *Model) destCmd(cmd ipvs.Command, s *service, d ipvs.Destination) error {
	// The transport always sends the destination's family; the kernel
	// would take the service's for none.
	d.Family = d.EffectiveFamily()
	if d.Family != ipvs.AFInet && d.Family != ipvs.AFInet6 {
		return kerr(cmd, syscall.EAFNOSUPPORT)
	}
	if d.Family != s.svc.Family && cmd != ipvs.CmdDelDest {
		// The sync protocol cannot carry mixed families, and only
		// tunnelling can forward to the other family.
		if m.syncRunning() || d.ForwardMethod != ipvs.FwdTunnel {
			return kerr(cmd, syscall.EINVAL)
		}
	}
	i := s.find(d.Key())
	if cmd == ipvs.CmdDelDest {
		if i < 0 {
			return kerr(cmd, syscall.ENOENT)
		}
		s.dests = slices.Delete(s.dests, i, i+1)
		return nil
	}
	// ip_vs_add_dest and ip_vs_edit_dest: weight (an int in the kernel),
	// thresholds, GUE's port, then the lookup.
	if d.Weight > math.MaxInt32 || d.LowerThreshold > d.UpperThreshold {
		return kerr(cmd, syscall.ERANGE)
	}
	if d.TunnelType == ipvs.TunnelGUE && d.TunnelPort == 0 {
		return kerr(cmd, syscall.EINVAL)
	}
	if cmd == ipvs.CmdSetDest {
		if i < 0 {
			return kerr(cmd, syscall.ENOENT)
		}
		counters := s.dests[i].counters
		s.dests[i] = compact(d)
		s.dests[i].counters = counters
		return nil
	}
	if i >= 0 {
		return kerr(cmd, syscall.EEXIST)
	}
	if !m.destAddrOK(d) {
		return kerr(cmd, syscall.EINVAL)
	}
	s.dests = append(s.dests, compact(d))
	return nil
}

// destAddrOK is ip_vs_new_dest's address check: IPv4 must not be
// multicast, broadcast or 0.0.0.0 (inet_addr_type: 0.x.y.z is unicast);
// IPv6 must be unicast and not link-local (ipv6_addr_type) unless it is a
// local address. Kernel.Local is asked only about refused types.
func (m *Model) destAddrOK(d ipvs.Destination) bool {
	if addrTypeOK(d.Family, d.Address) {
		return true
	}
	return d.Family == ipvs.AFInet6 && m.k.Local != nil && m.k.Local(d.Address)
}

func addrTypeOK(f ipvs.AddressFamily, a netip.Addr) bool {
	if f == ipvs.AFInet6 {
		b := a.As16()
		switch {
		case b[0] == 0xff: // multicast
			return false
		case b[0] == 0xfe && b[1]&0xc0 == 0x80: // link-local
			return false
		case a.Is4In6(): // IPV6_ADDR_MAPPED is not unicast
			return false
		case a.IsUnspecified():
			return false
		}
		return true
	}
	b := a.As4()
	switch {
	case b[0]&0xf0 == 0xe0: // multicast
		return false
	case b == [4]byte{}, b == [4]byte{255, 255, 255, 255}:
		return false
	}
	return true
}

func (m *Model) syncRunning() bool {
	if m.k.SyncRunning != nil {
		return m.k.SyncRunning()
	}
	return len(m.daemons) > 0
}

// setTimeouts is ip_vs_set_timeout: 0 keeps a value, and every value must
// fit the kernel's jiffies (INT_MAX / HZ, HZ=250 on Debian).
func (m *Model) setTimeouts(t ipvs.Timeouts) error {
	const maxTimeout = math.MaxInt32 / 250
	for _, v := range []uint32{t.TCP, t.TCPFin, t.UDP} {
		if v > maxTimeout {
			return kerr(ipvs.CmdSetConfig, syscall.EINVAL)
		}
	}
	if t.TCP != 0 {
		m.timeouts.TCP = t.TCP
	}
	if t.TCPFin != 0 {
		m.timeouts.TCPFin = t.TCPFin
	}
	if t.UDP != 0 {
		m.timeouts.UDP = t.UDP
	}
	return nil
}

// Defaults the kernel fills in for a sync daemon (start_sync_thread).
var (
	defaultSyncGroup  = netip.AddrFrom4([4]byte{224, 0, 0, 81})
	defaultSyncPort   = uint16(8848)
	defaultSyncTTL    = uint8(1)
	defaultSyncMaxLen = uint16(1472) // an MTU of 1500
)

// newDaemon is ip_vs_genl_new_daemon and start_sync_thread.
func (m *Model) newDaemon(d ipvs.Daemon) error {
	for _, s := range m.services {
		if s == nil {
			continue
		}
		for _, x := range s.dests {
			if x.family != s.svc.Family {
				return kerr(ipvs.CmdNewDaemon, syscall.EINVAL)
			}
		}
	}
	if m.k.Interface != nil && !m.k.Interface(d.Interface) {
		return kerr(ipvs.CmdNewDaemon, syscall.ENODEV)
	}
	if d.State != ipvs.DaemonMaster && d.State != ipvs.DaemonBackup {
		return kerr(ipvs.CmdNewDaemon, syscall.EINVAL)
	}
	if slices.ContainsFunc(m.daemons, func(x ipvs.Daemon) bool { return x.State == d.State }) {
		return kerr(ipvs.CmdNewDaemon, syscall.EEXIST)
	}
	if d.SyncMaxLen == 0 {
		d.SyncMaxLen = defaultSyncMaxLen
	}
	if !d.Group.IsValid() {
		d.Group = defaultSyncGroup
	}
	if d.Port == 0 {
		d.Port = defaultSyncPort
	}
	if d.TTL == 0 {
		d.TTL = defaultSyncTTL
	}
	m.daemons = append(m.daemons, d)
	slices.SortFunc(m.daemons, func(a, b ipvs.Daemon) int { return int(a.State) - int(b.State) })
	return nil
}

// Batch makes the model an ipvs.Batcher: each op is applied in order, as
// the kernel takes a batch, and answered. Loaded with a live table
// (Load), it is the dry run of a plan: ipvsplan.Apply against it tells
// which changes the kernel would refuse, and sends nothing.
func (m *Model) Batch(ops []ipvs.Op) ([]error, error) {
	errs := make([]error, len(ops))
	for i, op := range ops {
		errs[i] = m.Apply(op)
	}
	return errs, nil
}
