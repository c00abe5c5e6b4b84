package netlinkipvs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// transport moves whole datagrams. Requests and replies are handled by the
// Client's one request path on top of it; the transport interprets
// nothing, not even error messages.
type transport interface {
	// send sends msgs in one sendmsg(2).
	send(msgs []netlink.Message) error
	// recv returns the messages of the next datagram. Their Data may
	// point into a buffer that the next recv reuses.
	recv() ([]netlink.Message, error)
	// setDeadline bounds the following send and recv calls.
	setDeadline(t time.Time) error
}

// nlHeaderLen is sizeof(struct nlmsghdr).
const nlHeaderLen = 16

// rawTransport does the I/O on the netlink socket's file descriptor through
// the Go runtime's poller directly. mdlayher/socket starts a goroutine per
// send and receive to watch for context cancellation, which doubled the
// cost of the 1 + N dumps of a large table in the test VM; this path keeps
// the socket, deadlines and poller but does one system call per datagram.
type rawTransport struct {
	rc   syscall.RawConn
	nl   *netlink.Conn // for deadlines
	buf  []byte
	out  []byte
	msgs []netlink.Message
}

func newRawTransport(nl *netlink.Conn) (*rawTransport, error) {
	rc, err := nl.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &rawTransport{rc: rc, nl: nl, buf: make([]byte, recvBufferSize)}, nil
}

var kernelAddr = &unix.SockaddrNetlink{Family: unix.AF_NETLINK}

func (t *rawTransport) send(msgs []netlink.Message) error {
	t.out = t.out[:0]
	for _, m := range msgs {
		t.out = appendMessage(t.out, m)
	}
	var serr error
	err := t.rc.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), t.out, 0, kernelAddr)
		return serr != unix.EAGAIN
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return os.NewSyscallError("sendto", err)
	}
	return nil
}

func (t *rawTransport) recv() ([]netlink.Message, error) {
	var (
		n    int
		rerr error
	)
	err := t.rc.Read(func(fd uintptr) bool {
		// MSG_TRUNC makes recvfrom return the datagram's real length.
		n, _, rerr = unix.Recvfrom(int(fd), t.buf, unix.MSG_TRUNC)
		return rerr != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return nil, os.NewSyscallError("recvfrom", err)
	}
	if n > len(t.buf) {
		return nil, fmt.Errorf("netlink datagram of %d bytes truncated to %d", n, len(t.buf))
	}
	t.msgs, err = parseMessages(t.msgs[:0], t.buf[:n])
	return t.msgs, err
}

func (t *rawTransport) setDeadline(d time.Time) error { return t.nl.SetDeadline(d) }

// appendMessage appends m in wire format, its length computed and padded.
func appendMessage(b []byte, m netlink.Message) []byte {
	var h [nlHeaderLen]byte
	binary.NativeEndian.PutUint32(h[0:4], uint32(nlHeaderLen+len(m.Data)))
	binary.NativeEndian.PutUint16(h[4:6], uint16(m.Header.Type))
	binary.NativeEndian.PutUint16(h[6:8], uint16(m.Header.Flags))
	binary.NativeEndian.PutUint32(h[8:12], m.Header.Sequence)
	binary.NativeEndian.PutUint32(h[12:16], m.Header.PID)
	b = append(b, h[:]...)
	b = append(b, m.Data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

var errBadMessage = errors.New("malformed netlink message")

// parseMessages splits a datagram into messages whose Data alias b.
func parseMessages(msgs []netlink.Message, b []byte) ([]netlink.Message, error) {
	for len(b) >= nlHeaderLen {
		l := int(binary.NativeEndian.Uint32(b[0:4]))
		if l < nlHeaderLen || l > len(b) {
			return msgs, errBadMessage
		}
		msgs = append(msgs, netlink.Message{
			Header: netlink.Header{
				Length:   uint32(l),
				Type:     netlink.HeaderType(binary.NativeEndian.Uint16(b[4:6])),
				Flags:    netlink.HeaderFlags(binary.NativeEndian.Uint16(b[6:8])),
				Sequence: binary.NativeEndian.Uint32(b[8:12]),
				PID:      binary.NativeEndian.Uint32(b[12:16]),
			},
			Data: b[nlHeaderLen:l],
		})
		b = b[min((l+3)&^3, len(b)):]
	}
	return msgs, nil
}

// errnoOf returns the error number of an NLMSG_ERROR message (0 for an
// acknowledgement) or of an NLMSG_DONE that carries one.
func errnoOf(m netlink.Message) (unix.Errno, error) {
	if len(m.Data) < 4 {
		if m.Header.Type == netlink.Done {
			return 0, nil
		}
		return 0, errBadMessage
	}
	if v := int32(binary.NativeEndian.Uint32(m.Data[0:4])); v < 0 {
		return unix.Errno(-v), nil
	}
	return 0, nil
}
