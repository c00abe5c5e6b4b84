package netlinkipvs

import (
	"net/netip"
	"testing"

	"github.com/ipvs-tools/ipvs"
)

// FuzzDecode feeds arbitrary attribute bytes to every reply decoder: none
// may panic, and a service or destination that decodes must encode and
// decode back to itself.
func FuzzDecode(f *testing.F) {
	for _, s := range []ipvs.Service{tcpSvc, v6Svc, fwmSvc} {
		var e attrEncoder
		encodeService(&e, &s)
		f.Add(uint8(ipvs.CmdNewService), e.b)
	}
	{
		var e attrEncoder
		encodeServiceID(&e, &tcpSvc)
		encodeDest(&e, &dest1)
		f.Add(uint8(ipvs.CmdNewDest), e.b)
	}
	{
		var e attrEncoder
		encodeDaemon(&e, &ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "eth0", SyncID: 3, SyncMaxLen: 1400,
			Group: netip.MustParseAddr("ff02::1:2"), Port: 8848, TTL: 2})
		f.Add(uint8(ipvs.CmdNewDaemon), e.b)
	}
	{
		var e attrEncoder
		encodeTimeouts(&e, &ipvs.Timeouts{TCP: 900, TCPFin: 120, UDP: 300})
		f.Add(uint8(ipvs.CmdSetConfig), e.b)
	}
	{
		var e attrEncoder
		e.u32(infoAttrVersion, 0x010201)
		e.u32(infoAttrConnTabSize, 4096)
		f.Add(uint8(ipvs.CmdSetInfo), e.b)
	}
	f.Fuzz(func(t *testing.T, cmd uint8, b []byte) {
		switch ipvs.Command(cmd % 16) {
		case ipvs.CmdNewService:
			s, err := decodeService(b)
			if err != nil {
				return
			}
			var e attrEncoder
			encodeService(&e, &s)
			back, err := decodeService(e.b)
			if err != nil {
				t.Fatalf("re-decoding %+v: %v", s, err)
			}
			back.Stats, back.Stats64 = s.Stats, s.Stats64
			if !sameService(s, back) {
				t.Fatalf("round trip changed the service:\n got %+v\nwant %+v", back, s)
			}
		case ipvs.CmdNewDest:
			for _, af := range []ipvs.AddressFamily{ipvs.AFInet, ipvs.AFInet6, ipvs.AFUnspec} {
				d, err := decodeDest(b, af)
				if err != nil {
					continue
				}
				var e attrEncoder
				encodeDest(&e, &d)
				back, err := decodeDest(e.b, af)
				if err != nil {
					t.Fatalf("re-decoding %+v: %v", d, err)
				}
				if back.Address != d.Address || back.Port != d.Port || back.Weight != d.Weight ||
					back.ForwardMethod != d.ForwardMethod || back.TunnelType != d.TunnelType ||
					back.TunnelPort != d.TunnelPort || back.TunnelFlags != d.TunnelFlags ||
					back.UpperThreshold != d.UpperThreshold || back.LowerThreshold != d.LowerThreshold {
					t.Fatalf("round trip changed the destination:\n got %+v\nwant %+v", back, d)
				}
			}
		case ipvs.CmdNewDaemon:
			decodeDaemon(b)
		case ipvs.CmdSetConfig:
			decodeTimeouts(b)
		case ipvs.CmdFlush:
			// Datagram splitting: every message lies within the datagram
			// and re-encodes to the same bytes.
			msgs, _ := parseMessages(nil, b)
			for _, m := range msgs {
				if int(m.Header.Length) != nlHeaderLen+len(m.Data) {
					t.Fatalf("message length %d with %d data bytes", m.Header.Length, len(m.Data))
				}
				enc := appendMessage(nil, m)
				back, err := parseMessages(nil, enc)
				if err != nil || len(back) != 1 || string(back[0].Data) != string(m.Data) || back[0].Header != m.Header {
					t.Fatalf("message does not round-trip: %+v", m)
				}
			}
		default:
			decodeInfo(b)
			decodeStats(b, cmd&1 == 0)
		}
	})
}

// sameService compares the settings that encoding carries.
func sameService(a, b ipvs.Service) bool {
	return a.Family == b.Family && a.FWMark == b.FWMark && a.Scheduler == b.Scheduler &&
		a.Flags == b.Flags && a.Timeout == b.Timeout && a.PEName == b.PEName &&
		(a.FWMark != 0 || (a.Protocol == b.Protocol && a.Address == b.Address && a.Port == b.Port)) &&
		(a.Family != ipvs.AFInet && a.Family != ipvs.AFInet6 || a.Netmask == b.Netmask)
}
