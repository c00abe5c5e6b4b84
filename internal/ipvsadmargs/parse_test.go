package ipvsadmargs

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs"
)

// testEnv knows the names the tests use (like the VM's /etc/hosts and
// Debian's /etc/services).
var testEnv = Env{
	LookupHost: func(name string) ([4]byte, bool) {
		switch strings.ToLower(name) {
		case "vip1", "vip1.example.com":
			return [4]byte{10, 0, 0, 1}, true
		case "localhost":
			return [4]byte{127, 0, 0, 1}, true
		}
		return [4]byte{}, false
	},
	LookupService: func(name, proto string) (uint16, bool) {
		ports := map[string]uint16{"http/tcp": 80, "https/tcp": 443, "domain/tcp": 53, "domain/udp": 53,
			"ftp/tcp": 21, "http-alt/tcp": 8080, "www/tcp": 80}
		p, ok := ports[name+"/"+proto]
		return p, ok
	},
}

func parseArgs(args string) (*Command, *Error) {
	argv := append([]string{"ipvsadm"}, strings.Fields(args)...)
	c, err := Parse(argv, testEnv)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			panic("error is not *Error")
		}
		return nil, e
	}
	return c, nil
}

const try = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n"

// errorCases: arguments (split on blanks) and the exact stderr and status.
var errorCases = []struct {
	args   string
	msg    string
	status int
}{
	// Appendix A of the reference.
	{"-n", try, 255},
	{"-L -n -Z", "invalid option `-Z'\n", 2},
	{"-A", "You need to supply the 'service-address' option for the 'add-service' command\n", 2},
	{"-A -t 10.0.0.1", "Zero port specified for non-persistent service\n", 2},
	{"-A -t 10.0.0.1:0", "Zero port specified for non-persistent service\n", 2},
	{"-A -t 10.0.0.1:80 -o", "One-Packet Scheduling is only for UDP virtual services\n", 2},
	{"-A -t 80", "illegal virtual server address[:port] specified\n", 2},
	{"-A -t 10.0.0.1:99999", "illegal virtual server address[:port] specified\n", 2},
	{"-A -t 10.0.0.1:-1", "illegal virtual server address[:port] specified\n", 2},
	{"-A -t 10.0.0.1:", "illegal virtual server address[:port] specified\n", 2},
	{"-A -t 10.0.0.1:nosuchsvc", "illegal virtual server address[:port] specified\n", 2},
	{"-A -t nosuchhost.invalid:80", "illegal virtual server address[:port] specified\n", 2},
	{"-A -t [2001:db8::1]", "illegal virtual server address[:port] specified\n", 2},
	{"-A -t [2001:db8::1:80", "illegal virtual server address[:port] specified\n", 2},
	{"-A -t [2001:db8::1]x80", "illegal virtual server address[:port] specified\n", 2},
	{"-A -u 10.0.0.1:http", "illegal virtual server address[:port] specified\n", 2},
	{"-A -t 2001:db8::1", "Zero port specified for non-persistent service\n", 2},
	{"-A -t [10.0.0.1]:80", "Zero port specified for non-persistent service\n", 2},
	{"-A -t 10.0.0.1:80 -t 10.0.0.2:80", "multiple 'service-address' options specified\n", 2},
	{"-A -t 10.0.0.1:80 -f 3", "multiple 'service-address' options specified\n", 2},
	{"-A -f 0", "invalid fwmark value `0' specified\n", 2},
	{"-A -f -1", "invalid fwmark value `-1' specified\n", 2},
	{"-A -f 4294967296", "invalid fwmark value `4294967296' specified\n", 2},
	{"-A -f 0x10", "invalid fwmark value `0x10' specified\n", 2},
	{"-A -f abc", "invalid fwmark value `abc' specified\n", 2},
	{"-A -t 10.0.0.1:80 -6", "-6 used before -f\n\n", 2},
	{"-A -6 -f 1", "-6 used before -f\n\n", 2},
	{"-L -6", "-6 used before -f\n\n", 2},
	{"-A -t 10.0.0.1:80 -p 0", "invalid timeout value `0' specified\n", 2},
	{"-A -t 10.0.0.1:80 -p 2678401", "invalid timeout value `2678401' specified\n", 2},
	{"-A -t 10.0.0.1:80 -p abc", "invalid timeout value `abc' specified\n", 2},
	{"-A -t 10.0.0.1:80 -M foo", "illegal virtual server persistent mask specified\n", 2},
	{"-A -t [2001:db8::1]:80 -M 0", "illegal ipv6 netmask specified\n", 2},
	{"-A -t [2001:db8::1]:80 -M 129", "illegal ipv6 netmask specified\n", 2},
	{"-A -t [2001:db8::1]:80 -M abc", "illegal ipv6 netmask specified\n", 2},
	{"-A -t 10.0.0.1:80 -s", "-s: missing argument\n", 255},
	{"-A -t 10.0.0.1:80 -b sh-port", "incompatible scheduler flag `sh-port'\n", 2},
	{"-A -t 10.0.0.1:80 -s sh -b sh-port,bogus", "invalid scheduler flag `bogus'\n", 2},
	{"-A -t 10.0.0.1:80 -r 1.2.3.4", "Illegal 'real-server' option with the 'add-service' command\n", 2},
	{"-A -t 10.0.0.1:80 extra", "unexpected argument extra\n", 2},
	{"-A -t 10.0.0.1:80 --bogus", "--bogus: unknown option\n", 255},
	{"-A -t 10.0.0.1:80 -q", "-q: unknown option\n", 255},
	{"-a -t 10.0.0.1:80 -r 1.2.3.4 -w 2147483648", "illegal weight specified\n", 2},
	{"-a -t 10.0.0.1:80 -r 1.2.3.4 -w abc", "illegal weight specified\n", 2},
	{"-a -t 10.0.0.1:80 -r 1.2.3.4 -x -1", "illegal u_threshold specified\n", 2},
	{"-a -t 10.0.0.1:80 -r 1.2.3.4 -x 2147483648", "illegal u_threshold specified\n", 2},
	{"-a -t 10.0.0.1:80 -r 1.2.3.4 -y 2147483648", "illegal l_threshold specified\n", 2},
	{"-a -t 10.0.0.1:80 -r 1.2.3.4 -m -g", "multiple 'forwarding-method' options specified\n", 2},
	{"-a -t 10.0.0.1:80 -r 1.2.3.4 --tun-type gue", "Tunnel options conflict with forward method\n", 2},
	{"-a -t 10.0.0.1:80 -r 1.2.3.4 -i --tun-type gue", "You need to supply the 'tun-port' option for the 'gue' tunnel type\n", 2},
	{"-a -t 10.0.0.1:80 -r 1.2.3.4 -i --tun-type gue --tun-port 0", "illegal tunnel port specified\n", 2},
	{"-a -t 10.0.0.1:80 -r 1.2.3.4 -i --tun-type gue --tun-port 6080 --tun-csum --tun-remcsum",
		"The option 'tun-remcsum' conflicts with the 'tun-csum' option in the 'gue' tunnel type\n", 2},
	{"-a -t 10.0.0.1:80 -r 1.2.3.4 -i --tun-type ipip --tun-csum", "Illegal 'tun-csum' option with the 'ipip' tunnel type\n", 2},
	{"-a -t 10.0.0.1:80 -r 1.2.3.4 -i --tun-csum", "Illegal 'tun-csum' option with the 'ipip' tunnel type\n", 2},
	{"-a -t 10.0.0.1:80 -r 1.2.3.4 -i --tun-type gre --tun-remcsum", "Illegal 'tun-remcsum' option with the 'gre' tunnel type\n", 2},
	{"-a -t 10.0.0.1:80 -r 1.2.3.4 -i --tun-port 80", "Illegal 'tun-port' option with the 'ipip' tunnel type\n", 2},
	{"-a -t 10.0.0.1:80 -r 1.2.3.4 -i --tun-type foo", "illegal tunnel type specified\n", 2},
	{"-a -t 10.0.0.1:80 -r [2001:db8::2]:80 -m", "Different address family is allowed only for tunneling servers\n", 2},
	{"-d -t 10.0.0.1:80 -r 1.2.3.4 -w 3", "Illegal 'weight' option with the 'delete-server' command\n", 2},
	{"-C -n", "Illegal 'numeric' option with the 'flush' command\n", 2},
	{"-L -c --stats", "options conflicts in the list command\n", 2},
	{"-L --timeout --stats", "options conflicts in the list command\n", 2},
	{"-L --daemon --persistent-conn", "options conflicts in the list command\n", 2},
	{"-L -t 10.0.0.1:80 --timeout", "The option 'timeout' conflicts with the 'service-address' option in the 'list' command\n", 2},
	{"-L -c -t 10.0.0.1:80", "The option 'service-address' conflicts with the 'connection' option in the 'list' command\n", 2},
	{"-L --timeout --daemon", "The option 'daemon' conflicts with the 'timeout' option in the 'list' command\n", 2},
	{"-L -n -n", "multiple 'numeric' options specified\n", 2},
	{"-S --exact", "Illegal 'exact' option with the 'save' command\n", 2},
	{"--set 1 2", "--set option requires 3 timeout values\n", 2},
	{"--set 1 2 3 4", "unexpected argument 4\n", 2},
	{"--set a b c", "invalid timeout value `a' specified\n", 2},
	{"--set 1 2 2678401", "invalid timeout value `2678401' specified\n", 2},
	{"--set -1 2 3", "-1: unknown option\n", 255},
	{"--start-daemon", try, 255},
	{"--start-daemon foo", "illegal start-daemon parameter specified\n", 2},
	{"--stop-daemon foo", "illegal start_daemon specified\n", 2},
	{"--start-daemon master --mcast-group 10.0.0.1", "invalid IPv4 mcast-group `10.0.0.1'\n", 2},
	{"--start-daemon master --mcast-group 2001:db8::1", "invalid IPv6 mcast-group `2001:db8::1'\n", 2},
	{"--start-daemon master --sync-maxlen 65508", "illegal sync-maxlen specified\n", 2},
	{"--start-daemon master --mcast-port 0", "illegal mcast-port specified\n", 2},
	{"--start-daemon master --mcast-ttl 256", "illegal mcast-ttl specified\n", 2},
	{"--start-daemon master --syncid 256", "illegal syncid specified\n", 2},
	{"--stop-daemon master --mcast-interface eth0", "Illegal 'mcast-interface' option with the 'stop-daemon' command\n", 2},
	{"-L -h", "invalid option `-h'\n", 2},
	{"-V", try, 255},
	// popt mechanics.
	{"-t 1.2.3.4:80 -A", try, 255},
	{"--l", try, 255},
	{"", try, 255},
	{"--add-service=x", try, 255},
	{"-A -t 10.0.0.1:80 --ops=1", "--ops=1: option does not take an argument\n", 255},
	{"-A -t 10.0.0.1:80 -o==1", "-o==1: option does not take an argument\n", 255},
	{"-Ln=", "-Ln=: option does not take an argument\n", 255},
	{"-Ln=5", "-Ln=5: option does not take an argument\n", 255},
	{"-LZ", "invalid option `-LZ'\n", 2},
	{"-L --zero", "invalid option `--zero'\n", 2},
	{"-L --start-daemon master", "invalid option `master'\n", 2},
	{"-L --set", "invalid option `--set'\n", 2},
	{"-A -t x:80 -", "illegal virtual server address[:port] specified\n", 2},
	{"-A -t 10.0.0.1:80 -", "unexpected argument -\n", 2},
	{"-L -- -n", "unexpected argument -n\n", 2},
	{"foo -L", "unexpected argument foo\n", 2},
	{"-A -t 10.0.0.1:80 -ps rr", "invalid timeout value `s' specified\n", 2},
	{"-A -t 10.0.0.1:80 -p foo", "invalid timeout value `foo' specified\n", 2},
	{"-A --li", "--li: unknown option\n", 255},
	{"-list", "Illegal 'scheduler' option with the 'list' command\n", 2},
	{"-A -t 10.0.0.1:80 --scheduler", "--scheduler: missing argument\n", 255},
	{"-A -t 10.0.0.1:80 --pe", "--pe: missing argument\n", 255},
	// Order of checks: -b before the matrix.
	{"-L -b foo", "invalid scheduler flag `foo'\n", 2},
	// Deviation: ipvsadm crashes here.
	{"-A -t 10.0.0.1:80 -s sh -b ,", "invalid scheduler flag `,'\n", 2},
	{"-A -t 10.0.0.1:80 -b ,,,", "invalid scheduler flag `,,,'\n", 2},
	// Matrix column order: service-address is reported before real-server.
	{"-a -w 3", "You need to supply the 'service-address' option for the 'add-server' command\n", 2},
	{"-a -t 10.0.0.1:80", "You need to supply the 'real-server' option for the 'add-server' command\n", 2},
	{"-d -t 10.0.0.1:80 -r 1.2.3.4 -x 3 -w 4", "Illegal 'weight' option with the 'delete-server' command\n", 2},
	{"-D -t 10.0.0.1:80 -s rr", "Illegal 'scheduler' option with the 'delete-service' command\n", 2},
	{"-R -n", "Illegal 'numeric' option with the 'restore' command\n", 2},
	{"-R x", "unexpected argument x\n", 2},
	{"-Z -n", "Illegal 'numeric' option with the 'zero' command\n", 2},
	{"-S -c", "Illegal 'connection' option with the 'save' command\n", 2},
	{"-L -s rr", "Illegal 'scheduler' option with the 'list' command\n", 2},
	{"-L --syncid 300", "illegal syncid specified\n", 2},
	// -r protocol lookups: -r before -t has no protocol.
	{"-a -r 1.2.3.4:http -t 10.0.0.1:80", "illegal real server address[:port] specified\n", 2},
	{"-a -t 10.0.0.1:80 -r nosuchhost", "illegal real server address[:port] specified\n", 2},
	// -M before the IPv6 address: parsed as IPv4 (and fails here).
	{"-A -M 64abc -t [2001:db8::1]:80", "illegal virtual server persistent mask specified\n", 2},
	{"-A -t 10.0.0.1:80 -M 1.2.3.4.5", "illegal virtual server persistent mask specified\n", 2},
	{"-A -t 10.0.0.1:80 -w 3", "Illegal 'weight' option with the 'add-service' command\n", 2},
	{"-A -f 5 -o --tun-info", "Illegal 'tun-info' option with the 'add-service' command\n", 2},
}

func TestParseErrors(t *testing.T) {
	for _, c := range errorCases {
		cmd, err := parseArgs(c.args)
		if err == nil {
			t.Errorf("%q: no error, got %+v", c.args, cmd)
			continue
		}
		if err.Msg != c.msg || err.Status != c.status {
			t.Errorf("%q: got %q status %d, want %q status %d", c.args, err.Msg, err.Status, c.msg, c.status)
		}
		if err.Argv0 != "ipvsadm" && err.Kind != ErrFail {
			t.Errorf("%q: Argv0 %q", c.args, err.Argv0)
		}
	}
}

func TestTryUsesArgv0(t *testing.T) {
	_, err := Parse([]string{"/usr/sbin/ipvsadm", "-n"}, testEnv)
	var e *Error
	if !errors.As(err, &e) || e.Kind != ErrTry || e.Argv0 != "/usr/sbin/ipvsadm" ||
		e.Msg != "Try `/usr/sbin/ipvsadm -h' or '/usr/sbin/ipvsadm --help' for more information.\n" {
		t.Errorf("got %#v", err)
	}
	if _, err := Parse(nil, testEnv); err == nil {
		t.Errorf("empty argv parsed")
	}
}

func a(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestParseCommands(t *testing.T) {
	v4, v6 := ipvs.AFInet, ipvs.AFInet6
	cases := []struct {
		args  string
		check func(c *Command) bool
	}{
		{"-A -t 10.0.0.1:80", func(c *Command) bool {
			s := c.Service
			return c.Kind == KindAdd && s.Family == v4 && s.Protocol == 6 && s.Address == a("10.0.0.1") && s.Port == 80 &&
				s.Scheduler == "wlc" && s.Flags == 0 && s.Timeout == 0 && s.Netmask == 0xffffffff && s.PEName == ""
		}},
		{"--add-service --tcp-service=10.0.0.1:80 --scheduler=rr --persistent", func(c *Command) bool {
			return c.Service.Scheduler == "rr" && c.Service.Flags == 1 && c.Service.Timeout == 360
		}},
		{"-At10.0.0.1:80 -srr -p600", func(c *Command) bool {
			return c.Service.Scheduler == "rr" && c.Service.Timeout == 600 && c.Service.Port == 80
		}},
		{"-A -t 10.0.0.1:80 -p=600", func(c *Command) bool { return c.Service.Timeout == 600 }},
		{"-A -t 10.0.0.1:80 -s==rr", func(c *Command) bool { return c.Service.Scheduler == "=rr" }},
		{"-A -t 10.0.0.1:80 -s=", func(c *Command) bool { return c.Service.Scheduler == "wlc" }},
		{"-A -t 10.0.0.1:80 --persistent=600", func(c *Command) bool { return c.Service.Timeout == 600 }},
		{"-A -t 10.0.0.1:80 --persistent 600", func(c *Command) bool { return c.Service.Timeout == 600 }},
		{"-A -t 10.0.0.1:80 -p -s rr", func(c *Command) bool { return c.Service.Timeout == 360 && c.Service.Scheduler == "rr" }},
		{"-A -t 10.0.0.1:80 -p 2678400", func(c *Command) bool { return c.Service.Timeout == 2678400 }},
		{"-A -t 10.0.0.1:80 -p +0100", func(c *Command) bool { return c.Service.Timeout == 100 }},
		{"-A -t 10.1:80", func(c *Command) bool { return c.Service.Address == a("10.0.0.1") }},
		{"-A -t 167772161:80", func(c *Command) bool { return c.Service.Address == a("10.0.0.1") }},
		{"-A -t 0x0a000001:80", func(c *Command) bool { return c.Service.Address == a("10.0.0.1") }},
		{"-A -t 010.0.0.1:80", func(c *Command) bool { return c.Service.Address == a("8.0.0.1") }},
		{"-A -t 10.0.0.1:080", func(c *Command) bool { return c.Service.Port == 80 }},
		{"-A -t 10.0.0.1:+80", func(c *Command) bool { return c.Service.Port == 80 }},
		{"-A -t vip1:http", func(c *Command) bool { return c.Service.Address == a("10.0.0.1") && c.Service.Port == 80 }},
		{"-A -u 10.0.0.1:domain", func(c *Command) bool { return c.Service.Protocol == 17 && c.Service.Port == 53 }},
		{"-A -t [2001:db8::1]:443", func(c *Command) bool {
			return c.Service.Family == v6 && c.Service.Address == a("2001:db8::1") && c.Service.Port == 443 && c.Service.Netmask == 128
		}},
		{"-A -t 2001:db8::1 -p", func(c *Command) bool { return c.Service.Family == v6 && c.Service.Port == 0 }},
		{"-A -t [10.0.0.1]:80 -p", func(c *Command) bool { return c.Service.Family == v4 && c.Service.Port == 0 }},
		{"-A -t [vip1:443]:80", func(c *Command) bool { return c.Service.Address == a("10.0.0.1") && c.Service.Port == 443 }},
		{"--sctp-service 10.0.0.2:3868 -A", nil},
		{"-A --sctp-service 10.0.0.2:3868", func(c *Command) bool { return c.Service.Protocol == 132 }},
		{"-A -f 1 -o", func(c *Command) bool { return c.Service.FWMark == 1 && c.Service.Flags == 4 && c.Service.Family == v4 }},
		{"-A -f 4294967295", func(c *Command) bool { return c.Service.FWMark == 4294967295 }},
		{"-A -f 5 -M 64 -6 -p", func(c *Command) bool { return c.Service.Family == v6 && c.Service.Netmask == 128 }},
		{"-A -f 5 -6 -M 64abc -p", func(c *Command) bool { return c.Service.Netmask == 64 }},
		{"-A -f 5 -6 -M 4294967297 -p", func(c *Command) bool { return c.Service.Netmask == 1 }},
		{"-A -f 5 -6 -6", func(c *Command) bool { return c.Service.Family == v6 }},
		{"-A -t 10.0.0.1:80 -M 16 -p", func(c *Command) bool { return c.Service.Netmask == 16 }},
		{"-A -t 10.0.0.1:80 -M 255.255.255.0 -p", func(c *Command) bool { return c.Service.Netmask == 0xffffff00 }},
		{"-A -u 10.0.0.1:53 -o", func(c *Command) bool { return c.Service.Flags == 4 }},
		{"-A -t 10.0.0.1:80 -s sh -b sh-port,,sh-fallback", func(c *Command) bool { return c.Service.Flags == 0x18 }},
		{"-A -t 10.0.0.1:80 -b sh-port -s sh", func(c *Command) bool { return c.Service.Flags == 0x10 }},
		{"-A -t 10.0.0.1:80 -b flag-3", func(c *Command) bool { return c.Service.Flags == 0x20 }},
		{"-A -t 10.0.0.1:80 -s mh -b mh-fallback", func(c *Command) bool { return c.Service.Flags == 0x8 }},
		{"-A -t 10.0.0.1:80 -b=", func(c *Command) bool { return c.Service.Flags == 0 }},
		{"-A -t 10.0.0.1:80 -s 0123456789abcdefXYZ", func(c *Command) bool { return c.Service.Scheduler == "0123456789abcde" }},
		{"-A -t 10.0.0.1:80 --pe 0123456789abcdefXYZ", func(c *Command) bool { return c.Service.PEName == "0123456789abcdef" }},
		{"-E -t 10.0.0.1:80", func(c *Command) bool { return c.Kind == KindEdit && c.Service.Scheduler == "wlc" }},
		{"-a -t 10.0.0.1:80 -r 192.168.0.1:8080", func(c *Command) bool {
			d := c.Destination
			return d.Family == v4 && d.Address == a("192.168.0.1") && d.Port == 80 && d.ForwardMethod == 3 && d.Weight == 1
		}},
		{"-a -t 10.0.0.1:80 -r 192.168.0.1:8080 -m", func(c *Command) bool { return c.Destination.Port == 8080 && c.Destination.ForwardMethod == 0 }},
		{"-a -t 10.0.0.1:80 -r 192.168.0.1:8080 -i", func(c *Command) bool { return c.Destination.Port == 80 && c.Destination.ForwardMethod == 2 }},
		{"-a -t 10.0.0.1:80 -r 192.168.0.1 -m", func(c *Command) bool { return c.Destination.Port == 80 }},
		{"-a -r 192.168.0.1 -m -t 10.0.0.1:80", func(c *Command) bool { return c.Destination.Port == 0 }},
		{"-a -r 192.168.0.1 -t 10.0.0.1:80", func(c *Command) bool { return c.Destination.Port == 80 }},
		{"-a -f 5 -r 192.168.0.1:8080", func(c *Command) bool { return c.Destination.Port == 8080 }},
		{"-a -f 5 -r 192.168.0.1:http", func(c *Command) bool { return c.Destination.Port == 80 }},
		{"-a -t 10.0.0.1:80 -r localhost:http-alt -m", func(c *Command) bool {
			return c.Destination.Address == a("127.0.0.1") && c.Destination.Port == 8080
		}},
		{"-a -t 10.0.0.1:80 -r 1.2.3.4 -w 2147483647 -x 2147483647 -y 0", func(c *Command) bool {
			return c.Destination.Weight == 2147483647 && c.Destination.UpperThreshold == 2147483647
		}},
		{"-a -t 10.0.0.1:80 -r 1.2.3.4 -w 65536", func(c *Command) bool { return c.Destination.Weight == 65536 }},
		{"-a -t 10.0.0.1:80 -r [2001:db8::2]:80 -i", func(c *Command) bool {
			return c.Destination.Family == v6 && c.Service.Family == v4
		}},
		{"-a -t [2001:db8::1]:80 -r 10.0.0.2 -i", func(c *Command) bool {
			return c.Destination.Family == v4 && c.Destination.Address == a("10.0.0.2")
		}},
		{"-a -t 10.0.0.1:80 -r 1.2.3.4 -i --tun-type gue --tun-port 6080 --tun-remcsum", func(c *Command) bool {
			d := c.Destination
			return d.TunnelType == 1 && d.TunnelPort == 6080 && d.TunnelFlags == 2
		}},
		{"-a -t 10.0.0.1:80 -r 1.2.3.4 -i --tun-type gre --tun-nocsum", func(c *Command) bool { return c.Destination.TunnelType == 2 }},
		{"-e -t 10.0.0.1:80 -r 1.2.3.4", func(c *Command) bool { return c.Kind == KindEditDest && c.Destination.Weight == 1 }},
		{"-d -t 10.0.0.1:80 -r 1.2.3.4:99", func(c *Command) bool { return c.Kind == KindDeleteDest && c.Destination.Port == 99 }},
		{"-C", func(c *Command) bool { return c.Kind == KindFlush }},
		{"--clear --sort", func(c *Command) bool { return c.Kind == KindFlush }},
		{"-Z", func(c *Command) bool { return c.Kind == KindZero && c.ZeroAll() }},
		{"-Z -t 0.0.0.0:0", func(c *Command) bool { return c.ZeroAll() }},
		{"-Z -t 10.0.0.1:80", func(c *Command) bool { return !c.ZeroAll() }},
		{"-Z -f 1", func(c *Command) bool { return !c.ZeroAll() }},
		{"--set 900 120 300", func(c *Command) bool { return c.Timeouts == ipvs.Timeouts{TCP: 900, TCPFin: 120, UDP: 300} }},
		{"--set 0 0 2678400", func(c *Command) bool { return c.Timeouts.UDP == 2678400 }},
		{"--set 1 -- 2 3", func(c *Command) bool { return c.Timeouts.TCPFin == 2 }},
		{"--start-daemon master", func(c *Command) bool {
			d := c.Daemon
			return c.Kind == KindStartDaemon && d.State == 1 && d.Interface == "eth0" && d.SyncID == 0 && !d.Group.IsValid()
		}},
		{"--start-daemon=backup --mcast-interface lo --syncid 7 --sync-maxlen 1400 --mcast-group 239.1.2.3 --mcast-port 9000 --mcast-ttl 3",
			func(c *Command) bool {
				d := c.Daemon
				return d.State == 2 && d.Interface == "lo" && d.SyncID == 7 && d.SyncMaxLen == 1400 &&
					d.Group == a("239.1.2.3") && d.Port == 9000 && d.TTL == 3
			}},
		{"--start-daemon master --mcast-group ff02::1:2", func(c *Command) bool { return c.Daemon.Group == a("ff02::1:2") }},
		{"--start-daemon master --mcast-interface 0123456789abcdefXYZ", func(c *Command) bool {
			return c.Daemon.Interface == "0123456789abcde"
		}},
		{"--stop-daemon backup --syncid 3", func(c *Command) bool { return c.Kind == KindStopDaemon && c.Daemon.State == 2 }},
		{"-L", func(c *Command) bool { return c.Kind == KindList && !c.HasService }},
		{"-l", func(c *Command) bool { return c.Kind == KindList }},
		{"--list", func(c *Command) bool { return c.Kind == KindList }},
		{"-Ln", func(c *Command) bool { return c.List.Numeric }},
		{"-lnc", func(c *Command) bool { return c.List.Numeric && c.List.Connection }},
		{"-Lnt10.0.0.1:80", func(c *Command) bool { return c.HasService && c.Service.Port == 80 }},
		{"-L --stats --rate --thresholds --persistent-conn --tun-info --nosort --exact -n --sort --sort",
			func(c *Command) bool {
				l := c.List
				return l.Stats && l.Rate && l.Thresholds && l.PersistentConn && l.TunInfo && l.NoSort && l.Exact && l.Numeric
			}},
		{"-L -X", func(c *Command) bool { return c.List.Exact }},
		{"-L --timeout", func(c *Command) bool { return c.List.Timeout }},
		{"-L --daemon --syncid 5", func(c *Command) bool { return c.List.Daemon }},
		{"-L -c --persistent-conn", func(c *Command) bool { return c.List.Connection && c.List.PersistentConn }},
		{"-S", func(c *Command) bool { return c.Kind == KindSave }},
		{"-Sn", func(c *Command) bool { return c.Kind == KindSave && c.List.Numeric }},
		{"-R", func(c *Command) bool { return c.Kind == KindRestore }},
		{"-h", func(c *Command) bool { return c.Kind == KindHelp }},
		{"-h -L", func(c *Command) bool { return c.Kind == KindHelp }},
		{"--help", func(c *Command) bool { return c.Kind == KindHelp }},
		{"-hq", func(c *Command) bool { return c.Kind == KindHelp }},
		{"-v", func(c *Command) bool { return c.Kind == KindVersion }},
		{"--version", func(c *Command) bool { return c.Kind == KindVersion }},
	}
	for _, c := range cases {
		cmd, err := parseArgs(c.args)
		if c.check == nil {
			if err == nil {
				t.Errorf("%q: parsed", c.args)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %q", c.args, err.Msg)
			continue
		}
		if !c.check(cmd) {
			t.Errorf("%q: unexpected %+v", c.args, cmd)
		}
	}
}

func TestPosixlyCorrect(t *testing.T) {
	env := testEnv
	env.PosixlyCorrect = true
	_, err := Parse([]string{"ipvsadm", "-A", "-t", "10.0.0.1:80", "foo", "-s"}, env)
	if err == nil || err.Error() != "unexpected argument foo\n" {
		t.Errorf("got %v", err)
	}
	_, err = Parse([]string{"ipvsadm", "-A", "-t", "10.0.0.1:80", "foo", "-s"}, testEnv)
	if err == nil || err.Error() != "-s: missing argument\n" {
		t.Errorf("got %v", err)
	}
}

func TestEveryOptionLongAndShort(t *testing.T) {
	// Each option given in every form it has must parse the same.
	forms := [][]string{
		{"-A -t 10.0.0.1:80 -s rr", "--add-service --tcp-service 10.0.0.1:80 --scheduler rr", "-At 10.0.0.1:80 -s=rr", "--add-service --tcp-service=10.0.0.1:80 --scheduler=rr"},
		{"-A -u 10.0.0.1:53", "-A --udp-service 10.0.0.1:53", "-Au10.0.0.1:53"},
		{"-A -f 3", "-A --fwmark-service 3", "-Af3", "-A -f=3"},
		{"-A -f 3 -6", "-A -f 3 --ipv6"},
		{"-A -f 3 -o", "-A -f 3 --ops"},
		{"-A -f 3 -p 10 -M 255.0.0.0", "-A -f 3 --persistent=10 --netmask=255.0.0.0", "-A -f 3 -p10 -M255.0.0.0"},
		{"-a -t 10.0.0.1:80 -r 1.2.3.4 -m -w 2 -x 4 -y 3", "--add-server --tcp-service 10.0.0.1:80 --real-server 1.2.3.4 --masquerading --weight 2 --u-threshold 4 --l-threshold 3", "-at10.0.0.1:80 -r1.2.3.4 -mw2 -x4 -y3"},
		{"-e -t 10.0.0.1:80 -r 1.2.3.4 -i", "--edit-server -t 10.0.0.1:80 -r 1.2.3.4 --ipip"},
		{"-e -t 10.0.0.1:80 -r 1.2.3.4 -g", "--edit-server -t 10.0.0.1:80 -r 1.2.3.4 --gatewaying"},
		{"-d -t 10.0.0.1:80 -r 1.2.3.4", "--delete-server -t 10.0.0.1:80 -r 1.2.3.4"},
		{"-D -t 10.0.0.1:80", "--delete-service -t 10.0.0.1:80"},
		{"-E -t 10.0.0.1:80", "--edit-service -t 10.0.0.1:80"},
		{"-Z", "--zero"},
		{"-C", "--clear"},
		{"-S -n", "--save --numeric", "-Sn"},
		{"-R", "--restore"},
		{"-L -c -n", "--list --connection --numeric", "-Lcn", "-lnc"},
	}
	for _, group := range forms {
		first, err := parseArgs(group[0])
		if err != nil {
			t.Errorf("%q: %v", group[0], err)
			continue
		}
		for _, f := range group[1:] {
			c, err := parseArgs(f)
			if err != nil {
				t.Errorf("%q: %v", f, err)
				continue
			}
			if c.Kind != first.Kind || c.Service != first.Service || c.Destination != first.Destination ||
				c.List != first.List || c.Options != first.Options {
				t.Errorf("%q differs from %q:\n%+v\n%+v", f, group[0], c, first)
			}
		}
	}
}

func TestMatrixShape(t *testing.T) {
	for i, row := range commandsVOptions {
		if len(row) != int(numberOfOpts) {
			t.Errorf("row %d (%s) has %d columns", i, cmdNames[i], len(row))
		}
	}
	// Spot checks against ipvsadm's table.
	checks := []struct {
		k    Kind
		o    Opt
		cell byte
	}{
		{KindList, OptSyncID, ' '}, {KindList, OptConnection, '1'}, {KindList, OptTunInfo, ' '},
		{KindAddDest, OptTunRemCsum, ' '}, {KindStartDaemon, OptSyncMaxLen, ' '}, {KindStopDaemon, OptSyncID, ' '},
		{KindZero, OptService, ' '}, {KindSave, OptNumeric, ' '}, {KindAdd, OptSchedFlags, ' '}, {KindEdit, OptOnePacket, ' '},
	}
	for _, c := range checks {
		if got := commandsVOptions[c.k-KindAdd][c.o]; got != c.cell {
			t.Errorf("%s/%s = %q, want %q", c.k, c.o, got, c.cell)
		}
	}
}

func TestNumbers(t *testing.T) {
	cases := []struct {
		s        string
		min, max int64
		want     int64
	}{
		{"80", 0, 65535, 80}, {" 80", 0, 65535, 80}, {"+80", 0, 65535, 80}, {"080", 0, 65535, 80},
		{"80 ", 0, 65535, -1}, {"0x50", 0, 65535, -1}, {"", 0, 65535, -1}, {"+", 0, 65535, -1},
		{"-0", 0, 65535, 0}, {"65536", 0, 65535, -1}, {"99999999999999999999", 0, 65535, -1},
		{"\t\n7", 0, 10, 7},
	}
	for _, c := range cases {
		if got := stringToNumber(c.s, c.min, c.max); got != c.want {
			t.Errorf("stringToNumber(%q) = %d, want %d", c.s, got, c.want)
		}
	}
	aton := map[string]string{
		"10.0.0.1": "10.0.0.1", "10.1": "10.0.0.1", "167772161": "10.0.0.1", "0x0a000001": "10.0.0.1",
		"010.0.0.1": "8.0.0.1", "1.2.3.4 junk": "1.2.3.4", "0": "0.0.0.0", "1.2.65535": "1.2.255.255",
		"1.16777215": "1.255.255.255",
	}
	for in, want := range aton {
		b, ok := inetAton(in)
		if !ok || netip.AddrFrom4(b).String() != want {
			t.Errorf("inet_aton(%q) = %v %v, want %s", in, b, ok, want)
		}
	}
	for _, bad := range []string{"", "a", "1.2.3.4.5", "256.1.1.1", "08", "1.2.3.256", "-1", " 1", "1.2.65536", "1..2", "4294967296", "0x"} {
		if b, ok := inetAton(bad); ok {
			t.Errorf("inet_aton(%q) accepted: %v", bad, b)
		}
	}
	for _, good := range []string{"1.2.3.4", "0.0.0.0", "255.255.255.255"} {
		if _, ok := InetPton4(good); !ok {
			t.Errorf("inet_pton4(%q) failed", good)
		}
	}
	for _, bad := range []string{"01.2.3.4", "1.2.3", "1.2.3.4.5", "1.2.3.256", "1.2.3.4 ", "1..3.4"} {
		if _, ok := InetPton4(bad); ok {
			t.Errorf("inet_pton4(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"fe80::1%eth0", "1.2.3.4", "1::2:3:4:5:6:7:8", "::ffff:01.2.3.4", "12345::1"} {
		if _, ok := InetPton6(bad); ok {
			t.Errorf("inet_pton6(%q) accepted", bad)
		}
	}
}

// TestCommandKinds: each command option, short and long, is its Kind.
func TestCommandKinds(t *testing.T) {
	for args, want := range map[string]Kind{
		"-A -t 10.0.0.1:80": KindAdd, "--add-service -t 10.0.0.1:80": KindAdd,
		"-E -t 10.0.0.1:80": KindEdit, "-D -t 10.0.0.1:80": KindDelete,
		"-a -t 10.0.0.1:80 -r 10.0.0.2": KindAddDest, "-e -t 10.0.0.1:80 -r 10.0.0.2": KindEditDest,
		"-d -t 10.0.0.1:80 -r 10.0.0.2": KindDeleteDest, "--delete-server -t 10.0.0.1:80 -r 10.0.0.2": KindDeleteDest,
		"-C": KindFlush, "-L": KindList, "-l": KindList, "--list": KindList, "-Z": KindZero, "--set 1 2 3": KindSetTimeout,
		"-R": KindRestore, "-S": KindSave, "--start-daemon master": KindStartDaemon, "--stop-daemon backup": KindStopDaemon,
		"-h": KindHelp, "--version": KindVersion,
	} {
		if c, err := parseArgs(args); err != nil {
			t.Errorf("%s: %v", args, err)
		} else if c.Kind != want {
			t.Errorf("%s: kind %v, want %v", args, c.Kind, want)
		}
	}
	for _, args := range []string{"-n", "-t 10.0.0.1:80", "--start-daemon"} {
		if _, err := parseArgs(args); err == nil {
			t.Errorf("%s: no error", args)
		}
	}
}
