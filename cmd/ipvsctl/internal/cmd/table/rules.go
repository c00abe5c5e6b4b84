package table

import (
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/ipvsadmfmt"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
)

// SortLikeIpvsadm puts services and destinations, given in the kernel's
// order, in the order ipvsadm -S prints them (ipvsadmfmt reproduces its
// overflowing comparison and glibc's merge sort), so that the rules output
// is byte for byte ipvsadm's.
func SortLikeIpvsadm(vss []ipvs.VirtualServer) {
	svcs := make([]ipvs.Service, len(vss))
	byKey := make(map[ipvs.ServiceKey]ipvs.VirtualServer, len(vss))
	for i, vs := range vss {
		svcs[i] = vs.Service
		byKey[vs.Service.Key()] = vs
	}
	ipvsadmfmt.SortServices(svcs)
	for i, s := range svcs {
		vss[i] = byKey[s.Key()]
		ipvsadmfmt.SortDests(vss[i].Destinations)
	}
}

// WriteRules writes services and destinations in the format of
// "ipvsadm -Sn" (ipvsadm 1.31), which ipvsadm -R reads back. Lines are
// the same as ipvsadm's, except that real-server thresholds, which
// ipvsadm -S drops, are kept as -x/-y options. Sort vss first (with
// SortLikeIpvsadm for ipvsadm's exact order).
func WriteRules(w io.Writer, vss []ipvs.VirtualServer) error {
	var b strings.Builder
	for _, vs := range vss {
		s := vs.Service
		id := ruleServiceID(s)
		fmt.Fprintf(&b, "-A %s -s %s", id, s.Scheduler)
		if s.Flags&ipvs.SvcPersistent != 0 {
			fmt.Fprintf(&b, " -p %d", s.Timeout)
			if s.Family == ipvs.AFInet6 {
				if s.Netmask != 128 {
					fmt.Fprintf(&b, " -M %d", int32(s.Netmask))
				}
			} else if s.Netmask != 0xffffffff {
				m := s.Netmask
				fmt.Fprintf(&b, " -M %s", netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}))
			}
		}
		optIf(&b, "--pe", s.PEName)
		if s.Flags&ipvs.SvcOnePacket != 0 {
			b.WriteString(" -o")
		}
		if s.Flags&ipvs.SvcSchedFlags != 0 {
			fmt.Fprintf(&b, " -b %s", ruleSchedFlags(s))
		}
		b.WriteByte('\n')
		for _, d := range vs.Destinations {
			fwd := "-g"
			switch d.ForwardMethod {
			case ipvs.FwdMasq:
				fwd = "-m"
			case ipvs.FwdTunnel:
				fwd = "-i"
			}
			fmt.Fprintf(&b, "-a %s -r %s %s -w %d", id, netip.AddrPortFrom(d.Address, d.Port), fwd, d.Weight)
			if d.ForwardMethod == ipvs.FwdTunnel {
				switch d.TunnelType {
				case ipvs.TunnelGUE:
					fmt.Fprintf(&b, " --tun-type gue --tun-port %d %s", d.TunnelPort, ruleTunFlags(d.TunnelFlags))
				case ipvs.TunnelGRE:
					fmt.Fprintf(&b, " --tun-type gre %s", ruleTunFlags(d.TunnelFlags))
				default:
					b.WriteString(" --tun-type ipip")
				}
			}
			optIf(&b, "-x", d.UpperThreshold)
			optIf(&b, "-y", d.LowerThreshold)
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func ruleServiceID(s ipvs.Service) string {
	if s.FWMark != 0 {
		if s.Family == ipvs.AFInet6 {
			return fmt.Sprintf("-f %d -6", s.FWMark)
		}
		return fmt.Sprintf("-f %d", s.FWMark)
	}
	opt := "--" + ipvsconfig.ProtocolName(s.Protocol) + "-service"
	switch s.Protocol {
	case ipvs.ProtoTCP:
		opt = "-t"
	case ipvs.ProtoUDP:
		opt = "-u"
	}
	return opt + " " + netip.AddrPortFrom(s.Address, s.Port).String()
}

func ruleSchedFlags(s ipvs.Service) string {
	names := [3]string{"flag-1", "flag-2", "flag-3"}
	switch s.Scheduler {
	case "sh":
		names = [3]string{"sh-fallback", "sh-port", ""}
	case "mh":
		names = [3]string{"mh-fallback", "mh-port", ""}
	}
	var out []string
	for i, f := range []ipvs.ServiceFlags{ipvs.SvcSched1, ipvs.SvcSched2, ipvs.SvcSched3} {
		if s.Flags&f != 0 && names[i] != "" {
			out = append(out, names[i])
		}
	}
	return strings.Join(out, ",")
}

func ruleTunFlags(f ipvs.TunnelFlags) string {
	switch f {
	case ipvs.TunnelCsum:
		return "--tun-csum"
	case ipvs.TunnelRemCsum:
		return "--tun-remcsum"
	}
	return "--tun-nocsum"
}

// WriteRulesConfig writes the timeouts and the running sync daemons as the
// ipvsadm lines that set them (--set, --start-daemon), which ipvsadm -R
// also reads. ipvsadm -S itself does not save them.
func WriteRulesConfig(w io.Writer, t ipvs.Timeouts, ds []ipvs.Daemon) error {
	var b strings.Builder
	fmt.Fprintf(&b, "--set %d %d %d\n", t.TCP, t.TCPFin, t.UDP)
	for _, d := range ds {
		fmt.Fprintf(&b, "--start-daemon %s --mcast-interface %s --syncid %d", d.State, d.Interface, d.SyncID)
		optIf(&b, "--sync-maxlen", d.SyncMaxLen)
		optIf(&b, "--mcast-group", d.Group)
		optIf(&b, "--mcast-port", d.Port)
		optIf(&b, "--mcast-ttl", d.TTL)
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// optIf writes " OPTION VALUE" to b unless v is zero (ipvsadm leaves such
// options out).
func optIf[T comparable](b *strings.Builder, option string, v T) {
	var zero T
	if v != zero {
		fmt.Fprintf(b, " %s %v", option, v)
	}
}
