package netlinkipvs

import (
	"encoding/binary"
	"errors"
	"iter"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/genetlink/genltest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// testFamily is the family the fake kernel serves.
var testFamily = genetlink.Family{ID: 0x1d, Name: familyName, Version: familyVersion}

// fakeSocket is a netlink.Socket standing in for the kernel. Each request
// is passed to a genltest.Func (wrapped in genltest.ServeFamily, so family
// resolution works as with genltest.Dial); unlike nltest it can take many
// messages per sendmsg and queues every reply as its own datagram, as the
// kernel does, so acknowledgement matching is exercised realistically.
// A handler fails a request by returning a unix.Errno; one that returns
// unix.EINTR gets no answer at all, as netlink_rcv_skb sends none then.
type fakeSocket struct {
	fn genltest.Func

	mu        sync.Mutex
	datagrams [][]netlink.Message
	// sends counts sendmsg calls; requests counts messages.
	sends, requests int
	// dumpChunk is how many dump messages go into one datagram.
	dumpChunk int
	// interrupt, while positive, flags that many dumps NLM_F_DUMP_INTR.
	interrupt int
}

// newFakeClient returns a Client whose kernel is fn.
func newFakeClient(t *testing.T, fn genltest.Func) (*Client, *fakeSocket) {
	t.Helper()
	fs := &fakeSocket{fn: genltest.ServeFamily(testFamily, fn), dumpChunk: 2}
	c, err := newClient(genetlink.NewConn(netlink.NewConn(fs, 1)), fs)
	if err != nil {
		t.Fatalf("newClient: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	fs.mu.Lock()
	fs.sends, fs.requests = 0, 0
	fs.mu.Unlock()
	return c, fs
}

func (s *fakeSocket) Close() error { return nil }

func (s *fakeSocket) Send(m netlink.Message) error {
	return s.SendMessages([]netlink.Message{m})
}

func (s *fakeSocket) SendMessages(ms []netlink.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sends++
	for _, m := range ms {
		s.requests++
		s.serve(m)
	}
	return nil
}

// serve runs one request and queues its replies.
func (s *fakeSocket) serve(req netlink.Message) {
	var gm genetlink.Message
	if err := gm.UnmarshalBinary(req.Data); err != nil {
		s.queueError(req, unix.EINVAL)
		return
	}
	replies, err := s.fn(gm, req)
	if err != nil {
		var errno unix.Errno
		if !errors.As(err, &errno) {
			errno = unix.EIO
		}
		if errno == unix.EINTR {
			return
		}
		s.queueError(req, errno)
		return
	}
	reply := func(g genetlink.Message, flags netlink.HeaderFlags) netlink.Message {
		b, _ := g.MarshalBinary()
		return netlink.Message{
			Header: netlink.Header{Type: req.Header.Type, Flags: flags, Sequence: req.Header.Sequence, PID: 1},
			Data:   b,
		}
	}
	if req.Header.Flags&netlink.Dump == netlink.Dump {
		flags := netlink.Multi
		if s.interrupt > 0 {
			s.interrupt--
			flags |= netlink.DumpInterrupted
		}
		var dg []netlink.Message
		for _, g := range replies {
			dg = append(dg, reply(g, flags))
			if len(dg) == s.dumpChunk {
				s.datagrams = append(s.datagrams, dg)
				dg = nil
			}
		}
		if len(dg) > 0 {
			s.datagrams = append(s.datagrams, dg)
		}
		done := netlink.Message{
			Header: netlink.Header{Type: netlink.Done, Flags: netlink.Multi, Sequence: req.Header.Sequence, PID: 1},
			Data:   make([]byte, 4),
		}
		s.datagrams = append(s.datagrams, []netlink.Message{done})
		return
	}
	for _, g := range replies {
		s.datagrams = append(s.datagrams, []netlink.Message{reply(g, 0)})
	}
	if req.Header.Flags&netlink.Acknowledge != 0 {
		s.queueError(req, 0)
	}
}

// queueError queues an NLMSG_ERROR (errno 0 is an acknowledgement) with a
// capped copy of the request header.
func (s *fakeSocket) queueError(req netlink.Message, errno unix.Errno) {
	data := make([]byte, 4+16)
	binary.NativeEndian.PutUint32(data[0:4], uint32(-int32(errno)))
	copy(data[4:], appendMessage(nil, netlink.Message{Header: req.Header})[:16])
	s.datagrams = append(s.datagrams, []netlink.Message{{
		Header: netlink.Header{Type: netlink.Error, Flags: netlink.Capped, Sequence: req.Header.Sequence, PID: 1},
		Data:   data,
	}})
}

// The transport side: the Client's request path talks to the fake
// directly, one datagram at a time.

func (s *fakeSocket) send(msgs []netlink.Message) error { return s.SendMessages(msgs) }

func (s *fakeSocket) recv() ([]netlink.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.datagrams) == 0 {
		return nil, os.ErrDeadlineExceeded
	}
	dg := s.datagrams[0]
	s.datagrams = s.datagrams[1:]
	return dg, nil
}

func (s *fakeSocket) setDeadline(time.Time) error { return nil }

func (s *fakeSocket) Receive() ([]netlink.Message, error) {
	var out []netlink.Message
	for m, err := range s.ReceiveIter() {
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// ReceiveIter yields one datagram; an empty queue behaves like a socket
// whose deadline expired.
func (s *fakeSocket) ReceiveIter() iter.Seq2[netlink.Message, error] {
	return func(yield func(netlink.Message, error) bool) {
		s.mu.Lock()
		if len(s.datagrams) == 0 {
			s.mu.Unlock()
			yield(netlink.Message{}, os.ErrDeadlineExceeded)
			return
		}
		dg := s.datagrams[0]
		s.datagrams = s.datagrams[1:]
		s.mu.Unlock()
		for _, m := range dg {
			if !yield(m, nil) {
				return
			}
		}
	}
}
