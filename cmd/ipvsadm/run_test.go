package main

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/ipvsadmargs"
	"github.com/ipvs-tools/ipvs/internal/ipvsadmfmt"
	"github.com/ipvs-tools/ipvs/internal/nss"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
)

// result is what one run printed: stdout and stderr alone and as one
// stream (as with 2>&1), and the exit status.
type result struct {
	out, err, both string
	code           int
}

// both collects writes of two streams in order.
type both struct {
	all  *bytes.Buffer
	mine *bytes.Buffer
}

func (b both) Write(p []byte) (int, error) {
	b.all.Write(p)
	return b.mine.Write(p)
}

func runFake(t *testing.T, f *fakeBackend, stdin string, args ...string) result {
	t.Helper()
	return runApp(t, nil, f, stdin, args...)
}

// runApp is runFake with a hook that adjusts the app before it runs.
func runApp(t testing.TB, adjust func(*app), f *fakeBackend, stdin string, args ...string) result {
	t.Helper()
	open := func() (Backend, error) {
		if f == nil {
			return nil, &netlinkipvs.Error{Op: ipvs.CmdGetFamily, Err: unix.ENOENT}
		}
		return f, nil
	}
	return runAppArgv(t, adjust, open, stdin, append([]string{"ipvsadm"}, args...))
}

// runAppArgv runs the program as argv with open for its backend, no names
// and no connection file; adjust, if not nil, changes the app first.
func runAppArgv(t testing.TB, adjust func(*app), open func() (Backend, error), stdin string, argv []string) result {
	t.Helper()
	var all, out, errb bytes.Buffer
	db := &nss.DB{}
	a := &app{
		stdin:      strings.NewReader(stdin),
		out:        &cStream{w: both{&all, &out}, mode: fullyBuffered, size: 4096},
		errw:       &cStream{w: both{&all, &errb}, mode: unbuffered},
		env:        ipvsadmargs.Env{LookupHost: db.LookupHost, LookupService: db.LookupService},
		names:      ipvsadmfmt.NoNames{},
		open:       open,
		initErrno:  func() unix.Errno { return unix.ENOPROTOOPT },
		modprobe:   func() bool { return false },
		openConn:   func() (io.ReadCloser, error) { return nil, errors.New("no file") },
		probeNames: func([]string, []string) (map[string]bool, map[string]bool, bool) { return nil, nil, false },
	}
	if adjust != nil {
		adjust(a)
	}
	code := a.run(argv)
	return result{out.String(), errb.String(), all.String(), code}
}

func TestInitFailures(t *testing.T) {
	r := runFake(t, nil, "", "-L")
	want := "Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n"
	if r.code != 2 || r.err != want || r.out != "" {
		t.Errorf("no family: %+v", r)
	}
	f := newFake()
	f.fail["info"] = unix.EPERM
	r = runFake(t, f, "", "-L")
	if r.code != 2 || r.err != "Can't initialize ipvs: Permission denied (you must be root)\nAre you sure that IP Virtual Server is built in the kernel or as module?\n" {
		t.Errorf("EPERM: %+v", r)
	}
	// Deviation: help and version work without IPVS.
	r = runFake(t, nil, "", "-v")
	if r.code != 0 || r.out != ipvsadmfmt.VersionText {
		t.Errorf("-v: %+v", r)
	}
	r = runFake(t, nil, "", "-h", "-L")
	if r.code != 0 || !strings.HasPrefix(r.out, ipvsadmfmt.VersionText+"Usage:\n  ipvsadm -A|E") {
		t.Errorf("-h: %+v", r)
	}
	// Only as the first option.
	r = runFake(t, nil, "", "-L", "-h")
	if r.code != 2 || r.err != want {
		t.Errorf("-L -h: %+v", r)
	}
}

func TestVersionWarning(t *testing.T) {
	f := newFake()
	f.info.Version = ipvs.Version{Major: 1, Minor: 1, Patch: 0}
	r := runFake(t, f, "", "-Sn")
	want := "Warning: IPVS version mismatch: \n  Kernel compiled with IPVS version 1.1.0\n  ipvsadm v1.31  requires minimum IPVS version 1.1.4\n\n"
	if r.err != want || r.code != 0 {
		t.Errorf("%+v", r)
	}
}

func TestCommands(t *testing.T) {
	f := newFake()
	steps := []struct {
		args []string
		out  string
		err  string
		code int
	}{
		{[]string{"-A", "-t", "10.0.0.1:80", "-s", "rr"}, "", "", 0},
		{[]string{"-A", "-t", "10.0.0.1:80"}, "", "Service already exists\n", 255},
		{[]string{"-a", "-t", "10.0.0.1:80", "-r", "192.168.0.1", "-m"}, "", "", 0},
		{[]string{"-a", "-t", "10.0.0.1:80", "-r", "192.168.0.1", "-m"}, "", "Destination already exists\n", 255},
		{[]string{"-a", "-t", "10.0.0.9:80", "-r", "192.168.0.1", "-m"}, "", "Service not defined\n", 255},
		{[]string{"-d", "-t", "10.0.0.1:80", "-r", "192.168.0.7"}, "", "No such destination\n", 255},
		{[]string{"-D", "-t", "10.0.0.9:80"}, "", "No such service\n", 255},
		{[]string{"-Sn"}, "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 192.168.0.1:80 -m -w 1\n", "", 0},
		{[]string{"-L", "-n"}, "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n" +
			"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\nTCP  10.0.0.1:80 rr\n" +
			"  -> 192.168.0.1:80               Masq    1      0          0         \n", "", 0},
		{[]string{"-L", "-t", "10.0.0.2:80"}, "", "No such service\n", 1},
		{[]string{"-L", "--timeout"}, "Timeout (tcp tcpfin udp): 900 120 300\n", "", 0},
		{[]string{"--stop-daemon", "master"}, "", "No daemon is running\n", 255},
		{[]string{"-L", "-c"}, "", "cannot open file /proc/net/ip_vs_conn\n", 1},
		{[]string{"-A", "-t", "10.0.0.1:80", "--bogus"}, "", "--bogus: unknown option\n", 255},
		{[]string{"-A"}, "", "You need to supply the 'service-address' option for the 'add-service' command\n", 2},
		{[]string{"-n"}, "", "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n", 255},
		{[]string{"-C"}, "", "", 0},
	}
	for _, s := range steps {
		r := runFake(t, f, "", s.args...)
		if r.out != s.out || r.err != s.err || r.code != s.code {
			t.Errorf("%v: got out %q err %q code %d, want %q %q %d", s.args, r.out, r.err, r.code, s.out, s.err, s.code)
		}
	}
}

func TestListingErrors(t *testing.T) {
	f := newFake()
	f.fail["services"] = unix.ESRCH
	r := runFake(t, f, "", "-L", "-n")
	// The version line comes first; ipvs_func is still init: "No such process".
	if r.code != 1 || r.out != "IP Virtual Server version 1.2.1 (size=4096)\n" || r.err != "No such process\n" {
		t.Errorf("%+v", r)
	}
	if r.both != "No such process\nIP Virtual Server version 1.2.1 (size=4096)\n" {
		t.Errorf("stdout is buffered until exit: %q", r.both)
	}
	f = newFake()
	f.fail["timeouts"] = unix.EPERM
	f.fail["daemons"] = unix.EPERM
	for _, args := range [][]string{{"-L", "--timeout"}, {"-L", "--daemon"}} {
		if r := runFake(t, f, "", args...); r.code != 1 || r.out != "" || r.err != "" {
			t.Errorf("%v: %+v", args, r)
		}
	}
	// A destination dump failing mid-listing: what came before is printed.
	f = newFake()
	runFake(t, f, "", "-A", "-t", "10.0.0.1:80")
	runFake(t, f, "", "-A", "-t", "10.0.0.2:80")
	f.fail["dests"] = unix.ESRCH
	r = runFake(t, f, "", "-Sn")
	if r.code != 1 || r.out != "" || r.err != "No such service\n" {
		t.Errorf("dest failure: %+v", r)
	}
}

func TestRestore(t *testing.T) {
	cases := []struct {
		name, in  string
		out, err  string
		code      int
		wantCalls []string
	}{
		{"simple", "-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 192.168.0.1\n", "", "", 0,
			[]string{"new-service", "new-dest"}},
		{"ipvsadm tokens, CRLF, blanks", "ipvsadm -A -t 10.0.0.1:80 ipvsadm\r\n\n   \n\t-C\r\n", "", "", 0,
			[]string{"new-service", "flush"}},
		{"fail aborts", "-C\n-A -t 10.0.0.1\n-C\n", "", "Zero port specified for non-persistent service\n", 2,
			[]string{"flush"}},
		{"kernel error continues, last line counts", "-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80\n-C\n", "",
			"Service already exists\n", 0, []string{"new-service", "new-service", "flush"}},
		{"last line error", "-C\n-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80\n", "", "Service already exists\n", 255,
			[]string{"flush", "new-service", "new-service"}},
		{"comment is Try", "-C\n# comment\n-C\n", "", "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n", 255,
			[]string{"flush"}},
		{"trailing comment", "-C # comment\n", "", "unexpected argument #\n", 2, nil},
		{"popt error continues", "--bogus\n-C --bogus\n-C\n", "", "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n", 255, nil},
		{"popt error in command continues", "-C --bogus\n-C\n", "", "--bogus: unknown option\n", 0, []string{"flush"}},
		{"popt error last", "-C\n-C --bogus\n", "", "--bogus: unknown option\n", 255, []string{"flush"}},
		{"nested restore", "-C\n-R\n-C\n", "", "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n", 255, []string{"flush"}},
		{"restore with option", "-R -n\n", "", "Illegal 'numeric' option with the 'restore' command\n", 2, nil},
		{"last line without newline", "-C\n-A -t 10.0.0.1:80", "", "", 0, []string{"flush", "new-service"}},
		{"last line with one blank", "-C\n-A -t 10.0.0.1:80 ", "", "", 0, []string{"flush", "new-service"}},
		{"last line with two blanks is lost", "-C\n-A -t 10.0.0.1:80  ", "", "", 0, []string{"flush"}},
		{"empty", "", "", "", 0, nil},
		{"help ends", "-C\n-h\n-C\n", "HELP", "", 0, []string{"flush"}},
		{"listing inside", "-A -t 10.0.0.1:80\n-Sn\n", "-A -t 10.0.0.1:80 -s wlc\n", "", 0, []string{"new-service", "services", "dests"}},
	}
	for _, c := range cases {
		f := newFake()
		r := runFake(t, f, c.in, "-R")
		if c.out == "HELP" {
			if !strings.HasPrefix(r.out, ipvsadmfmt.VersionText+"Usage:") {
				t.Errorf("%s: out %q", c.name, r.out)
			}
		} else if r.out != c.out {
			t.Errorf("%s: out %q, want %q", c.name, r.out, c.out)
		}
		if r.err != c.err || r.code != c.code {
			t.Errorf("%s: err %q code %d, want %q %d", c.name, r.err, r.code, c.err, c.code)
		}
		var calls []string
		for _, x := range f.calls {
			if x != "info" {
				calls = append(calls, x)
			}
		}
		if strings.Join(calls, ",") != strings.Join(c.wantCalls, ",") {
			t.Errorf("%s: calls %v, want %v", c.name, calls, c.wantCalls)
		}
	}
}

func TestRestoreInterleaving(t *testing.T) {
	// stdout is fully buffered, stderr not: with 2>&1 the fail message
	// comes before the listing printed earlier.
	f := newFake()
	r := runFake(t, f, "-A -t 10.0.0.1:80\n-Sn\n-A\n", "-R")
	want := "You need to supply the 'service-address' option for the 'add-service' command\n-A -t 10.0.0.1:80 -s wlc\n"
	if r.both != want || r.code != 2 {
		t.Errorf("got %q code %d", r.both, r.code)
	}
}

func TestReadRestoreLine(t *testing.T) {
	in := "  -A\t-t  10.0.0.1:80 \r\n\n\nipvsadm\n-C\x00junk x\n" + strings.Repeat("a", 5000) + "\nlast  "
	br := bufioReader(in)
	var got []string
	for {
		argv, ok := readRestoreLine(br, "prog")
		if !ok {
			break
		}
		got = append(got, strings.Join(argv, "|"))
	}
	want := []string{"prog|-A|-t|10.0.0.1:80", "prog", "prog", "prog", "prog|-C|x",
		"prog|" + strings.Repeat("a", 4096) + "|" + strings.Repeat("a", 904)}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestStdioBuffering(t *testing.T) {
	var w writes
	s := &cStream{w: &w, mode: fullyBuffered, size: 4096}
	s.Write(bytes.Repeat([]byte("a"), 4000))
	s.Write(bytes.Repeat([]byte("b"), 96)) // exactly full: nothing written yet
	if len(w) != 0 {
		t.Fatalf("writes before the buffer overflowed: %v", w)
	}
	s.Write([]byte("c")) // overflow: the full buffer goes out
	if len(w) != 1 || len(w[0]) != 4096 {
		t.Fatalf("after overflow: %d writes", len(w))
	}
	s.Write(bytes.Repeat([]byte("d"), 10000)) // 4095 fill the buffer, it goes out, then one whole block
	if got := w.total(); got != 12288 {
		t.Fatalf("flushed %d bytes, want 12288", got)
	}
	s.Flush()
	if got := w.total(); got != 4097+10000 {
		t.Fatalf("after flush %d bytes", got)
	}
	// Line buffering writes through the last newline.
	var lw writes
	l := &cStream{w: &lw, mode: lineBuffered, size: 1024}
	l.Write([]byte("one\ntwo"))
	if lw.total() != 4 {
		t.Fatalf("line buffered: %d", lw.total())
	}
	l.Flush()
	if lw.total() != 7 {
		t.Fatalf("line buffered after flush: %d", lw.total())
	}
}

type writes [][]byte

func (w *writes) Write(p []byte) (int, error) {
	*w = append(*w, append([]byte(nil), p...))
	return len(p), nil
}

func (w writes) total() int {
	n := 0
	for _, b := range w {
		n += len(b)
	}
	return n
}
