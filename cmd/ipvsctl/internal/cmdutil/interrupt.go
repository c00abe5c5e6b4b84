package cmdutil

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Interrupt is how a command that writes the table in many requests
// (apply, restore, flush) takes SIGINT, SIGTERM and SIGHUP: the first
// cancels Context, and the command stops at a consistent point (after the
// batch in flight) and says what it did; a second one ends the program at
// once, after saying so.
type Interrupt struct {
	ctx    context.Context
	cancel context.CancelFunc
	ch     chan os.Signal
	errOut io.Writer
	exit   func(int)
	stop   func()

	stopped   chan struct{}
	closeOnce sync.Once

	mu           sync.Mutex
	got          os.Signal
	first, again string
}

// InterruptSignals are the signals an Interrupt takes.
var InterruptSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// NotifyInterrupt starts taking the process's InterruptSignals; Stop
// gives them back.
func NotifyInterrupt(errOut io.Writer) *Interrupt {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, InterruptSignals...)
	i := NewInterrupt(errOut, ch, os.Exit)
	i.stop = func() { signal.Stop(ch) }
	return i
}

// NewInterrupt returns an Interrupt fed by ch (tests send to it) that
// ends the program with exit.
func NewInterrupt(errOut io.Writer, ch chan os.Signal, exit func(int)) *Interrupt {
	ctx, cancel := context.WithCancel(context.Background())
	i := &Interrupt{ctx: ctx, cancel: cancel, ch: ch, errOut: errOut, exit: exit, stop: func() {},
		stopped: make(chan struct{}), first: "stopping", again: "aborting at once"}
	go i.run()
	return i
}

func (i *Interrupt) run() {
	for {
		select {
		case s := <-i.ch:
			i.mu.Lock()
			if i.got == nil {
				i.got = s
				fmt.Fprintf(i.errOut, "ipvsctl: %s: %s; interrupt again to abort at once\n", SignalName(s), i.first)
				i.mu.Unlock()
				i.cancel()
				continue
			}
			fmt.Fprintf(i.errOut, "ipvsctl: %s again: %s\n", SignalName(s), i.again)
			i.mu.Unlock()
			i.exit(ExitCodeOf(i.got))
			return
		case <-i.stopped:
			return
		}
	}
}

// Context is cancelled by the first signal.
func (i *Interrupt) Context() context.Context { return i.ctx }

// Signal returns the first signal received, nil if none was.
func (i *Interrupt) Signal() os.Signal {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.got
}

// Say sets what the messages at the first and at a second signal say the
// command does next ("finishing the batch in flight, then rolling back";
// "aborting at once: the batch in flight may be partly applied").
func (i *Interrupt) Say(first, again string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.first, i.again = first, again
}

// Stop gives the signals back to their default handling.
func (i *Interrupt) Stop() {
	i.stop()
	i.cancel()
	i.closeOnce.Do(func() { close(i.stopped) })
}

// SignalName names a signal as a shell user does: SIGINT.
func SignalName(s os.Signal) string {
	if n, ok := s.(syscall.Signal); ok {
		switch n {
		case syscall.SIGINT:
			return "SIGINT"
		case syscall.SIGTERM:
			return "SIGTERM"
		case syscall.SIGHUP:
			return "SIGHUP"
		}
	}
	return s.String()
}

// ExitCodeOf is the exit status of a program ended by s, as a shell
// reports it: 128 + its number (130 for SIGINT).
func ExitCodeOf(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 1
}
