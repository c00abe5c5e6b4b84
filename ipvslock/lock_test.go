package ipvslock

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func acquire(t *testing.T, o Options) *Lock {
	t.Helper()
	l, err := Acquire(context.Background(), o)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	return l
}

func TestAcquire(t *testing.T) {
	dir := t.TempDir()
	first := acquire(t, Options{Dir: dir, Owner: "ipvsctl apply -f lb.yaml"})
	t.Run("busy without waiting", func(t *testing.T) {
		_, err := Acquire(context.Background(), Options{Dir: dir})
		var be *BusyError
		if !errors.As(err, &be) {
			t.Fatalf("got %v, want a *BusyError", err)
		}
		if be.Holder.PID != os.Getpid() || be.Holder.Owner != "ipvsctl apply -f lb.yaml" || time.Since(be.Holder.Since) > time.Minute {
			t.Errorf("holder %+v, want this process, its owner text and a recent time", be.Holder)
		}
		if be.Path != first.Path() {
			t.Errorf("path %s, want %s", be.Path, first.Path())
		}
		if !strings.Contains(err.Error(), "ipvsctl apply -f lb.yaml") {
			t.Errorf("message %q does not say who holds the lock", err)
		}
	})
	t.Run("busy for as long as told", func(t *testing.T) {
		var told []Holder
		_, err := Acquire(context.Background(), Options{Dir: dir, Wait: 100 * time.Millisecond, Poll: 10 * time.Millisecond,
			Waiting: func(h Holder) { told = append(told, h) }})
		var be *BusyError
		if !errors.As(err, &be) || be.Waited < 100*time.Millisecond {
			t.Fatalf("got %v, want a *BusyError after waiting 100ms", err)
		}
		if len(told) != 1 || told[0].PID != os.Getpid() {
			t.Errorf("Waiting was called with %+v, want once with this process", told)
		}
	})
	t.Run("context ends", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := Acquire(ctx, Options{Dir: dir, Wait: Forever})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	})
	t.Run("waits until released", func(t *testing.T) {
		go func() {
			time.Sleep(50 * time.Millisecond)
			first.Release()
		}()
		l, err := Acquire(context.Background(), Options{Dir: dir, Wait: Forever, Poll: 5 * time.Millisecond, Owner: "second"})
		if err != nil {
			t.Fatalf("Acquire after the release: %v", err)
		}
		if got := readHolder(l.Path()); got.Owner != "second" {
			t.Errorf("holder after taking it: %+v", got)
		}
		if err := l.Release(); err != nil {
			t.Fatal(err)
		}
		if got := readHolder(l.Path()); got != (Holder{}) {
			t.Errorf("a released lock still names %+v", got)
		}
	})
}

func TestPathIsPerNamespace(t *testing.T) {
	id, err := os.Readlink("/proc/thread-self/ns/net")
	if err != nil {
		t.Skipf("no /proc/thread-self/ns/net: %v", err)
	}
	p, err := Path("/run/x", "")
	if err != nil {
		t.Fatal(err)
	}
	// The link reads net:[INODE].
	want := "/run/x/net-" + strings.TrimSuffix(strings.TrimPrefix(id, "net:["), "]") + ".lock"
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("Path (-want +got):\n%s", diff)
	}
	if _, err := Path("", "/nonexistent/ns"); err == nil {
		t.Error("Path of a namespace that does not exist: no error")
	}
}

// TestReleasedWhenHolderDies: a writer killed while it holds the lock
// leaves it free (the kernel drops its flock), though its line stays.
func TestReleasedWhenHolderDies(t *testing.T) {
	if os.Getenv("IPVSLOCK_HOLD") != "" {
		l, err := Acquire(context.Background(), Options{Dir: os.Getenv("IPVSLOCK_HOLD"), Owner: "child"})
		if err != nil {
			os.Exit(3)
		}
		_ = l
		os.Stdout.WriteString("held\n")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestReleasedWhenHolderDies$")
	cmd.Env = append(os.Environ(), "IPVSLOCK_HOLD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "held\n" {
		t.Fatalf("child said %q", line)
	}
	_, err = Acquire(context.Background(), Options{Dir: dir})
	var be *BusyError
	if !errors.As(err, &be) || be.Holder.PID != cmd.Process.Pid || be.Holder.Owner != "child" {
		t.Fatalf("while the child holds it: %v (holder %+v), want busy, held by pid %d", err, be, cmd.Process.Pid)
	}
	cmd.Process.Kill()
	cmd.Wait()
	l := acquire(t, Options{Dir: dir})
	l.Release()
}

// TestWaiterNamesAHolderThatJustTookIt: a holder writes its line just
// after its flock; a waiter that comes in between names it all the same,
// not "another process" (seen in the VM with two applies started at once).
func TestWaiterNamesAHolderThatJustTookIt(t *testing.T) {
	for _, tt := range []struct {
		name string
		wait time.Duration
	}{{"waiting", 300 * time.Millisecond}, {"not waiting", 0}} {
		t.Run(tt.name, func(t *testing.T) {
			path, err := Path(t.TempDir(), "")
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if ok, err := tryLock(f); !ok || err != nil {
				t.Fatalf("tryLock: %v %v", ok, err)
			}
			// The holder's line comes 100ms after its lock.
			written := make(chan struct{})
			go func() {
				defer close(written)
				time.Sleep(100 * time.Millisecond)
				f.WriteAt([]byte("4242 2026-12-04T12:00:00Z ipvsctl apply -f lb.yaml\n"), 0)
			}()
			defer func() { <-written }()
			var told []Holder
			_, err = Acquire(context.Background(), Options{Dir: filepath.Dir(path), Wait: tt.wait, Poll: 10 * time.Millisecond,
				Waiting: func(h Holder) { told = append(told, h) }})
			var be *BusyError
			if !errors.As(err, &be) {
				t.Fatalf("got %v, want a *BusyError", err)
			}
			if be.Holder.PID != 4242 {
				t.Errorf("BusyError names %v, want pid 4242", be.Holder)
			}
			if tt.wait > 0 && (len(told) != 1 || told[0].PID != 4242) {
				t.Errorf("Waiting was called with %+v, want once with pid 4242", told)
			}
		})
	}
}
