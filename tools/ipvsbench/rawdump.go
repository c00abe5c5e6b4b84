package main

import (
	"encoding/binary"
	"fmt"

	"github.com/ipvs-tools/ipvs"
	"github.com/mdlayher/genetlink"
	"golang.org/x/sys/unix"
)

// rawDumps is an experiment: one destination dump per service over a
// blocking netlink socket driven by plain system calls, to compare the
// library's per-request cost with the bare kernel cost.
func rawDumps(svcs []ipvs.Service, family uint16) (int, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, err
	}
	buf := make([]byte, 64<<10)
	n := 0
	for i, s := range svcs {
		req := make([]byte, 16+4, 128)
		req[16] = 8 // IPVS_CMD_GET_DEST
		req[17] = 1
		nest := []byte{0, 0, 1, 0}
		nest = appendAttr(nest, 1, binary.NativeEndian.AppendUint16(nil, uint16(s.Family)))
		nest = appendAttr(nest, 2, binary.NativeEndian.AppendUint16(nil, uint16(s.Protocol)))
		var a [16]byte
		v := s.Address.As4()
		copy(a[:], v[:])
		nest = appendAttr(nest, 3, a[:])
		nest = appendAttr(nest, 4, binary.BigEndian.AppendUint16(nil, s.Port))
		binary.NativeEndian.PutUint16(nest[0:2], uint16(len(nest)))
		req = append(req, nest...)
		binary.NativeEndian.PutUint32(req[0:4], uint32(len(req)))
		binary.NativeEndian.PutUint16(req[4:6], family)
		binary.NativeEndian.PutUint16(req[6:8], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
		binary.NativeEndian.PutUint32(req[8:12], uint32(i+1))
		if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			return 0, err
		}
	recv:
		for {
			m, _, err := unix.Recvfrom(fd, buf, 0)
			if err != nil {
				return 0, err
			}
			b := buf[:m]
			for len(b) >= 16 {
				l := int(binary.NativeEndian.Uint32(b[0:4]))
				typ := binary.NativeEndian.Uint16(b[4:6])
				if l < 16 || l > len(b) {
					return 0, fmt.Errorf("bad message")
				}
				if typ == unix.NLMSG_DONE || typ == unix.NLMSG_ERROR {
					break recv
				}
				n++
				b = b[(l+3)&^3:]
			}
		}
	}
	return n, nil
}

func appendAttr(b []byte, typ uint16, v []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(4+len(v)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// familyID resolves the IPVS family through genetlink.
func familyID() (uint16, error) {
	c, err := genetlink.Dial(nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	f, err := c.GetFamily("IPVS")
	return f.ID, err
}
