package netns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

func TestPath(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"blue", "/run/netns/blue"},
		{"/proc/1/ns/net", "/proc/1/ns/net"},
		{"./x", "./x"},
		{"a/b", "a/b"},
	} {
		if got := Path(c.in); got != c.want {
			t.Errorf("Path(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := PIDPath(42); got != "/proc/42/ns/net" {
		t.Errorf("PIDPath(42) = %q", got)
	}
}

func TestList(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"red", "blue", "green"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := list(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"blue", "green", "red"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("list = %q, want %q", got, want)
	}
	got, err = list(filepath.Join(dir, "missing"))
	if err != nil || len(got) != 0 {
		t.Fatalf("list of a missing directory = %q, %v; want empty, nil", got, err)
	}
}

func TestOpenErrors(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "missing"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open(missing): %v, want os.ErrNotExist", err)
	}
	f := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(f); err == nil {
		t.Fatal("Open of a plain file succeeded")
	}
	if err := Do(f, func() error { t.Error("fn ran"); return nil }); err == nil {
		t.Fatal("Do with a plain file succeeded")
	}
}

func TestDoEmptyRunsDirectly(t *testing.T) {
	want := errors.New("x")
	if err := Do("", func() error { return want }); err != want {
		t.Fatalf("Do(\"\") = %v, want %v", err, want)
	}
}

// ownNamespace returns a path to the calling thread's namespace (an open
// file descriptor's /proc/self/fd link, valid until the test ends).
// /proc/PID/ns/net would name the main thread's namespace, which need not
// be this thread's.
func ownNamespace(t *testing.T) string {
	f, err := os.Open(threadSelfNet)
	if err != nil {
		t.Skipf("no namespace files here: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	p := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	if _, err := Open(p); err != nil {
		t.Skipf("no namespace files here: %v", err)
	}
	return p
}

func TestDoSameNamespace(t *testing.T) {
	p := ownNamespace(t)
	want, err := ID(p)
	if err != nil {
		t.Fatal(err)
	}
	var inside uint64
	if err := Do(p, func() error {
		var err error
		inside, err = ID("")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if inside != want {
		t.Fatalf("namespace inside Do = %d, want %d", inside, want)
	}
}

func TestDoPanicPropagates(t *testing.T) {
	p := ownNamespace(t)
	defer func() {
		if r := recover(); r != "boom" {
			t.Fatalf("recovered %v, want boom", r)
		}
	}()
	Do(p, func() error { panic("boom") })
	t.Fatal("Do returned after a panic")
}

// newNamespace creates a network namespace with Scratch that lives until
// the test ends and returns its path; it skips when namespaces cannot be
// created here.
func newNamespace(t *testing.T) string {
	t.Helper()
	paths := make(chan string)
	stop := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- Scratch(func(p string) error {
			paths <- p
			<-stop
			return nil
		})
	}()
	select {
	case p := <-paths:
		t.Cleanup(func() {
			close(stop)
			if err := <-errc; err != nil {
				t.Error(err)
			}
		})
		return p
	case err := <-errc:
		t.Skipf("cannot create a network namespace: %v", err)
		return ""
	}
}

// TestScratch: the namespace exists while fn runs, is not the caller's,
// and no thread is left in it afterwards.
func TestScratch(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, err := ID("")
	if err != nil {
		t.Fatal(err)
	}
	var inside uint64
	err = Scratch(func(p string) error {
		var err error
		if inside, err = ID(p); err != nil {
			return err
		}
		return Do(p, func() error {
			id, err := ID("")
			if err == nil && id != inside {
				err = fmt.Errorf("Do in the scratch namespace ran in %d, want %d", id, inside)
			}
			return err
		})
	})
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	if inside == 0 || inside == before {
		t.Fatalf("scratch namespace %d, caller's %d", inside, before)
	}
	if after, _ := ID(""); after != before {
		t.Fatalf("caller's namespace changed from %d to %d", before, after)
	}
	if n := threadsIn(t, inside); n != 0 {
		t.Fatalf("%d threads left in the scratch namespace", n)
	}
	wantErr := errors.New("from fn")
	if err := Scratch(func(string) error { return wantErr }); err != wantErr {
		t.Errorf("fn's error came back as %v", err)
	}
}

func TestDoOtherNamespace(t *testing.T) {
	other := newNamespace(t)
	otherID, err := ID(other)
	if err != nil {
		t.Fatal(err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, err := ID("")
	if err != nil {
		t.Fatal(err)
	}
	if before == otherID {
		t.Fatal("the new namespace is the current one")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- Do(other, func() error {
				id, err := ID("")
				if err != nil {
					return err
				}
				if id != otherID {
					return fmt.Errorf("inside Do: namespace %d, want %d", id, otherID)
				}
				return nil
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	after, err := ID("")
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Fatalf("caller's namespace changed from %d to %d", before, after)
	}
	// Every thread of the process is back in the original namespace.
	if n := threadsIn(t, otherID); n != 0 {
		t.Fatalf("%d threads left in the other namespace", n)
	}
}

// threadsIn counts the process's threads whose network namespace is id.
func threadsIn(t *testing.T, id uint64) int {
	t.Helper()
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, task := range tasks {
		var st unix.Stat_t
		p := fmt.Sprintf("/proc/%d/task/%s/ns/net", os.Getpid(), task.Name())
		if unix.Stat(p, &st) == nil && st.Ino == id {
			n++
		}
	}
	return n
}

func TestOpenFileInNamespace(t *testing.T) {
	other := newNamespace(t)
	// /proc/thread-self/net/dev lists the interfaces of the opener's
	// namespace: a new namespace has only lo.
	f, err := OpenFile(other, "/proc/thread-self/net/dev", os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 64<<10)
	n, _ := f.Read(b)
	lines := 0
	for _, c := range b[:n] {
		if c == '\n' {
			lines++
		}
	}
	if lines != 3 { // two header lines and lo
		t.Fatalf("net/dev in a new namespace has %d lines, want 3:\n%s", lines, b[:n])
	}
	if _, err := OpenFile(other, filepath.Join(t.TempDir(), "missing"), os.O_RDONLY, 0); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("OpenFile(missing) = %v, want os.ErrNotExist", err)
	}
}

func TestID(t *testing.T) {
	p := ownNamespace(t)
	a, err := ID(p)
	if err != nil {
		t.Fatal(err)
	}
	runtime.LockOSThread()
	b, err := ID("")
	runtime.UnlockOSThread()
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatalf("ID(%s) = %d, ID(\"\") = %d", p, a, b)
	}
	if _, err := ID(filepath.Join(t.TempDir(), "x")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ID(missing) = %v", err)
	}
}

// TestSockets: sockets from NewSockets are in the scratch namespace (a
// listener there is reachable only from there), the caller's thread never
// moves, and Close ends the thread.
func TestSockets(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, err := ID("")
	if err != nil {
		t.Fatal(err)
	}
	err = Scratch(func(p string) error {
		if err := LoopbackUp(p); err != nil {
			return err
		}
		inside, err := ID(p)
		if err != nil {
			return err
		}
		s, err := NewSockets(p)
		if err != nil {
			return err
		}
		for range 3 {
			fd, err := s.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return err
			}
			// SIOCGSKNS names the namespace of the socket.
			nsfd, err := unix.IoctlRetInt(fd, unix.SIOCGSKNS)
			unix.Close(fd)
			if err != nil {
				return fmt.Errorf("SIOCGSKNS: %w", err)
			}
			var st unix.Stat_t
			err = unix.Fstat(nsfd, &st)
			unix.Close(nsfd)
			if err != nil {
				return err
			}
			if st.Ino != inside {
				return fmt.Errorf("socket in namespace %d, want %d", st.Ino, inside)
			}
		}
		s.Close()
		if _, err := s.Socket(unix.AF_INET, unix.SOCK_STREAM, 0); err == nil {
			return errors.New("Socket after Close succeeded")
		}
		here, err := NewSockets("")
		if err != nil {
			return err
		}
		fd, err := here.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		unix.Close(fd)
		return nil
	})
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	if after, _ := ID(""); after != before {
		t.Fatalf("caller's namespace changed from %d to %d", before, after)
	}
}
