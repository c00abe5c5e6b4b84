package netlinkipvs

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/netns"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// DefaultTimeout bounds how long a request may wait for the kernel before
// it fails; for dumps it is the longest wait for the next datagram.
const DefaultTimeout = 30 * time.Second

// recvBufferSize is the receive buffer for one datagram. The kernel sizes
// dump chunks by the largest receive buffer it has seen on the socket
// (capped near 32 KiB), so receiving with 64 KiB gets ~100 services per
// chunk instead of ~11.
const recvBufferSize = 64 << 10

// Socket buffer sizes asked for with SO_{RCV,SND}BUFFORCE (CAP_NET_ADMIN,
// which IPVS needs anyway). Large buffers let one batch carry ~1000
// messages and hold their error replies.
const (
	forcedRcvBuf = 8 << 20
	forcedSndBuf = 1 << 20
)

// Option configures New.
type Option func(*options)

type options struct {
	netns   string
	timeout time.Duration
}

// WithNetNS makes the client operate in the network namespace nameOrPath: a
// name under /run/netns or a path such as /proc/PID/ns/net. Only the
// client's socket is created there; no thread or goroutine of the caller
// changes namespace.
func WithNetNS(nameOrPath string) Option {
	return func(o *options) { o.netns = nameOrPath }
}

// WithTimeout sets the per-request deadline (DefaultTimeout if unset or not
// positive).
func WithTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout = d }
}

// Client talks to the IPVS generic netlink family over one socket. Its
// methods are safe for concurrent use; requests are serialised.
type Client struct {
	mu      sync.Mutex
	nl      *netlink.Conn
	gc      *genetlink.Conn
	t       transport
	seq     uint32
	family  uint16
	timeout time.Duration
	// window is the largest number of messages one Batch sendmsg carries.
	window int
	// redial opens a fresh socket after a transport failure left the old
	// one in an unknown state (nil for test clients).
	redial func() (*netlink.Conn, error)
	// requests counts what was sent.
	requests Requests
}

// Requests counts the IPVS requests a Client sent: reads (GET_* requests,
// a dump being one) and writes (one per request, batched or not). The
// resolution of the family when the Client was made is not counted.
type Requests struct {
	Reads, Writes int64
}

func (r *Requests) count(cmd ipvs.Command, n int) {
	switch cmd {
	case ipvs.CmdGetService, ipvs.CmdGetDest, ipvs.CmdGetDaemon, ipvs.CmdGetConfig, ipvs.CmdGetInfo:
		r.Reads += int64(n)
	default:
		r.Writes += int64(n)
	}
}

// Requests returns how many requests the Client has sent so far, so that
// a program can say what a change cost ("12 requests sent").
func (c *Client) Requests() Requests {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests
}

// New opens a netlink socket and resolves the IPVS family. If the family is
// unknown (no ip_vs module and no way to load it) the error is an *Error
// with Op CmdGetFamily and Err ENOENT.
func New(opts ...Option) (*Client, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	dial := func() (*netlink.Conn, error) {
		cfg := &netlink.Config{MessageBufferSize: recvBufferSize}
		if o.netns != "" {
			fd, err := netns.Open(o.netns)
			if err != nil {
				return nil, err
			}
			defer unix.Close(fd)
			cfg.NetNS = fd
		}
		nl, err := netlink.Dial(unix.NETLINK_GENERIC, cfg)
		if err != nil {
			return nil, fmt.Errorf("open generic netlink socket: %w", err)
		}
		return nl, nil
	}
	nl, err := dial()
	if err != nil {
		return nil, err
	}
	t, err := newRawTransport(nl)
	if err != nil {
		nl.Close()
		return nil, err
	}
	c, err := newClient(genetlink.NewConn(nl), t)
	if err != nil {
		nl.Close()
		return nil, err
	}
	c.nl = nl
	c.redial = dial
	if o.timeout > 0 {
		c.timeout = o.timeout
	}
	c.tuneBuffers()
	return c, nil
}

// newClient builds a Client on existing connections: gc resolves the family
// (through nlctrl) and t carries the IPVS requests. Tests pass a
// genltest-style fake for both.
func newClient(gc *genetlink.Conn, t transport) (*Client, error) {
	c := &Client{gc: gc, t: t, timeout: DefaultTimeout, window: 250}
	if err := c.resolve(); err != nil {
		return nil, err
	}
	return c, nil
}

// resolve looks the family up through nlctrl.
func (c *Client) resolve() error {
	c.gc.SetDeadline(time.Now().Add(c.timeout))
	f, err := c.gc.GetFamily(familyName)
	if err != nil {
		var oe *netlink.OpError
		if errors.As(err, &oe) {
			if errno, ok := oe.Err.(unix.Errno); ok {
				return &Error{Op: ipvs.CmdGetFamily, Err: errno}
			}
		}
		if errors.Is(err, unix.ENOENT) {
			return &Error{Op: ipvs.CmdGetFamily, Err: unix.ENOENT}
		}
		return &Error{Op: ipvs.CmdGetFamily, Err: err}
	}
	c.family = f.ID
	return nil
}

// tuneBuffers enlarges the socket buffers for batching and asks for capped
// error acknowledgements, which do not echo the whole request.
func (c *Client) tuneBuffers() {
	if c.nl == nil {
		return
	}
	_ = c.nl.SetOption(netlink.CapAcknowledge, true)
	rc, err := c.nl.SyscallConn()
	if err != nil {
		return
	}
	var rcvErr, sndErr error
	_ = rc.Control(func(fd uintptr) {
		rcvErr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, forcedRcvBuf)
		sndErr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, forcedSndBuf)
	})
	if rcvErr == nil && sndErr == nil {
		c.window = 1000
	}
}

// Close closes the socket.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gc.Close()
}

// reset replaces a socket whose state is unknown after a transport error
// (a timed-out dump leaves chunks queued and makes the next dump EBUSY).
// Must be called with c.mu held.
func (c *Client) reset() {
	if c.redial == nil {
		return
	}
	nl, err := c.redial()
	if err != nil {
		return
	}
	t, err := newRawTransport(nl)
	if err != nil {
		nl.Close()
		return
	}
	old, oldGC, oldT := c.nl, c.gc, c.t
	c.nl, c.gc, c.t = nl, genetlink.NewConn(nl), t
	if err := c.resolve(); err != nil {
		nl.Close()
		c.nl, c.gc, c.t = old, oldGC, oldT
		return
	}
	oldGC.Close()
	c.tuneBuffers()
}

// genlHeaderLen is the size of struct genlmsghdr.
const genlHeaderLen = 4

// nextSeq returns the next request sequence number (never 0).
func (c *Client) nextSeq() uint32 {
	c.seq++
	if c.seq == 0 {
		c.seq++
	}
	return c.seq
}

// message builds a request for cmd with the encoded attributes and the next
// sequence number.
func (c *Client) message(cmd ipvs.Command, flags netlink.HeaderFlags, attrs []byte) netlink.Message {
	data := make([]byte, genlHeaderLen, genlHeaderLen+len(attrs))
	data[0] = uint8(cmd)
	data[1] = familyVersion
	data = append(data, attrs...)
	return netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(c.family), Flags: netlink.Request | flags, Sequence: c.nextSeq()},
		Data:   data,
	}
}

// replyFunc receives the reply command and attributes of one reply message.
type replyFunc func(cmd uint8, attrs []byte) error

// execute is the one request path: it sends a request and feeds each reply
// message to fn. A dump ends at NLMSG_DONE; any other request is sent with
// NLM_F_ACK and ends at its acknowledgement. Dumps flagged
// NLM_F_DUMP_INTR are repeated (fn must tolerate that: reset is called
// before each attempt).
func (c *Client) execute(cmd ipvs.Command, dump bool, attrs []byte, reset func(), fn replyFunc) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	const attempts = 5
	for i := 0; ; i++ {
		if reset != nil {
			reset()
		}
		intr, err := c.roundTrip(cmd, dump, attrs, fn)
		if err != nil {
			if !isKernelReply(err) {
				// A timeout, a failed system call or an undecodable
				// reply may leave part of a reply queued: start over on
				// a fresh socket.
				c.reset()
			}
			return err
		}
		if !intr || i == attempts-1 {
			return nil
		}
	}
}

// isKernelReply reports whether err is the kernel's error answer to a
// request (an *Error holding a bare errno), as opposed to a failure of the
// socket or of decoding.
func isKernelReply(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	_, ok := e.Err.(unix.Errno)
	return ok
}

// mayGoUnanswered reports whether the kernel can leave a request for cmd
// without any answer, acknowledgement or error. netlink_rcv_skb sends
// none for a handler that returns EINTR, and the sync daemon commands can:
// stopping a daemon whose threads have not run yet (it was started a
// moment before) makes kthread_stop, and so IPVS_CMD_DEL_DAEMON, return
// EINTR; the daemon is stopped all the same. ipvsadm waits for that
// answer forever.
func mayGoUnanswered(cmd ipvs.Command) bool {
	return cmd == ipvs.CmdNewDaemon || cmd == ipvs.CmdDelDaemon
}

// barrier returns a request that is always answered, sent after one that
// may not be (mayGoUnanswered): its answer comes after the other's, if
// that has one.
func (c *Client) barrier() netlink.Message {
	return c.message(ipvs.CmdGetInfo, netlink.Acknowledge, nil)
}

// unanswered is the outcome of a request for cmd that the kernel did not
// answer, which it does when the request's handler returns EINTR: for
// DEL_DAEMON the daemon is stopped (its threads had not run), a success;
// for NEW_DAEMON creating its thread was interrupted, an error.
func unanswered(cmd ipvs.Command) error {
	if cmd == ipvs.CmdDelDaemon {
		return nil
	}
	return &Error{Op: cmd, Err: unix.EINTR}
}

// roundTrip performs one request; it reports whether a dump was
// interrupted.
func (c *Client) roundTrip(cmd ipvs.Command, dump bool, attrs []byte, fn replyFunc) (bool, error) {
	flags := netlink.Acknowledge
	if dump {
		flags = netlink.Dump
	}
	req := c.message(cmd, flags, attrs)
	seq := req.Header.Sequence
	msgs := []netlink.Message{req}
	var barrier uint32 // the barrier's sequence number, if one is sent
	if !dump && mayGoUnanswered(cmd) {
		b := c.barrier()
		barrier = b.Header.Sequence
		msgs = append(msgs, b)
	}
	c.t.setDeadline(time.Now().Add(c.timeout))
	if err := c.t.send(msgs); err != nil {
		return false, &Error{Op: cmd, Err: err}
	}
	c.requests.count(cmd, 1)
	if barrier != 0 {
		c.requests.count(ipvs.CmdGetInfo, 1)
	}
	var (
		intr     bool
		answered bool  // the request's answer came (with a barrier)
		result   error // and said this
	)
	for n := 0; ; n++ {
		if n%256 == 255 {
			// The deadline bounds the wait for each part of a long dump,
			// not the whole dump.
			c.t.setDeadline(time.Now().Add(c.timeout))
		}
		msgs, err := c.t.recv()
		if err != nil {
			return intr, &Error{Op: cmd, Err: err}
		}
		for _, m := range msgs {
			if barrier != 0 && m.Header.Sequence == barrier && m.Header.Type == netlink.Error {
				// The barrier's answer, which comes after the request's.
				if !answered {
					return false, unanswered(cmd)
				}
				return false, result
			}
			if m.Header.Sequence != seq || answered {
				continue // left over from an earlier request
			}
			if m.Header.Flags&netlink.DumpInterrupted != 0 {
				intr = true
			}
			switch m.Header.Type {
			case netlink.Error, netlink.Done:
				errno, err := errnoOf(m)
				switch {
				case err != nil:
					result = &Error{Op: cmd, Err: err}
				case errno != 0:
					result = &Error{Op: cmd, Err: errno}
				case m.Header.Type == netlink.Done || !dump:
					// The acknowledgement, or the end of a dump.
				default:
					continue
				}
				if barrier == 0 {
					return intr, result
				}
				// Read up to the barrier's answer, so that nothing of
				// this request is left for the next one.
				answered = true
				continue
			case netlink.Noop, netlink.Overrun:
				continue
			}
			if len(m.Data) < genlHeaderLen {
				return intr, &Error{Op: cmd, Err: fmt.Errorf("short reply (%d bytes)", len(m.Data))}
			}
			if err := fn(m.Data[0], m.Data[genlHeaderLen:]); err != nil {
				return intr, &Error{Op: cmd, Err: err}
			}
		}
	}
}
