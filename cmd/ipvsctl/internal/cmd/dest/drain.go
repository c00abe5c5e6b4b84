package dest

import (
	"fmt"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/spf13/cobra"
)

// DrainOptions of dest drain.
type DrainOptions struct {
	factory.Common
	Target   Target
	Timeout  time.Duration
	Interval time.Duration
	NoDelete bool
	Now      func() time.Time
	Sleep    func(time.Duration)
}

// NewCmdDrain returns dest drain.
func NewCmdDrain(f *factory.Factory, runF func(*DrainOptions) error) *cobra.Command {
	opts := &DrainOptions{Common: f.Common(), Now: f.Now, Sleep: f.Sleep}
	var tf targetFlags
	cmd := &cobra.Command{
		Use:   "drain SERVICE ADDR[:PORT]",
		Short: "Remove a real server gracefully: weight 0, wait for its connections, delete",
		Long: `Set the real server's weight to 0 so it gets no new connections, wait
until its active connection count reaches 0 or --timeout passes, then
delete it (or, with --no-delete, leave it quiesced). Progress is shown on
a terminal; otherwise the command is quiet unless something goes wrong.`,
		Example: `  ipvsctl dest drain tcp:10.0.0.1:80 192.168.0.1:8080 --timeout 10m`,
		Args:    cobra.MaximumNArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			var err error
			if opts.Target, err = tf.parse(args); err != nil {
				return err
			}
			if opts.Interval <= 0 {
				return cmdutil.FlagErrorf("--interval must be positive")
			}
			return cmdutil.Run(opts, runF, RunDrain)
		},
	}
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 5*time.Minute, "longest wait for the active connections to end")
	cmd.Flags().DurationVar(&opts.Interval, "interval", time.Second, "poll interval")
	cmd.Flags().BoolVar(&opts.NoDelete, "no-delete", false, "only quiesce and wait; keep the server")
	tf.register(cmd)
	return cmd
}

// RunDrain drains the real server.
func RunDrain(o *DrainOptions) error {
	b, key, object, err := resolveDest(o.IPVS, o.Target, "drain destination")
	if err != nil {
		return err
	}
	find := func() (ipvs.Destination, error) {
		ds, err := b.Destinations(o.Target.Service)
		if err != nil {
			return ipvs.Destination{}, cmdutil.Explain(cmdutil.Context{Op: "drain destination", Object: object}, err)
		}
		for _, d := range ds {
			if d.Key() == key {
				return d, nil
			}
		}
		return ipvs.Destination{}, &cmdutil.OpError{Op: "drain destination", Object: object,
			Err: fmt.Errorf("no such destination"), Hint: "see ipvsctl get " + object[len(key.String())+4:]}
	}
	d, err := find()
	if err != nil {
		return err
	}
	if d.Weight != 0 {
		d.Weight = 0
		if err := b.UpdateDestination(o.Target.Service, d); err != nil {
			return cmdutil.Explain(cmdutil.Context{Op: "quiesce destination", Object: object}, err)
		}
	}
	tty := o.IO.IsStderrTTY()
	start := o.Now()
	deadline := start.Add(o.Timeout)
	timedOut := false
	for {
		if d.ActiveConns == 0 {
			break
		}
		if !o.Now().Before(deadline) {
			timedOut = true
			break
		}
		if tty {
			fmt.Fprintf(o.IO.ErrOut, "\r\033[Kdraining %s: %d active, %d inactive connections (%s of %s)",
				object, d.ActiveConns, d.InactiveConns, o.Now().Sub(start).Round(time.Second), o.Timeout)
		}
		o.Sleep(o.Interval)
		if d, err = find(); err != nil {
			if tty {
				fmt.Fprintln(o.IO.ErrOut)
			}
			return err
		}
	}
	if tty {
		fmt.Fprint(o.IO.ErrOut, "\r\033[K")
	}
	if timedOut {
		fmt.Fprintf(o.IO.ErrOut, "ipvsctl: drain %s: %d active connections left after %s\n", object, d.ActiveConns, o.Timeout)
	}
	if o.NoDelete {
		if timedOut {
			return cmdutil.ErrSilent
		}
		if tty {
			fmt.Fprintf(o.IO.ErrOut, "drained %s (weight 0, kept)\n", object)
		}
		return nil
	}
	if err := b.DeleteDestination(o.Target.Service, key); err != nil {
		return cmdutil.Explain(cmdutil.Context{Op: "delete destination", Object: object}, err)
	}
	if tty {
		fmt.Fprintf(o.IO.ErrOut, "drained and deleted %s\n", object)
	}
	return nil
}
