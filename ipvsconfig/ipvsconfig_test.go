package ipvsconfig

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/ipvs-tools/ipvs"
)

func TestParseServiceKey(t *testing.T) {
	tests := []struct {
		in   string
		want ipvs.ServiceKey
		out  string
	}{
		{"tcp:10.0.0.1:80", ipvs.ServiceKey{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80}, ""},
		{"UDP:[2001:db8::1]:53", ipvs.ServiceKey{Family: ipvs.AFInet6, Protocol: ipvs.ProtoUDP, Address: netip.MustParseAddr("2001:db8::1"), Port: 53}, "udp:[2001:db8::1]:53"},
		{"sctp:10.0.0.1", ipvs.ServiceKey{Family: ipvs.AFInet, Protocol: ipvs.ProtoSCTP, Address: netip.MustParseAddr("10.0.0.1")}, "sctp:10.0.0.1:0"},
		{"tcp:2001:db8::1", ipvs.ServiceKey{Family: ipvs.AFInet6, Protocol: ipvs.ProtoTCP, Address: netip.MustParseAddr("2001:db8::1")}, "tcp:[2001:db8::1]:0"},
		{"fwmark:7", ipvs.ServiceKey{Family: ipvs.AFInet, FWMark: 7}, ""},
		{"fwmark:7:v6", ipvs.ServiceKey{Family: ipvs.AFInet6, FWMark: 7}, ""},
		{"fwmark:4294967295:inet6", ipvs.ServiceKey{Family: ipvs.AFInet6, FWMark: 4294967295}, "fwmark:4294967295:v6"},
	}
	for _, tt := range tests {
		got, err := ParseServiceKey(tt.in)
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: got %+v want %+v", tt.in, got, tt.want)
		}
		out := tt.out
		if out == "" {
			out = tt.in
		}
		if s := FormatServiceKey(got); s != out {
			t.Errorf("%s: formatted as %q, want %q", tt.in, s, out)
		}
	}
	for _, bad := range []string{"10.0.0.1:80", "tcp:host:80", "tcp:10.0.0.1:99999", "icmp:10.0.0.1:1", "fwmark:0", "fwmark:x", "fwmark:1:v7", "tcp:[fe80::1%eth0]:80", "tcp:2001:db8::1:80x"} {
		if _, err := ParseServiceKey(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

const sampleYAML = `apiVersion: ipvsctl/v1
timeouts: {tcp: 900, tcpFin: 120, udp: 300}
daemons:
  - state: master
    interface: eth0
    syncID: 7
sysctls:
  drop_entry: 1
  sync_threshold: "3 50"
services:
  - protocol: tcp
    address: 10.0.0.1
    port: 80
    destinations:
      - address: 192.168.0.1
      - address: 192.168.0.2
        port: 8080
        forward: masq
        weight: 0
  - fwmark: 7
    family: inet6
    scheduler: sh
    schedFlags: [sh-port]
    persistence: {timeout: 60, prefixLength: 64}
    destinations:
      - address: 2001:db8::10
      - address: 10.1.1.1
        forward: tunnel
        tunnel: {type: gue, port: 6080, checksum: remcsum}
`

// mustDesired parses src as the file name and returns what it asks for.
func mustDesired(t *testing.T, name, src string) *Desired {
	t.Helper()
	d, err := Parse(name, []byte(src), "")
	if err != nil {
		t.Fatal(err)
	}
	des, err := d.Desired()
	if err != nil {
		t.Fatal(err)
	}
	return des
}

func TestDesiredDefaults(t *testing.T) {
	got := mustDesired(t, "x.yaml", sampleYAML)
	want := &Desired{
		Timeouts:      &ipvs.Timeouts{TCP: 900, TCPFin: 120, UDP: 300},
		ManageDaemons: true,
		Daemons:       []ipvs.Daemon{{State: ipvs.DaemonMaster, Interface: "eth0", SyncID: 7}},
		Sysctls:       map[string]string{"drop_entry": "1", "sync_threshold": "3 50"},
		Services: []ipvs.VirtualServer{
			{Service: ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80, Scheduler: "wlc", Netmask: 0xffffffff},
				Destinations: []ipvs.Destination{
					{Family: ipvs.AFInet, Address: netip.MustParseAddr("192.168.0.1"), Port: 80, ForwardMethod: ipvs.FwdRoute, Weight: 1},
					{Family: ipvs.AFInet, Address: netip.MustParseAddr("192.168.0.2"), Port: 8080, ForwardMethod: ipvs.FwdMasq, Weight: 0},
				}},
			{Service: ipvs.Service{Family: ipvs.AFInet6, FWMark: 7, Scheduler: "sh", Flags: ipvs.SvcSched2 | ipvs.SvcPersistent, Timeout: 60, Netmask: 64},
				Destinations: []ipvs.Destination{
					{Family: ipvs.AFInet6, Address: netip.MustParseAddr("2001:db8::10"), ForwardMethod: ipvs.FwdRoute, Weight: 1},
					{Family: ipvs.AFInet, Address: netip.MustParseAddr("10.1.1.1"), ForwardMethod: ipvs.FwdTunnel, Weight: 1,
						TunnelType: ipvs.TunnelGUE, TunnelPort: 6080, TunnelFlags: ipvs.TunnelRemCsum},
				}},
		},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("Desired (-want +got):\n%s", diff)
	}
}

// TestRoundTrip: kernel objects -> document -> JSON/YAML -> document ->
// kernel objects gives the same objects.
func TestRoundTrip(t *testing.T) {
	des := mustDesired(t, "x.yaml", sampleYAML)
	// A non-prefix IPv4 mask must survive too.
	des.Services = append(des.Services, ipvs.VirtualServer{Service: ipvs.Service{Family: ipvs.AFInet,
		Protocol: ipvs.ProtoUDP, Address: netip.MustParseAddr("10.0.0.9"), Port: 53, Scheduler: "rr",
		Flags: ipvs.SvcPersistent | ipvs.SvcOnePacket, Timeout: 10, Netmask: 0xff00ff00, PEName: "sip"}})
	for _, f := range []Format{FormatJSON, FormatYAML} {
		doc := &Document{Services: FromKernel(des.Services, FromOptions{Stats: true}),
			Timeouts: FromKernelTimeouts(*des.Timeouts), Daemons: FromKernelDaemons(des.Daemons)}
		b, err := Marshal(doc, f)
		if err != nil {
			t.Fatal(err)
		}
		d2, err := Parse("y", b, "")
		if err != nil {
			t.Fatalf("%s: %v\n%s", f, err, b)
		}
		got, err := d2.Desired()
		if err != nil {
			t.Fatalf("%s: %v\n%s", f, err, b)
		}
		if diff := cmp.Diff(des.Services, got.Services, cmpopts.EquateComparable(netip.Addr{}), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s round trip (-want +got):\n%s", f, diff)
		}
		if diff := cmp.Diff(des.Daemons, got.Daemons, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
			t.Errorf("%s daemons (-want +got):\n%s", f, diff)
		}
	}
}

func TestValidationErrorsWithLines(t *testing.T) {
	yamlDoc := `apiVersion: ipvsctl/v1
sysctls: {drop_entry: 5}
services:
  - protocol: tcp
    address: 10.0.0.1
    port: 80
    destinations:
      - address: 192.168.0.1
        tunnel: {type: gue}
      - address: 2001:db8::1
      - address: 192.168.0.1
  - protocol: tcp
    address: 10.0.0.1
    port: 80
  - fwmark: 3
    persistence: {prefixLength: 40}
    destinations:
      - address: 10.0.0.2
        weight: 3000000000
        lowerThreshold: 5
`
	got := validationErrors(t, "t.yaml", yamlDoc)
	want := []string{
		"t.yaml:2: sysctls.drop_entry: invalid value: a defense mode is 0 (never), 1 or 2 (automatic) or 3 (always)",
		"t.yaml:9: services[0].destinations[0].tunnel: tunnel options need forward: tunnel",
		"t.yaml:9: services[0].destinations[0].tunnel.port: missing: a gue tunnel needs the remote UDP port",
		"t.yaml:10: services[0].destinations[1].address: an inet6 destination in an inet service needs forward: tunnel (the kernel allows mixed address families only for tunnelling)",
		"t.yaml:11: services[0].destinations[2]: destination 192.168.0.1:80 is listed twice (first at line 8)",
		"t.yaml:12: services[1]: service tcp:10.0.0.1:80 is listed twice (first at line 4)",
		"t.yaml:16: services[2].persistence.prefixLength: 40 is out of range 0..32 for IPv4",
		"t.yaml:19: services[2].destinations[0].weight: 3000000000 is out of range 0..2147483647",
		"t.yaml:20: services[2].destinations[0].lowerThreshold: 5 is above upperThreshold 0",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestJSONErrorLines(t *testing.T) {
	doc := "{\n\t\"apiVersion\": \"ipvsctl/v1\",\n\t\"services\": [\n\t\t{\"protocol\": \"tcp\", \"address\": \"10.0.0.1\", \"port\": 80},\n\t\t{\"protocol\": \"tcp\",\n\t\t \"address\": \"10.0.0.300\", \"port\": 80}\n\t]\n}\n"
	d, err := Parse("t.json", []byte(doc), "")
	if err != nil {
		t.Fatal(err)
	}
	err = d.Validate()
	want := `t.json:6: services[1].address: "10.0.0.300" is not an IP address (names are not resolved)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	for _, tt := range []struct{ doc, want string }{
		{"{\"apiVersion\": \"ipvsctl/v1\",\n \"services\": [{\"protocol\": \"tcp\", \"port\": \"80\"}]}", "t.json:2: services[0].port: want a number in 0..65535, not a string"},
		{"{\"apiVersion\": \"ipvsctl/v1\",\n \"services\": [{\"protocol\": \"tcp\", \"port\": -1}]}", "t.json:2: services[0].port: want a number in 0..65535, not -1"},
		{`{"apiVersion": "ipvsctl/v1", "services": [{"port": 80, "destinations": [{"weight": 1}]}, {"port": 81, "destinations": [{"weight": 1}, {"port": 8080, "weight": "2"}]}]}`,
			"t.json:1: services[1].destinations[1].weight: want a number in 0..4294967295, not a string"},
		{`{"apiVersion": "ipvsctl/v1", "services": [{"port": 80}, {"port": {"x": [1]}}]}`, "t.json:1: services[1].port: want a number in 0..65535, not a mapping"},
		{`{"apiVersion": 1}`, "t.json:1: apiVersion: want a string, not a number"},
		{`{"apiVersion": "ipvsctl/v1", "services": {"port": 80}}`, "t.json:1: services: want a list, not a mapping"},
		{"{\"apiVersion\": \"ipvsctl/v1\",\n \"services\": [\n {\"bogus\": 1}]}", `t.json:3: unknown field "bogus" (see docs/ipvsctl-json.md)`},
		{"{\"apiVersion\": \"ipvsctl/v1\",\n \"services\": [\n {]}", "t.json:3: invalid character ']' looking for beginning of object key string"},
	} {
		_, err := Parse("t.json", []byte(tt.doc), "")
		if err == nil || err.Error() != tt.want {
			t.Errorf("got %v, want %s", err, tt.want)
		}
	}
	// YAML's decoding messages, in the document's words.
	for _, tt := range []struct{ doc, want string }{
		{"apiVersion: ipvsctl/v1\nservices:\n  - protocol: tcp\n    bogus: 1\n", `t.yaml:4: unknown field "bogus" in a service (see docs/ipvsctl-json.md)`},
		{"apiVersion: ipvsctl/v1\nservices:\n  - {protocol: tcp, port: -1}\n", "t.yaml:3: services[0].port: want a number in 0..65535, not -1"},
		{"apiVersion: ipvsctl/v1\nservices:\n  - {protocol: tcp, destinations: [{address: 192.168.0.1, weight: x}]}\n", "t.yaml:3: services[0].destinations[0].weight: want a number in 0..4294967295, not x"},
		{"apiVersion: ipvsctl/v1\nservices:\n  - {protocol: tcp, onePacket: maybe}\n", "t.yaml:3: services[0].onePacket: want true or false, not maybe"},
		{"apiVersion: ipvsctl/v1\nservices: 3\n", "t.yaml:2: services: want a list, not 3"},
		{"apiVersion: ipvsctl/v1\nservices:\n  - {port: -1, persistence: {timeout: -1}}\n  - port: 80\n  - port: -1\n",
			"t.yaml:3: services[0].port: want a number in 0..65535, not -1\nt.yaml:3: services[0].persistence.timeout: want a number in 0..4294967295, not -1\nt.yaml:5: services[2].port: want a number in 0..65535, not -1"},
		{"apiVersion: ipvsctl/v1\nservices:\n  - {protocol: tcp, healthCheck: {type: tcp, bogus: 1}}\n", `t.yaml:3: unknown field "bogus" in a healthCheck (see docs/ipvsctl-json.md)`},
	} {
		_, err := Parse("t.yaml", []byte(tt.doc), "")
		if err == nil || err.Error() != tt.want {
			t.Errorf("got %v, want %s", err, tt.want)
		}
	}
}

func TestParseRules(t *testing.T) {
	rules := "# saved by ipvsadm -Sn\n" +
		"-A -t 10.0.0.1:80 -s rr -p 300\n" +
		"-a -t 10.0.0.1:80 -r 192.168.0.1:8080 -m -w 3\n" +
		"-a -t 10.0.0.1:80 -r 192.168.0.2:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum\n" +
		"-A -f 7 -6 -s mh -b mh-port\n" +
		"-a -f 7 -6 -r [2001:db8::10]:0 -m -w 1\n" +
		"--set 900 60 300\n" +
		"--start-daemon master --mcast-interface eth0 --syncid 9\n"
	want := mustDesired(t, "t.rules", rules)
	if len(want.Services) != 2 || len(want.Services[0].Destinations) != 2 || len(want.Services[1].Destinations) != 1 {
		t.Fatalf("services: %+v", want.Services)
	}
	s := want.Services[0].Service
	if s.Scheduler != "rr" || s.Flags != ipvs.SvcPersistent || s.Timeout != 300 || s.Port != 80 {
		t.Errorf("service 0: %+v", s)
	}
	if d1 := want.Services[0].Destinations[1]; d1.TunnelType != ipvs.TunnelGUE || d1.TunnelPort != 6080 || d1.TunnelFlags != ipvs.TunnelCsum {
		t.Errorf("tunnel destination: %+v", d1)
	}
	if f := want.Services[1].Service; f.FWMark != 7 || f.Family != ipvs.AFInet6 || f.Flags != ipvs.SvcSched2 {
		t.Errorf("fwmark service: %+v", f)
	}
	if want.Timeouts == nil || *want.Timeouts != (ipvs.Timeouts{TCP: 900, TCPFin: 60, UDP: 300}) {
		t.Errorf("timeouts: %+v", want.Timeouts)
	}
	if !want.ManageDaemons || len(want.Daemons) != 1 || want.Daemons[0].SyncID != 9 || want.Daemons[0].Interface != "eth0" {
		t.Errorf("daemons: %+v", want.Daemons)
	}
	// Without --start-daemon lines the document leaves daemons alone.
	d, err := Parse("t.rules", []byte("-A -u 10.0.0.1:53\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if w, err := d.Desired(); err != nil || w.ManageDaemons || w.Timeouts != nil {
		t.Errorf("plain rules manage daemons or timeouts: %+v, %v", w, err)
	}

	for _, tt := range []struct{ rules, want string }{
		{"-A -t 10.0.0.1:80\n-A -t 10.0.0.1\n", "t.rules:2: Zero port specified for non-persistent service"},
		{"-A -t 10.0.0.1:80\n\n-A -t 10.0.0.1:80\n", "t.rules:3: service TCP 10.0.0.1:80 is already defined"},
		{"-a -t 10.0.0.1:80 -r 1.2.3.4\n", "t.rules:1: service TCP 10.0.0.1:80 is not defined"},
		{"-A -t 10.0.0.1:80\n-D -t 10.0.0.1:80\n", "t.rules:2: only -A, -a, --set and --start-daemon lines describe a configuration, not delete-service"},
		{"--set 1 2 3\n--set 4 5 6\n", "t.rules:2: --set is given twice"},
		{"-A -t 10.0.0.1:80 --bogus\n", "t.rules:1: --bogus: unknown option"},
	} {
		_, err := Parse("t.rules", []byte(tt.rules), "")
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q: got %v, want %s", tt.rules, err, tt.want)
		}
	}
}

func TestDetectFormat(t *testing.T) {
	for _, tt := range []struct {
		name, data string
		want       Format
	}{
		{"a.json", "", FormatJSON},
		{"a.yml", "", FormatYAML},
		{"-", "  {\"a\":1}", FormatJSON},
		{"-", "# c\n-A -t 10.0.0.1:80 -s rr\n", FormatRules},
		{"-", "--start-daemon master\n", FormatRules},
		{"-", "---\napiVersion: x\n", FormatYAML},
		{"-", "- a\n", FormatYAML},
	} {
		if got := DetectFormat(tt.name, []byte(tt.data)); got != tt.want {
			t.Errorf("%s %q: got %s want %s", tt.name, tt.data, got, tt.want)
		}
	}
}

func TestScope(t *testing.T) {
	k := func(s string) ipvs.ServiceKey {
		key, err := ParseServiceKey(s)
		if err != nil {
			t.Fatal(err)
		}
		return key
	}
	tests := []struct {
		scope string
		in    []string
		out   []string
	}{
		{"", []string{"tcp:1.2.3.4:80", "fwmark:1"}, nil},
		{"vip=10.96.0.0/12", []string{"tcp:10.96.0.1:80", "udp:10.111.255.255:53"}, []string{"tcp:10.112.0.1:80", "fwmark:5", "tcp:[fd00::1]:80"}},
		{"vip=10.96.0.0/12,fwmark=100-199", []string{"tcp:10.96.0.1:80", "fwmark:100", "fwmark:199:v6"}, []string{"fwmark:200", "tcp:10.0.0.1:80"}},
		{"port=80,port=443,proto=tcp", []string{"tcp:1.1.1.1:80", "tcp:[::1]:443"}, []string{"udp:1.1.1.1:80", "tcp:1.1.1.1:8080", "fwmark:80"}},
		{"vip=fd00::/8,port=1000-2000", []string{"tcp:[fd00::1]:1500"}, []string{"tcp:[fd00::1]:999", "tcp:[fe00::1]:1500"}},
		{"vip=10.0.0.1", []string{"tcp:10.0.0.1:1"}, []string{"tcp:10.0.0.2:1"}},
		{"family=inet6", []string{"tcp:[::1]:1", "fwmark:3:v6"}, []string{"tcp:1.1.1.1:1", "fwmark:3"}},
		{"family=inet6,fwmark=1-5", []string{"fwmark:3:v6"}, []string{"fwmark:3", "tcp:[::1]:1"}},
	}
	for _, tt := range tests {
		sc, err := ParseScope(tt.scope)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range tt.in {
			if !sc.Match(k(s)) {
				t.Errorf("scope %q: %s should match", tt.scope, s)
			}
		}
		for _, s := range tt.out {
			if sc.Match(k(s)) {
				t.Errorf("scope %q: %s should not match", tt.scope, s)
			}
		}
	}
	for _, bad := range []string{"vip", "vip=x", "port=70000", "port=5-1", "fwmark=a", "colour=red", "family=v7"} {
		if _, err := ParseScope(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestNames pins the document names: every spelling each parser takes, its
// error for an unknown name, and the names written back.
func TestNames(t *testing.T) {
	parse := map[string]func(string) (uint64, error){
		"family":   func(s string) (uint64, error) { v, err := parseFamily(s); return uint64(v), err },
		"protocol": func(s string) (uint64, error) { v, err := ParseProtocol(s); return uint64(v), err },
		"forward":  func(s string) (uint64, error) { v, err := ParseForward(s); return uint64(v), err },
		"tunnel":   func(s string) (uint64, error) { v, err := ParseTunnelType(s); return uint64(v), err },
		"checksum": func(s string) (uint64, error) { v, err := ParseChecksum(s); return uint64(v), err },
		"flag":     func(s string) (uint64, error) { v, err := ParseSchedFlag(s); return uint64(v), err },
		"state":    func(s string) (uint64, error) { v, err := ParseDaemonState(s); return uint64(v), err },
	}
	for _, c := range []struct {
		kind, in string
		want     uint64
		err      string
	}{
		{"family", "", 0, ""}, {"family", "V4", 2, ""}, {"family", "4", 2, ""}, {"family", "inet", 2, ""},
		{"family", "ipv4", 2, ""}, {"family", "v6", 10, ""}, {"family", "6", 10, ""}, {"family", "Inet6", 10, ""},
		{"family", "ipv6", 10, ""}, {"family", "v5", 0, `unknown address family "v5" (want inet or inet6)`},
		{"protocol", "TCP", 6, ""}, {"protocol", "udp", 17, ""}, {"protocol", "sctp", 132, ""},
		{"protocol", "", 0, `unknown protocol "" (want tcp, udp or sctp)`},
		{"forward", "NAT", 0, ""}, {"forward", "gate", 3, ""}, {"forward", "ipip", 2, ""}, {"forward", "bypass", 4, ""},
		{"forward", "x", 0, `unknown forwarding method "x" (want route, masq, tunnel, local or bypass)`},
		{"tunnel", "", 0, ""}, {"tunnel", "ipip", 0, ""}, {"tunnel", "GUE", 1, ""}, {"tunnel", "gre", 2, ""},
		{"tunnel", "vxlan", 0, `unknown tunnel type "vxlan" (want ipip, gue or gre)`},
		{"checksum", "", 0, ""}, {"checksum", "none", 0, ""}, {"checksum", "nocsum", 0, ""}, {"checksum", "csum", 1, ""},
		{"checksum", "RemCsum", 2, ""}, {"checksum", "x", 0, `unknown tunnel checksum "x" (want nocsum, csum or remcsum)`},
		{"flag", "flag-1", 8, ""}, {"flag", "sh-fallback", 8, ""}, {"flag", "mh-fallback", 8, ""},
		{"flag", "flag-2", 16, ""}, {"flag", "SH-port", 16, ""}, {"flag", "mh-port", 16, ""}, {"flag", "flag-3", 32, ""},
		{"flag", "flag-4", 0, `unknown scheduler flag "flag-4" (want flag-1, flag-2, flag-3, sh-fallback, sh-port, mh-fallback or mh-port)`},
		{"state", "Master", 1, ""}, {"state", "backup", 2, ""},
		{"state", "none", 0, `unknown sync daemon state "none" (want master or backup)`},
	} {
		got, err := parse[c.kind](c.in)
		if gotErr := fmt.Sprint(err); err != nil && gotErr != c.err || err == nil && c.err != "" || got != c.want {
			t.Errorf("%s %q: %d, %v; want %d, %q", c.kind, c.in, got, err, c.want, c.err)
		}
	}
	for m, want := range map[ipvs.ForwardMethod]string{
		ipvs.FwdMasq: "masq", ipvs.FwdLocal: "local", ipvs.FwdTunnel: "tunnel", ipvs.FwdRoute: "route",
		ipvs.FwdBypass: "bypass", 5: "fwd(5)",
	} {
		if got := ForwardName(m); got != want {
			t.Errorf("ForwardName(%d) = %q, want %q", uint32(m), got, want)
		}
	}
	for f, want := range map[ipvs.TunnelFlags]string{
		ipvs.TunnelNoCsum: "nocsum", ipvs.TunnelCsum: "csum", ipvs.TunnelRemCsum: "remcsum", 3: "3", 16: "16",
	} {
		if got := ChecksumName(f); got != want {
			t.Errorf("ChecksumName(%d) = %q, want %q", uint16(f), got, want)
		}
	}
	for p, want := range map[ipvs.Protocol]string{ipvs.ProtoTCP: "tcp", ipvs.ProtoUDP: "udp", ipvs.ProtoSCTP: "sctp", 1: "proto(1)"} {
		if got := ProtocolName(p); got != want {
			t.Errorf("ProtocolName(%d) = %q, want %q", uint16(p), got, want)
		}
	}
}

// TestAddressFamilyErrors: the address and family fields of services and
// destinations, alone and together.
func TestAddressFamilyErrors(t *testing.T) {
	doc := "{\"apiVersion\": \"ipvsctl/v1\", \"services\": [\n" +
		"{\"protocol\": \"tcp\", \"address\": \"10.0.0.1\", \"family\": \"inet6\", \"port\": 80},\n" +
		"{\"protocol\": \"tcp\", \"port\": 80, \"family\": \"v7\"},\n" +
		"{\"protocol\": \"tcp\", \"address\": \"fe80::1%eth0\", \"family\": \"inet\", \"port\": 80},\n" +
		"{\"protocol\": \"tcp\", \"address\": \"2001:db8::1\", \"family\": \"ipv6\", \"port\": 80, \"destinations\": [\n" +
		"{\"address\": \"::ffff:10.0.0.2\", \"family\": \"inet6\", \"forward\": \"tunnel\"},\n" +
		"{\"family\": \"x\"},\n" +
		"{\"address\": \"host\", \"family\": \"inet\"}]}]}\n"
	got := validationErrors(t, "t.json", doc)
	want := []string{
		"t.json:2: services[0].family: inet6 does not match the address 10.0.0.1",
		"t.json:3: services[1].address: missing: the virtual IP address",
		`t.json:3: services[1].family: unknown address family "v7" (want inet or inet6)`,
		`t.json:4: services[2].address: "fe80::1%eth0": zones are not allowed`,
		"t.json:6: services[3].destinations[0].family: inet6 does not match the address 10.0.0.2",
		"t.json:7: services[3].destinations[1].address: missing: the real server's IP address",
		`t.json:7: services[3].destinations[1].family: unknown address family "x" (want inet or inet6)`,
		`t.json:8: services[3].destinations[2].address: "host" is not an IP address (names are not resolved)`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

// validationErrors parses doc, which must parse, and returns the lines of
// the error Validate must return.
func validationErrors(t *testing.T, name, doc string) []string {
	t.Helper()
	d, err := Parse(name, []byte(doc), "")
	if err != nil {
		t.Fatal(err)
	}
	err = d.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	return strings.Split(err.Error(), "\n")
}
