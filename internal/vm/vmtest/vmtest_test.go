package vmtest

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestVMReferenceIpvsadm checks that the guest's kernel and the reference
// ipvsadm work: a service and a destination round-trip through -Sn.
func TestVMReferenceIpvsadm(t *testing.T) {
	Require(t)
	Reset(t)
	steps := [][]string{
		{"-A", "-t", "10.0.0.1:80", "-s", "rr"},
		{"-a", "-t", "10.0.0.1:80", "-r", "127.0.0.1:80", "-m", "-w", "1"},
	}
	for _, s := range steps {
		if r := Ref(t, s...); r.Code != 0 {
			t.Fatalf("ipvsadm %s: %s", strings.Join(s, " "), r)
		}
	}
	r := Ref(t, "-Sn")
	want := "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 127.0.0.1:80 -m -w 1\n"
	if r.Code != 0 || r.Stdout != want || r.Stderr != "" {
		t.Fatalf("ipvsadm -Sn: want exit 0 and\n%s\ngot %s", want, r)
	}
	// Names come from the guest's /etc/hosts and /etc/services.
	r = Ref(t, "-L", "-t", "vip1.example.com:http")
	if r.Code != 0 || !strings.Contains(r.Stdout, "TCP  vip1.example.com:http rr") ||
		!strings.Contains(r.Stdout, "-> localhost:http") {
		t.Fatalf("ipvsadm -L -t vip1.example.com:http: %s", r)
	}
	// argv[0] is "ipvsadm", so usage and error messages name it so.
	r = Ref(t, "-A", "-t", "10.0.0.1:80")
	if r.Code == 0 || !strings.Contains(r.Stderr, "Service already exists") {
		t.Fatalf("adding the service twice: %s", r)
	}
	Reset(t)
	if r := Ref(t, "-Sn"); r.Code != 0 || r.Stdout != "" {
		t.Fatalf("after Reset, ipvsadm -Sn: %s", r)
	}
}

// TestVMNetns checks the full iproute2 in the guest: a network namespace
// joined to the root namespace by a veth pair, and that each namespace has
// its own IPVS table.
func TestVMNetns(t *testing.T) {
	Require(t)
	Reset(t)
	t.Cleanup(func() {
		// Deleting the namespace deletes the veth end in it and so
		// the pair.
		Run(t, IPFull, "ip", "", "netns", "delete", "vmtest1")
	})
	MustShell(t, `set -e
`+IPFull+` netns add vmtest1
`+IPFull+` link add vmt0 type veth peer name vmt1
`+IPFull+` link set vmt1 netns vmtest1
`+IPFull+` addr add 10.200.0.1/24 dev vmt0
`+IPFull+` link set vmt0 up
`+IPFull+` -n vmtest1 addr add 10.200.0.2/24 dev vmt1
`+IPFull+` -n vmtest1 link set vmt1 up
`+IPFull+` -n vmtest1 link set lo up
`)
	out := MustShell(t, IPFull+" netns list")
	if !strings.Contains(out, "vmtest1") {
		t.Fatalf("ip netns list: want vmtest1, got %q", out)
	}
	out = MustShell(t, IPFull+" -n vmtest1 -br addr show dev vmt1")
	if !strings.Contains(out, "10.200.0.2/24") {
		t.Fatalf("address in the namespace: got %q", out)
	}
	out = MustShell(t, "ping -c 1 -W 5 10.200.0.2")
	if !strings.Contains(out, "1 packets received") {
		t.Fatalf("ping across the veth pair: %q", out)
	}
	r := Run(t, IPFull, "ip", "", "netns", "exec", "vmtest1", RefPath, "-A", "-u", "10.200.0.2:53", "-s", "wrr")
	if r.Code != 0 {
		t.Fatalf("ipvsadm -A in the namespace: %s", r)
	}
	r = Run(t, IPFull, "ip", "", "netns", "exec", "vmtest1", RefPath, "-Sn")
	if r.Code != 0 || r.Stdout != "-A -u 10.200.0.2:53 -s wrr\n" {
		t.Fatalf("ipvsadm -Sn in the namespace: %s", r)
	}
	if r := Ref(t, "-Sn"); r.Code != 0 || r.Stdout != "" {
		t.Fatalf("the root namespace's table should be empty: %s", r)
	}
}

// TestRequireSkipsOnHost runs on the host only: outside the VM, Require
// must skip.
func TestRequireSkipsOnHost(t *testing.T) {
	if InVM() {
		t.Skip("runs on the host")
	}
	ran := false
	t.Run("inner", func(t *testing.T) {
		Require(t)
		ran = true
	})
	if ran {
		t.Fatal("Require did not skip outside the VM")
	}
}

// TestRunArgv0 checks that Run sets argv[0] and returns output and exit
// status; it uses /bin/sh, so it runs on the host too.
func TestRunArgv0(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	r := Run(t, "/bin/sh", "mysh", "echo in; read x; echo got $x; echo err >&2; exit 3",
		"-s")
	if r.Code != 3 || r.Stderr != "err\n" {
		t.Fatalf("got %s", r)
	}
	r = Run(t, "/bin/sh", "named-argv0", "", "-c", `echo "$0"`)
	if r.Stdout != "named-argv0\n" {
		t.Fatalf("$0: got %q", r.Stdout)
	}
}

// fatalRecorder is a testing.TB whose Fatalf records the message and
// ends the goroutine, as testing's does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// hangEnv makes the test binary, run again by TestRunTimeoutGoroutines,
// a Go program that hangs.
const hangEnv = "VMTEST_HANG"

func TestMain(m *testing.M) {
	if os.Getenv(hangEnv) == "1" {
		hangForever()
	}
	os.Exit(m.Run())
}

// hangForever sleeps rather than blocks: a program without cgo whose
// every goroutine is blocked dies of the runtime's deadlock check.
func hangForever() {
	for {
		time.Sleep(time.Hour)
	}
}

func TestRunTimeoutGoroutines(t *testing.T) {
	SetCommandTimeout(t, time.Second)
	t.Setenv(hangEnv, "1")
	f := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(f, os.Args[0], "hang", "")
	}()
	<-done
	for _, want := range []string{"timed out after 1s", "SIGQUIT", "vmtest.hangForever  vmtest_test.go:", "threads "} {
		if !strings.Contains(f.msg, want) {
			t.Errorf("message does not say %q:\n%s", want, f.msg)
		}
	}
}

func TestCompactGoroutines(t *testing.T) {
	in := "Invalid operation.\nSIGQUIT: quit\nPC=0x4711 m=0 sigcode=0\n\ngoroutine 1 gp=0xc000002380 m=0 mp=0x6a [select (no cases)]:\n" +
		"runtime.gopark(0x0?, 0x0?, 0x0?, 0x0?, 0x0?)\n\t/usr/lib/go/src/runtime/proc.go:460 +0xce fp=0xc0000 sp=0xc0000 pc=0x4\n" +
		"main.main()\n\t/work/x/main.go:12 +0x17\n"
	in += "\nrax    0xca\nrflags 0x286\n\ngoroutine 2 gp=0xc000002a80 m=nil [force gc (idle)]:\nruntime.gopark(0x0?, 0x0?, 0x0?, 0x0?, 0x0?)\n\t/usr/lib/go/src/runtime/proc.go:460 +0xce\n" +
		"created by runtime.init.7 in goroutine 1\n\t/usr/lib/go/src/runtime/proc.go:363 +0x1a\n"
	want := "Invalid operation.\nSIGQUIT: quit\nPC=0x4711 m=0 sigcode=0\n\ngoroutine 1 gp=0xc000002380 m=0 mp=0x6a [select (no cases)]:\n" +
		"  runtime.gopark  proc.go:460\n  main.main  main.go:12\n\n(1 goroutines of the runtime's own not shown)"
	if got := compactGoroutines(in); got != want {
		t.Errorf("compactGoroutines:\n%s\nwant:\n%s", got, want)
	}
}

func TestRunTimeoutSaysWhere(t *testing.T) {
	SetCommandTimeout(t, 200*time.Millisecond)
	f := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(f, "/bin/sleep", "sleep", "", "10")
	}()
	<-done
	for _, want := range []string{"/bin/sleep 10: timed out after 200ms", "state S (sleeping)", "kernel stack:"} {
		if !strings.Contains(f.msg, want) {
			t.Errorf("message %q does not say %q", f.msg, want)
		}
	}
	if CommandTimeout != 200*time.Millisecond {
		t.Errorf("CommandTimeout %v inside the test", CommandTimeout)
	}
}
