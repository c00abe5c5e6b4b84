package main

import (
	"encoding/binary"
	"io"
	"net/netip"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/ipvsadmfmt"
	"github.com/ipvs-tools/ipvs/ipvsproc"
)

// The fast listing path: a full -L/-S needs every service's destinations,
// which netlink only gives one GET_DEST dump per service (the cost of
// ipvsadm's listings). /proc/net/ip_vs lists every service with its
// destinations' address, port, forwarding method, weight and connection
// counts in one read, which is all the default listing and, except for
// tunnel destinations, the save format print. Service fields come from
// the netlink service dump (the file lacks flags, PE, exact timeouts and,
// for fwmark services, the family); destinations are joined to them by
// service identity. Any service the file cannot describe exactly falls
// back to its own netlink dump (see procTable.dests).

// procKey identifies a service in both sources: fwmark services by mark
// alone (the file does not say their family), others by family,
// protocol, address and port.
type procKey struct {
	addr  [16]byte
	mark  uint32
	port  uint16
	proto uint8
	af    uint8
}

func keyOfProc(s *ipvsproc.Service) procKey {
	if s.Family == ipvsproc.FamilyUnknown {
		return procKey{mark: s.FWMark}
	}
	k := procKey{port: s.Address.Port(), proto: uint8(s.Protocol), af: uint8(s.Family)}
	a := s.Address.Addr()
	if a.Is4() {
		b := a.As4()
		copy(k.addr[:], b[:])
	} else {
		k.addr = a.As16()
	}
	return k
}

// procSvc is one service of the file: its key and where its packed
// destinations are (chunk, offset in it, count).
type procSvc struct {
	key           procKey
	chunk, off, n uint32
	tunnel        bool // has a tunnel destination
}

// rowChunk is the size of the chunks the packed destinations are stored
// in: appending to chunks never copies what is stored (a growing slice
// would, leaving garbage of up to twice the size).
const rowChunk = 64 << 10

// procTable is /proc/net/ip_vs in a compact, pointer-free form: the
// destinations of all services packed in one byte slice (about 10 bytes
// per IPv4 destination), so that 100,000 rows cost about 1 MB and nothing
// for the garbage collector to scan.
type procTable struct {
	svcs   blockList[procSvc]
	chunks [][]byte
	// match[i] is the index in svcs of the netlink service i, or -1 when
	// that service must be fetched over netlink.
	match []int32
}

// svc returns service i of the file.
func (t *procTable) svc(i int) *procSvc { return t.svcs.at(i) }

// Packed destination: a flags byte (bit 0 IPv6, bits 1-2 the forwarding
// method), the address (4 or 16 bytes), the port (2 bytes), then weight,
// active and inactive connections as uvarints.

func (t *procTable) add(s *ipvsproc.Service) {
	// A service's destinations go to one chunk: at most 34 bytes each.
	need := 34 * len(s.Dests)
	if len(t.chunks) == 0 || cap(t.chunks[len(t.chunks)-1])-len(t.chunks[len(t.chunks)-1]) < need {
		t.chunks = append(t.chunks, make([]byte, 0, max(rowChunk, need)))
	}
	c := len(t.chunks) - 1
	rows := t.chunks[c]
	ps := procSvc{key: keyOfProc(s), chunk: uint32(c), off: uint32(len(rows)), n: uint32(len(s.Dests))}
	for i := range s.Dests {
		d := &s.Dests[i]
		a := d.Address.Addr()
		flags := byte(d.Forward&3) << 1
		if d.Forward == ipvsproc.FwdTunnel {
			ps.tunnel = true
		}
		if a.Is6() {
			flags |= 1
			rows = append(rows, flags)
			b := a.As16()
			rows = append(rows, b[:]...)
		} else {
			rows = append(rows, flags)
			b := a.As4()
			rows = append(rows, b[:]...)
		}
		rows = binary.BigEndian.AppendUint16(rows, d.Address.Port())
		rows = binary.AppendUvarint(rows, uint64(d.Weight))
		rows = binary.AppendUvarint(rows, uint64(d.ActiveConns))
		rows = binary.AppendUvarint(rows, uint64(d.InactiveConns))
	}
	t.chunks[c] = rows
	t.svcs.add(ps)
}

// startProcTable opens /proc/net/ip_vs and reads it into a procTable on
// a goroutine of its own, so that the kernel's walk of the file overlaps
// with the caller's service dump (and, through a read-ahead, with the
// parsing) where there is more than one CPU. done waits for the table:
// nil when the file could not be opened or read, which leaves every
// service to netlink. The file is opened here, on the caller's
// goroutine, so it names the caller's network namespace.
func (a *app) startProcTable() (done func() *procTable) {
	r, err := a.openProc()
	if err != nil {
		return func() *procTable { return nil }
	}
	ch := make(chan *procTable, 1)
	go func() {
		ra := ipvsproc.ReadAhead(r, 0)
		pt, err := readProcTable(ra)
		ra.Close()
		r.Close()
		if err != nil {
			pt = nil
		}
		ch <- pt
	}()
	return func() *procTable { return <-ch }
}

// readProcTable reads the file from r.
func readProcTable(r io.Reader) (*procTable, error) {
	t := &procTable{}
	_, err := ipvsproc.ScanServices(r, func(s *ipvsproc.Service) error {
		t.add(s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// join matches the netlink services to the file's. A service is left to
// netlink (match -1) when the file does not have it (the table changed
// between the two reads), has it twice, or cannot tell it apart (a
// fwmark used by an IPv4 and an IPv6 service), or when save needs the
// tunnel settings of its destinations.
func (t *procTable) join(l *svcList, save bool) {
	t.match = make([]int32, l.len())
	var ambiguous map[uint32]bool
	var marks map[uint32]uint8
	for i := range l.len() {
		if m := l.at(i).mark; m != 0 {
			if marks == nil {
				marks = map[uint32]uint8{}
				ambiguous = map[uint32]bool{}
			}
			if af, ok := marks[m]; ok && af != l.at(i).af {
				ambiguous[m] = true
			}
			marks[m] = l.at(i).af
		}
	}
	var index map[procKey]int32
	for i := range l.len() {
		k := l.key(i)
		j := int32(-1)
		if i < t.svcs.len() && t.svc(i).key == k && index == nil {
			j = int32(i)
		} else {
			if index == nil {
				index = make(map[procKey]int32, t.svcs.len())
				for p := range t.svcs.len() {
					pk := t.svc(p).key
					if _, dup := index[pk]; dup {
						index[pk] = -1
					} else {
						index[pk] = int32(p)
					}
				}
			}
			if p, ok := index[k]; ok {
				j = p
			}
		}
		if k.mark != 0 && ambiguous[k.mark] {
			j = -1
		}
		if j >= 0 && save && t.svc(int(j)).tunnel {
			j = -1
		}
		t.match[i] = j
	}
	if index != nil {
		// A positional match made before the index existed may name a
		// service the file lists twice.
		for i, j := range t.match {
			if j >= 0 && index[t.svc(int(j)).key] == -1 {
				t.match[i] = -1
			}
		}
	}
}

// dests decodes the destinations of netlink service i into buf; ok is
// false when they must be fetched over netlink.
func (t *procTable) dests(i int, buf []ipvs.Destination) ([]ipvs.Destination, bool) {
	if t == nil || t.match[i] < 0 {
		return buf, false
	}
	ps := t.svc(int(t.match[i]))
	b := t.chunks[ps.chunk][ps.off:]
	buf = buf[:0]
	for n := uint32(0); n < ps.n; n++ {
		flags := b[0]
		var d ipvs.Destination
		if flags&1 != 0 {
			d.Family = ipvs.AFInet6
			d.Address = netip.AddrFrom16([16]byte(b[1:17]))
			b = b[17:]
		} else {
			d.Family = ipvs.AFInet
			d.Address = netip.AddrFrom4([4]byte(b[1:5]))
			b = b[5:]
		}
		d.ForwardMethod = ipvs.ForwardMethod(flags >> 1 & 3)
		d.Port = binary.BigEndian.Uint16(b)
		b = b[2:]
		var v [3]uint64
		for k := range v {
			x, l := binary.Uvarint(b)
			v[k] = x
			b = b[l:]
		}
		d.Weight, d.ActiveConns, d.InactiveConns = uint32(v[0]), uint32(v[1]), uint32(v[2])
		buf = append(buf, d)
	}
	return buf, true
}

// fastFormat reports whether a full listing in format f can take its
// destinations from /proc/net/ip_vs: the default listing and save. The
// other formats print fields only netlink has.
func fastFormat(f ipvsadmfmt.Format) bool {
	return !f.Stats && !f.Rate && !f.Thresholds && !f.PersistentConn && !f.TunInfo
}
