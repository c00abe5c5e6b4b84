package sdnotify

import (
	"net"
	"os"
	"strconv"
	"time"
)

// Notifier sends states to systemd.
type Notifier struct {
	addr string
}

// New returns a notifier for $NOTIFY_SOCKET. (Exec checks do not inherit
// the variable: healthcheck removes it from their environment.)
func New() *Notifier {
	return &Notifier{addr: os.Getenv("NOTIFY_SOCKET")}
}

// Enabled reports whether systemd listens.
func (n *Notifier) Enabled() bool { return n != nil && n.addr != "" }

// Notify sends state, e.g. "READY=1", "RELOADING=1\nMONOTONIC_USEC=...",
// "STOPPING=1", "WATCHDOG=1", "STATUS=...".
func (n *Notifier) Notify(state string) error {
	if !n.Enabled() {
		return nil
	}
	addr := n.addr
	if addr[0] == '@' {
		addr = "\x00" + addr[1:] // abstract namespace
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(state))
	return err
}

// Reloading is the message for the start of a reload (Type=notify-reload
// needs the monotonic time; plain Type=notify accepts it too).
func Reloading() string {
	return "RELOADING=1\nMONOTONIC_USEC=" + strconv.FormatInt(monotonicUsec(), 10)
}

// WatchdogInterval returns how often systemd expects WATCHDOG=1 (half its
// WatchdogSec, as sd_watchdog_enabled(3) advises), or 0 when the watchdog
// is off or meant for another process.
func WatchdogInterval() time.Duration {
	us, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || us <= 0 {
		return 0
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0
	}
	return time.Duration(us) * time.Microsecond / 2
}
