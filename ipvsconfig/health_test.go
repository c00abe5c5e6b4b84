package ipvsconfig

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/healthcheck"
)

// issueExample is the document the agent's issue says must be accepted as
// written.
const issueExample = `apiVersion: ipvsctl/v1
services:
  - protocol: tcp
    address: 10.0.0.1
    port: 80
    scheduler: wrr
    healthCheck: {type: http, path: /, expectStatus: [200], interval: 1s, timeout: 500ms, rise: 2, fall: 2}
    destinations:
      - {address: 192.168.0.1, forward: masq}
      - {address: 192.168.0.2, forward: masq, weight: 3, healthCheck: {type: tcp, interval: 2s}}
`

var cmpAddr = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func TestHealthCheckExample(t *testing.T) {
	d, err := Parse("lb.yaml", []byte(issueExample), "")
	if err != nil {
		t.Fatal(err)
	}
	want, err := d.Desired()
	if err != nil {
		t.Fatal(err)
	}
	http := &healthcheck.Check{Type: healthcheck.HTTP, Interval: time.Second, Timeout: 500 * time.Millisecond,
		Rise: 2, Fall: 2, Method: "GET", Path: "/", ExpectStatus: []int{200}}
	tcp := &healthcheck.Check{Type: healthcheck.TCP, Interval: 2 * time.Second, Timeout: 2 * time.Second, Rise: 2, Fall: 3}
	wantHealth := []*ServiceHealth{{OnFailure: Quiesce, Quorum: 1, Checks: []*healthcheck.Check{http, tcp}}}
	if diff := cmp.Diff(wantHealth, want.Health, cmpAddr); diff != "" {
		t.Errorf("health (-want +got):\n%s", diff)
	}
	if w := want.Services[0].Destinations[1].Weight; w != 3 {
		t.Errorf("weight = %d, want 3", w)
	}
	if !want.Health[0].Checked() {
		t.Error("Checked() = false")
	}
	// The same in JSON, with a number of seconds.
	js := `{"apiVersion":"ipvsctl/v1","services":[{"protocol":"tcp","address":"10.0.0.1","port":80,
 "healthCheck":{"type":"tcp","interval":1.5},"destinations":[{"address":"192.168.0.1"}]}]}`
	d, err = Parse("lb.json", []byte(js), "")
	if err != nil {
		t.Fatal(err)
	}
	if want, err = d.Desired(); err != nil {
		t.Fatal(err)
	}
	if got := want.Health[0].Checks[0].Interval; got != 1500*time.Millisecond {
		t.Errorf("interval = %s, want 1.5s", got)
	}
	// A document without checks has no Health.
	d, _ = Parse("x.yaml", []byte("apiVersion: ipvsctl/v1\nservices: [{protocol: tcp, address: 10.0.0.1, port: 80}]\n"), "")
	if want, err = d.Desired(); err != nil || want.Health != nil {
		t.Errorf("Health = %v, %v; want nil", want.Health, err)
	}
}

func TestHealthSorryServer(t *testing.T) {
	doc := `apiVersion: ipvsctl/v1
services:
  - protocol: tcp
    address: 10.0.0.1
    port: 80
    onFailure: remove
    quorum: 2
    sorryServer: {address: 192.168.9.9, port: 8080, forward: masq}
    destinations:
      - {address: 192.168.0.1, forward: masq}
  - {protocol: tcp, address: 10.0.0.2, port: 80}
`
	d, err := Parse("lb.yaml", []byte(doc), "")
	if err != nil {
		t.Fatal(err)
	}
	want, err := d.Desired()
	if err != nil {
		t.Fatal(err)
	}
	sorry := ipvs.Destination{Address: netip.MustParseAddr("192.168.9.9"), Family: ipvs.AFInet, Port: 8080, ForwardMethod: ipvs.FwdMasq, Weight: 1}
	wantHealth := []*ServiceHealth{{OnFailure: Remove, Quorum: 2, Sorry: &sorry, Checks: []*healthcheck.Check{nil}}, nil}
	if diff := cmp.Diff(wantHealth, want.Health, cmpAddr); diff != "" {
		t.Errorf("health (-want +got):\n%s", diff)
	}
}

func TestHealthCheckErrors(t *testing.T) {
	for _, tc := range []struct {
		name, check string
		want        []string
	}{
		{"no type", `{interval: 1s}`, []string{"lb.yaml:6: services[0].healthCheck.type: missing: the kind of check"}},
		{"bad type", `{type: icmp}`, []string{`"icmp" is not a check type`}},
		{"bad duration", `{type: tcp, interval: 1x}`, []string{`healthCheck.interval: "1x" is not a duration`}},
		{"timeout over interval", `{type: tcp, interval: 1s, timeout: 2s}`, []string{"timeout: 2s is longer than the interval 1s"}},
		{"rise range", `{type: tcp, rise: 101}`, []string{"rise: 101 is out of range 1..100"}},
		{"field of another type", `{type: tcp, path: /x}`, []string{"healthCheck.path: not used by checks of type tcp"}},
		{"bad regexp", `{type: http, expectBody: "a("}`, []string{"expectBody: not a regular expression: missing closing )"}},
		{"bad status", `{type: http, expectStatus: [99]}`, []string{"expectStatus[0]: 99 is not an HTTP status"}},
		{"relative path", `{type: http, path: health}`, []string{`path: "health" must start with /`}},
		{"exec without command", `{type: exec}`, []string{"command: missing: the program to run"}},
		{"dns query type", `{type: dns, queryType: QQ, port: 53}`, []string{`queryType: "QQ" is not a query type`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := "apiVersion: ipvsctl/v1\nservices:\n  - protocol: tcp\n    address: 10.0.0.1\n    port: 80\n    healthCheck: " + tc.check + "\n    destinations: [{address: 192.168.0.1}]\n"
			d, err := Parse("lb.yaml", []byte(doc), "")
			if err != nil {
				t.Fatal(err)
			}
			_, err = d.Desired()
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestUDPServiceCheckNeedsSidePort(t *testing.T) {
	doc := "apiVersion: ipvsctl/v1\nservices:\n  - {protocol: udp, address: 10.0.0.1, port: 53, healthCheck: {type: tcp}, destinations: [{address: 192.168.0.1}]}\n  - {protocol: udp, address: 10.0.0.1, port: 54, healthCheck: {type: tcp, port: 80}, destinations: [{address: 192.168.0.1}]}\n  - {protocol: udp, address: 10.0.0.1, port: 55, healthCheck: {type: dns}, destinations: [{address: 192.168.0.1}]}\n"
	d, err := Parse("lb.yaml", []byte(doc), "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Desired()
	var list ErrorList
	if err == nil || len(err.(ErrorList)) != 1 {
		t.Fatalf("want one error, got %v", err)
	}
	list = err.(ErrorList)
	if got := list[0].Error(); got != "lb.yaml:3: services[0].healthCheck.type: a UDP service's tcp check needs a side port (port: the TCP port to probe)" {
		t.Errorf("got %q", got)
	}
}

func TestHealthCheckEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		name, svc string
		want      string // "" accepted
	}{
		{"fwmark needs a check port", "{fwmark: 7, healthCheck: {type: tcp}, destinations: [{address: 192.168.0.1}]}",
			"services[0].healthCheck.port: missing: server 192.168.0.1 has no port"},
		{"fwmark with a check port", "{fwmark: 7, healthCheck: {type: tcp, port: 80}, destinations: [{address: 192.168.0.1}]}", ""},
		{"fwmark exec", "{fwmark: 7, healthCheck: {type: exec, command: [/bin/true]}, destinations: [{address: 192.168.0.1}]}", ""},
		{"NaN grace", "{protocol: tcp, address: 10.0.0.1, port: 80, healthCheck: {type: tcp, grace: NaN}, destinations: [{address: 192.168.0.1}]}",
			"grace: NaN seconds is out of range 0..86400"},
		{"quorum 0 with a sorry server", "{protocol: tcp, address: 10.0.0.1, port: 80, quorum: 0, sorryServer: {address: 192.168.0.9}, healthCheck: {type: tcp}, destinations: [{address: 192.168.0.1}]}",
			"quorum: 0 never brings the sorry server in"},
		{"bad interval alone", "{protocol: tcp, address: 10.0.0.1, port: 80, healthCheck: {type: tcp, interval: x}, destinations: [{address: 192.168.0.1}]}",
			`interval: "x" is not a duration`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse("lb.yaml", []byte("apiVersion: ipvsctl/v1\nservices:\n  - "+tc.svc+"\n"), "")
			if err != nil {
				t.Fatal(err)
			}
			_, err = d.Desired()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Errorf("accepted")
			case tc.want != "" && (!strings.Contains(err.Error(), tc.want) || len(err.(ErrorList)) != 1):
				t.Errorf("got %v, want one error with %q", err, tc.want)
			}
		})
	}
}
