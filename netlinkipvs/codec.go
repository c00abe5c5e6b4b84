package netlinkipvs

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/ipvs-tools/ipvs"
)

// encodeServiceID appends a SERVICE nest holding only the identity of s:
// AF, then FWMARK or PROTOCOL/ADDR/PORT.
func encodeServiceID(e *attrEncoder, s *ipvs.Service) {
	end := e.nest(cmdAttrService)
	encodeServiceKeyAttrs(e, s)
	end()
}

func encodeServiceKeyAttrs(e *attrEncoder, s *ipvs.Service) {
	e.u16(svcAttrAF, uint16(s.Family))
	if s.FWMark != 0 {
		e.u32(svcAttrFWMark, s.FWMark)
		return
	}
	e.u16(svcAttrProtocol, uint16(s.Protocol))
	e.inetAddr(svcAttrAddr, s.Address)
	e.be16(svcAttrPort, s.Port)
}

// encodeService appends a full SERVICE nest, in ipvsadm's attribute order.
// The kernel needs SCHED_NAME, FLAGS, TIMEOUT and NETMASK for NEW and SET;
// FLAGS carries mask 0xffffffff, so SET replaces every flag.
func encodeService(e *attrEncoder, s *ipvs.Service) {
	end := e.nest(cmdAttrService)
	encodeServiceKeyAttrs(e, s)
	e.str(svcAttrSchedName, s.Scheduler)
	if s.PEName != "" {
		e.str(svcAttrPEName, s.PEName)
	}
	var fl [8]byte
	binary.NativeEndian.PutUint32(fl[0:4], uint32(s.Flags&^ipvs.SvcHashed))
	binary.NativeEndian.PutUint32(fl[4:8], 0xffffffff)
	e.bytes(svcAttrFlags, fl[:])
	e.u32(svcAttrTimeout, s.Timeout)
	if s.Family == ipvs.AFInet6 {
		e.u32(svcAttrNetmask, s.Netmask)
	} else {
		e.be32(svcAttrNetmask, s.Netmask)
	}
	end()
}

// encodeDestID appends a DEST nest with the destination's identity only.
func encodeDestID(e *attrEncoder, d *ipvs.Destination) {
	end := e.nest(cmdAttrDest)
	encodeDestKeyAttrs(e, d)
	end()
}

func encodeDestKeyAttrs(e *attrEncoder, d *ipvs.Destination) {
	e.u16(destAttrAddrFamily, uint16(d.EffectiveFamily()))
	e.inetAddr(destAttrAddr, d.Address)
	e.be16(destAttrPort, d.Port)
}

// encodeDest appends a full DEST nest in ipvsadm's attribute order.
func encodeDest(e *attrEncoder, d *ipvs.Destination) {
	end := e.nest(cmdAttrDest)
	encodeDestKeyAttrs(e, d)
	e.u32(destAttrFwdMethod, uint32(d.ForwardMethod&ipvs.FwdMask))
	e.u32(destAttrWeight, d.Weight)
	e.u8(destAttrTunType, uint8(d.TunnelType))
	e.be16(destAttrTunPort, d.TunnelPort)
	e.u16(destAttrTunFlags, uint16(d.TunnelFlags))
	e.u32(destAttrUThresh, d.UpperThreshold)
	e.u32(destAttrLThresh, d.LowerThreshold)
	end()
}

// encodeDaemon appends a DAEMON nest. The optional attributes (kernel 4.3)
// are sent only when set, as ipvsadm does.
func encodeDaemon(e *attrEncoder, d *ipvs.Daemon) {
	end := e.nest(cmdAttrDaemon)
	e.u32(daemonAttrState, uint32(d.State))
	e.str(daemonAttrMcastIfn, d.Interface)
	e.u32(daemonAttrSyncID, d.SyncID)
	if d.SyncMaxLen != 0 {
		e.u16(daemonAttrSyncMaxLen, d.SyncMaxLen)
	}
	if d.Port != 0 {
		e.u16(daemonAttrMcastPort, d.Port)
	}
	if d.TTL != 0 {
		e.u8(daemonAttrMcastTTL, d.TTL)
	}
	if d.Group.IsValid() {
		if g := d.Group.Unmap(); g.Is4() {
			v := g.As4()
			e.bytes(daemonAttrMcastGroup, v[:])
		} else {
			v := g.As16()
			e.bytes(daemonAttrMcastGroup6, v[:])
		}
	}
	end()
}

// encodeDaemonState appends a DAEMON nest naming only the role, for
// DEL_DAEMON.
func encodeDaemonState(e *attrEncoder, st ipvs.DaemonState) {
	end := e.nest(cmdAttrDaemon)
	e.u32(daemonAttrState, uint32(st))
	end()
}

// encodeTimeouts appends the three top-level timeout attributes.
func encodeTimeouts(e *attrEncoder, t *ipvs.Timeouts) {
	e.u32(cmdAttrTimeoutTCP, t.TCP)
	e.u32(cmdAttrTimeoutTCPFin, t.TCPFin)
	e.u32(cmdAttrTimeoutUDP, t.UDP)
}

// findNest returns the payload of the first top-level attribute typ in b.
func findNest(b []byte, typ uint16) ([]byte, error) {
	it := attrIter{b: b}
	for it.next() {
		if it.typ == typ {
			return it.data, nil
		}
	}
	if it.err != nil {
		return nil, it.err
	}
	return nil, fmt.Errorf("attribute %d missing", typ)
}

// decodeService decodes the top level of a NEW_SERVICE reply.
func decodeService(b []byte) (ipvs.Service, error) {
	nest, err := findNest(b, cmdAttrService)
	if err != nil {
		return ipvs.Service{}, fmt.Errorf("service reply: %w", err)
	}
	return decodeServiceNest(nest)
}

// decodeServiceNest decodes the attributes inside a SERVICE nest. The
// address and netmask need the AF, which may come in any order, so they are
// decoded after the walk.
func decodeServiceNest(b []byte) (ipvs.Service, error) {
	var (
		s                    ipvs.Service
		addr, netmask, stats []byte
		haveAF, haveSched    bool
		haveFlags            bool
		stats64              []byte
		err                  error
	)
	it := attrIter{b: b}
	for it.next() {
		switch it.typ {
		case svcAttrAF:
			s.Family, err = as[ipvs.AddressFamily](it.u16())
			haveAF = true
		case svcAttrProtocol:
			s.Protocol, err = as[ipvs.Protocol](it.u16())
		case svcAttrAddr:
			addr = it.data
		case svcAttrPort:
			s.Port, err = it.be16()
		case svcAttrFWMark:
			s.FWMark, err = it.u32()
		case svcAttrSchedName:
			s.Scheduler = it.str()
			haveSched = true
		case svcAttrFlags:
			if len(it.data) < 8 {
				err = errBadAttr
				break
			}
			flags := binary.NativeEndian.Uint32(it.data[0:4])
			mask := binary.NativeEndian.Uint32(it.data[4:8])
			s.Flags = ipvs.ServiceFlags(flags&mask) &^ ipvs.SvcHashed
			haveFlags = true
		case svcAttrTimeout:
			s.Timeout, err = it.u32()
		case svcAttrNetmask:
			netmask = it.data
		case svcAttrStats:
			stats = it.data
		case svcAttrStats64:
			stats64 = it.data
		case svcAttrPEName:
			s.PEName = it.str()
		}
		if err != nil {
			return ipvs.Service{}, fmt.Errorf("service attribute %d: %w", it.typ, err)
		}
	}
	if it.err != nil {
		return ipvs.Service{}, fmt.Errorf("service: %w", it.err)
	}
	if !haveAF {
		return ipvs.Service{}, fmt.Errorf("service: no address family")
	}
	if !haveSched || !haveFlags {
		return ipvs.Service{}, fmt.Errorf("service: scheduler or flags missing")
	}
	if s.FWMark == 0 {
		if addr == nil {
			return ipvs.Service{}, fmt.Errorf("service: neither fwmark nor address")
		}
		if s.Address, err = inetAddr(addr, s.Family); err != nil {
			return ipvs.Service{}, fmt.Errorf("service address: %w", err)
		}
	}
	if netmask != nil {
		if len(netmask) < 4 {
			return ipvs.Service{}, fmt.Errorf("service netmask: %w", errBadAttr)
		}
		if s.Family == ipvs.AFInet6 {
			s.Netmask = binary.NativeEndian.Uint32(netmask)
		} else {
			s.Netmask = binary.BigEndian.Uint32(netmask)
		}
	}
	if s.Stats, s.Stats64, err = decodeStatsAttrs(stats, stats64); err != nil {
		return ipvs.Service{}, fmt.Errorf("service stats: %w", err)
	}
	return s, nil
}

// decodeStatsAttrs decodes the counters of a service or destination from
// its STATS64 nest, or from its STATS nest where the kernel sent no
// STATS64 (wide reports which); neither leaves them zero.
func decodeStatsAttrs(stats, stats64 []byte) (st ipvs.Stats, wide bool, err error) {
	switch {
	case stats64 != nil:
		st, err = decodeStats(stats64, true)
		return st, true, err
	case stats != nil:
		st, err = decodeStats(stats, false)
	}
	return st, false, err
}

// decodeStats decodes a STATS (32-bit counters, 64-bit bytes) or STATS64
// nest.
func decodeStats(b []byte, wide bool) (ipvs.Stats, error) {
	var st ipvs.Stats
	it := attrIter{b: b}
	for it.next() {
		var p *uint64
		switch it.typ {
		case statsAttrConns:
			p = &st.Conns
		case statsAttrInPkts:
			p = &st.InPkts
		case statsAttrOutPkts:
			p = &st.OutPkts
		case statsAttrInBytes:
			p = &st.InBytes
		case statsAttrOutBytes:
			p = &st.OutBytes
		case statsAttrCPS:
			p = &st.CPS
		case statsAttrInPPS:
			p = &st.InPPS
		case statsAttrOutPPS:
			p = &st.OutPPS
		case statsAttrInBPS:
			p = &st.InBPS
		case statsAttrOutBPS:
			p = &st.OutBPS
		default:
			continue // IPVS_STATS_ATTR_PAD and anything newer
		}
		var err error
		if wide || it.typ == statsAttrInBytes || it.typ == statsAttrOutBytes {
			*p, err = it.u64()
		} else {
			var v uint32
			v, err = it.u32()
			*p = uint64(v)
		}
		if err != nil {
			return ipvs.Stats{}, fmt.Errorf("stats attribute %d: %w", it.typ, err)
		}
	}
	return st, it.err
}

// decodeDest decodes the top level of a NEW_DEST reply. svcFamily is the
// family of the service, used when the kernel sends no ADDR_FAMILY
// (before 3.18).
func decodeDest(b []byte, svcFamily ipvs.AddressFamily) (ipvs.Destination, error) {
	nest, err := findNest(b, cmdAttrDest)
	if err != nil {
		return ipvs.Destination{}, fmt.Errorf("destination reply: %w", err)
	}
	return decodeDestNest(nest, svcFamily)
}

func decodeDestNest(b []byte, svcFamily ipvs.AddressFamily) (ipvs.Destination, error) {
	var (
		d              ipvs.Destination
		addr           []byte
		stats, stats64 []byte
		havePort       bool
		err            error
	)
	it := attrIter{b: b}
	for it.next() {
		switch it.typ {
		case destAttrAddr:
			addr = it.data
		case destAttrPort:
			d.Port, err = it.be16()
			havePort = true
		case destAttrFwdMethod:
			d.ForwardMethod, err = as[ipvs.ForwardMethod](it.u32())
			d.ForwardMethod &= ipvs.FwdMask
		case destAttrWeight:
			d.Weight, err = it.u32()
		case destAttrUThresh:
			d.UpperThreshold, err = it.u32()
		case destAttrLThresh:
			d.LowerThreshold, err = it.u32()
		case destAttrActiveConns:
			d.ActiveConns, err = it.u32()
		case destAttrInactConns:
			d.InactiveConns, err = it.u32()
		case destAttrPersistConns:
			d.PersistConns, err = it.u32()
		case destAttrAddrFamily:
			d.Family, err = as[ipvs.AddressFamily](it.u16())
		case destAttrStats:
			stats = it.data
		case destAttrStats64:
			stats64 = it.data
		case destAttrTunType:
			d.TunnelType, err = as[ipvs.TunnelType](it.u8())
		case destAttrTunPort:
			d.TunnelPort, err = it.be16()
		case destAttrTunFlags:
			d.TunnelFlags, err = as[ipvs.TunnelFlags](it.u16())
		}
		if err != nil {
			return ipvs.Destination{}, fmt.Errorf("destination attribute %d: %w", it.typ, err)
		}
	}
	if it.err != nil {
		return ipvs.Destination{}, fmt.Errorf("destination: %w", it.err)
	}
	if addr == nil || !havePort {
		return ipvs.Destination{}, fmt.Errorf("destination: address or port missing")
	}
	if d.Family == ipvs.AFUnspec {
		d.Family = svcFamily
	}
	if d.Address, err = inetAddr(addr, d.Family); err != nil {
		return ipvs.Destination{}, fmt.Errorf("destination address: %w", err)
	}
	if d.Stats, d.Stats64, err = decodeStatsAttrs(stats, stats64); err != nil {
		return ipvs.Destination{}, fmt.Errorf("destination stats: %w", err)
	}
	return d, nil
}

// decodeDaemon decodes the top level of a NEW_DAEMON reply.
func decodeDaemon(b []byte) (ipvs.Daemon, error) {
	nest, err := findNest(b, cmdAttrDaemon)
	if err != nil {
		return ipvs.Daemon{}, fmt.Errorf("daemon reply: %w", err)
	}
	var (
		d         ipvs.Daemon
		haveState bool
	)
	it := attrIter{b: nest}
	for it.next() {
		switch it.typ {
		case daemonAttrState:
			d.State, err = as[ipvs.DaemonState](it.u32())
			haveState = true
		case daemonAttrMcastIfn:
			d.Interface = it.str()
		case daemonAttrSyncID:
			d.SyncID, err = it.u32()
		case daemonAttrSyncMaxLen:
			d.SyncMaxLen, err = it.u16()
		case daemonAttrMcastGroup:
			if len(it.data) < 4 {
				err = errBadAttr
				break
			}
			d.Group = netip.AddrFrom4([4]byte(it.data[:4]))
		case daemonAttrMcastGroup6:
			if len(it.data) < 16 {
				err = errBadAttr
				break
			}
			d.Group = netip.AddrFrom16([16]byte(it.data[:16]))
		case daemonAttrMcastPort:
			d.Port, err = it.u16()
		case daemonAttrMcastTTL:
			d.TTL, err = it.u8()
		}
		if err != nil {
			return ipvs.Daemon{}, fmt.Errorf("daemon attribute %d: %w", it.typ, err)
		}
	}
	if it.err != nil {
		return ipvs.Daemon{}, fmt.Errorf("daemon: %w", it.err)
	}
	if !haveState {
		return ipvs.Daemon{}, fmt.Errorf("daemon: no state")
	}
	return d, nil
}

// decodeTimeouts decodes a GET_CONFIG reply; missing values stay zero.
func decodeTimeouts(b []byte) (ipvs.Timeouts, error) {
	var (
		t   ipvs.Timeouts
		err error
	)
	it := attrIter{b: b}
	for it.next() {
		switch it.typ {
		case cmdAttrTimeoutTCP:
			t.TCP, err = it.u32()
		case cmdAttrTimeoutTCPFin:
			t.TCPFin, err = it.u32()
		case cmdAttrTimeoutUDP:
			t.UDP, err = it.u32()
		}
		if err != nil {
			return ipvs.Timeouts{}, fmt.Errorf("timeout attribute %d: %w", it.typ, err)
		}
	}
	return t, it.err
}

// decodeInfo decodes a GET_INFO reply; both attributes are required.
func decodeInfo(b []byte) (ipvs.Info, error) {
	var (
		info              ipvs.Info
		haveVer, haveSize bool
		err               error
	)
	it := attrIter{b: b}
	for it.next() {
		switch it.typ {
		case infoAttrVersion:
			var v uint32
			v, err = it.u32()
			info.Version = ipvs.Version{Major: uint8(v >> 16), Minor: uint8(v >> 8), Patch: uint8(v)}
			haveVer = true
		case infoAttrConnTabSize:
			info.ConnTableSize, err = it.u32()
			haveSize = true
		}
		if err != nil {
			return ipvs.Info{}, fmt.Errorf("info attribute %d: %w", it.typ, err)
		}
	}
	if it.err != nil {
		return ipvs.Info{}, fmt.Errorf("info: %w", it.err)
	}
	if !haveVer || !haveSize {
		return ipvs.Info{}, fmt.Errorf("info: version or table size missing")
	}
	return info, nil
}
