//go:build linux

package healthcheck

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func sh(script string) []string { return []string{"/bin/sh", "-c", script} }

func TestProbeExec(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "/run/systemd/notify")
	t.Setenv("WATCHDOG_USEC", "30000000")
	server := netip.MustParseAddrPort("127.0.0.2:80")
	for _, c := range []struct {
		name   string
		check  Check
		target netip.AddrPort
		want   outcome
	}{
		{name: "exit 0", check: Check{Command: sh("exit 0")}, want: pass},
		{name: "exit 1", check: Check{Command: sh("exit 1")}, want: fail("exit status 1")},
		{name: "exit 3", check: Check{Command: sh("exit 3")}, want: fail("exit status 3")},
		{name: "arguments", check: Check{Command: []string{"/bin/sh", "-c", `test "$0 $1" = "a b"`, "a", "b"}}, want: pass},
		{name: "no systemd notification", check: Check{Command: sh(`test -z "$NOTIFY_SOCKET$WATCHDOG_USEC"`)}, want: pass},
		{name: "environment", check: Check{Command: sh(`test "$IPVS_SERVER_ADDRESS:$IPVS_SERVER_PORT" = 127.0.0.2:80`)}, want: pass},
		{name: "side port", check: Check{Port: 8080, Command: sh(`test "$IPVS_SERVER_ADDRESS:$IPVS_SERVER_PORT" = 127.0.0.2:8080`)}, want: pass},
		{name: "ipv6", target: netip.MustParseAddrPort("[2001:db8::1]:443"), check: Check{Command: sh(`test "$IPVS_SERVER_ADDRESS $IPVS_SERVER_PORT" = "2001:db8::1 443"`)}, want: pass},
		{name: "inherited environment", check: Check{Command: sh(`test -n "$PATH"`)}, want: pass},
		{name: "signal", check: Check{Command: sh("kill -TERM $$")}, want: fail("killed by SIGTERM")},
		{name: "timeout", check: Check{Timeout: 200 * time.Millisecond, Command: sh("sleep 30")}, want: fail("killed after timeout 200ms")},
		{name: "no such file", check: Check{Command: []string{"/nonexistent/check"}}, want: fail("cannot run /nonexistent/check: no such file or directory")},
		{name: "not in path", check: Check{Command: []string{"no-such-check-a8f3"}}, want: fail("cannot run no-such-check-a8f3: executable file not found in $PATH")},
		{name: "no command", want: fail("no command")},
		{name: "weight line ignored", check: Check{Command: sh("echo weight 5")}, want: pass},

		{name: "dynamic exit 0", check: Check{DynamicWeight: true, Command: sh("exit 0")}, want: pass},
		{name: "dynamic exit 1", check: Check{DynamicWeight: true, Command: sh("echo weight 5; exit 1")}, want: fail("exit status 1")},
		{name: "dynamic exit 2", check: Check{DynamicWeight: true, Command: sh("exit 2")}, want: outcome{OK: true, Weight: 0}},
		{name: "dynamic exit 12", check: Check{DynamicWeight: true, Command: sh("exit 12")}, want: outcome{OK: true, Weight: 10}},
		{name: "dynamic exit 255", check: Check{DynamicWeight: true, Command: sh("exit 255")}, want: outcome{OK: true, Weight: 253}},
		{name: "dynamic weight line", check: Check{DynamicWeight: true, Command: sh("echo starting; echo weight 42")}, want: outcome{OK: true, Weight: 42}},
		{name: "weight line over status", check: Check{DynamicWeight: true, Command: sh("printf 'weight 7\\n\\n'; exit 5")}, want: outcome{OK: true, Weight: 7}},
		{name: "weight line not last", check: Check{DynamicWeight: true, Command: sh("echo weight 7; echo done")}, want: pass},
		{name: "weight line malformed", check: Check{DynamicWeight: true, Command: sh("echo weight x")}, want: pass},
		{name: "weight line negative", check: Check{DynamicWeight: true, Command: sh("echo weight -3; exit 4")}, want: outcome{OK: true, Weight: 2}},
		{name: "weight after much output", check: Check{DynamicWeight: true, Command: sh("head -c 200000 /dev/zero | tr '\\0' x; echo; echo weight 9")}, want: outcome{OK: true, Weight: 9}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.check.Type = Exec
			target := c.target
			if !target.IsValid() {
				target = server
			}
			if diff := cmp.Diff(c.want, outcomeOf(Probe(t.Context(), Env{}, &c.check, target))); diff != "" {
				t.Errorf("Probe (-want +got):\n%s", diff)
			}
		})
	}
}

// TestProbeExecStart: commands start through env.Start.
func TestProbeExecStart(t *testing.T) {
	var started []string
	env := Env{Start: func(cmd *exec.Cmd) error {
		started = append(started, strings.Join(cmd.Args, " "))
		return cmd.Start()
	}}
	r := Probe(t.Context(), env, &Check{Type: Exec, Command: []string{"/bin/true", "x"}}, netip.MustParseAddrPort("127.0.0.1:80"))
	if diff := cmp.Diff(pass, outcomeOf(r)); diff != "" {
		t.Errorf("Probe (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/bin/true x"}, started); diff != "" {
		t.Errorf("started (-want +got):\n%s", diff)
	}
}

// gone reports whether process pid has ended (exited, or a zombie not yet
// reaped by whoever inherited it).
func gone(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// pid (comm) S ...: the state follows the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' || stat[i+2] == 'X'
}

// TestProbeExecKillsGroup: at the timeout the whole process group is
// killed, the command's children too; when the command ends, what is left
// of its group is killed, and a child holding the output open does not
// hold up the probe.
func TestProbeExecKillsGroup(t *testing.T) {
	for _, c := range []struct {
		name    string
		dynamic bool
		script  string
		want    outcome
	}{
		{name: "timeout", script: "sleep 30 & echo $! > $PIDFILE; wait", want: fail("killed after timeout 2s")},
		{name: "leftover", script: "sleep 30 & echo $! > $PIDFILE", want: pass},
		{name: "leftover holding output", dynamic: true, script: "sleep 30 & echo $! > $PIDFILE; echo weight 3", want: outcome{OK: true, Weight: 3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			pidfile := filepath.Join(t.TempDir(), "pid")
			t.Setenv("PIDFILE", pidfile)
			start := time.Now()
			chk := &Check{Type: Exec, Timeout: 2 * time.Second, DynamicWeight: c.dynamic, Command: sh(c.script)}
			r := Probe(t.Context(), Env{}, chk, netip.MustParseAddrPort("127.0.0.1:80"))
			if diff := cmp.Diff(c.want, outcomeOf(r)); diff != "" {
				t.Errorf("Probe (-want +got):\n%s", diff)
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("the probe took %v", took)
			}
			b, err := os.ReadFile(pidfile)
			if err != nil {
				t.Fatal(err)
			}
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for !gone(pid) {
				if time.Now().After(deadline) {
					t.Fatalf("the child %d still runs", pid)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func TestTail(t *testing.T) {
	for _, c := range []struct {
		name   string
		writes []int // sizes; write i is bytes of 'a'+i
		want   []byte
	}{
		{name: "small", writes: []int{3, 2}, want: []byte("aaabb")},
		{name: "one large", writes: []int{maxRead + 5}, want: bytes.Repeat([]byte("a"), maxRead)},
		{name: "overflow", writes: []int{maxRead - 1, 3}, want: append(bytes.Repeat([]byte("a"), maxRead-3), "bbb"...)},
	} {
		t.Run(c.name, func(t *testing.T) {
			var tl tail
			for i, n := range c.writes {
				if w, err := tl.Write(bytes.Repeat([]byte{byte('a' + i)}, n)); w != n || err != nil {
					t.Fatalf("Write = %d, %v", w, err)
				}
			}
			if !bytes.Equal(tl.b, c.want) {
				t.Errorf("tail holds %d bytes %.20q..., want %d bytes %.20q...", len(tl.b), tl.b, len(c.want), c.want)
			}
		})
	}
}
