package vm

import (
	"context"
	"fmt"
	"os"
	"path"
	"regexp"
	"strings"
	"time"
)

// Guest paths of the programs every image holds.
const (
	// GuestBusybox is the static busybox; its applets are linked into
	// /bin, /sbin, /usr/bin and /usr/sbin at boot.
	GuestBusybox = "/bin/busybox"
	// GuestRefIpvsadm is Debian's ipvsadm, the reference implementation.
	GuestRefIpvsadm = "/usr/sbin/ipvsadm"
	// GuestIPFull is iproute2's ip. Busybox's ip applet owns the name
	// "ip", so call this one by absolute path (ip netns needs it).
	GuestIPFull = "/usr/sbin/ip-full"
	// GuestRefSave and GuestRefRestore are Debian's ipvsadm-save and
	// ipvsadm-restore bash scripts (they call the reference ipvsadm through
	// their own PATH, in which /usr/sbin comes before /usr/local/sbin).
	GuestRefSave    = "/usr/sbin/ipvsadm-save"
	GuestRefRestore = "/usr/sbin/ipvsadm-restore"
	// GuestBash is bash, which those scripts need.
	GuestBash = "/bin/bash"
	// GuestKeepalived is Debian's keepalived, for running its health
	// checker beside the project's agent. Unlike the others it is
	// optional: the image has it only if the host has
	// HostKeepalived (apt-get install keepalived; scripts/test.sh
	// installs it), and the tests that need it fail without it.
	GuestKeepalived = "/usr/sbin/keepalived"
	// GuestLocalSbin is where callers install the project's own programs.
	GuestLocalSbin = "/usr/local/sbin"
)

// HostKeepalived is where Debian installs keepalived on the host.
const HostKeepalived = "/usr/sbin/keepalived"

// GuestPATH is the PATH of the init script and every job. The project's
// own programs in /usr/local/sbin come first.
const GuestPATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// GuestHosts is the guest's /etc/hosts. Besides localhost it names a few
// fixed test addresses, so tests can check name resolution and -n:
//
//	10.0.0.1     vip1.example.com vip1
//	10.0.0.2     vip2.example.com vip2
//	192.168.0.1  rs1.example.com rs1
//	192.168.0.2  rs2.example.com rs2
//	2001:db8::1  v6vip.example.com v6vip
//	2001:db8::10 v6rs1.example.com v6rs1
const GuestHosts = `127.0.0.1	localhost ipvs-vm
::1	localhost ip6-localhost ip6-loopback
10.0.0.1	vip1.example.com vip1
10.0.0.2	vip2.example.com vip2
192.168.0.1	rs1.example.com rs1
192.168.0.2	rs2.example.com rs2
2001:db8::1	v6vip.example.com v6vip
2001:db8::10	v6rs1.example.com v6rs1
`

// Console markers printed by the init script.
const (
	MarkerInit     = "@@@VM-INIT"
	MarkerJobBegin = "@@@VMJOB-BEGIN "
	MarkerJobEnd   = "@@@VMJOB-END "
	MarkerDone     = "@@@VM-DONE"
	MarkerModFail  = "@@@VM-INSMOD-FAIL "
	// MarkerKernel precedes the guest's uname -r and /proc/version.
	MarkerKernel = "@@@VM-KERNEL "
	// MarkerNoControl says the guest could not open its control port.
	MarkerNoControl = "@@@VM-NOCONTROL"
)

// Control-port messages: the guest writes controlNext when it is ready for
// a job; the host answers with the job's index, or controlStop.
const (
	controlNext = "@@@VM-NEXT"
	controlStop = "stop"
)

// GuestControlPort is the guest's end of the control channel: the second
// serial port.
const GuestControlPort = "/dev/ttyS1"

// Guest environment variables set for every job.
const (
	// EnvInVM is "1" in the guest.
	EnvInVM = "IPVS_VM"
	// EnvKernel is the pinned name of the guest's kernel, e.g. "6.1".
	EnvKernel = "IPVS_VM_KERNEL"
)

// Job is one command the guest runs, in order, after boot.
type Job struct {
	// Name identifies the job in the markers and in the Result: one or
	// more characters from letters, digits and ._-/:+@=, at most 200.
	Name string
	// Argv is the program (an absolute guest path, or a name looked up in
	// GuestPATH) and its arguments.
	Argv []string
	// Env holds extra KEY=VALUE environment entries.
	Env []string
	// Dir is the working directory; empty means "/".
	Dir string
	// Timeout is how long the job may run, counted from when the host
	// hands it to the guest until the guest asks for the next one. A job
	// past it means a stuck guest: Boot kills QEMU and says which job it
	// was. Zero means no limit but the context's.
	Timeout time.Duration
}

var jobNameRE = regexp.MustCompile(`^[A-Za-z0-9._\-/:+@=]{1,200}$`)
var envKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// validate checks a job before it is written into the init script.
func (j Job) validate() error {
	if !jobNameRE.MatchString(j.Name) {
		return fmt.Errorf("job name %q: want 1-200 characters from A-Za-z0-9._-/:+@=", j.Name)
	}
	if len(j.Argv) == 0 || j.Argv[0] == "" {
		return fmt.Errorf("job %s: empty command", j.Name)
	}
	for _, e := range j.Env {
		k, _, ok := strings.Cut(e, "=")
		if !ok || !envKeyRE.MatchString(k) {
			return fmt.Errorf("job %s: environment entry %q is not KEY=VALUE", j.Name, e)
		}
	}
	if j.Dir != "" && !strings.HasPrefix(j.Dir, "/") {
		return fmt.Errorf("job %s: directory %q is not absolute", j.Name, j.Dir)
	}
	return nil
}

// InitOptions chooses what the init script loads.
type InitOptions struct {
	// LoadFTP loads ip_vs_ftp (and nf_nat), which changes how IPVS
	// handles port 21.
	LoadFTP bool
	// LoadSIP loads ip_vs_pe_sip (and nf_conntrack_sip).
	LoadSIP bool
	// ExtraModules are more module names to load.
	ExtraModules []string
}

// wantedModules lists the modules to load for opt, before dependency
// resolution: those the guest needs, and those it loads if the kernel has
// them.
func (opt InitOptions) wantedModules() (required, optional []string) {
	w := append([]string(nil), DefaultModules...)
	if opt.LoadFTP {
		w = append(w, FTPModules...)
	}
	if opt.LoadSIP {
		w = append(w, SIPModules...)
	}
	return append(w, opt.ExtraModules...), OptionalModules
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("@%+=:,./-_", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// initScript returns the /init script for a guest of the named kernel.
// modules are guest paths of .ko files in load order. Unless shell is set,
// the script then asks the host for jobs on the control port
// ([GuestControlPort]), runs each (by its index in jobs) between marker
// lines and resets the guest after it, until the host says stop. If shell
// is true, the script ends in an interactive shell instead.
func initScript(kernel string, modules []string, jobs []Job, shell bool) (string, error) {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("#!/bin/busybox sh\n")
	w("# Generated by github.com/ipvs-tools/ipvs/internal/vm. Do not edit.\n")
	w("/bin/busybox mount -t proc proc /proc\n")
	w("/bin/busybox --install -s\n")
	w("export PATH=%s\n", GuestPATH)
	w("export HOME=/root TMPDIR=/tmp %s=1 %s=%s\n", EnvInVM, EnvKernel, shellQuote(kernel))
	w("mount -t sysfs sysfs /sys\n")
	w("mount -t devtmpfs devtmpfs /dev 2>/dev/null\n")
	w("mount -t tmpfs -o mode=1777 tmpfs /tmp\n")
	w("mount -t tmpfs -o mode=0755 tmpfs /run\n")
	w("mkdir -p /run/netns /dev/pts /dev/shm\n")
	w("mount -t devpts devpts /dev/pts 2>/dev/null\n")
	w("hostname ipvs-vm\n")
	w("echo %s\n", MarkerInit)
	w("echo \"%s$(uname -r) $(cat /proc/version)\"\n", MarkerKernel)
	for _, m := range modules {
		name := modName(m)
		w("insmod %s || echo '%s%s'\n", shellQuote(m), MarkerModFail, name)
	}
	w("ip link set lo up\n")
	w(`vm_reset() {
	%[1]s -C >/dev/null 2>&1 || echo "vm: ipvsadm -C failed"
	%[1]s --set 900 120 300 >/dev/null 2>&1
	%[1]s --stop-daemon master >/dev/null 2>&1
	%[1]s --stop-daemon backup >/dev/null 2>&1
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		[ "$p" = 1 ] && continue
		[ -e "$d/exe" ] && kill -9 "$p" 2>/dev/null
	done
	for n in $(%[2]s netns list 2>/dev/null | cut -d' ' -f1); do
		%[2]s netns delete "$n" 2>/dev/null
	done
	for l in /sys/class/net/*; do
		l=${l##*/}
		[ "$l" = lo ] || %[2]s link delete "$l" 2>/dev/null
	done
	cd /
}
`, GuestRefIpvsadm, GuestIPFull)
	w("vm_reset\n")
	if shell {
		w("echo\n")
		w("echo \"IPVS playground: kernel $(uname -r), ip_vs and its schedulers loaded.\"\n")
		w("if [ -x %s/ipvsadm ]; then\n", GuestLocalSbin)
		w("\techo \"  ipvsadm is the project's (%s/ipvsadm); the reference is %s.\"\n", GuestLocalSbin, GuestRefIpvsadm)
		w("else\n")
		w("\techo \"  ipvsadm is the reference, %s (no project build installed).\"\n", GuestRefIpvsadm)
		w("fi\n")
		w("echo \"  Full iproute2: %s (e.g. %s netns add ns1).\"\n", GuestIPFull, GuestIPFull)
		w("echo \"  Leave with 'poweroff -f' (or Ctrl-A x).\"\n")
		w("export PS1='ipvs-vm:\\w# '\n")
		w("setsid cttyhack sh -l\n")
		w("poweroff -f\n")
		return b.String(), nil
	}
	w("vm_job() {\n\tcase $1 in\n")
	for i, j := range jobs {
		if err := j.validate(); err != nil {
			return "", err
		}
		dir := j.Dir
		if dir == "" {
			dir = "/"
		}
		var cmd []string
		for _, e := range j.Env {
			cmd = append(cmd, shellQuote(e))
		}
		for _, a := range j.Argv {
			cmd = append(cmd, shellQuote(a))
		}
		w("\t%d)\n", i)
		w("\t\techo '%s%s'\n", MarkerJobBegin, j.Name)
		w("\t\t(cd %s && exec env %s) </dev/null 2>&1 3>&-\n", shellQuote(dir), strings.Join(cmd, " "))
		w("\t\techo \"%s%s rc=$?\"\n", MarkerJobEnd, j.Name)
		w("\t\t;;\n")
	}
	w("\t*) echo \"vm: the host asked for job '$1', which does not exist\" ;;\n\tesac\n}\n")
	// The control port: raw, no echo, so that only the two programs'
	// lines cross it.
	w(`if exec 3<>%[1]s && stty raw -echo <&3; then
	while echo %[2]s >&3 && read -r vm_n <&3 && [ "$vm_n" != %[3]s ]; do
		vm_job "$vm_n"
		vm_reset
	done
else
	echo %[4]s
fi
`, GuestControlPort, controlNext, controlStop, MarkerNoControl)
	w("echo %s\n", MarkerDone)
	w("poweroff -f\n")
	return b.String(), nil
}

// buildImage assembles the guest's initramfs: busybox, the reference
// ipvsadm, iproute2's ip, the /etc files, the resolved modules and the init
// script. extra, if not nil, adds the caller's files last.
func buildImage(ctx context.Context, a *Assets, opt InitOptions, jobs []Job, shell bool,
	extra func(*Image) error) (*Image, error) {
	tree, err := OpenModuleTree(a.ModulesDir)
	if err != nil {
		return nil, err
	}
	order, err := tree.Resolve(opt.wantedModules())
	if err != nil {
		return nil, fmt.Errorf("resolving guest modules of kernel %s: %w", a.Kernel, err)
	}
	im := NewImage()
	guestModDir := path.Join("/lib/modules", a.KernelVersion)
	var modPaths []string
	for _, m := range order {
		ko, err := tree.Contents(m)
		if err != nil {
			return nil, err
		}
		// insmod takes the file as it is: a compressed module is
		// stored decompressed, under its plain name.
		g := path.Join(guestModDir, path.Dir(tree.Path(m)), m+".ko")
		if err := im.AddData(g, ko, 0o644); err != nil {
			return nil, fmt.Errorf("module %s: %w", m, err)
		}
		modPaths = append(modPaths, g)
	}
	script, err := initScript(a.Kernel.Name, modPaths, jobs, shell)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"/proc", "/sys", "/dev", "/tmp", "/run", "/root", "/usr/local/sbin",
		"/usr/local/bin", "/sbin", "/usr/bin", "/var/run"} {
		if err := im.AddDir(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := im.AddCharDev("/dev/console", 0o600, 5, 1); err != nil {
		return nil, err
	}
	if err := im.AddCharDev("/dev/null", 0o666, 1, 3); err != nil {
		return nil, err
	}
	if err := addHostProgram(ctx, im, GuestBusybox, "busybox", "/bin/busybox", "/usr/bin/busybox"); err != nil {
		return nil, err
	}
	if err := addHostProgram(ctx, im, GuestRefIpvsadm, "ipvsadm (apt-get install ipvsadm)", "/usr/sbin/ipvsadm", "/sbin/ipvsadm"); err != nil {
		return nil, err
	}
	if err := addHostProgram(ctx, im, GuestBash, "bash", "/usr/bin/bash", "/bin/bash"); err != nil {
		return nil, err
	}
	for _, s := range []string{GuestRefSave, GuestRefRestore} {
		host, err := findHostProgram(path.Base(s)+" (apt-get install ipvsadm)", s, "/sbin/"+path.Base(s))
		if err != nil {
			return nil, err
		}
		if err := im.AddFile(s, host, 0o755); err != nil {
			return nil, err
		}
	}
	if err := addKeepalived(ctx, im, HostKeepalived); err != nil {
		return nil, err
	}
	if err := addHostProgram(ctx, im, GuestIPFull, "iproute2's ip (apt-get install iproute2)", "/usr/bin/ip", "/bin/ip", "/sbin/ip", "/usr/sbin/ip"); err != nil {
		return nil, err
	}
	for _, f := range []string{"/etc/services", "/etc/protocols"} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("host file %s is missing (apt-get install netbase): %w", f, err)
		}
		if err := im.AddFile(f, f, 0o644); err != nil {
			return nil, err
		}
	}
	etc := map[string]string{
		"/etc/hosts":         GuestHosts,
		"/etc/nsswitch.conf": "hosts: files\nnetworks: files\nservices: files\nprotocols: files\npasswd: files\ngroup: files\n",
		"/etc/passwd":        "root:x:0:0:root:/root:/bin/sh\n",
		"/etc/group":         "root:x:0:\n",
		"/etc/hostname":      "ipvs-vm\n",
	}
	for p, content := range etc {
		if err := im.AddData(p, []byte(content), 0o644); err != nil {
			return nil, err
		}
	}
	if err := im.AddData("/init", []byte(script), 0o755); err != nil {
		return nil, err
	}
	if extra != nil {
		if err := extra(im); err != nil {
			return nil, fmt.Errorf("adding files to the image: %w", err)
		}
	}
	return im, nil
}

// addKeepalived adds the host's keepalived at GuestKeepalived with the
// libraries ldd lists, if the host has it; without it the image is built
// without keepalived. Debian's keepalived 2.2.7 is built without
// --enable-dynamic-linking: it links libnl-3, libnl-genl-3, libnftnl,
// libmnl and the rest directly (readelf -d lists them as NEEDED), and
// neither it nor they dlopen anything its health checker uses, so ldd's
// list is all it needs.
func addKeepalived(ctx context.Context, im *Image, host string) error {
	if _, err := os.Stat(host); err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return fmt.Errorf("keepalived: %w", err)
	}
	return im.AddProgram(ctx, GuestKeepalived, host)
}

// addHostProgram adds the first of paths that exists on the host (see
// findHostProgram) to im as the program guest.
func addHostProgram(ctx context.Context, im *Image, guest, what string, paths ...string) error {
	host, err := findHostProgram(what, paths...)
	if err != nil {
		return err
	}
	return im.AddProgram(ctx, guest, host)
}

// findHostProgram returns the first of paths that exists.
func findHostProgram(what string, paths ...string) (string, error) {
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("host program %s not found (looked in %s)", what, strings.Join(paths, ", "))
}
