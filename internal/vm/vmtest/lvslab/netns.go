package lvslab

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
	"github.com/ipvs-tools/ipvs/netns"
)

// Netns is a named network namespace ("ip netns add").
type Netns struct {
	Name string
}

// NewNetns creates the namespace name with lo up (deleting a leftover one
// of that name first). When the test ends it kills the processes still in
// it and deletes it, which also deletes the veth pairs with an end in it.
func NewNetns(t testing.TB, name string) *Netns {
	t.Helper()
	n := &Netns{Name: name}
	n.delete(t)
	vmtest.MustShell(t, fmt.Sprintf("set -e\n%[1]s netns add %[2]s\n%[1]s -n %[2]s link set lo up", IPFull, name))
	t.Cleanup(func() { n.delete(t) })
	return n
}

func (n *Netns) delete(t testing.TB) {
	t.Helper()
	vmtest.MustShell(t, fmt.Sprintf(`for p in $(%[1]s netns pids %[2]s 2>/dev/null); do kill -9 $p; done
%[1]s netns delete %[2]s 2>/dev/null || true`, IPFull, n.Name))
}

// Command returns a command that runs argv in the namespace (ip netns
// exec, which execs argv: the command's process is argv's).
func (n *Netns) Command(argv ...string) *exec.Cmd {
	return exec.Command(IPFull, append([]string{"netns", "exec", n.Name}, argv...)...)
}

// Do runs fn on a thread in the namespace (see netns.Do): sockets it
// opens stay in the namespace.
func (n *Netns) Do(fn func() error) error {
	return netns.Do(n.Name, fn)
}

// IPBatch runs iproute2's ip -batch with lines, one command each, in ns
// (the root namespace if nil), and fails the test if it fails: one
// process for any number of addresses or routes.
func IPBatch(t testing.TB, ns *Netns, lines ...string) {
	t.Helper()
	args := []string{"-batch", "-"}
	if ns != nil {
		args = append([]string{"-n", ns.Name}, args...)
	}
	r := vmtest.Run(t, IPFull, "ip", strings.Join(lines, "\n")+"\n", args...)
	if r.Code != 0 {
		t.Fatalf("ip %s:\n%s\n%s", strings.Join(args, " "), strings.Join(lines, "\n"), r)
	}
}

// LinkRoot joins the namespace to the root namespace: Link(t, nil, n, ...).
func LinkRoot(t testing.TB, n *Netns, rootIf, nsIf string, rootAddr netip.Prefix, addrs ...netip.Prefix) {
	t.Helper()
	Link(t, nil, n, rootIf, nsIf, rootAddr, addrs...)
}

// Link joins namespace a (the root namespace if nil) to namespace b with a
// veth pair: ifA in a with addrA, ifB in b with the addresses addrs (each
// in CIDR form), both up, and in b a default route via addrA, so that
// replies to clients beyond a (NAT through a director a) come back.
// Deleting either namespace deletes the pair.
func Link(t testing.TB, a, b *Netns, ifA, ifB string, addrA netip.Prefix, addrs ...netip.Prefix) {
	t.Helper()
	IPBatch(t, a,
		fmt.Sprintf("link add %s type veth peer name %s", ifA, ifB),
		fmt.Sprintf("link set %s netns %s", ifB, b.Name),
		fmt.Sprintf("addr add %s dev %s", addrA, ifA),
		fmt.Sprintf("link set %s up", ifA))
	batch := make([]string, 0, len(addrs)+2)
	for _, x := range addrs {
		batch = append(batch, fmt.Sprintf("addr add %s dev %s", x, ifB))
	}
	batch = append(batch, fmt.Sprintf("link set %s up", ifB),
		fmt.Sprintf("route add default via %s", addrA.Addr()))
	IPBatch(t, b, batch...)
}

// Veth joins namespace a (the root namespace if nil) to namespace b with
// a veth pair: ifA in a with addrA, ifB in b with addrB (CIDR form), both
// up, and no route but the connected ones (unlike Link): for labs whose
// namespaces route between several links. Deleting either namespace
// deletes the pair.
func Veth(t testing.TB, a, b *Netns, ifA, ifB string, addrA, addrB netip.Prefix) {
	t.Helper()
	IPBatch(t, a,
		fmt.Sprintf("link add %s type veth peer name %s", ifA, ifB),
		fmt.Sprintf("link set %s netns %s", ifB, b.Name),
		fmt.Sprintf("addr add %s dev %s", addrA, ifA),
		fmt.Sprintf("link set %s up", ifA))
	IPBatch(t, b,
		fmt.Sprintf("addr add %s dev %s", addrB, ifB),
		fmt.Sprintf("link set %s up", ifB))
}

// Forwarding turns on IPv4 forwarding in the namespace (a NAT director
// forwards its real servers' replies).
func (n *Netns) Forwarding(t testing.TB) {
	t.Helper()
	if err := n.Do(func() error {
		return os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1\n"), 0o644)
	}); err != nil {
		t.Fatalf("netns %s: ip_forward: %v", n.Name, err)
	}
}

// TCPCounters are a namespace's TCP counters from /proc/net/snmp (RFC
// 1213's tcp group): every connection a health checker opens to a server
// in the namespace counts once in PassiveOpens, accepted or refused.
type TCPCounters struct {
	ActiveOpens, PassiveOpens, AttemptFails, EstabResets, CurrEstab, InSegs, OutSegs, OutRsts uint64
}

// Sub returns c minus before, counter by counter (CurrEstab is c's, a
// gauge).
func (c TCPCounters) Sub(before TCPCounters) TCPCounters {
	return TCPCounters{
		ActiveOpens: c.ActiveOpens - before.ActiveOpens, PassiveOpens: c.PassiveOpens - before.PassiveOpens,
		AttemptFails: c.AttemptFails - before.AttemptFails, EstabResets: c.EstabResets - before.EstabResets,
		CurrEstab: c.CurrEstab, InSegs: c.InSegs - before.InSegs, OutSegs: c.OutSegs - before.OutSegs,
		OutRsts: c.OutRsts - before.OutRsts,
	}
}

// TCPCounters reads the namespace's TCP counters.
func (n *Netns) TCPCounters(t testing.TB) TCPCounters {
	t.Helper()
	f, err := netns.OpenFile(n.Name, "/proc/thread-self/net/snmp", 0, 0)
	if err != nil {
		t.Fatalf("netns %s: %v", n.Name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("netns %s: /proc/net/snmp: %v", n.Name, err)
	}
	c, err := parseSNMPTCP(string(b))
	if err != nil {
		t.Fatalf("netns %s: /proc/net/snmp: %v", n.Name, err)
	}
	return c
}

// parseSNMPTCP reads the two "Tcp:" lines of /proc/net/snmp, names and
// values.
func parseSNMPTCP(s string) (TCPCounters, error) {
	var names, values []string
	for _, l := range strings.Split(s, "\n") {
		if rest, ok := strings.CutPrefix(l, "Tcp:"); ok {
			if names == nil {
				names = strings.Fields(rest)
			} else {
				values = strings.Fields(rest)
				break
			}
		}
	}
	if names == nil || len(names) != len(values) {
		return TCPCounters{}, fmt.Errorf("no Tcp: lines")
	}
	var c TCPCounters
	fields := map[string]*uint64{
		"ActiveOpens": &c.ActiveOpens, "PassiveOpens": &c.PassiveOpens, "AttemptFails": &c.AttemptFails,
		"EstabResets": &c.EstabResets, "CurrEstab": &c.CurrEstab, "InSegs": &c.InSegs, "OutSegs": &c.OutSegs,
		"OutRsts": &c.OutRsts,
	}
	for i, name := range names {
		p := fields[name]
		if p == nil {
			continue
		}
		v, err := strconv.ParseUint(values[i], 10, 64)
		if err != nil {
			return TCPCounters{}, fmt.Errorf("Tcp %s: %w", name, err)
		}
		*p = v
		delete(fields, name)
	}
	if len(fields) > 0 {
		return TCPCounters{}, fmt.Errorf("Tcp: lines lack %d counters", len(fields))
	}
	return c, nil
}

// ServeTCP listens on addr in the namespace and accepts and closes every
// connection: a real-server pool for TCP checks
// that answers thousands of connections a second without a process per
// connection (busybox httpd forks one). The backlog is the kernel's
// largest (net.core.somaxconn). It stops when the test ends.
func (n *Netns) ServeTCP(t testing.TB, addr netip.AddrPort) {
	t.Helper()
	var ln net.Listener
	err := n.Do(func() error {
		lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
			})
			if err != nil {
				return err
			}
			return serr
		}}
		var err error
		ln, err = lc.Listen(context.Background(), "tcp", addr.String())
		return err
	})
	if err != nil {
		t.Fatalf("listen on %v in %s: %v", addr, n.Name, err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}
