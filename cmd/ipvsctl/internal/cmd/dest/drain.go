package dest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/backend"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/spf13/cobra"
)

// DrainOptions of dest drain.
type DrainOptions struct {
	factory.Common
	Target     Target
	Timeout    time.Duration
	Interval   time.Duration
	NoDelete   bool
	KeepWeight bool
	Now        func() time.Time
	Sleep      func(time.Duration)
	// Context, if not nil, ends the wait as SIGINT or SIGTERM does (its
	// cause, an Interrupt, names the signal), and Signals delivers the
	// signals after that first one; tests set both. When Context is nil,
	// RunDrain takes SIGINT and SIGTERM of the process.
	Context context.Context
	Signals <-chan os.Signal
}

// Interrupt is the cause of a drain's context when a signal ends the wait.
type Interrupt struct{ Signal os.Signal }

func (e *Interrupt) Error() string { return "interrupted by " + cmdutil.SignalName(e.Signal) }

// NewCmdDrain returns dest drain.
func NewCmdDrain(f *factory.Factory, runF func(*DrainOptions) error) *cobra.Command {
	opts := &DrainOptions{Common: f.Common(), Now: f.Now, Sleep: f.Sleep}
	var tf targetFlags
	cmd := &cobra.Command{
		Use:   "drain SERVICE ADDR[:PORT]",
		Short: "Remove a real server gracefully: weight 0, wait for its connections, delete",
		Long: `Set the real server's weight to 0 so it gets no new connections, wait
until the connections it still has are gone or --timeout passes, then
delete it (or, with --no-delete, leave it quiesced). Progress is shown on
a terminal; otherwise the command is quiet unless something goes wrong.

What it waits for depends on the service: for TCP and SCTP, the active
connections to end; for UDP, whose entries are never active, every entry
to expire (the udp timeout, ipvsctl timeout get); for a firewall-mark
service, which may carry either, both.

Interrupted (SIGINT, SIGTERM) while waiting, it sets the weight back to
what it was before the drain, unless someone changed it meanwhile or
--keep-weight leaves the server quiesced, and exits with status 1. A
second signal stops at once.`,
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
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 5*time.Minute, "longest wait for the connections to end")
	cmd.Flags().DurationVar(&opts.Interval, "interval", time.Second, "poll interval")
	cmd.Flags().BoolVar(&opts.NoDelete, "no-delete", false, "only quiesce and wait; keep the server")
	cmd.Flags().BoolVar(&opts.KeepWeight, "keep-weight", false, "interrupted, leave the server at weight 0 instead of setting its weight back")
	tf.register(cmd)
	cmdutil.AddWaitFlag(cmd, &opts.Wait, false)
	return cmd
}

// drainWait is what a drain waits for, by the kind of service.
type drainWait struct {
	// inactive: inactive entries count too (UDP, firewall marks).
	inactive bool
	// udp is the udp timeout in seconds (0: unknown) for UDP services.
	udp  uint32
	kind ipvs.Protocol
}

func newDrainWait(b backend.IPVS, k ipvs.ServiceKey) drainWait {
	w := drainWait{kind: k.Protocol, inactive: k.IsFWMark() || k.Protocol == ipvs.ProtoUDP}
	if k.Protocol == ipvs.ProtoUDP {
		if t, err := b.Timeouts(); err == nil {
			w.udp = t.UDP
		}
	}
	return w
}

// left is the number of entries the drain still waits for.
func (w drainWait) left(d ipvs.Destination) uint32 {
	if w.inactive {
		return d.ActiveConns + d.InactiveConns
	}
	return d.ActiveConns
}

// what says what is left and what becomes of it: "3 active
// connections", "to end", ""; "3 UDP entries", "to expire", " (udp
// timeout 300s)".
func (w drainWait) what(d ipvs.Destination) (left, verb, note string) {
	n := int(w.left(d))
	switch {
	case w.kind == ipvs.ProtoUDP:
		if w.udp != 0 {
			note = fmt.Sprintf(" (udp timeout %ds)", w.udp)
		}
		entries := "entries"
		if n == 1 {
			entries = "entry"
		}
		return fmt.Sprintf("%d UDP %s", n, entries), "to expire", note
	case w.inactive:
		return fmt.Sprintf("%d connection%s (%d active, %d inactive)", n, cmdutil.Plural(n), d.ActiveConns, d.InactiveConns), "to end", ""
	default:
		return fmt.Sprintf("%d active connection%s", n, cmdutil.Plural(n)), "to end", ""
	}
}

// RunDrain drains the real server.
func RunDrain(o *DrainOptions) error {
	// The table lock is held for the writes (quiesce, delete, weight set
	// back), not for the wait: other writers go on meanwhile.
	release, err := o.LockTable(context.Background())
	if err != nil {
		return err
	}
	defer func() { release() }()
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
	ctx, again, stop := o.interrupts()
	defer stop()
	d, err := find()
	if err != nil {
		return err
	}
	weight := d.Weight // before the drain, for an interrupted one
	if d.Weight != 0 {
		d.Weight = 0
		if err := b.UpdateDestination(o.Target.Service, d); err != nil {
			return cmdutil.Explain(cmdutil.Context{Op: "quiesce destination", Object: object}, err)
		}
	}
	release()
	release = func() {}
	w := newDrainWait(b, o.Target.Service)
	tty := o.IO.IsStderrTTY()
	start := o.Now()
	deadline := start.Add(o.Timeout)
	timedOut := false
	for {
		if ctx.Err() != nil {
			if tty {
				fmt.Fprint(o.IO.ErrOut, "\r\033[K")
			}
			return o.interrupted(ctx, again, b, key, object, weight, find)
		}
		if w.left(d) == 0 {
			break
		}
		if !o.Now().Before(deadline) {
			timedOut = true
			break
		}
		if tty {
			left, verb, note := w.what(d)
			fmt.Fprintf(o.IO.ErrOut, "\r\033[Kdraining %s: %s of %s, waiting for %s %s%s",
				object, o.Now().Sub(start).Round(time.Second), o.Timeout, left, verb, note)
		}
		if sleep(ctx, o.Sleep, o.Interval) {
			continue // interrupted: said above
		}
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
		left, _, note := w.what(d)
		fmt.Fprintf(o.IO.ErrOut, "ipvsctl: drain %s: %s left after %s%s\n", object, left, o.Timeout, note)
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
	if release, err = o.LockTable(context.Background()); err != nil {
		return err
	}
	if err := b.DeleteDestination(o.Target.Service, key); err != nil {
		return cmdutil.Explain(cmdutil.Context{Op: "delete destination", Object: object}, err)
	}
	if tty {
		fmt.Fprintf(o.IO.ErrOut, "drained and deleted %s\n", object)
	}
	return nil
}

// interrupts returns the context a signal ends, the channel of the
// signals after it, and what to call when the drain is over.
func (o *DrainOptions) interrupts() (context.Context, <-chan os.Signal, func()) {
	if o.Context != nil {
		return o.Context, o.Signals, func() {}
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		select {
		case s := <-sigs:
			cancel(&Interrupt{Signal: s})
		case <-ctx.Done():
		}
	}()
	return ctx, sigs, func() {
		signal.Stop(sigs)
		cancel(nil)
	}
}

// sleep sleeps for d with sleepFor (the clock, faked in tests) unless ctx
// ends first, and reports whether ctx has ended.
func sleep(ctx context.Context, sleepFor func(time.Duration), d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		sleepFor(d)
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return ctx.Err() != nil
}

// interrupted ends a drain that a signal stopped while it waited: unless
// --keep-weight, it sets the weight back to what it was before if it is
// still 0. A signal in the meantime stops it at once.
func (o *DrainOptions) interrupted(ctx context.Context, again <-chan os.Signal, b backend.IPVS, key ipvs.DestKey, object string, weight uint32, find func() (ipvs.Destination, error)) error {
	why := "interrupted"
	var in *Interrupt
	if errors.As(context.Cause(ctx), &in) {
		why = in.Error()
	}
	svc := object[len(key.String())+4:]
	edit := fmt.Sprintf("ipvsctl dest edit %s %s -w %d", svc, key, weight)
	switch {
	case weight == 0:
		return fmt.Errorf("drain %s: %s; its weight was 0 before the drain and stays 0", object, why)
	case o.KeepWeight:
		return fmt.Errorf("drain %s: %s; left quiesced at weight 0 (--keep-weight): %s gives it back its weight %d", object, why, edit, weight)
	}
	type result struct {
		now uint32 // the weight found, if not 0
		err error
	}
	res := make(chan result, 1)
	go func() {
		release, err := o.LockTable(context.Background())
		if err != nil {
			res <- result{0, err}
			return
		}
		defer release()
		d, err := find()
		if err != nil || d.Weight != 0 {
			res <- result{d.Weight, err}
			return
		}
		d.Weight = weight
		res <- result{0, cmdutil.Explain(cmdutil.Context{Op: "restore weight of", Object: object}, b.UpdateDestination(o.Target.Service, d))}
	}()
	select {
	case r := <-res:
		switch {
		case r.err != nil:
			return fmt.Errorf("drain %s: %s; could not set its weight back to %d, so it may be at weight 0: %w\n  hint: %s", object, why, weight, r.err, edit)
		case r.now != 0:
			return fmt.Errorf("drain %s: %s; its weight is %d now, set by someone else during the drain: left as it is", object, why, r.now)
		}
		return fmt.Errorf("drain %s: %s; weight set back to %d: it takes new connections again; run the drain again to finish it", object, why, weight)
	case s := <-again:
		return fmt.Errorf("drain %s: %s, then by %s while setting its weight back to %d: stopped at once, so it may still be at weight 0 (see ipvsctl get %s; %s restores it)",
			object, why, cmdutil.SignalName(s), weight, svc, edit)
	}
}
