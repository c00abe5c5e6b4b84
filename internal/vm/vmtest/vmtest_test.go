package vmtest

import (
	"os"
	"strings"
	"testing"
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
