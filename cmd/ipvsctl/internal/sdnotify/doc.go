// Package sdnotify speaks systemd's notification protocol (sd_notify(3)):
// one datagram per state change to the socket named by $NOTIFY_SOCKET, and
// the watchdog interval from $WATCHDOG_USEC. Without $NOTIFY_SOCKET (not
// started by systemd with Type=notify) every call does nothing.
package sdnotify
