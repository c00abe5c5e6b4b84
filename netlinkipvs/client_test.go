package netlinkipvs

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/genetlink/genltest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// The expected requests below are built with mdlayher/netlink's own
// attribute encoder, independently of the package's encoder.

func enc(t *testing.T, fn func(ae *netlink.AttributeEncoder)) []byte {
	t.Helper()
	ae := netlink.NewAttributeEncoder()
	fn(ae)
	b, err := ae.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func addr16(a string) []byte {
	ip := netip.MustParseAddr(a)
	var u [16]byte
	if ip.Is4() {
		v := ip.As4()
		copy(u[:], v[:])
	} else {
		u = ip.As16()
	}
	return u[:]
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func flags8(f, m uint32) []byte {
	b := binary.NativeEndian.AppendUint32(nil, f)
	return binary.NativeEndian.AppendUint32(b, m)
}

var (
	tcpSvc = ipvs.Service{
		Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80,
		Scheduler: "wlc", Flags: ipvs.SvcPersistent | ipvs.SvcSched1, Timeout: 360, Netmask: 0xffffff00, PEName: "sip",
	}
	v6Svc = ipvs.Service{
		Family: ipvs.AFInet6, Protocol: ipvs.ProtoUDP, Address: netip.MustParseAddr("2001:db8::1"), Port: 53,
		Scheduler: "rr", Netmask: 64,
	}
	mappedSvc = ipvs.Service{
		Family: ipvs.AFInet6, Protocol: ipvs.ProtoTCP, Address: netip.MustParseAddr("::ffff:1.2.3.4"), Port: 80,
		Scheduler: "rr", Netmask: 128,
	}
	fwmSvc = ipvs.Service{Family: ipvs.AFInet, FWMark: 7, Scheduler: "sh", Netmask: 0xffffffff}
	dest1  = ipvs.Destination{
		Address: netip.MustParseAddr("192.168.0.1"), Port: 8080, ForwardMethod: ipvs.FwdTunnel, Weight: 3,
		UpperThreshold: 100, LowerThreshold: 10, TunnelType: ipvs.TunnelGUE, TunnelPort: 6080, TunnelFlags: ipvs.TunnelCsum,
	}
)

func svcAttrs(t *testing.T, s ipvs.Service, full bool) func(ae *netlink.AttributeEncoder) error {
	return func(ae *netlink.AttributeEncoder) error {
		ae.Uint16(svcAttrAF, uint16(s.Family))
		if s.FWMark != 0 {
			ae.Uint32(svcAttrFWMark, s.FWMark)
		} else {
			ae.Uint16(svcAttrProtocol, uint16(s.Protocol))
			ae.Bytes(svcAttrAddr, addr16(s.Address.String()))
			ae.Bytes(svcAttrPort, be16(s.Port))
		}
		if !full {
			return nil
		}
		ae.String(svcAttrSchedName, s.Scheduler)
		if s.PEName != "" {
			ae.String(svcAttrPEName, s.PEName)
		}
		ae.Bytes(svcAttrFlags, flags8(uint32(s.Flags), 0xffffffff))
		ae.Uint32(svcAttrTimeout, s.Timeout)
		if s.Family == ipvs.AFInet6 {
			ae.Uint32(svcAttrNetmask, s.Netmask)
		} else {
			ae.Bytes(svcAttrNetmask, be32(s.Netmask))
		}
		return nil
	}
}

// nested encodes without NLA_F_NESTED, as ipvsadm (libnl) does.
// newDumpClient returns a client whose kernel answers a dump of cmd with
// replies.
func newDumpClient(t *testing.T, cmd ipvs.Command, replies ...genetlink.Message) *Client {
	t.Helper()
	c, _ := newFakeClient(t, genltest.CheckRequest(testFamily.ID, uint8(cmd), netlink.Request|netlink.Dump,
		func(genetlink.Message, netlink.Message) ([]genetlink.Message, error) { return replies, nil }))
	return c
}

// destKeyAttrs writes the identity of a destination as DEST nests carry it.
func destKeyAttrs(af ipvs.AddressFamily, addr string, port uint16) func(*netlink.AttributeEncoder) error {
	return func(ae *netlink.AttributeEncoder) error {
		ae.Uint16(destAttrAddrFamily, uint16(af))
		ae.Bytes(destAttrAddr, addr16(addr))
		ae.Bytes(destAttrPort, be16(port))
		return nil
	}
}

func nested(ae *netlink.AttributeEncoder, typ uint16, fn func(*netlink.AttributeEncoder) error) {
	inner := netlink.NewAttributeEncoder()
	fn(inner)
	b, _ := inner.Encode()
	ae.Bytes(typ, b)
}

func TestRequestEncoding(t *testing.T) {
	destFull := func(ae *netlink.AttributeEncoder) error {
		destKeyAttrs(ipvs.AFInet, "192.168.0.1", 8080)(ae)
		ae.Uint32(destAttrFwdMethod, 2)
		ae.Uint32(destAttrWeight, 3)
		ae.Uint8(destAttrTunType, 1)
		ae.Bytes(destAttrTunPort, be16(6080))
		ae.Uint16(destAttrTunFlags, 1)
		ae.Uint32(destAttrUThresh, 100)
		ae.Uint32(destAttrLThresh, 10)
		return nil
	}
	tests := []struct {
		name  string
		cmd   ipvs.Command
		flags netlink.HeaderFlags
		call  func(c *Client) error
		want  func(ae *netlink.AttributeEncoder)
	}{
		{"new service", ipvs.CmdNewService, netlink.Request | netlink.Acknowledge,
			func(c *Client) error { return c.NewService(tcpSvc) },
			func(ae *netlink.AttributeEncoder) { nested(ae, cmdAttrService, svcAttrs(t, tcpSvc, true)) }},
		{"new v6 service", ipvs.CmdNewService, netlink.Request | netlink.Acknowledge,
			func(c *Client) error { return c.NewService(v6Svc) },
			func(ae *netlink.AttributeEncoder) { nested(ae, cmdAttrService, svcAttrs(t, v6Svc, true)) }},
		{"IPv4-mapped IPv6 service keeps all 16 bytes", ipvs.CmdNewService, netlink.Request | netlink.Acknowledge,
			func(c *Client) error { return c.NewService(mappedSvc) },
			func(ae *netlink.AttributeEncoder) { nested(ae, cmdAttrService, svcAttrs(t, mappedSvc, true)) }},
		{"IPv4-mapped destination is IPv6", ipvs.CmdDelDest, netlink.Request | netlink.Acknowledge,
			func(c *Client) error {
				return c.DeleteDestination(mappedSvc.Key(), ipvs.Destination{Address: netip.MustParseAddr("::ffff:10.0.0.9"), Port: 80}.Key())
			},
			func(ae *netlink.AttributeEncoder) {
				nested(ae, cmdAttrService, svcAttrs(t, mappedSvc, false))
				nested(ae, cmdAttrDest, destKeyAttrs(ipvs.AFInet6, "::ffff:10.0.0.9", 80))
			}},
		{"set fwmark service", ipvs.CmdSetService, netlink.Request | netlink.Acknowledge,
			func(c *Client) error { return c.UpdateService(fwmSvc) },
			func(ae *netlink.AttributeEncoder) { nested(ae, cmdAttrService, svcAttrs(t, fwmSvc, true)) }},
		{"del service", ipvs.CmdDelService, netlink.Request | netlink.Acknowledge,
			func(c *Client) error { return c.DeleteService(tcpSvc.Key()) },
			func(ae *netlink.AttributeEncoder) { nested(ae, cmdAttrService, svcAttrs(t, tcpSvc, false)) }},
		{"new dest", ipvs.CmdNewDest, netlink.Request | netlink.Acknowledge,
			func(c *Client) error { return c.NewDestination(tcpSvc.Key(), dest1) },
			func(ae *netlink.AttributeEncoder) {
				nested(ae, cmdAttrService, svcAttrs(t, tcpSvc, false))
				nested(ae, cmdAttrDest, destFull)
			}},
		{"set dest", ipvs.CmdSetDest, netlink.Request | netlink.Acknowledge,
			func(c *Client) error { return c.UpdateDestination(tcpSvc.Key(), dest1) },
			func(ae *netlink.AttributeEncoder) {
				nested(ae, cmdAttrService, svcAttrs(t, tcpSvc, false))
				nested(ae, cmdAttrDest, destFull)
			}},
		{"del mixed-family dest", ipvs.CmdDelDest, netlink.Request | netlink.Acknowledge,
			func(c *Client) error {
				return c.DeleteDestination(v6Svc.Key(), ipvs.DestKey{Address: netip.MustParseAddr("10.9.9.9"), Port: 53})
			},
			func(ae *netlink.AttributeEncoder) {
				nested(ae, cmdAttrService, svcAttrs(t, v6Svc, false))
				nested(ae, cmdAttrDest, destKeyAttrs(ipvs.AFInet, "10.9.9.9", 53))
			}},
		{"flush", ipvs.CmdFlush, netlink.Request | netlink.Acknowledge,
			func(c *Client) error { return c.Flush() },
			func(ae *netlink.AttributeEncoder) {}},
		{"zero all", ipvs.CmdZero, netlink.Request | netlink.Acknowledge,
			func(c *Client) error { return c.ZeroAll() },
			func(ae *netlink.AttributeEncoder) {}},
		{"zero one", ipvs.CmdZero, netlink.Request | netlink.Acknowledge,
			func(c *Client) error { return c.ZeroService(fwmSvc.Key()) },
			func(ae *netlink.AttributeEncoder) { nested(ae, cmdAttrService, svcAttrs(t, fwmSvc, false)) }},
		{"set timeouts", ipvs.CmdSetConfig, netlink.Request | netlink.Acknowledge,
			func(c *Client) error { return c.SetTimeouts(ipvs.Timeouts{TCP: 900, TCPFin: 120, UDP: 300}) },
			func(ae *netlink.AttributeEncoder) {
				ae.Uint32(cmdAttrTimeoutTCP, 900)
				ae.Uint32(cmdAttrTimeoutTCPFin, 120)
				ae.Uint32(cmdAttrTimeoutUDP, 300)
			}},
		{"new daemon minimal", ipvs.CmdNewDaemon, netlink.Request | netlink.Acknowledge,
			func(c *Client) error { return c.NewDaemon(ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "eth0"}) },
			func(ae *netlink.AttributeEncoder) {
				nested(ae, cmdAttrDaemon, func(ae *netlink.AttributeEncoder) error {
					ae.Uint32(daemonAttrState, 1)
					ae.String(daemonAttrMcastIfn, "eth0")
					ae.Uint32(daemonAttrSyncID, 0)
					return nil
				})
			}},
		{"new daemon full v4", ipvs.CmdNewDaemon, netlink.Request | netlink.Acknowledge,
			func(c *Client) error {
				return c.NewDaemon(ipvs.Daemon{State: ipvs.DaemonBackup, Interface: "eth1", SyncID: 7, SyncMaxLen: 1400,
					Group: netip.MustParseAddr("239.1.2.3"), Port: 9000, TTL: 3})
			},
			func(ae *netlink.AttributeEncoder) {
				nested(ae, cmdAttrDaemon, func(ae *netlink.AttributeEncoder) error {
					ae.Uint32(daemonAttrState, 2)
					ae.String(daemonAttrMcastIfn, "eth1")
					ae.Uint32(daemonAttrSyncID, 7)
					ae.Uint16(daemonAttrSyncMaxLen, 1400)
					ae.Uint16(daemonAttrMcastPort, 9000) // host order
					ae.Uint8(daemonAttrMcastTTL, 3)
					ae.Bytes(daemonAttrMcastGroup, []byte{239, 1, 2, 3})
					return nil
				})
			}},
		{"new daemon v6 group", ipvs.CmdNewDaemon, netlink.Request | netlink.Acknowledge,
			func(c *Client) error {
				return c.NewDaemon(ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "eth0", Group: netip.MustParseAddr("ff02::1:2")})
			},
			func(ae *netlink.AttributeEncoder) {
				nested(ae, cmdAttrDaemon, func(ae *netlink.AttributeEncoder) error {
					ae.Uint32(daemonAttrState, 1)
					ae.String(daemonAttrMcastIfn, "eth0")
					ae.Uint32(daemonAttrSyncID, 0)
					ae.Bytes(daemonAttrMcastGroup6, addr16("ff02::1:2"))
					return nil
				})
			}},
		{"del daemon", ipvs.CmdDelDaemon, netlink.Request | netlink.Acknowledge,
			func(c *Client) error { return c.DeleteDaemon(ipvs.DaemonBackup) },
			func(ae *netlink.AttributeEncoder) {
				nested(ae, cmdAttrDaemon, func(ae *netlink.AttributeEncoder) error {
					ae.Uint32(daemonAttrState, 2)
					return nil
				})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := enc(t, tt.want)
			var got []byte
			c, _ := newFakeClient(t, genltest.CheckRequest(testFamily.ID, uint8(tt.cmd), tt.flags,
				func(greq genetlink.Message, _ netlink.Message) ([]genetlink.Message, error) {
					if greq.Header.Version != familyVersion {
						t.Errorf("genl version %d", greq.Header.Version)
					}
					got = greq.Data
					return nil, nil
				}))
			if err := tt.call(c); err != nil {
				t.Fatalf("call: %v", err)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("request attributes (-want +got):\n%s", d)
			}
		})
	}
}

// Reply builders, again with mdlayher/netlink's encoder.

func statsNest(wide bool, base uint64) func(ae *netlink.AttributeEncoder) error {
	return func(ae *netlink.AttributeEncoder) error {
		for typ := uint16(statsAttrConns); typ <= statsAttrOutBPS; typ++ {
			v := base + uint64(typ)
			if wide || typ == statsAttrInBytes || typ == statsAttrOutBytes {
				ae.Uint64(typ, v)
			} else {
				ae.Uint32(typ, uint32(v))
			}
		}
		if wide {
			ae.Uint64(statsAttrPad, 0)
		}
		return nil
	}
}

func svcReply(t *testing.T, s ipvs.Service, st32, st64 bool) genetlink.Message {
	b := enc(t, func(ae *netlink.AttributeEncoder) {
		nested(ae, cmdAttrService, func(ae *netlink.AttributeEncoder) error {
			svcAttrs(t, s, false)(ae)
			ae.String(svcAttrSchedName, s.Scheduler)
			if s.PEName != "" {
				ae.String(svcAttrPEName, s.PEName)
			}
			// The kernel adds HASHED and a full mask.
			ae.Bytes(svcAttrFlags, flags8(uint32(s.Flags|ipvs.SvcHashed), 0xffffffff))
			ae.Uint32(svcAttrTimeout, s.Timeout)
			if s.Family == ipvs.AFInet6 {
				ae.Uint32(svcAttrNetmask, s.Netmask)
			} else {
				ae.Bytes(svcAttrNetmask, be32(s.Netmask))
			}
			if st32 {
				nested(ae, svcAttrStats, statsNest(false, 1<<33))
			}
			if st64 {
				nested(ae, svcAttrStats64, statsNest(true, 1<<33))
			}
			return nil
		})
	})
	return genetlink.Message{Header: genetlink.Header{Command: uint8(ipvs.CmdNewService), Version: 1}, Data: b}
}

func TestServicesDecode(t *testing.T) {
	c := newDumpClient(t, ipvs.CmdGetService,
		svcReply(t, tcpSvc, true, true),
		svcReply(t, v6Svc, true, false),
		svcReply(t, fwmSvc, false, false),
		svcReply(t, tcpSvc, true, true), // a duplicate, as a changing table gives
	)
	got, err := c.Services()
	if err != nil {
		t.Fatal(err)
	}
	w64 := ipvs.Stats{}
	for i, p := range []*uint64{&w64.Conns, &w64.InPkts, &w64.OutPkts, &w64.InBytes, &w64.OutBytes, &w64.CPS, &w64.InPPS, &w64.OutPPS, &w64.InBPS, &w64.OutBPS} {
		*p = 1<<33 + uint64(i+1)
	}
	w32 := w64
	for _, p := range []*uint64{&w32.Conns, &w32.InPkts, &w32.OutPkts, &w32.CPS, &w32.InPPS, &w32.OutPPS, &w32.InBPS, &w32.OutBPS} {
		*p = uint64(uint32(*p))
	}
	s1 := tcpSvc
	s1.Stats, s1.Stats64 = w64, true
	s2 := v6Svc
	s2.Stats = w32
	s3 := fwmSvc
	want := []ipvs.Service{s1, s2, s3}
	if d := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" {
		t.Errorf("services (-want +got):\n%s", d)
	}
}

func TestServicesEmpty(t *testing.T) {
	c, _ := newFakeClient(t, func(genetlink.Message, netlink.Message) ([]genetlink.Message, error) { return nil, nil })
	got, err := c.Services()
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || len(got) != 0 {
		t.Fatalf("Services() = %#v, want an empty non-nil slice", got)
	}
	ds, err := c.Destinations(tcpSvc.Key())
	if err != nil || ds == nil || len(ds) != 0 {
		t.Fatalf("Destinations() = %#v, %v; want empty slice", ds, err)
	}
	dm, err := c.Daemons()
	if err != nil || dm == nil || len(dm) != 0 {
		t.Fatalf("Daemons() = %#v, %v; want empty slice", dm, err)
	}
}

func TestServiceGetOne(t *testing.T) {
	var req []byte
	c, _ := newFakeClient(t, genltest.CheckRequest(testFamily.ID, uint8(ipvs.CmdGetService), netlink.Request|netlink.Acknowledge,
		func(greq genetlink.Message, _ netlink.Message) ([]genetlink.Message, error) {
			req = greq.Data
			return []genetlink.Message{svcReply(t, v6Svc, false, true)}, nil
		}))
	got, err := c.Service(v6Svc.Key())
	if err != nil {
		t.Fatal(err)
	}
	if got.Address != v6Svc.Address || got.Port != 53 || got.Netmask != 64 || !got.Stats64 {
		t.Errorf("Service() = %+v", got)
	}
	if d := cmp.Diff(enc(t, func(ae *netlink.AttributeEncoder) { nested(ae, cmdAttrService, svcAttrs(t, v6Svc, false)) }), req); d != "" {
		t.Errorf("request (-want +got):\n%s", d)
	}
}

func destReply(t *testing.T, fn func(ae *netlink.AttributeEncoder) error) genetlink.Message {
	b := enc(t, func(ae *netlink.AttributeEncoder) { nested(ae, cmdAttrDest, fn) })
	return genetlink.Message{Header: genetlink.Header{Command: uint8(ipvs.CmdNewDest), Version: 1}, Data: b}
}

// dest61Attrs are the attributes of a destination in a 6.1 dump, in its
// order, with 32- and 64-bit stats (a tunnel destination of the other
// family).
func dest61Attrs(ae *netlink.AttributeEncoder) error {
	ae.Bytes(destAttrAddr, addr16("10.9.9.9"))
	ae.Bytes(destAttrPort, be16(443))
	ae.Uint32(destAttrFwdMethod, 2|0x20) // extra bits are masked
	ae.Uint32(destAttrWeight, 1)
	ae.Uint8(destAttrTunType, 2)
	ae.Bytes(destAttrTunPort, be16(0))
	ae.Uint16(destAttrTunFlags, 2)
	ae.Uint32(destAttrUThresh, 0)
	ae.Uint32(destAttrLThresh, 0)
	ae.Uint32(destAttrActiveConns, 5)
	ae.Uint32(destAttrInactConns, 6)
	ae.Uint32(destAttrPersistConns, 7)
	ae.Uint16(destAttrAddrFamily, uint16(ipvs.AFInet))
	nested(ae, destAttrStats, statsNest(false, 0))
	nested(ae, destAttrStats64, statsNest(true, 1<<40))
	return nil
}

func TestDestinationsDecode(t *testing.T) {
	c := newDumpClient(t, ipvs.CmdGetDest,
		// 6.1 order, with stats64 and mixed family.
		destReply(t, dest61Attrs),
		// An old kernel: no ADDR_FAMILY, no tunnel attributes, 32-bit stats.
		destReply(t, func(ae *netlink.AttributeEncoder) error {
			ae.Bytes(destAttrAddr, addr16("2001:db8::2"))
			ae.Bytes(destAttrPort, be16(8443))
			ae.Uint32(destAttrFwdMethod, 0)
			ae.Uint32(destAttrWeight, 2147483647)
			ae.Uint32(destAttrUThresh, 100)
			ae.Uint32(destAttrLThresh, 10)
			ae.Uint32(destAttrActiveConns, 0)
			ae.Uint32(destAttrInactConns, 0)
			ae.Uint32(destAttrPersistConns, 0)
			nested(ae, destAttrStats, statsNest(false, 100))
			return nil
		}),
	)
	got, err := c.Destinations(v6Svc.Key())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d destinations", len(got))
	}
	d0 := got[0]
	if d0.Family != ipvs.AFInet || d0.Address != netip.MustParseAddr("10.9.9.9") || d0.Port != 443 ||
		d0.ForwardMethod != ipvs.FwdTunnel || d0.TunnelType != ipvs.TunnelGRE || d0.TunnelFlags != ipvs.TunnelRemCsum ||
		d0.ActiveConns != 5 || d0.InactiveConns != 6 || d0.PersistConns != 7 ||
		!d0.Stats64 || d0.Stats.Conns != 1<<40+1 || d0.Stats.OutBPS != 1<<40+10 {
		t.Errorf("dest 0 = %+v", d0)
	}
	d1 := got[1]
	if d1.Family != ipvs.AFInet6 || d1.Address != netip.MustParseAddr("2001:db8::2") || d1.Weight != 2147483647 ||
		d1.UpperThreshold != 100 || d1.LowerThreshold != 10 || d1.Stats64 || d1.Stats.Conns != 101 || d1.Stats.InBytes != 104 {
		t.Errorf("dest 1 = %+v", d1)
	}
}

func TestDaemonsTimeoutsInfo(t *testing.T) {
	c, _ := newFakeClient(t, func(greq genetlink.Message, nreq netlink.Message) ([]genetlink.Message, error) {
		switch ipvs.Command(greq.Header.Command) {
		case ipvs.CmdGetDaemon:
			if nreq.Header.Flags&netlink.Dump != netlink.Dump {
				return nil, unix.EOPNOTSUPP
			}
			d1 := enc(t, func(ae *netlink.AttributeEncoder) {
				nested(ae, cmdAttrDaemon, func(ae *netlink.AttributeEncoder) error {
					ae.Uint32(daemonAttrState, 1)
					ae.String(daemonAttrMcastIfn, "eth0")
					ae.Uint32(daemonAttrSyncID, 9)
					ae.Uint16(daemonAttrSyncMaxLen, 1472)
					ae.Uint16(daemonAttrMcastPort, 8848)
					ae.Uint8(daemonAttrMcastTTL, 1)
					ae.Bytes(daemonAttrMcastGroup, []byte{224, 0, 0, 81})
					return nil
				})
			})
			d2 := enc(t, func(ae *netlink.AttributeEncoder) {
				nested(ae, cmdAttrDaemon, func(ae *netlink.AttributeEncoder) error {
					ae.Uint32(daemonAttrState, 2)
					ae.String(daemonAttrMcastIfn, "lo")
					ae.Uint32(daemonAttrSyncID, 0)
					ae.Bytes(daemonAttrMcastGroup6, addr16("ff02::1:2"))
					return nil
				})
			})
			return []genetlink.Message{{Header: genetlink.Header{Command: uint8(ipvs.CmdNewDaemon)}, Data: d1},
				{Header: genetlink.Header{Command: uint8(ipvs.CmdNewDaemon)}, Data: d2}}, nil
		case ipvs.CmdGetConfig:
			b := enc(t, func(ae *netlink.AttributeEncoder) {
				ae.Uint32(cmdAttrTimeoutTCP, 900)
				ae.Uint32(cmdAttrTimeoutTCPFin, 120)
				ae.Uint32(cmdAttrTimeoutUDP, 300)
			})
			return []genetlink.Message{{Header: genetlink.Header{Command: uint8(ipvs.CmdSetConfig)}, Data: b}}, nil
		case ipvs.CmdGetInfo:
			b := enc(t, func(ae *netlink.AttributeEncoder) {
				ae.Uint32(infoAttrVersion, 0x010201)
				ae.Uint32(infoAttrConnTabSize, 4096)
			})
			return []genetlink.Message{{Header: genetlink.Header{Command: uint8(ipvs.CmdSetInfo)}, Data: b}}, nil
		}
		return nil, unix.EOPNOTSUPP
	})
	ds, err := c.Daemons()
	if err != nil {
		t.Fatal(err)
	}
	want := []ipvs.Daemon{
		{State: ipvs.DaemonMaster, Interface: "eth0", SyncID: 9, SyncMaxLen: 1472, Group: netip.MustParseAddr("224.0.0.81"), Port: 8848, TTL: 1},
		{State: ipvs.DaemonBackup, Interface: "lo", Group: netip.MustParseAddr("ff02::1:2")},
	}
	if d := cmp.Diff(want, ds, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" {
		t.Errorf("daemons (-want +got):\n%s", d)
	}
	to, err := c.Timeouts()
	if err != nil || to != (ipvs.Timeouts{TCP: 900, TCPFin: 120, UDP: 300}) {
		t.Errorf("Timeouts() = %+v, %v", to, err)
	}
	info, err := c.Info()
	if err != nil || info.Version.String() != "1.2.1" || info.ConnTableSize != 4096 || info.Version.Code() != 0x010201 {
		t.Errorf("Info() = %+v, %v", info, err)
	}
}

func TestErrnoMapping(t *testing.T) {
	tests := []struct {
		errno              unix.Errno
		notExist, exist, p bool
	}{
		{unix.ENOENT, true, false, false},
		{unix.ESRCH, true, false, false},
		{unix.EEXIST, false, true, false},
		{unix.EPERM, false, false, true},
		{unix.EACCES, false, false, true},
		{unix.EINVAL, false, false, false},
	}
	for _, tt := range tests {
		c, _ := newFakeClient(t, func(genetlink.Message, netlink.Message) ([]genetlink.Message, error) {
			return nil, tt.errno
		})
		err := c.DeleteService(tcpSvc.Key())
		var e *Error
		if !errors.As(err, &e) || e.Op != ipvs.CmdDelService {
			t.Fatalf("%v: error %#v is not an *Error for del-service", tt.errno, err)
		}
		if errno, ok := Errno(err); !ok || errno != tt.errno {
			t.Errorf("Errno(%v) = %v, %v", err, errno, ok)
		}
		if errors.Is(err, os.ErrNotExist) != tt.notExist || errors.Is(err, os.ErrExist) != tt.exist || errors.Is(err, os.ErrPermission) != tt.p {
			t.Errorf("%v: errors.Is mapping wrong", tt.errno)
		}
		if !errors.Is(err, tt.errno) {
			t.Errorf("errors.Is(err, %v) = false", tt.errno)
		}
		if got, want := err.Error(), "ipvs del-service: "+tt.errno.Error(); got != want {
			t.Errorf("Error() = %q, want %q", got, want)
		}
	}
}

func TestFamilyMissing(t *testing.T) {
	fs := &fakeSocket{fn: genltest.ServeFamily(genetlink.Family{ID: 9, Name: "OTHER", Version: 1},
		func(genetlink.Message, netlink.Message) ([]genetlink.Message, error) { return nil, nil })}
	// The served family name differs: the controller fails the lookup.
	fs.fn = func(greq genetlink.Message, nreq netlink.Message) ([]genetlink.Message, error) {
		if nreq.Header.Type == unix.GENL_ID_CTRL {
			return nil, unix.ENOENT
		}
		return nil, nil
	}
	_, err := newClient(genetlink.NewConn(netlink.NewConn(fs, 1)), fs)
	var e *Error
	if !errors.As(err, &e) || e.Op != ipvs.CmdGetFamily || !errors.Is(err, unix.ENOENT) {
		t.Fatalf("newClient error = %v, want get-family ENOENT", err)
	}
}

func TestTimeoutIsError(t *testing.T) {
	// A request whose reply never comes fails instead of hanging.
	c, fs := newFakeClient(t, func(genetlink.Message, netlink.Message) ([]genetlink.Message, error) { return nil, nil })
	fs.fn = func(genetlink.Message, netlink.Message) ([]genetlink.Message, error) { return nil, nil }
	// Drop the acknowledgement: serve nothing.
	c.t = &silentSocket{fakeSocket: fs}
	err := c.Flush()
	if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Flush() = %v, want a deadline error", err)
	}
}

// silentSocket accepts requests and never answers.
type silentSocket struct{ *fakeSocket }

func (s *silentSocket) send([]netlink.Message) error { return nil }

func TestDumpInterruptedIsRepeated(t *testing.T) {
	dumps := 0
	c, fs := newFakeClient(t, func(greq genetlink.Message, _ netlink.Message) ([]genetlink.Message, error) {
		dumps++
		if dumps == 1 {
			// The first, inconsistent dump also shows a service that is
			// gone by the second one.
			return []genetlink.Message{svcReply(t, tcpSvc, false, true), svcReply(t, v6Svc, false, true)}, nil
		}
		return []genetlink.Message{svcReply(t, tcpSvc, false, true)}, nil
	})
	fs.interrupt = 1
	got, err := c.Services()
	if err != nil {
		t.Fatal(err)
	}
	if dumps != 2 {
		t.Errorf("%d dumps, want the interrupted one repeated once", dumps)
	}
	if len(got) != 1 || got[0].Key() != tcpSvc.Key() {
		t.Errorf("Services() = %+v, want only the second dump's result", got)
	}
}

func TestScanServices(t *testing.T) {
	c := newDumpClient(t, ipvs.CmdGetService,
		svcReply(t, tcpSvc, false, false),
		svcReply(t, fwmSvc, false, false),
		svcReply(t, tcpSvc, false, false),
	)
	var got []ipvs.ServiceKey
	starts := 0
	err := c.ScanServices(func() { starts++ }, func(s *ipvs.Service) error {
		got = append(got, s.Key())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []ipvs.ServiceKey{tcpSvc.Key(), fwmSvc.Key(), tcpSvc.Key()}
	if d := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" || starts != 1 {
		t.Errorf("keys (-want +got):\n%s\nstarts %d", d, starts)
	}
	stop := errors.New("stop")
	n := 0
	err = c.ScanServices(nil, func(s *ipvs.Service) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("error from fn: %v after %d calls", err, n)
	}
}

// TestFixedSizeAttrs: a fixed-size attribute shorter than its type is an
// error; a longer one is read from the front, as nla_get_* reads it.
func TestFixedSizeAttrs(t *testing.T) {
	data := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}
	for n := 0; n <= len(data); n++ {
		it := &attrIter{data: data[:n]}
		u8, err8 := it.u8()
		u16, err16 := it.u16()
		b16, errb16 := it.be16()
		u32, err32 := it.u32()
		b32, errb32 := it.be32()
		u64, err64 := it.u64()
		for _, c := range []struct {
			name string
			size int
			got  uint64
			err  error
			want uint64
		}{
			{"u8", 1, uint64(u8), err8, 1},
			{"u16", 2, uint64(u16), err16, uint64(binary.NativeEndian.Uint16(data))},
			{"be16", 2, uint64(b16), errb16, 0x0102},
			{"u32", 4, uint64(u32), err32, uint64(binary.NativeEndian.Uint32(data))},
			{"be32", 4, uint64(b32), errb32, 0x01020304},
			{"u64", 8, u64, err64, binary.NativeEndian.Uint64(data)},
		} {
			if n < c.size && (c.err != errBadAttr || c.got != 0) || n >= c.size && (c.err != nil || c.got != c.want) {
				t.Errorf("%s of %d bytes: %#x, %v", c.name, n, c.got, c.err)
			}
		}
	}
}
