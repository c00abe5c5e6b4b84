// Package dist holds the boot integration: the systemd units, their helper
// script and the default settings. These tests verify the units with
// systemd-analyze and run the helper against a fake ipvsadm.
package dist_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const helperPath = "/usr/libexec/ipvs-tools/ipvsadm-service"

var units = []string{"ipvsadm.service", "ipvsadm-sync.service", "ipvsctl-agent.service", "ipvsctl-fleet-agent.service"}

// TestUnitsVerify runs systemd-analyze verify on the units, with the
// helper's installed path pointing at the helper in this directory; any
// diagnostic fails.
func TestUnitsVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skipf("systemd-analyze is not installed (scripts/deps.sh installs systemd): %v", err)
	}
	helper, err := filepath.Abs("ipvsadm-service")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	for _, u := range units {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(helperPath)) && !strings.HasPrefix(u, "ipvsctl-") {
			t.Errorf("%s does not run %s", u, helperPath)
		}
		p := filepath.Join(dir, u)
		b = bytes.ReplaceAll(b, []byte(helperPath), []byte(helper))
		// The agent's program need only exist for verify.
		b = bytes.ReplaceAll(b, []byte("/usr/sbin/ipvsctl "), []byte("/bin/true "))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	cmd := exec.Command(sa, append([]string{"verify", "--man=no"}, paths...)...)
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestUnitsShape pins what the brief of each unit requires: oneshot units
// that stay active, the ordering against the network and keepalived.
func TestUnitsShape(t *testing.T) {
	want := map[string][]string{
		"ipvsadm.service": {
			"Type=oneshot", "RemainAfterExit=yes",
			"Before=network-pre.target keepalived.service shutdown.target", "Wants=network-pre.target",
			"ExecStart=" + helperPath + " restore", "ExecStop=" + helperPath + " stop",
			"WantedBy=multi-user.target",
		},
		"ipvsadm-sync.service": {
			"Type=oneshot", "RemainAfterExit=yes",
			"After=network-online.target ipvsadm.service", "Wants=network-online.target", "Before=keepalived.service",
			"ExecStart=" + helperPath + " sync-start", "ExecStop=" + helperPath + " sync-stop",
			"WantedBy=multi-user.target",
		},
		"ipvsctl-agent.service": {
			"Type=notify", "WatchdogSec=30s", "ExecReload=/bin/kill -HUP $MAINPID",
			"ExecStart=/usr/sbin/ipvsctl agent -f /etc/ipvs/agent.yaml --listen 127.0.0.1:9444",
			"After=network-online.target ipvsadm.service", "WantedBy=multi-user.target",
		},
		"ipvsctl-fleet-agent.service": {
			"Type=notify", "WatchdogSec=30s", "EnvironmentFile=/etc/ipvs/fleet.env",
			"ExecStart=/usr/sbin/ipvsctl agent $FLEET_ARGS --cache /var/lib/ipvsctl/fleet-cache.json --listen 127.0.0.1:9444",
			"StateDirectory=ipvsctl",
			"Conflicts=ipvsctl-agent.service", "After=network-online.target ipvsadm.service", "WantedBy=multi-user.target",
		},
	}
	for u, lines := range want {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, l := range strings.Split(string(b), "\n") {
			have[l] = true
		}
		for _, l := range lines {
			if !have[l] {
				t.Errorf("%s lacks %q", u, l)
			}
		}
	}
}

// fakeSbin makes a directory with ipvsadm, ipvsadm-save and
// ipvsadm-restore that append their arguments (and standard input) to
// log, and a settings file.
type fixture struct {
	dir, sbin, log, rules, defaults string
}

func newFixture(t *testing.T, settings string) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir()}
	f.sbin = filepath.Join(f.dir, "sbin")
	f.log = filepath.Join(f.dir, "log")
	f.rules = filepath.Join(f.dir, "etc", "ipvsadm.rules")
	f.defaults = filepath.Join(f.dir, "etc", "default-ipvsadm")
	os.MkdirAll(f.sbin, 0o755)
	os.MkdirAll(filepath.Join(f.dir, "etc"), 0o755)
	for _, p := range []string{"ipvsadm", "ipvsadm-save", "ipvsadm-restore"} {
		script := "#!/bin/sh\necho \"" + p + " $*\" >>" + f.log + "\n"
		switch p {
		case "ipvsadm-restore":
			script += "sed 's/^/< /' >>" + f.log + "\n"
		case "ipvsadm-save":
			script += "echo '-A -t 10.0.0.1:80 -s wlc'\n"
		}
		if err := os.WriteFile(filepath.Join(f.sbin, p), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The shipped defaults, then the test's settings.
	base, err := os.ReadFile("default.ipvsadm")
	if err != nil {
		t.Fatal(err)
	}
	all := string(base) + "RULES=" + f.rules + "\n" + settings
	if err := os.WriteFile(f.defaults, []byte(all), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) run(t *testing.T, arg string) (string, int) {
	t.Helper()
	cmd := exec.Command("/bin/sh", "./ipvsadm-service", arg)
	cmd.Env = append(os.Environ(), "IPVSADM_DEFAULTS="+f.defaults, "IPVSADM_SBIN="+f.sbin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stderr.String(), code
}

func (f *fixture) logged(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(f.log)
	if os.IsNotExist(err) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHelperRestore(t *testing.T) {
	f := newFixture(t, "")
	// No file: nothing happens.
	if msg, code := f.run(t, "restore"); code != 0 || !strings.Contains(msg, "does not exist") {
		t.Errorf("restore without a file: %d %q", code, msg)
	}
	// Only comments (the shipped file): the table is left alone rather
	// than emptied.
	shipped, _ := os.ReadFile("ipvsadm.rules")
	os.WriteFile(f.rules, append(shipped, "\n   \n"...), 0o644)
	if msg, code := f.run(t, "restore"); code != 0 || !strings.Contains(msg, "has no rules") {
		t.Errorf("restore of comments only: %d %q", code, msg)
	}
	if l := f.logged(t); l != "" {
		t.Errorf("ran %q", l)
	}
	os.WriteFile(f.rules, []byte("# saved\n-A -t 10.0.0.1:80 -s rr\n"), 0o644)
	if msg, code := f.run(t, "restore"); code != 0 || msg != "" {
		t.Errorf("restore: %d %q", code, msg)
	}
	if l, want := f.logged(t), "ipvsadm-restore \n< # saved\n< -A -t 10.0.0.1:80 -s rr\n"; l != want {
		t.Errorf("restore ran %q, want %q", l, want)
	}
}

func TestHelperStop(t *testing.T) {
	f := newFixture(t, "")
	os.WriteFile(f.rules, []byte("old\n"), 0o644)
	if _, code := f.run(t, "stop"); code != 0 || f.logged(t) != "" {
		t.Errorf("stop with SAVE_ON_STOP=no: %d, ran %q", code, f.logged(t))
	}
	if b, _ := os.ReadFile(f.rules); string(b) != "old\n" {
		t.Errorf("rules changed: %q", b)
	}
	f = newFixture(t, "SAVE_ON_STOP=yes\n")
	if msg, code := f.run(t, "stop"); code != 0 || msg != "" {
		t.Errorf("stop with SAVE_ON_STOP=yes: %d %q", code, msg)
	}
	if l := f.logged(t); l != "ipvsadm-save -n\n" {
		t.Errorf("ran %q", l)
	}
	b, _ := os.ReadFile(f.rules)
	if !regexp.MustCompile(`^# .*ipvsadm.rules: saved by ipvsadm-service on \d{4}-\d\d-\d\dT[\d:]+Z\n-A -t 10.0.0.1:80 -s wlc\n$`).Match(b) {
		t.Errorf("saved rules: %q", b)
	}
	if st, _ := os.Stat(f.rules); st.Mode().Perm() != 0o644 {
		t.Errorf("rules mode %v", st.Mode())
	}
	// No temporary files left beside it.
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(f.rules), ".ipvsadm.rules.*")); len(m) > 0 {
		t.Errorf("left %v", m)
	}
}

func TestHelperSync(t *testing.T) {
	cases := []struct {
		settings, start, stop string
		code                  int
	}{
		{"", "", "", 0},
		{"DAEMON=master\nIFACE=eth1\nSYNCID=7\n",
			"ipvsadm --start-daemon master --mcast-interface eth1 --syncid 7\n",
			"ipvsadm --stop-daemon master\n", 0},
		{"DAEMON=both\nIFACE=bond0\nMCAST_GROUP=239.1.2.3\nMCAST_PORT=9000\nMCAST_TTL=2\nSYNC_MAXLEN=1400\n",
			"ipvsadm --start-daemon master --mcast-interface bond0 --syncid 0 --mcast-group 239.1.2.3 --mcast-port 9000 --mcast-ttl 2 --sync-maxlen 1400\n" +
				"ipvsadm --start-daemon backup --mcast-interface bond0 --syncid 0 --mcast-group 239.1.2.3 --mcast-port 9000 --mcast-ttl 2 --sync-maxlen 1400\n",
			"ipvsadm --stop-daemon master\nipvsadm --stop-daemon backup\n", 0},
		{"DAEMON=slave\n", "", "", 1},
	}
	for _, c := range cases {
		f := newFixture(t, c.settings)
		msg, code := f.run(t, "sync-start")
		if code != c.code || f.logged(t) != c.start {
			t.Errorf("%q sync-start: %d %q, ran %q; want %d, %q", c.settings, code, msg, f.logged(t), c.code, c.start)
		}
		os.Remove(f.log)
		msg, code = f.run(t, "sync-stop")
		if code != c.code || f.logged(t) != c.stop {
			t.Errorf("%q sync-stop: %d %q, ran %q; want %d, %q", c.settings, code, msg, f.logged(t), c.code, c.stop)
		}
		if c.code != 0 && !strings.Contains(msg, "want none, master, backup or both") {
			t.Errorf("bad DAEMON: %q", msg)
		}
	}
}

func TestHelperUsage(t *testing.T) {
	f := newFixture(t, "")
	if msg, code := f.run(t, "bogus"); code != 2 || !strings.HasPrefix(msg, "usage: ipvsadm-service ") {
		t.Errorf("%d %q", code, msg)
	}
}

// TestShellSyntax: the helper with sh -n (and dash, Debian's /bin/sh, if
// present), and the settings file sources cleanly.
func TestShellSyntax(t *testing.T) {
	for _, sh := range []string{"/bin/sh", "/bin/dash", "/bin/bash"} {
		if _, err := os.Stat(sh); err != nil {
			continue
		}
		if out, err := exec.Command(sh, "-n", "ipvsadm-service").CombinedOutput(); err != nil {
			t.Errorf("%s -n ipvsadm-service: %v\n%s", sh, err, out)
		}
		out, err := exec.Command(sh, "-c", `set -eu; . ./default.ipvsadm; echo "$RULES|$SAVE_ON_STOP|$DAEMON|$IFACE|$SYNCID|$MCAST_GROUP|$MCAST_PORT|$MCAST_TTL|$SYNC_MAXLEN"`).CombinedOutput()
		if err != nil || string(out) != "/etc/ipvsadm.rules|no|none|eth0|0||||\n" {
			t.Errorf("%s: sourcing default.ipvsadm: %v %q", sh, err, out)
		}
	}
	if st, err := os.Stat("ipvsadm-service"); err != nil || st.Mode().Perm()&0o111 == 0 {
		t.Errorf("ipvsadm-service is not executable: %v", err)
	}
}
