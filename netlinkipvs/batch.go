package netlinkipvs

import (
	"fmt"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/mdlayher/netlink"
)

// encodeOp returns the attributes of the request for op.
func encodeOp(op ipvs.Op) []byte {
	var e attrEncoder
	switch op.Cmd {
	case ipvs.CmdNewService, ipvs.CmdSetService:
		encodeService(&e, &op.Service)
	case ipvs.CmdDelService:
		encodeServiceID(&e, &op.Service)
	case ipvs.CmdNewDest, ipvs.CmdSetDest:
		encodeServiceID(&e, &op.Service)
		encodeDest(&e, &op.Destination)
	case ipvs.CmdDelDest:
		encodeServiceID(&e, &op.Service)
		encodeDestID(&e, &op.Destination)
	case ipvs.CmdZero:
		if !op.AllServices {
			encodeServiceID(&e, &op.Service)
		}
	case ipvs.CmdSetConfig:
		encodeTimeouts(&e, &op.Timeouts)
	case ipvs.CmdNewDaemon:
		encodeDaemon(&e, &op.Daemon)
	case ipvs.CmdDelDaemon:
		encodeDaemonState(&e, op.Daemon.State)
	}
	return e.b
}

// isWrite reports whether cmd can be batched.
func isWrite(cmd ipvs.Command) bool {
	switch cmd {
	case ipvs.CmdNewService, ipvs.CmdSetService, ipvs.CmdDelService, ipvs.CmdNewDest, ipvs.CmdSetDest, ipvs.CmdDelDest,
		ipvs.CmdZero, ipvs.CmdFlush, ipvs.CmdSetConfig, ipvs.CmdNewDaemon, ipvs.CmdDelDaemon:
		return true
	}
	return false
}

// maxBatchBytes keeps one sendmsg under the default SO_SNDBUF (212992)
// minus the kernel's overhead, whatever buffer size was granted.
const maxBatchBytes = 200 << 10

// Batch sends ops in as few sendmsg calls as the socket buffers allow and
// returns one error per op (nil for success), in order: errs[i] is the
// kernel's answer to ops[i]. The kernel executes the messages strictly in
// order and does not stop at a failure, so a failing op does not prevent
// the later ones; nothing is rolled back.
//
// Only the last message of each sendmsg asks for an acknowledgement; the
// kernel answers failures regardless, so when that acknowledgement arrives
// every earlier error has been received. The second result reports a
// failure of the socket itself; the ops without an answer then carry it as
// their error, since their outcome is unknown.
func (c *Client) Batch(ops []ipvs.Op) ([]error, error) {
	errs := make([]error, len(ops))
	for i, op := range ops {
		if !isWrite(op.Cmd) {
			return nil, fmt.Errorf("ipvs batch: op %d: %s cannot be batched", i, op.Cmd)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()

	msgs := make([]netlink.Message, 0, min(len(ops), c.window))
	for start := 0; start < len(ops); {
		msgs = msgs[:0]
		size := 0
		end := start
		for end < len(ops) && end-start < c.window {
			var flags netlink.HeaderFlags
			if mayGoUnanswered(ops[end].Cmd) {
				// Its success is answered too: no answer at all is
				// then told apart (sendWindow).
				flags = netlink.Acknowledge
			}
			m := c.message(ops[end].Cmd, flags, encodeOp(ops[end]))
			l := 16 + len(m.Data)
			if end > start && size+l > maxBatchBytes {
				break
			}
			size += l
			msgs = append(msgs, m)
			end++
		}
		msgs[len(msgs)-1].Header.Flags |= netlink.Acknowledge
		if mayGoUnanswered(ops[end-1].Cmd) {
			// The window's last answer must come.
			msgs = append(msgs, c.barrier())
		}
		if err := c.sendWindow(ops[start:end], msgs, errs[start:end]); err != nil {
			for i := start; i < len(ops); i++ {
				if errs[i] == nil {
					errs[i] = err
				}
			}
			c.reset()
			return errs, err
		}
		start = end
	}
	return errs, nil
}

// sendWindow sends one sendmsg worth of requests (msgs: one per op, and a
// barrier after them when the last op may go unanswered) and collects
// their answers into errs.
func (c *Client) sendWindow(ops []ipvs.Op, msgs []netlink.Message, errs []error) error {
	c.t.setDeadline(time.Now().Add(c.timeout))
	if err := c.t.send(msgs); err != nil {
		return &Error{Op: ops[0].Cmd, Err: err}
	}
	c.requests.Writes += int64(len(ops))
	c.requests.Reads += int64(len(msgs) - len(ops))
	first := msgs[0].Header.Sequence
	last := msgs[len(msgs)-1].Header.Sequence
	var answered []bool // of the ops that may go unanswered
	for {
		dg, err := c.t.recv()
		if err != nil {
			return &Error{Op: ops[0].Cmd, Err: err}
		}
		for _, m := range dg {
			if m.Header.Type != netlink.Error {
				continue
			}
			i := int(m.Header.Sequence - first) // sequence numbers may wrap
			if i < 0 || i >= len(msgs) {
				continue // left over from an earlier request
			}
			if i < len(ops) {
				errno, err := errnoOf(m)
				if err != nil {
					return &Error{Op: ops[i].Cmd, Err: err}
				}
				if errno != 0 {
					errs[i] = &Error{Op: ops[i].Cmd, Err: errno}
				}
				if answered == nil {
					answered = make([]bool, len(ops))
				}
				answered[i] = true
			}
			if m.Header.Sequence == last {
				// The barrier's answer: every earlier one came before it.
				for j, op := range ops {
					if mayGoUnanswered(op.Cmd) && (answered == nil || !answered[j]) {
						errs[j] = unanswered(op.Cmd)
					}
				}
				return nil
			}
		}
	}
}
