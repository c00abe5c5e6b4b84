package main

import (
	"strings"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
)

// trafficNS is the network namespace of TestVMTraffic: IPVS state and
// /proc/net/ip_vs_conn are per namespace, so its connections do not show
// up in other tests.
const trafficNS = "ipvstraffic"

// TestVMTraffic compares listings that depend on real traffic: the
// connection table (-Lc with and without -n and --persistent-conn, names
// from /etc/hosts and /etc/services), non-zero counters (--stats, --exact)
// and rates. These change with time (expiry counts down, rates decay), so
// each comparison is made between two identical reference runs: ours must
// match a reference output that was stable around it.
func TestVMTraffic(t *testing.T) {
	vmtest.Require(t)
	ip := vmtest.IPFull
	vmtest.MustShell(t, `set -e
ip=`+ip+`
ns=`+trafficNS+`
$ip netns add $ns
$ip -n $ns link set lo up
$ip -n $ns link add vip0 type dummy
$ip -n $ns link set vip0 up
$ip -n $ns addr add 10.0.0.2/32 dev vip0
$ip -n $ns addr add 2001:db8::1/128 dev vip0 nodad
mkdir -p /tmp/www
echo hello > /tmp/www/index.html
$ip netns exec $ns busybox httpd -p 8080 -h /tmp/www
`)
	t.Cleanup(func() {
		vmtest.MustShell(t, "for p in $("+ip+" netns pids "+trafficNS+"); do kill $p; done; "+ip+" netns delete "+trafficNS)
	})
	in := func(path, stdin string, args ...string) vmtest.Result {
		return vmtest.Run(t, ip, "ip", stdin, append([]string{"netns", "exec", trafficNS, path}, args...)...)
	}
	setup := strings.Join([]string{
		"-A -t 10.0.0.2:80 -s rr -p 300",
		"-a -t 10.0.0.2:80 -r 127.0.0.1:8080 -m",
		"-A -t 10.0.0.2:8080 -s rr",
		"-a -t 10.0.0.2:8080 -r 127.0.0.1:8080 -m",
		"-A -u 10.0.0.2:53 -s rr",
		"-a -u 10.0.0.2:53 -r 127.0.0.1:5353 -m",
		"-A -t [2001:db8::1]:80 -s wlc",
		"-a -t [2001:db8::1]:80 -r [::1]:8080 -m -w 2",
	}, "\n") + "\n"
	if r := in(vmtest.RefPath, setup, "-R"); r.Code != 0 || r.Stderr != "" {
		t.Fatalf("setup: %s", r)
	}
	vmtest.MustShell(t, ip+` netns exec `+trafficNS+` sh -c '
for i in 1 2 3; do busybox wget -q -O /dev/null http://10.0.0.2/; done
for i in 1 2; do busybox wget -q -O /dev/null http://10.0.0.2:8080/; done
busybox wget -q -O /dev/null "http://[2001:db8::1]/"
echo hi | busybox nc -u -w 1 10.0.0.2 53 || true
'`)
	// The kernel folds per-CPU counters into the reported ones every
	// two seconds.
	time.Sleep(3 * time.Second)
	if r := in(vmtest.RefPath, "", "-Lcn"); strings.Count(r.Stdout, "\n") < 6 {
		t.Fatalf("too few connections to compare:\n%s", r)
	}
	cases := [][]string{
		{"-Lcn"}, {"-Lc"}, {"-L", "-c", "-n", "--persistent-conn"}, {"-Lc", "--persistent-conn"},
		{"-Ln", "--stats"}, {"-L", "--stats"}, {"-Ln", "--stats", "--exact"}, {"-Ln", "--rate"},
		{"-Ln", "--rate", "--exact"}, {"-Ln", "--persistent-conn"}, {"-L"}, {"-Ln", "-t", "10.0.0.2:80", "--stats"},
	}
	for _, args := range cases {
		name := strings.Join(args, " ")
		compared := false
		for attempt := 0; attempt < 5 && !compared; attempt++ {
			ref1 := in(vmtest.RefPath, "", args...)
			ours := in(vmtest.OursPath, "", args...)
			ref2 := in(vmtest.RefPath, "", args...)
			if ref1 != ref2 {
				continue // a second boundary or an estimator tick: try again
			}
			compared = true
			t.Logf("ipvsadm %s (attempt %d):\n%s", name, attempt+1, ref1.Stdout)
			if ours != ref1 {
				t.Errorf("ipvsadm %s (- reference, + ours):\n%s", name, diffResults(ref1, ours))
			}
		}
		if !compared {
			t.Errorf("ipvsadm %s: the reference output never stayed the same for three runs", name)
		}
	}
}
