package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/ipvs-tools/ipvs/netlinkipvs"
)

// netlinkipvs encodes an IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the
// IPv4 address a.b.c.d, so an IPv6 service or destination with such an
// address would reach the kernel as a different address (0a0b:0c0d::).
// ipvsadm sends all 16 bytes. Until the library is fixed, mappedBackend
// sends every request that names such an address itself, in ipvsadm's
// format, over a generic netlink socket of its own; everything else goes
// to the wrapped Backend.
type mappedBackend struct {
	Backend
	raw  *rawIPVS
	dial func() (*rawIPVS, error)
}

func withMappedFix(b Backend) Backend {
	return &mappedBackend{Backend: b, dial: dialRawIPVS}
}

// isMapped reports whether a is an IPv4-mapped IPv6 address.
func isMapped(a netip.Addr) bool { return a.Is4In6() }

func (m *mappedBackend) conn() (*rawIPVS, error) {
	if m.raw == nil {
		r, err := m.dial()
		if err != nil {
			return nil, err
		}
		m.raw = r
	}
	return m.raw, nil
}

func (m *mappedBackend) keyMapped(k netlinkipvs.ServiceKey) bool {
	return k.FWMark == 0 && isMapped(k.Address)
}

func (m *mappedBackend) write(cmd netlinkipvs.Command, attrs []byte) error {
	r, err := m.conn()
	if err != nil {
		return &netlinkipvs.Error{Op: cmd, Err: err}
	}
	_, err = r.exec(cmd, netlink.Acknowledge, attrs)
	return err
}

func (m *mappedBackend) NewService(s netlinkipvs.Service) error {
	if !m.keyMapped(s.Key()) {
		return m.Backend.NewService(s)
	}
	return m.write(netlinkipvs.CmdNewService, encodeRaw(&s, nil))
}

func (m *mappedBackend) UpdateService(s netlinkipvs.Service) error {
	if !m.keyMapped(s.Key()) {
		return m.Backend.UpdateService(s)
	}
	return m.write(netlinkipvs.CmdSetService, encodeRaw(&s, nil))
}

func (m *mappedBackend) DeleteService(k netlinkipvs.ServiceKey) error {
	if !m.keyMapped(k) {
		return m.Backend.DeleteService(k)
	}
	s := serviceOfKey(k)
	return m.write(netlinkipvs.CmdDelService, encodeRaw(&s, nil))
}

func (m *mappedBackend) ZeroService(k netlinkipvs.ServiceKey) error {
	if !m.keyMapped(k) {
		return m.Backend.ZeroService(k)
	}
	s := serviceOfKey(k)
	return m.write(netlinkipvs.CmdZero, encodeRaw(&s, nil))
}

func (m *mappedBackend) destCall(k netlinkipvs.ServiceKey, d netlinkipvs.Destination) bool {
	return m.keyMapped(k) || isMapped(d.Address)
}

func (m *mappedBackend) NewDestination(k netlinkipvs.ServiceKey, d netlinkipvs.Destination) error {
	if !m.destCall(k, d) {
		return m.Backend.NewDestination(k, d)
	}
	s := serviceOfKey(k)
	return m.write(netlinkipvs.CmdNewDest, encodeRaw(&s, &d))
}

func (m *mappedBackend) UpdateDestination(k netlinkipvs.ServiceKey, d netlinkipvs.Destination) error {
	if !m.destCall(k, d) {
		return m.Backend.UpdateDestination(k, d)
	}
	s := serviceOfKey(k)
	return m.write(netlinkipvs.CmdSetDest, encodeRaw(&s, &d))
}

func (m *mappedBackend) DeleteDestination(k netlinkipvs.ServiceKey, dk netlinkipvs.DestKey) error {
	d := netlinkipvs.Destination{Family: dk.Family, Address: dk.Address, Port: dk.Port}
	if !m.destCall(k, d) {
		return m.Backend.DeleteDestination(k, dk)
	}
	s := serviceOfKey(k)
	return m.write(netlinkipvs.CmdDelDest, encodeRaw(&s, &d))
}

func (m *mappedBackend) Service(k netlinkipvs.ServiceKey) (netlinkipvs.Service, error) {
	if !m.keyMapped(k) {
		return m.Backend.Service(k)
	}
	r, err := m.conn()
	if err != nil {
		return netlinkipvs.Service{}, &netlinkipvs.Error{Op: netlinkipvs.CmdGetService, Err: err}
	}
	s := serviceOfKey(k)
	// No acknowledgement: it would stay queued behind the reply and
	// confuse the next request on this socket.
	msgs, err := r.exec(netlinkipvs.CmdGetService, 0, encodeRaw(&s, nil))
	if err != nil {
		return netlinkipvs.Service{}, err
	}
	for _, msg := range msgs {
		if nest, ok := findAttr(msg.Data, 1); ok {
			return decodeRawService(nest)
		}
	}
	return netlinkipvs.Service{}, &netlinkipvs.Error{Op: netlinkipvs.CmdGetService, Err: unix.EINVAL}
}

func (m *mappedBackend) Destinations(k netlinkipvs.ServiceKey) ([]netlinkipvs.Destination, error) {
	if !m.keyMapped(k) {
		return m.Backend.Destinations(k)
	}
	r, err := m.conn()
	if err != nil {
		return nil, &netlinkipvs.Error{Op: netlinkipvs.CmdGetDest, Err: err}
	}
	s := serviceOfKey(k)
	msgs, err := r.exec(netlinkipvs.CmdGetDest, netlink.Dump, encodeRawID(&s))
	if err != nil {
		return nil, err
	}
	dests := []netlinkipvs.Destination{}
	for _, msg := range msgs {
		nest, ok := findAttr(msg.Data, 2)
		if !ok {
			continue
		}
		d, err := decodeRawDest(nest, k.Family)
		if err != nil {
			return nil, &netlinkipvs.Error{Op: netlinkipvs.CmdGetDest, Err: unix.EINVAL}
		}
		dests = append(dests, d)
	}
	return dests, nil
}

func (m *mappedBackend) Close() error {
	if m.raw != nil {
		m.raw.c.Close()
	}
	return m.Backend.Close()
}

func serviceOfKey(k netlinkipvs.ServiceKey) netlinkipvs.Service {
	return netlinkipvs.Service{Family: k.Family, Protocol: k.Protocol, Address: k.Address, Port: k.Port, FWMark: k.FWMark}
}

// rawIPVS is a generic netlink socket on which the IPVS family is resolved.
type rawIPVS struct {
	c      *genetlink.Conn
	family uint16
}

func dialRawIPVS() (*rawIPVS, error) {
	c, err := genetlink.Dial(nil)
	if err != nil {
		return nil, err
	}
	f, err := c.GetFamily("IPVS")
	if err != nil {
		c.Close()
		return nil, err
	}
	return &rawIPVS{c: c, family: f.ID}, nil
}

// exec sends one IPVS request and returns the replies; a kernel error is
// an *netlinkipvs.Error holding the errno.
func (r *rawIPVS) exec(cmd netlinkipvs.Command, flags netlink.HeaderFlags, attrs []byte) ([]genetlink.Message, error) {
	msgs, err := r.c.Execute(genetlink.Message{
		Header: genetlink.Header{Command: uint8(cmd), Version: 1},
		Data:   attrs,
	}, r.family, netlink.Request|flags)
	if err != nil {
		var oe *netlink.OpError
		if errors.As(err, &oe) {
			if errno, ok := oe.Err.(unix.Errno); ok {
				return nil, &netlinkipvs.Error{Op: cmd, Err: errno}
			}
		}
		return nil, &netlinkipvs.Error{Op: cmd, Err: err}
	}
	return msgs, nil
}

// addr16 is an address as the kernel's 16-byte union nf_inet_addr.
func addr16(a netip.Addr) []byte {
	var b [16]byte
	switch {
	case a.Is4():
		v := a.As4()
		copy(b[:], v[:])
	case a.IsValid():
		b = a.As16()
	}
	return b[:]
}

func be16(v uint16) []byte { return []byte{byte(v >> 8), byte(v)} }

// serviceAttrs writes ipvsadm's service nest (ipvs_nl_fill_service_attr).
func serviceAttrs(ae *netlink.AttributeEncoder, s *netlinkipvs.Service, full bool) {
	ae.Uint16(1, uint16(s.Family))
	if s.FWMark != 0 {
		ae.Uint32(5, s.FWMark)
	} else {
		ae.Uint16(2, uint16(s.Protocol))
		ae.Bytes(3, addr16(s.Address))
		ae.Bytes(4, be16(s.Port))
	}
	if !full {
		return
	}
	ae.String(6, s.Scheduler)
	if s.PEName != "" {
		ae.String(11, s.PEName)
	}
	var fl [8]byte
	binary.NativeEndian.PutUint32(fl[0:4], uint32(s.Flags))
	binary.NativeEndian.PutUint32(fl[4:8], 0xffffffff)
	ae.Bytes(7, fl[:])
	ae.Uint32(8, s.Timeout)
	if s.Family == netlinkipvs.AFInet6 {
		ae.Uint32(9, s.Netmask)
	} else {
		ae.Bytes(9, binary.BigEndian.AppendUint32(nil, s.Netmask))
	}
}

// encodeRaw encodes a SERVICE nest and, if d is set, a DEST nest, as
// ipvsadm does for service and destination commands.
func encodeRaw(s *netlinkipvs.Service, d *netlinkipvs.Destination) []byte {
	ae := netlink.NewAttributeEncoder()
	ae.Nested(1, func(n *netlink.AttributeEncoder) error {
		serviceAttrs(n, s, true)
		return nil
	})
	if d != nil {
		ae.Nested(2, func(n *netlink.AttributeEncoder) error {
			n.Uint16(11, uint16(d.Family))
			n.Bytes(1, addr16(d.Address))
			n.Bytes(2, be16(d.Port))
			n.Uint32(3, uint32(d.ForwardMethod&7))
			n.Uint32(4, d.Weight)
			n.Uint8(13, uint8(d.TunnelType))
			n.Bytes(14, be16(d.TunnelPort))
			n.Uint16(15, uint16(d.TunnelFlags))
			n.Uint32(5, d.UpperThreshold)
			n.Uint32(6, d.LowerThreshold)
			return nil
		})
	}
	b, _ := ae.Encode()
	return b
}

// encodeRawID encodes a SERVICE nest with the identity only (GET_DEST).
func encodeRawID(s *netlinkipvs.Service) []byte {
	ae := netlink.NewAttributeEncoder()
	ae.Nested(1, func(n *netlink.AttributeEncoder) error {
		serviceAttrs(n, s, false)
		return nil
	})
	b, _ := ae.Encode()
	return b
}

// findAttr returns the payload of the first attribute typ in b.
func findAttr(b []byte, typ uint16) ([]byte, bool) {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return nil, false
	}
	for ad.Next() {
		if ad.Type() == typ {
			return ad.Bytes(), true
		}
	}
	return nil, false
}

func addrOf(family netlinkipvs.AddressFamily, b []byte) (netip.Addr, error) {
	switch {
	case family == netlinkipvs.AFInet && len(b) >= 4:
		return netip.AddrFrom4([4]byte(b[:4])), nil
	case family == netlinkipvs.AFInet6 && len(b) >= 16:
		return netip.AddrFrom16([16]byte(b[:16])), nil
	}
	return netip.Addr{}, fmt.Errorf("bad address")
}

// decodeRawStats decodes a STATS (wide=false) or STATS64 nest.
func decodeRawStats(b []byte, wide bool) netlinkipvs.Stats {
	var st netlinkipvs.Stats
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return st
	}
	fields := []*uint64{nil, &st.Conns, &st.InPkts, &st.OutPkts, &st.InBytes, &st.OutBytes,
		&st.CPS, &st.InPPS, &st.OutPPS, &st.InBPS, &st.OutBPS}
	for ad.Next() {
		t := int(ad.Type())
		if t < 1 || t >= len(fields) {
			continue
		}
		v := ad.Bytes()
		switch {
		case (wide || t == 4 || t == 5) && len(v) >= 8:
			*fields[t] = binary.NativeEndian.Uint64(v)
		case len(v) >= 4:
			*fields[t] = uint64(binary.NativeEndian.Uint32(v))
		}
	}
	return st
}

func decodeRawService(b []byte) (netlinkipvs.Service, error) {
	var s netlinkipvs.Service
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return s, err
	}
	var addr, netmask, stats, stats64 []byte
	for ad.Next() {
		v := ad.Bytes()
		switch ad.Type() {
		case 1:
			s.Family = netlinkipvs.AddressFamily(ad.Uint16())
		case 2:
			s.Protocol = netlinkipvs.Protocol(ad.Uint16())
		case 3:
			addr = v
		case 4:
			if len(v) >= 2 {
				s.Port = binary.BigEndian.Uint16(v)
			}
		case 5:
			s.FWMark = ad.Uint32()
		case 6:
			s.Scheduler = ad.String()
		case 7:
			if len(v) >= 8 {
				fl := binary.NativeEndian.Uint32(v[0:4]) & binary.NativeEndian.Uint32(v[4:8])
				s.Flags = netlinkipvs.ServiceFlags(fl &^ 0x2)
			}
		case 8:
			s.Timeout = ad.Uint32()
		case 9:
			netmask = v
		case 10:
			stats = v
		case 11:
			s.PEName = ad.String()
		case 12:
			stats64 = v
		}
	}
	if err := ad.Err(); err != nil {
		return s, err
	}
	if s.FWMark == 0 {
		if s.Address, err = addrOf(s.Family, addr); err != nil {
			return s, err
		}
	}
	if len(netmask) >= 4 {
		if s.Family == netlinkipvs.AFInet6 {
			s.Netmask = binary.NativeEndian.Uint32(netmask)
		} else {
			s.Netmask = binary.BigEndian.Uint32(netmask)
		}
	}
	switch {
	case stats64 != nil:
		s.Stats, s.Stats64 = decodeRawStats(stats64, true), true
	case stats != nil:
		s.Stats = decodeRawStats(stats, false)
	}
	return s, nil
}

func decodeRawDest(b []byte, svcFamily netlinkipvs.AddressFamily) (netlinkipvs.Destination, error) {
	var d netlinkipvs.Destination
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return d, err
	}
	var addr, stats, stats64 []byte
	for ad.Next() {
		v := ad.Bytes()
		switch ad.Type() {
		case 1:
			addr = v
		case 2:
			if len(v) >= 2 {
				d.Port = binary.BigEndian.Uint16(v)
			}
		case 3:
			d.ForwardMethod = netlinkipvs.ForwardMethod(ad.Uint32() & 7)
		case 4:
			d.Weight = ad.Uint32()
		case 5:
			d.UpperThreshold = ad.Uint32()
		case 6:
			d.LowerThreshold = ad.Uint32()
		case 7:
			d.ActiveConns = ad.Uint32()
		case 8:
			d.InactiveConns = ad.Uint32()
		case 9:
			d.PersistConns = ad.Uint32()
		case 10:
			stats = v
		case 11:
			d.Family = netlinkipvs.AddressFamily(ad.Uint16())
		case 12:
			stats64 = v
		case 13:
			d.TunnelType = netlinkipvs.TunnelType(ad.Uint8())
		case 14:
			if len(v) >= 2 {
				d.TunnelPort = binary.BigEndian.Uint16(v)
			}
		case 15:
			d.TunnelFlags = netlinkipvs.TunnelFlags(ad.Uint16())
		}
	}
	if err := ad.Err(); err != nil {
		return d, err
	}
	if d.Family == 0 {
		d.Family = svcFamily
	}
	if d.Address, err = addrOf(d.Family, addr); err != nil {
		return d, err
	}
	switch {
	case stats64 != nil:
		d.Stats, d.Stats64 = decodeRawStats(stats64, true), true
	case stats != nil:
		d.Stats = decodeRawStats(stats, false)
	}
	return d, nil
}
