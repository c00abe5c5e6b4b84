package vm

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestInitScriptJobs(t *testing.T) {
	jobs := []Job{
		{Name: "internal/vm/vmtest:TestVMA", Argv: []string{"/tests/x.test", "-test.run", "^(TestVMA)$"},
			Dir: "/src/internal/vm/vmtest"},
		{Name: "quote", Argv: []string{"/bin/sh", "-c", "echo 'it''s' \"$HOME\""}, Env: []string{"A=b c"}},
	}
	s, err := initScript("6.12", []string{"/lib/modules/v/kernel/a.ko", "/lib/modules/v/kernel/b-c.ko"}, jobs, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"#!/bin/busybox sh\n",
		"mount -t proc proc /proc",
		"mkdir -p /run/netns",
		"insmod /lib/modules/v/kernel/a.ko || echo '@@@VM-INSMOD-FAIL a'",
		"insmod /lib/modules/v/kernel/b-c.ko || echo '@@@VM-INSMOD-FAIL b_c'",
		"ip link set lo up",
		"IPVS_VM=1 IPVS_VM_KERNEL=6.12\n",
		`echo "@@@VM-KERNEL $(uname -r) $(cat /proc/version)"`,
		"\t0)\n\t\techo '@@@VMJOB-BEGIN internal/vm/vmtest:TestVMA'\n",
		"(cd /src/internal/vm/vmtest && exec env /tests/x.test -test.run '^(TestVMA)$') </dev/null 2>&1 3>&-\n",
		`echo "@@@VMJOB-END internal/vm/vmtest:TestVMA rc=$?"`,
		"\t1)\n",
		`(cd / && exec env 'A=b c' /bin/sh -c 'echo '"'"'it'"'"''"'"'s'"'"' "$HOME"')`,
		"/usr/sbin/ipvsadm --set 900 120 300",
		// The control loop: ask, run the job named by its index, reset.
		"exec 3<>/dev/ttyS1 && stty raw -echo <&3",
		`while echo @@@VM-NEXT >&3 && read -r vm_n <&3 && [ "$vm_n" != stop ]; do`,
		"\t\tvm_job \"$vm_n\"\n\t\tvm_reset\n",
		"echo @@@VM-NOCONTROL",
		"echo @@@VM-DONE\npoweroff -f\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("init script lacks %q:\n%s", want, s)
		}
	}
	// The script is valid shell.
	if sh, err := exec.LookPath("sh"); err == nil {
		p := filepath.Join(t.TempDir(), "init")
		if err := os.WriteFile(p, []byte(s), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(sh, "-n", p).CombinedOutput(); err != nil {
			t.Fatalf("sh -n: %v\n%s", err, out)
		}
	}
}

func TestInitScriptShell(t *testing.T) {
	s, err := initScript("6.1", nil, []Job{{Name: "ignored", Argv: []string{"x"}}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s, "setsid cttyhack sh") || !strings.Contains(s, "poweroff -f") ||
		strings.Contains(s, "ignored") || !strings.Contains(s, "poweroff -f' (or Ctrl-A x)") {
		t.Fatalf("shell script:\n%s", s)
	}
}

func TestJobValidate(t *testing.T) {
	bad := []Job{
		{Name: "", Argv: []string{"x"}},
		{Name: "has space", Argv: []string{"x"}},
		{Name: "new\nline", Argv: []string{"x"}},
		{Name: "quote'", Argv: []string{"x"}},
		{Name: "ok", Argv: nil},
		{Name: "ok", Argv: []string{""}},
		{Name: "ok", Argv: []string{"x"}, Env: []string{"NOEQUALS"}},
		{Name: "ok", Argv: []string{"x"}, Env: []string{"1A=b"}},
		{Name: "ok", Argv: []string{"x"}, Dir: "relative"},
	}
	for _, j := range bad {
		if _, err := initScript("6.1", nil, []Job{j}, false); err == nil {
			t.Errorf("job %+v accepted", j)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"plain/path.test": "plain/path.test",
		"":                "''",
		"a b":             "'a b'",
		"it's":            `'it'"'"'s'`,
		"$HOME":           "'$HOME'",
		"^TestVM":         "'^TestVM'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWantedModules(t *testing.T) {
	req, opt := InitOptions{}.wantedModules()
	for _, m := range append(req, opt...) {
		if m == "ip_vs_ftp" || m == "ip_vs_pe_sip" {
			t.Errorf("%s loaded by default", m)
		}
	}
	if !slices.Contains(opt, "ip_vs_twos") || slices.Contains(req, "ip_vs_twos") {
		t.Errorf("ip_vs_twos must be optional (6.12 has it, 6.1 not): required %v, optional %v", req, opt)
	}
	req, _ = InitOptions{LoadFTP: true, LoadSIP: true, ExtraModules: []string{"x"}}.wantedModules()
	for _, m := range []string{"ip_vs_ftp", "ip_vs_pe_sip", "x", "ip_vs", "veth"} {
		if !slices.Contains(req, m) {
			t.Errorf("%s missing from %v", m, req)
		}
	}
}

func TestAddKeepalived(t *testing.T) {
	im := NewImage()
	if err := addKeepalived(t.Context(), im, filepath.Join(t.TempDir(), "no-keepalived")); err != nil {
		t.Fatalf("a host without keepalived: %v", err)
	}
	if im.Has(GuestKeepalived) {
		t.Fatal("keepalived added from a host that has none")
	}
	if _, err := os.Stat(HostKeepalived); err != nil {
		t.Skipf("no %s on this host (scripts/deps.sh installs it): %v", HostKeepalived, err)
	}
	if err := addKeepalived(t.Context(), im, HostKeepalived); err != nil {
		t.Fatal(err)
	}
	// The health checker's netlink libraries come from ldd's list.
	for _, want := range []string{GuestKeepalived, "/lib/x86_64-linux-gnu/libnl-3.so.200", "/lib/x86_64-linux-gnu/libnl-genl-3.so.200"} {
		if !im.Has(want) {
			t.Errorf("image lacks %s", want)
		}
	}
}
