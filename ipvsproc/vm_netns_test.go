package ipvsproc

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"

	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
	"github.com/ipvs-tools/ipvs/netns"
)

// TestVMNetnsReads gives two namespaces different tables and checks that
// the readers, given a namespace, see that namespace's services and
// connections and not the caller's, also with many reads at once, and that
// afterwards no thread of the process is left in another namespace.
func TestVMNetnsReads(t *testing.T) {
	vmtest.Require(t)
	vmtest.Reset(t)
	root, err := netns.ID("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	mustRef(t, "", "-A", "-u", "10.99.0.1:53", "-s", "rr")
	vips := map[string]netip.AddrPort{}
	for i, ns := range []string{"na", "nb"} {
		addNetns(t, ns)
		vip := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 50 + byte(i), 0, 1}), 80)
		vips[ns] = vip
		// A local client in the namespace connects to its VIP; the
		// destination sits behind a dummy device, so the entry stays
		// SYN_RECV.
		sh(t, fmt.Sprintf(`%[1]s -n %[2]s link add d0 type dummy
%[1]s -n %[2]s addr add 10.%[3]d.0.1/24 dev d0
%[1]s -n %[2]s addr add 10.%[4]d.0.1/24 dev d0
%[1]s -n %[2]s link set d0 up
`, ipFull, ns, 50+i, 60+i))
		mustRef(t, ns, "-A", "-t", vip.String(), "-s", "rr")
		mustRef(t, ns, "-a", "-t", vip.String(), "-r", fmt.Sprintf("10.%d.0.2:8080", 60+i), "-m")
		inNetns(ns, "/bin/busybox", "timeout", "2", "/bin/busybox", "wget", "-q", "-O", "-",
			"http://"+vip.String()+"/").Run()
	}

	check := func(ns string) error {
		opts := nsOptions(ns)
		tab, err := ReadServices(opts...)
		if err != nil {
			return err
		}
		want := netip.MustParseAddrPort("10.99.0.1:53")
		if ns != "" {
			want = vips[ns]
		}
		if len(tab.Services) != 1 || tab.Services[0].Address != want {
			return fmt.Errorf("netns %q: services %+v, want only %s", ns, tab.Services, want)
		}
		conns, err := AllConns(opts...)
		if err != nil {
			return err
		}
		if ns == "" {
			for _, c := range conns {
				for _, v := range vips {
					if c.Virtual == v {
						return fmt.Errorf("root namespace lists %s", c.String())
					}
				}
			}
			return nil
		}
		if len(conns) == 0 {
			return fmt.Errorf("netns %q: no connection entries", ns)
		}
		for _, c := range conns {
			if c.Virtual != want {
				return fmt.Errorf("netns %q lists %s, want only entries of %s", ns, c.String(), want)
			}
		}
		return nil
	}
	for _, ns := range []string{"", "na", "nb"} {
		if err := check(ns); err != nil {
			t.Fatal(err)
		}
		if ns != "" {
			compareConnsWithRef(t, ns)
			compareServicesWithRef(t, ns)
		}
	}

	// Many concurrent readers of the three namespaces.
	var wg sync.WaitGroup
	errs := make(chan error, 300)
	for i := 0; i < 300; i++ {
		wg.Add(1)
		go func(ns string) {
			defer wg.Done()
			errs <- check(ns)
		}([]string{"", "na", "nb"}[i%3])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if out := threadsOutside(t, root); len(out) > 0 {
		t.Fatalf("threads left in other namespaces: %v", out)
	}
	// The paths by name and by /run/netns path are the same namespace.
	a, err := AllConns(WithNetNS("/run/netns/na"))
	if err != nil || len(a) == 0 || a[0].Virtual != vips["na"] {
		t.Fatalf("by path: %v, %v", a, err)
	}
	names, err := netns.List()
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, n := range names {
		if n == "na" || n == "nb" {
			found++
		}
	}
	if found != 2 {
		t.Fatalf("netns.List() = %q, want na and nb in it", names)
	}
	// /proc/net (the main thread's view) and /proc/thread-self/net agree
	// in the root namespace.
	if defaultDir() != "/proc/thread-self/net" {
		t.Fatalf("default directory %s", defaultDir())
	}
}
