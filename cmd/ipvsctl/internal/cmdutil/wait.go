package cmdutil

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ipvs-tools/ipvs/ipvslock"
	"github.com/spf13/cobra"
)

// waitValue is -w/--wait[=SECONDS]: how long a writer waits for the IPVS
// table lock (ipvslock): alone, until it is free; with a value, that
// many seconds (or a Go duration, 2m).
type waitValue struct{ d *time.Duration }

func (w waitValue) String() string {
	if w.d == nil {
		return ""
	}
	if *w.d == ipvslock.Forever {
		return "forever"
	}
	return w.d.String()
}

func (w waitValue) Set(s string) error {
	switch {
	case s == "forever":
		*w.d = ipvslock.Forever
		return nil
	case s == "":
		return errors.New("want a number of seconds")
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil && n >= 0 && n < 1e6 {
		*w.d = time.Duration(n * float64(time.Second))
		return nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		*w.d = d
		return nil
	}
	return fmt.Errorf("%q is not a number of seconds (or a duration such as 2m)", s)
}

func (w waitValue) Type() string { return "seconds" }

// AddWaitFlag gives a command that writes the IPVS table its --wait flag
// (and -w, with short): how long to wait for another writer to finish, d
// defaulting to ipvslock.DefaultWait.
func AddWaitFlag(cmd *cobra.Command, d *time.Duration, short bool) {
	*d = ipvslock.DefaultWait
	sh := ""
	if short {
		sh = "w"
	}
	usage := "wait for another writer of the IPVS table (ipvsctl, ipvsadm-restore, the agent) to finish: " +
		"alone, until it does; --wait=`SECONDS`, at most that long"
	fl := cmd.Flags().VarPF(waitValue{d}, "wait", sh, usage)
	fl.NoOptDefVal = "forever"
	fl.DefValue = ipvslock.DefaultWait.String()
}

// ExplainLock words a failure to take the IPVS table lock.
func ExplainLock(err error) error {
	var be *ipvslock.BusyError
	if errors.As(err, &be) {
		return fmt.Errorf("the IPVS table is being changed by %s; nothing was changed: "+
			"wait until it is done with --wait, or at most SECONDS with --wait=SECONDS (lock file %s)", be.Who(), be.Path)
	}
	return err
}
