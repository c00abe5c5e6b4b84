package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ipvs-tools/ipvs/ipvslock"
)

// lockTable takes the IPVS table lock of this namespace for
// ipvsadm-restore, saying on stderr whom it waits for.
func lockTable(wait time.Duration) (func(), error) {
	owner := restoreName
	if len(os.Args) > 1 {
		owner += " " + strings.Join(os.Args[1:], " ")
	}
	l, err := ipvslock.Acquire(context.Background(), ipvslock.Options{Wait: wait, Owner: owner,
		Waiting: func(h ipvslock.Holder) {
			fmt.Fprintf(os.Stderr, "%s: waiting for the IPVS table lock, held by %s\n", restoreName, h)
		}})
	if err != nil {
		return nil, err
	}
	return func() { _ = l.Release() }, nil
}

// lockMessage words a failure to take the lock (ipvsadm has no message
// of its own for it).
func lockMessage(err error) string {
	var be *ipvslock.BusyError
	if errors.As(err, &be) {
		return fmt.Sprintf("the IPVS table is being changed by %s; nothing was restored: "+
			"wait until it is done with -w, or at most SECONDS with -w SECONDS (lock file %s)", be.Who(), be.Path)
	}
	return err.Error() + "; nothing was restored"
}
