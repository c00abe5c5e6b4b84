package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
)

// Guest paths of the multi-call names and of Debian's scripts.
const (
	oursSave      = "/usr/local/sbin/ipvsadm-save"
	oursRestore   = "/usr/local/sbin/ipvsadm-restore"
	scriptSave    = "/usr/sbin/ipvsadm-save"
	scriptRestore = "/usr/sbin/ipvsadm-restore"
)

// listingForms are the full listings the fast path serves, plus the
// formats that must keep using netlink.
var listingForms = [][]string{{"-Ln"}, {"-L"}, {"-Sn"}, {"-S"}, {"-Ln", "--nosort"}, {"-L", "--nosort"},
	{"--save", "--numeric"}, {}, {"-Ln", "--tun-info"}, {"-Ln", "--thresholds"}, {"-Ln", "--stats", "--exact"}}

// compareListings runs every listing form with both programs on the
// current kernel table.
func compareListings(t *testing.T, what string) {
	t.Helper()
	for _, args := range listingForms {
		ref := vmtest.Ref(t, args...)
		ours := vmtest.Ours(t, args...)
		if ref != ours {
			t.Errorf("%s: ipvsadm %s differs (- reference, + ours):\n%s", what, strings.Join(args, " "), lineDiff(ref.String(), ours.String()))
		}
	}
}

// TestVMFastListing compares full listings, which take destinations from
// /proc/net/ip_vs, on tables made for the fast path's corner cases.
//
//vmtest:kernels all
func TestVMFastListing(t *testing.T) {
	vmtest.Require(t)
	guestSetup(t)
	reset(t)
	defer reset(t)
	tables := map[string]string{
		"mixed-af-tunnels": "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 192.168.0.1:8080 -m -w 3\n" +
			"-a -t 10.0.0.1:80 -r [2001:db8::2]:80 -i --tun-type gue --tun-port 6080 --tun-csum\n" +
			"-a -t 10.0.0.1:80 -r 192.168.0.2 -i --tun-type gre --tun-csum\n-a -t 10.0.0.1:80 -r 192.168.0.3 -g -w 0\n" +
			"-A -t [2001:db8::1]:443 -p 600 -M 96\n-a -t [2001:db8::1]:443 -r [2001:db8::10]:8443 -m\n" +
			"-a -t [2001:db8::1]:443 -r 10.0.0.9 -i\n-A -u 10.0.0.1:53 -s sh -b sh-port -o\n-a -u 10.0.0.1:53 -r 192.168.0.3 -g\n",
		"fwmark-same-mark-both-families": "-A -f 7 -s rr\n-a -f 7 -r 192.168.0.1:0 -m\n-a -f 7 -r 192.168.0.2:0 -m -w 2\n" +
			"-A -f 7 -6 -s wrr\n-a -f 7 -6 -r [2001:db8::10]:0 -m\n-a -f 7 -6 -r [2001:db8::11]:0 -m\n" +
			"-A -f 8\n-a -f 8 -r 192.168.0.9:0 -m\n-A -f 2882430849 -p\n-a -f 2882430849 -r 1.2.3.4 -m\n-A -f 9 -6\n",
		"names-and-ports": "-A -t vip1:http -s rr\n-a -t vip1:http -r rs1:http -m\n-a -t vip1:http -r rs2:8080 -m\n" +
			"-A -u vip2:domain\n-a -u vip2:domain -r rs1:domain -m\n-A -t [2001:db8::1]:https\n-a -t [2001:db8::1]:https -r [2001:db8::10]:https -m\n",
		"empty-services": "-A -t 10.0.0.1:80\n-A -t 10.0.0.2:80\n-A -f 3\n",
	}
	for name, setup := range tables {
		if r := vmtest.RefInput(t, "-C\n"+setup, "-R"); r.Code != 0 || r.Stderr != "" {
			t.Fatalf("%s setup: %s", name, r)
		}
		compareListings(t, name)
	}
	// A large table in many subnets and both families: every service's
	// destinations come from the file.
	var b strings.Builder
	b.WriteString("-C\n")
	r := rand.New(rand.NewPCG(31, 32))
	for i := 0; i < 400; i++ {
		svc := fmt.Sprintf("-t 10.%d.%d.%d:%d", 1+r.IntN(120), r.IntN(256), r.IntN(256), 1+r.IntN(65000))
		switch i % 5 {
		case 0:
			svc = fmt.Sprintf("-u [2001:db8:%x::%x]:%d", r.IntN(65536), r.IntN(65536), 1+r.IntN(65000))
		case 1:
			svc = fmt.Sprintf("-f %d", 1+i)
		}
		fmt.Fprintf(&b, "-A %s -s %s\n", svc, []string{"wlc", "rr", "lc"}[r.IntN(3)])
		for j := r.IntN(8); j > 0; j-- {
			if strings.Contains(svc, "[") {
				fmt.Fprintf(&b, "-a %s -r [2001:db8:ffff::%x]:%d -m -w %d\n", svc, r.IntN(65536), 1+r.IntN(9000), r.IntN(100))
			} else {
				fmt.Fprintf(&b, "-a %s -r 192.168.%d.%d:%d -m -w %d\n", svc, r.IntN(256), 1+r.IntN(250), 1+r.IntN(9000), r.IntN(100))
			}
		}
	}
	if r := vmtest.RefInput(t, b.String(), "-R"); r.Code != 0 {
		t.Fatalf("large setup: %s", r)
	}
	compareListings(t, "400 random services")
}

// TestVMFastListingReads checks that a full -Ln of 1000 services costs a
// constant number of requests (GET_INFO, one service dump, one read of
// /proc/net/ip_vs), where ipvsadm makes one destination dump per service.
func TestVMFastListingReads(t *testing.T) {
	vmtest.Require(t)
	guestSetup(t)
	reset(t)
	defer reset(t)
	var b strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&b, "-A -t 10.3.%d.%d:80\n-a -t 10.3.%d.%d:80 -r 192.168.1.1:80 -m\n", i/256, i%256, i/256, i%256)
	}
	if r := vmtest.OursInput(t, b.String(), "-R"); r.Code != 0 || r.Stderr != "" {
		t.Fatalf("setup: %s", r)
	}
	for _, args := range [][]string{{"-Ln"}, {"-Sn"}} {
		counts := countRequests(t, "ipvsadm", "", args...)
		if counts != "reads=2 writes=0 procreads=1" {
			t.Errorf("ipvsadm %v: %s, want reads=2 writes=0 procreads=1", args, counts)
		}
	}
}

// countRequests runs ipvsadm in this test process (argv0 chooses the
// personality, as the installed links do), against the guest's kernel,
// and returns what it cost: "reads=R writes=W procreads=P", the requests
// its netlink client sent (netlinkipvs.Client.Requests) and its reads of
// /proc/net/ip_vs. Its output is discarded.
func countRequests(t *testing.T, argv0, stdin string, args ...string) string {
	t.Helper()
	a := newApp(strings.NewReader(stdin), io.Discard, io.Discard)
	var client *netlinkipvs.Client
	open := a.open
	a.open = func() (Backend, error) {
		b, err := open()
		client, _ = b.(*netlinkipvs.Client)
		return b, err
	}
	procReads := 0
	openProc := a.openProc
	a.openProc = func() (io.ReadCloser, error) { procReads++; return openProc() }
	a.run(append([]string{argv0}, args...))
	if client == nil {
		t.Fatalf("%s %v opened no netlink client", argv0, args)
	}
	r := client.Requests()
	return fmt.Sprintf("reads=%d writes=%d procreads=%d", r.Reads, r.Writes, procReads)
}

// TestVMSaveScript compares ipvsadm-save with Debian's script.
func TestVMSaveScript(t *testing.T) {
	vmtest.Require(t)
	guestSetup(t)
	reset(t)
	defer reset(t)
	if r := vmtest.RefInput(t, "-A -t vip1:http -s rr\n-a -t vip1:http -r rs1:http -m\n-A -f 2882430849\n", "-R"); r.Code != 0 {
		t.Fatalf("setup: %s", r)
	}
	for _, args := range [][]string{{}, {"-n"}, {"-n", "-n"}, {"x", "-n"}, {"-x"}, {"-n", "--help"}, {"-"}, {"--"}, {"a", "b"}, {""}} {
		ref := vmtest.Run(t, scriptSave, scriptSave, "", args...)
		ours := vmtest.Run(t, oursSave, oursSave, "", args...)
		// The usage names the program by basename $0, which differs
		// only by directory.
		if ref != ours {
			t.Errorf("ipvsadm-save %q differs (- script, + ours):\n%s", args, lineDiff(ref.String(), ours.String()))
		}
	}
}
