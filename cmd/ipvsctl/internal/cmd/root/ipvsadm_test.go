package root

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
)

// TestIpvsadmOptions: ipvsadm's commands typed to ipvsctl name the
// ipvsctl command that does the same; other unknown options keep pflag's
// message.
func TestIpvsadmOptions(t *testing.T) {
	const tail = ", or type ipvsadm instead of ipvsctl"
	for _, tc := range []struct {
		name string
		args []string
		want string // the first line on stderr
	}{
		{"-Ln", []string{"-Ln"}, "-L (in -Ln) is ipvsadm's --list, not an ipvsctl option: 'ipvsctl list -n' does it" + tail},
		{"-L", []string{"-L"}, "-L is ipvsadm's --list, not an ipvsctl option: 'ipvsctl list' does it" + tail},
		{"-l", []string{"-l"}, "-l is ipvsadm's --list, not an ipvsctl option: 'ipvsctl list' does it" + tail},
		{"-Lnc", []string{"-Lnc"}, "-L (in -Lnc) is ipvsadm's --list, not an ipvsctl option: 'ipvsctl conn list -n' does it" + tail},
		{"-Lc", []string{"-Lc"}, "-L (in -Lc) is ipvsadm's --list, not an ipvsctl option: 'ipvsctl conn list' does it" + tail},
		{"-n -L", []string{"-n", "-L"}, "-L is ipvsadm's --list, not an ipvsctl option: 'ipvsctl list' does it" + tail},
		{"--list", []string{"--list"}, "--list is ipvsadm's -L, not an ipvsctl option: 'ipvsctl list' does it" + tail},
		{"-A", []string{"-A", "-t", "10.0.0.1:80", "-s", "rr"}, "-A is ipvsadm's --add-service, not an ipvsctl option: 'ipvsctl service add SERVICE' does it" + tail},
		{"--add-service", []string{"--add-service"}, "--add-service is ipvsadm's -A, not an ipvsctl option: 'ipvsctl service add SERVICE' does it" + tail},
		{"-E", []string{"-E"}, "-E is ipvsadm's --edit-service, not an ipvsctl option: 'ipvsctl service edit SERVICE' does it" + tail},
		{"--edit-service", []string{"--edit-service"}, "--edit-service is ipvsadm's -E, not an ipvsctl option: 'ipvsctl service edit SERVICE' does it" + tail},
		{"-D", []string{"-D"}, "-D is ipvsadm's --delete-service, not an ipvsctl option: 'ipvsctl service delete SERVICE' does it" + tail},
		{"--delete-service", []string{"--delete-service"}, "--delete-service is ipvsadm's -D, not an ipvsctl option: 'ipvsctl service delete SERVICE' does it" + tail},
		{"-C", []string{"-C"}, "-C is ipvsadm's --clear, not an ipvsctl option: 'ipvsctl flush' does it" + tail},
		{"--clear", []string{"--clear"}, "--clear is ipvsadm's -C, not an ipvsctl option: 'ipvsctl flush' does it" + tail},
		{"-R", []string{"-R"}, "-R is ipvsadm's --restore, not an ipvsctl option: 'ipvsctl restore -f FILE' does it" + tail},
		{"--restore", []string{"--restore"}, "--restore is ipvsadm's -R, not an ipvsctl option: 'ipvsctl restore -f FILE' does it" + tail},
		{"-Sn", []string{"-Sn"}, "-S (in -Sn) is ipvsadm's --save, not an ipvsctl option: 'ipvsctl save -o rules' does it" + tail},
		{"--save", []string{"--save"}, "--save is ipvsadm's -S, not an ipvsctl option: 'ipvsctl save -o rules' does it" + tail},
		{"-a", []string{"-a", "-t", "10.0.0.1:80", "-r", "10.1.1.1"}, "-a is ipvsadm's --add-server, not an ipvsctl option: 'ipvsctl dest add SERVICE ADDR[:PORT]' does it" + tail},
		{"--add-server", []string{"--add-server"}, "--add-server is ipvsadm's -a, not an ipvsctl option: 'ipvsctl dest add SERVICE ADDR[:PORT]' does it" + tail},
		{"-e", []string{"-e"}, "-e is ipvsadm's --edit-server, not an ipvsctl option: 'ipvsctl dest edit SERVICE ADDR[:PORT]' does it" + tail},
		{"--edit-server", []string{"--edit-server"}, "--edit-server is ipvsadm's -e, not an ipvsctl option: 'ipvsctl dest edit SERVICE ADDR[:PORT]' does it" + tail},
		{"-d", []string{"-d"}, "-d is ipvsadm's --delete-server, not an ipvsctl option: 'ipvsctl dest delete SERVICE ADDR[:PORT]' does it" + tail},
		{"--delete-server", []string{"--delete-server"}, "--delete-server is ipvsadm's -d, not an ipvsctl option: 'ipvsctl dest delete SERVICE ADDR[:PORT]' does it" + tail},
		{"-Z", []string{"-Z"}, "-Z is ipvsadm's --zero, not an ipvsctl option: 'ipvsctl zero' does it" + tail},
		{"--zero", []string{"--zero"}, "--zero is ipvsadm's -Z, not an ipvsctl option: 'ipvsctl zero' does it" + tail},
		{"--set", []string{"--set", "900", "120", "300"}, "--set is ipvsadm's, not an ipvsctl option: 'ipvsctl timeout set TCP TCPFIN UDP' does it" + tail},
		{"--start-daemon", []string{"--start-daemon", "master"}, "--start-daemon is ipvsadm's, not an ipvsctl option: 'ipvsctl sync start master|backup --interface IFACE' does it" + tail},
		{"--stop-daemon", []string{"--stop-daemon", "master"}, "--stop-daemon is ipvsadm's, not an ipvsctl option: 'ipvsctl sync stop master|backup|all' does it" + tail},
		{"not ipvsadm's", []string{"-x"}, "unknown shorthand flag: 'x' in -x"},
		{"not ipvsadm's, long", []string{"--bogus"}, "unknown flag: --bogus"},
		{"options, then a command that is none", []string{"-v", "nosuch"}, `unknown command "nosuch" for "ipvsctl"`},
		// Below the root a command's options are its own: no ipvsadm.
		{"in a command", []string{"list", "-L"}, "unknown shorthand flag: 'L' in -L"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, testutil.Sample(), "", tc.args...)
			if r.code != 1 {
				t.Errorf("exit status %d, want 1", r.code)
			}
			first, _, _ := strings.Cut(r.err, "\n")
			if diff := cmp.Diff("ipvsctl: "+tc.want, first); diff != "" {
				t.Errorf("ipvsctl %s: first line of stderr (-want +got):\n%s", strings.Join(tc.args, " "), diff)
			}
		})
	}
}

// TestIpvsadmHelp: -h, ipvsadm's --help, is ipvsctl's too.
func TestIpvsadmHelp(t *testing.T) {
	r := run(t, testutil.Sample(), "", "-h")
	if r.code != 0 || !strings.Contains(r.out, "Usage:") {
		t.Errorf("ipvsctl -h: exit %d, stdout %q", r.code, r.out)
	}
}
