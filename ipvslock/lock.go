package ipvslock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ipvs-tools/ipvs/netns"
)

// DefaultDir is where the lock files are.
const DefaultDir = "/run/ipvs-tools"

// DefaultWait is how long a writer waits for the lock when it was not told
// (ipvsctl's --wait): long enough to ride out another writer's small
// change, short enough for a script to fail visibly behind a stuck one.
const DefaultWait = 5 * time.Second

// Forever, as Options.Wait, waits until the lock is free (or the context
// ends).
const Forever time.Duration = -1

// Options tell Acquire which lock to take and how.
type Options struct {
	// NetNS is the network namespace whose table is locked (a name under
	// /run/netns or a path, as package netns takes them); empty for the
	// caller's.
	NetNS string
	// Dir holds the lock files (default DefaultDir).
	Dir string
	// Wait is how long to wait for a busy lock: 0 not at all, Forever
	// without limit.
	Wait time.Duration
	// Owner says what the holder does, for whoever waits ("ipvsctl apply
	// -f lb.yaml").
	Owner string
	// Waiting, if set, is called once when the lock is found busy and
	// Acquire starts to wait, with its holder.
	Waiting func(Holder)
	// Poll is the interval between tries while waiting (default 50ms).
	Poll time.Duration
}

// Holder is who holds a lock, as its file says.
type Holder struct {
	// PID is the holder's process ID (0 when the file says nothing yet).
	PID int
	// Owner is what the holder does.
	Owner string
	// Since is when it took the lock.
	Since time.Time
}

// String says who the holder is, for people: "pid 1234 (ipvsctl apply -f
// lb.yaml) since 12:00:01".
func (h Holder) String() string {
	if h.PID == 0 {
		return "another process"
	}
	s := "pid " + strconv.Itoa(h.PID)
	if h.Owner != "" {
		s += " (" + h.Owner + ")"
	}
	if !h.Since.IsZero() {
		s += " since " + h.Since.Format("15:04:05")
	}
	return s
}

// BusyError is Acquire's error when the lock stayed busy for as long as
// it was told to wait.
type BusyError struct {
	// Path is the lock file.
	Path string
	// Holder is who held it when Acquire gave up.
	Holder Holder
	// Waited is how long Acquire waited.
	Waited time.Duration
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("another writer holds the IPVS table lock %s: %s", e.Path, e.Holder)
}

// Who says who holds the lock and how long Acquire waited, for a
// message: "pid 42 (ipvsctl apply -f lb.yaml) since 12:00:01 (waited
// 5s)".
func (e *BusyError) Who() string {
	if e.Waited <= 0 {
		return e.Holder.String()
	}
	return fmt.Sprintf("%s (waited %s)", e.Holder, e.Waited.Round(100*time.Millisecond))
}

// Lock is a held lock.
type Lock struct {
	f    *os.File
	path string
}

// Path returns the lock file's path.
func (l *Lock) Path() string { return l.path }

// Path returns the lock file of the namespace nameOrPath's table in dir
// (DefaultDir if empty).
func Path(dir, nameOrPath string) (string, error) {
	if dir == "" {
		dir = DefaultDir
	}
	id, err := netns.ID(nameOrPath)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, fmt.Sprintf("net-%d.lock", id)), nil
}

// Acquire takes the lock of o.NetNS's table, waiting as o says. It fails
// with a *BusyError when the lock stays busy, with ctx's error when ctx
// ends first, and with the file system's error when the lock file cannot
// be opened (no /run, not root).
func Acquire(ctx context.Context, o Options) (*Lock, error) {
	path, err := Path(o.Dir, o.NetNS)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("IPVS table lock: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("IPVS table lock: %w", err)
	}
	poll := o.Poll
	if poll <= 0 {
		poll = 50 * time.Millisecond
	}
	start := time.Now()
	var timer <-chan time.Time
	if o.Wait >= 0 {
		timer = time.After(o.Wait)
	}
	told := false
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("IPVS table lock %s: %w", path, err)
		}
		if ok {
			break
		}
		// A holder writes its line just after it takes the lock: until
		// then (briefly) the file names nobody.
		if !told && o.Waiting != nil && o.Wait != 0 {
			if h := readHolder(path); h.PID != 0 || time.Since(start) >= holderGrace {
				told = true
				o.Waiting(h)
			}
		}
		if o.Wait == 0 {
			f.Close()
			return nil, &BusyError{Path: path, Holder: holderSoon(ctx, path)}
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for the IPVS table lock %s held by %s: %w", path, readHolder(path), context.Cause(ctx))
		case <-timer:
			f.Close()
			return nil, &BusyError{Path: path, Holder: readHolder(path), Waited: time.Since(start)}
		case <-time.After(poll):
		}
	}
	// Say who holds it. A failure here only makes a waiter's message
	// vaguer.
	line := fmt.Sprintf("%d %s %s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339), strings.ReplaceAll(o.Owner, "\n", " "))
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(line), 0)
	}
	return &Lock{f: f, path: path}, nil
}

// Release gives the lock up. The file stays (removing it would race with
// a writer that has just opened it); its holder line is cleared.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

// holderGrace is how long a waiter gives a holder that has just taken
// the lock to write its line, before saying "another process".
const holderGrace = 500 * time.Millisecond

// holderSoon reads who holds the lock at path, reading again for up to
// holderGrace while the file names nobody yet.
func holderSoon(ctx context.Context, path string) Holder {
	deadline := time.Now().Add(holderGrace)
	for {
		h := readHolder(path)
		if h.PID != 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return h
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readHolder reads who holds the lock at path: "PID SINCE OWNER".
func readHolder(path string) Holder {
	b, err := os.ReadFile(path)
	if err != nil {
		return Holder{}
	}
	fields := strings.SplitN(strings.TrimSpace(string(b)), " ", 3)
	var h Holder
	if len(fields) >= 2 {
		h.PID, _ = strconv.Atoi(fields[0])
		h.Since, _ = time.Parse(time.RFC3339, fields[1])
	}
	if len(fields) == 3 {
		h.Owner = fields[2]
	}
	if h.PID <= 0 {
		return Holder{}
	}
	return h
}

// errUnsupported is tryLock's error where there is no flock.
var errUnsupported = fmt.Errorf("file locks: %w", errors.ErrUnsupported)
