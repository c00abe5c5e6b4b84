package netlinkipvs

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// TestUnansweredDaemonCommands: the kernel leaves a sync daemon command
// that returns EINTR without any answer (a stop racing the start of the
// daemon's threads); the client neither waits for it forever nor takes
// another answer for it, and says what it means.
func TestUnansweredDaemonCommands(t *testing.T) {
	stop := ipvs.Op{Cmd: ipvs.CmdDelDaemon, Daemon: ipvs.Daemon{State: ipvs.DaemonMaster}}
	start := ipvs.Op{Cmd: ipvs.CmdNewDaemon, Daemon: ipvs.Daemon{State: ipvs.DaemonBackup, Interface: "eth0"}}
	add := ipvs.Op{Cmd: ipvs.CmdNewService, Service: tcpSvc}
	tests := []struct {
		name string
		// kernel answers each request of this command with this errno
		// (EINTR: no answer); 0 acknowledges.
		kernel map[ipvs.Command]unix.Errno
		call   func(c *Client) []error
		want   []unix.Errno // per result, 0 for nil
		// reads and writes sent
		reads, writes int64
	}{
		{"stop, unanswered", map[ipvs.Command]unix.Errno{ipvs.CmdDelDaemon: unix.EINTR},
			func(c *Client) []error { return []error{c.DeleteDaemon(ipvs.DaemonMaster)} }, []unix.Errno{0}, 1, 1},
		{"start, unanswered", map[ipvs.Command]unix.Errno{ipvs.CmdNewDaemon: unix.EINTR},
			func(c *Client) []error { return []error{c.NewDaemon(start.Daemon)} }, []unix.Errno{unix.EINTR}, 1, 1},
		{"stop, refused", map[ipvs.Command]unix.Errno{ipvs.CmdDelDaemon: unix.ESRCH},
			func(c *Client) []error { return []error{c.DeleteDaemon(ipvs.DaemonMaster)} }, []unix.Errno{unix.ESRCH}, 1, 1},
		{"stop, acknowledged", nil,
			func(c *Client) []error { return []error{c.DeleteDaemon(ipvs.DaemonMaster)} }, []unix.Errno{0}, 1, 1},
		{"batch ending in an unanswered stop", map[ipvs.Command]unix.Errno{ipvs.CmdDelDaemon: unix.EINTR},
			func(c *Client) []error { return mustBatchErrs(t, c, []ipvs.Op{add, stop}) }, []unix.Errno{0, 0}, 1, 2},
		{"batch with an unanswered start inside", map[ipvs.Command]unix.Errno{ipvs.CmdNewDaemon: unix.EINTR, ipvs.CmdNewService: unix.EEXIST},
			func(c *Client) []error { return mustBatchErrs(t, c, []ipvs.Op{start, add}) }, []unix.Errno{unix.EINTR, unix.EEXIST}, 0, 2},
		{"batch of answered daemon commands", map[ipvs.Command]unix.Errno{ipvs.CmdDelDaemon: unix.ESRCH},
			func(c *Client) []error { return mustBatchErrs(t, c, []ipvs.Op{start, stop}) }, []unix.Errno{0, unix.ESRCH}, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, fs := newFakeClient(t, func(greq genetlink.Message, _ netlink.Message) ([]genetlink.Message, error) {
				if e := tt.kernel[ipvs.Command(greq.Header.Command)]; e != 0 {
					return nil, e
				}
				return nil, nil
			})
			var got []unix.Errno
			for _, err := range tt.call(c) {
				var errno unix.Errno
				if err != nil && !errors.As(err, &errno) {
					t.Fatalf("error %v is not the kernel's", err)
				}
				got = append(got, errno)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("results (-want +got):\n%s", d)
			}
			if r := c.Requests(); r.Reads != tt.reads || r.Writes != tt.writes {
				t.Errorf("requests %+v, want %d reads, %d writes", r, tt.reads, tt.writes)
			}
			// Nothing is left for the next request to skip.
			fs.mu.Lock()
			left := len(fs.datagrams)
			fs.mu.Unlock()
			if left != 0 {
				t.Errorf("%d datagrams left unread", left)
			}
			if err := c.Flush(); err != nil {
				t.Errorf("the next request: %v", err)
			}
		})
	}
}

func mustBatchErrs(t *testing.T, c *Client, ops []ipvs.Op) []error {
	t.Helper()
	errs, err := c.Batch(ops)
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	return errs
}
