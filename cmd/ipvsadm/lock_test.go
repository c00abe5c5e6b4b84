package main

import (
	"os"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs/ipvslock"
)

func TestRestoreWait(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want time.Duration
	}{
		{"none", nil, ipvslock.DefaultWait},
		{"ignored arguments", []string{"-f", "x", "--bogus"}, ipvslock.DefaultWait},
		{"-w alone", []string{"-w"}, ipvslock.Forever},
		{"--wait alone", []string{"--wait"}, ipvslock.Forever},
		{"-w then a non-number", []string{"-w", "x"}, ipvslock.Forever},
		{"-w N", []string{"-w", "30"}, 30 * time.Second},
		{"-wN", []string{"-w2.5"}, 2500 * time.Millisecond},
		{"--wait N", []string{"--wait", "0"}, 0},
		{"--wait=N", []string{"--wait=7"}, 7 * time.Second},
		{"negative ignored", []string{"--wait=-1"}, ipvslock.DefaultWait},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := restoreWait(c.args); got != c.want {
				t.Errorf("restoreWait(%q) = %v, want %v", c.args, got, c.want)
			}
		})
	}
}

// TestRestoreLocks: ipvsadm-restore takes the lock before it touches the
// table; when it stays busy, nothing is read or written and the message
// says who holds it. A lock that cannot be taken for any other reason
// (no /run, not root) leaves the restore to go on, as the script would.
func TestRestoreLocks(t *testing.T) {
	opened := 0
	open := func() (Backend, error) {
		opened++
		return newFake(), nil
	}
	var waited time.Duration
	busy := func(a *app) {
		a.lock = func(wait time.Duration) (func(), error) {
			waited = wait
			return nil, &ipvslock.BusyError{Path: "/run/ipvs-tools/net-1.lock", Waited: 5 * time.Second,
				Holder: ipvslock.Holder{PID: 42, Owner: "ipvsctl apply -f big.yaml"}}
		}
	}
	r := runAppArgv(t, busy, open, "-A -t 10.0.0.1:80\n", []string{"ipvsadm-restore", "-w", "9"})
	want := "ipvsadm-restore: the IPVS table is being changed by pid 42 (ipvsctl apply -f big.yaml) (waited 5s); nothing was restored: " +
		"wait until it is done with -w, or at most SECONDS with -w SECONDS (lock file /run/ipvs-tools/net-1.lock)\n"
	if r.code != 1 || r.err != want || opened != 0 || waited != 9*time.Second {
		t.Errorf("busy: exit %d, %d opens, waited %v, stderr\n%s\nwant\n%s", r.code, opened, waited, r.err, want)
	}

	locked, released := false, false
	held := func(a *app) {
		a.lock = func(time.Duration) (func(), error) {
			if opened != 0 {
				t.Error("the table was opened before the lock was taken")
			}
			locked = true
			return func() { released = true }, nil
		}
	}
	r = runAppArgv(t, held, open, "-A -t 10.0.0.1:80\n", []string{"ipvsadm-restore"})
	if r.code != 0 || !locked || !released {
		t.Errorf("free: exit %d (%s), locked %v, released %v", r.code, r.err, locked, released)
	}

	denied := func(a *app) {
		a.lock = func(time.Duration) (func(), error) {
			return nil, &os.PathError{Op: "open", Path: "/run/x", Err: os.ErrPermission}
		}
	}
	r = runAppArgv(t, denied, open, "-A -t 10.0.0.1:80\n", []string{"ipvsadm-restore"})
	if r.code != 0 || r.err != "" {
		t.Errorf("no lock file: exit %d, stderr %q; want the restore to go on", r.code, r.err)
	}
}
