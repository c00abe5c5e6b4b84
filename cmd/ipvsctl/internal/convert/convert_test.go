package convert

import (
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
)

// run converts text, read from the file name, and checks that the result
// validates.
func run(t *testing.T, name, text string, from Source) *Result {
	t.Helper()
	res, err := Convert(name, []byte(text), from)
	if err != nil {
		t.Fatalf("Convert: %v", err)
	}
	if _, err := res.Document.Desired(); err != nil {
		t.Fatalf("the document does not validate: %v", err)
	}
	return res
}

// messages are the warnings as the command prints them.
func messages(res *Result) []string {
	out := []string{}
	for _, w := range res.Warnings {
		out = append(out, w.String())
	}
	return out
}

func TestDetect(t *testing.T) {
	for _, tt := range []struct {
		name, text string
		want       Source
		ok         bool
	}{
		{"virtual_server", "! comment\nvirtual_server 10.0.0.1 80 {\n}\n", Keepalived, true},
		{"brace attached", "virtual_server_group G{\n}\n", Keepalived, true},
		{"vrrp only", "vrrp_instance VI_1 {\n}\n", Keepalived, true},
		{"global_defs", "  global_defs {\n}\n", Keepalived, true},
		{"ldirectord", "checktimeout=3\nvirtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n", Ldirectord, true},
		{"ldirectord v6", "virtual6 = [2001:db8::1]:80\n", Ldirectord, true},
		{"both, keepalived first", "virtual_server 10.0.0.1 80 {\n}\nvirtual=1\n", Keepalived, true},
		{"neither", "hello\nworld\n", "", false},
		{"indented virtual= is not ldirectord", "  virtual=10.0.0.1:80\n", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Detect([]byte(tt.text))
			if got != tt.want || ok != tt.ok {
				t.Errorf("Detect = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseSource(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Source
		err  bool
	}{
		{"", "", false}, {"keepalived", Keepalived, false}, {"LDIRECTORD", Ldirectord, false}, {"haproxy", "", true},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSource(tt.in)
			if got != tt.want || (err != nil) != tt.err {
				t.Errorf("ParseSource(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}

func TestLexLine(t *testing.T) {
	w := func(s ...string) []token {
		out := []token{}
		for _, x := range s {
			switch x {
			case "{", "}":
				out = append(out, token{brace: x[0]})
			default:
				out = append(out, token{text: x})
			}
		}
		return out
	}
	for _, tt := range []struct {
		name, line string
		want       []token
		raw        string
		err        string
	}{
		{"words", "  lb_algo   rr\t", w("lb_algo", "rr"), "lb_algo   rr", ""},
		{"hash comment", "delay_loop 6 # seconds", w("delay_loop", "6"), "delay_loop 6", ""},
		{"bang comment", "! Configuration File", w(), "", ""},
		{"escaped comment chars", `path /a\#b\!c`, w("path", "/a#b!c"), `path /a\#b\!c`, ""},
		{"quoted", `misc_path "/bin/check -x # not a comment {"`, w("misc_path", "/bin/check -x # not a comment {"), `misc_path "/bin/check -x # not a comment {"`, ""},
		{"quote ends a word", `a"b c"d`, w("a", "b c", "d"), `a"b c"d`, ""},
		{"braces split words", "real_server 10.0.0.1 80{", w("real_server", "10.0.0.1", "80", "{"), "real_server 10.0.0.1 80{", ""},
		{"one-line block", "url { path / }", w("url", "{", "path", "/", "}"), "url { path / }", ""},
		{"unterminated quote", `misc_path "/bin/x`, nil, "", `unterminated quote: "/bin/x`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, raw, err := lexLine(tt.line)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				got = []token{}
			}
			if d := cmp.Diff(tt.want, got, cmp.AllowUnexported(token{})); d != "" {
				t.Errorf("tokens (-want +got):\n%s", d)
			}
			if raw != tt.raw {
				t.Errorf("raw %q, want %q", raw, tt.raw)
			}
		})
	}
}

func TestSplitQuoted(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		escapes  bool
		want     []string
		err      bool
	}{
		{"plain", "/bin/check --host 10.0.0.1", true, []string{"/bin/check", "--host", "10.0.0.1"}, false},
		{"quotes group", `/bin/check 'select 1' "a b"`, true, []string{"/bin/check", "select 1", "a b"}, false},
		{"quotes inside a word", `--sql='select 1'`, true, []string{"--sql=select 1"}, false},
		{"no expansion", `/bin/check $HOST ~ *`, true, []string{"/bin/check", "$HOST", "~", "*"}, false},
		{"escapes", `a\ b \x41\t\101 \"q\"`, true, []string{"a b", "A\tA", `"q"`}, false},
		{"first pass keeps backslashes", `"/bin/x a\ b" c`, false, []string{`/bin/x a\ b`, "c"}, false},
		{"empty quotes are a word", `x ""`, true, []string{"x", ""}, false},
		{"unterminated", `x 'y`, true, nil, true},
		{"trailing backslash", `x \`, true, nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := splitQuoted(tt.in, tt.escapes)
			if (err != nil) != tt.err {
				t.Fatalf("error %v", err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestExpandRange(t *testing.T) {
	addrs := func(s ...string) []netip.Addr {
		out := make([]netip.Addr, len(s))
		for i, a := range s {
			out[i] = netip.MustParseAddr(a)
		}
		return out
	}
	for _, tt := range []struct {
		in   string
		want []netip.Addr
		err  string
	}{
		{"10.0.0.1", addrs("10.0.0.1"), ""},
		{"10.0.0.1-3", addrs("10.0.0.1", "10.0.0.2", "10.0.0.3"), ""},
		{"10.0.0.254-10.0.1.1", addrs("10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1"), ""},
		{"10.0.0.8/30", addrs("10.0.0.8", "10.0.0.9", "10.0.0.10", "10.0.0.11"), ""},
		{"2001:db8::a-c", addrs("2001:db8::a", "2001:db8::b", "2001:db8::c"), ""},
		{"2001:db8::/127", addrs("2001:db8::", "2001:db8::1"), ""},
		{"10.0.0.9/30", nil, "host bits set"},
		{"10.0.0.0/16", nil, "more than 256 addresses"},
		{"10.0.0.5-1", nil, "the end is before the start"},
		{"www.example.org", nil, "names are not resolved"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := expandRange(tt.in, maxRange)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestSmallParsers(t *testing.T) {
	t.Run("statusRange", func(t *testing.T) {
		got, ok := statusRange("200-203")
		if d := cmp.Diff([]int{200, 201, 202, 203}, got); d != "" || !ok {
			t.Errorf("200-203: %v %v", got, ok)
		}
		for _, bad := range []string{"99", "600", "300-200", "2xx", "200-"} {
			if _, ok := statusRange(bad); ok {
				t.Errorf("%s accepted", bad)
			}
		}
	})
	t.Run("kaHex", func(t *testing.T) {
		// The example of keepalived.conf(5).
		got, x, err := kaHex(strings.Fields("Ab12f 3 456 546443123"))
		want := []byte{0xab, 0x12, 0x0f, 0x03, 0x45, 0x06, 0x54, 0x64, 0x43, 0x12, 0x03}
		if d := cmp.Diff(want, got); d != "" || x || err != nil {
			t.Errorf("(-want +got):\n%s %v %v", d, x, err)
		}
		if _, x, _ := kaHex([]string{"12xX"}); !x {
			t.Error("X not reported")
		}
		if _, _, err := kaHex([]string{"zz"}); err == nil {
			t.Error("zz accepted")
		}
	})
	t.Run("prefixOrMask", func(t *testing.T) {
		for in, want := range map[string]string{"255.255.255.0": "/24", "0.0.0.0": "/0", "255.255.0.255": "255.255.0.255", "64": "/64"} {
			p, ok := prefixOrMask(in)
			got := p.Netmask
			if p.PrefixLength != nil {
				got = "/" + itoa(*p.PrefixLength)
			}
			if !ok || got != want {
				t.Errorf("%s: %s, want %s", in, got, want)
			}
		}
		if _, ok := prefixOrMask("mask"); ok {
			t.Error("mask accepted")
		}
	})
	t.Run("duration", func(t *testing.T) {
		for d, want := range map[string]ipvsconfig.Duration{"60s": "60s", "1.5s": "1.5s", "500ms": "500ms", "2m": "120s", "1.25s": "1.25s"} {
			if got := duration(mustDuration(d)); got != want {
				t.Errorf("%s: %s, want %s", d, got, want)
			}
		}
	})
}

// check returns the check of destination j of service i, whether it is
// the service's or the destination's own.
func check(t *testing.T, res *Result, i, j int) *ipvsconfig.HealthCheck {
	t.Helper()
	s := res.Document.Services[i]
	if s.Destinations[j].HealthCheck != nil {
		return s.Destinations[j].HealthCheck
	}
	return s.HealthCheck
}

// TestKeepalivedRetryIsFall: retry counts the probes after the first
// failure (keepalived's tcp_epilog takes a server down when retry_it
// reaches retry), so fall = retry+1; the defaults are 1, DNS_CHECK 3,
// MISC_CHECK 0; the innermost level wins.
func TestKeepalivedRetryIsFall(t *testing.T) {
	rs := func(body string) string {
		return "virtual_server 10.0.0.1 80 {\n lb_kind DR\n real_server 10.0.0.2 80 {\n" + body + "\n }\n}\n"
	}
	for _, tt := range []struct {
		name, conf string
		fall       int
	}{
		{"TCP_CHECK default", rs("TCP_CHECK {\n}"), 2},
		{"HTTP_GET default", rs("HTTP_GET {\n url {\n path /\n status_code 200\n }\n}"), 2},
		{"DNS_CHECK default", rs("DNS_CHECK {\n}"), 4},
		{"MISC_CHECK default", rs("MISC_CHECK {\n misc_path /bin/true\n}"), 1},
		{"retry 0", rs("TCP_CHECK {\n retry 0\n}"), 1},
		{"retry 3", rs("TCP_CHECK {\n retry 3\n}"), 4},
		{"nb_get_retry", rs("HTTP_GET {\n nb_get_retry 5\n url {\n path /\n status_code 200\n }\n}"), 6},
		{"real_server level", rs("retry 2\nMISC_CHECK {\n misc_path /bin/true\n}"), 3},
		{"checker beats real_server", rs("retry 2\nTCP_CHECK {\n retry 4\n}"), 5},
		{"virtual_server level", strings.Replace(rs("DNS_CHECK {\n}"), "lb_kind DR", "lb_kind DR\n retry 0", 1), 1},
		{"capped", rs("TCP_CHECK {\n retry 500\n}"), 100},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, "k.conf", tt.conf, Keepalived)
			h := check(t, res, 0, 0)
			rise := 1
			if h != nil && h.Type == "http" {
				rise = 2
			}
			if h == nil || h.Fall != tt.fall || h.Rise != rise {
				t.Fatalf("check %+v, want fall %d, rise %d\n%v", h, tt.fall, rise, messages(res))
			}
		})
	}
}

// TestKeepalivedRise: one success brings a server back, but a failed
// HTTP_GET or SSL_GET checks the url that failed and then every url
// before the server is up again (epilog in keepalived's check_http.c).
func TestKeepalivedRise(t *testing.T) {
	for _, tt := range []struct {
		name, chk string
		rise      int
	}{
		{"TCP_CHECK", "TCP_CHECK {\n}", 1},
		{"MISC_CHECK", "MISC_CHECK {\n misc_path /bin/true\n}", 1},
		{"HTTP_GET, one url", "HTTP_GET {\n url {\n path /\n status_code 200\n }\n}", 2},
		{"SSL_GET, three urls", "SSL_GET {\n url {\n path /a\n status_code 200\n }\n url {\n path /b\n }\n url {\n path /c\n }\n}", 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, "k.conf", "virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n"+tt.chk+"\n }\n}\n", Keepalived)
			if h := check(t, res, 0, 0); h.Rise != tt.rise {
				t.Errorf("rise %d, want %d", h.Rise, tt.rise)
			}
		})
	}
}

// TestKeepalivedTiming: delay_loop is the interval (60s when absent) and
// connect_timeout the timeout (5s); a written timeout longer than the
// interval makes the interval as long, with a warning; the default one
// is shortened to the interval.
func TestKeepalivedTiming(t *testing.T) {
	for _, tt := range []struct {
		name, vs, chk     string
		interval, timeout ipvsconfig.Duration
		warn              string
	}{
		{"defaults", "", "", "60s", "5s", ""},
		{"delay_loop and connect_timeout", "delay_loop 10\nconnect_timeout 1.5", "", "10s", "1.5s", ""},
		{"the checker's win", "delay_loop 10\nconnect_timeout 3", "delay_loop 4\nconnect_timeout 0.5", "4s", "500ms", ""},
		{"default timeout shortened", "delay_loop 2", "", "2s", "2s", ""},
		{"written timeout longer", "delay_loop 2", "connect_timeout 7", "7s", "7s", "k.conf:5: warning: connect_timeout 7s is longer than the delay_loop 2s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conf := "virtual_server 10.0.0.1 80 {\n" + tt.vs + "\nreal_server 10.0.0.2 80 {\nTCP_CHECK {\n" + tt.chk + "\n}\n}\n}\n"
			res := run(t, "k.conf", conf, Keepalived)
			h := check(t, res, 0, 0)
			if h.Interval != tt.interval || h.Timeout != tt.timeout {
				t.Errorf("interval %s timeout %s, want %s %s", h.Interval, h.Timeout, tt.interval, tt.timeout)
			}
			got := strings.Join(messages(res), "\n")
			if tt.warn == "" && got != "" || !strings.Contains(got, tt.warn) {
				t.Errorf("warnings:\n%s\nwant %q", got, tt.warn)
			}
		})
	}
}

// TestKeepalivedDefaults: keepalived's defaults that differ from
// ipvsctl's are written out, and its failure action is remove unless
// inhibit_on_failure.
func TestKeepalivedDefaults(t *testing.T) {
	res := run(t, "k.conf", `virtual_server 10.0.0.1 80 {
  real_server 10.0.0.2 80 {
    TCP_CHECK {
    }
  }
}
virtual_server 10.0.0.1 81 {
  inhibit_on_failure
  real_server 10.0.0.2 81 {
    TCP_CHECK {
    }
  }
  real_server 10.0.0.3 81 {
  }
}
`, Keepalived)
	want := []ipvsconfig.Service{{
		Protocol: "tcp", Address: "10.0.0.1", Port: 80, OnFailure: "remove",
		Destinations: []ipvsconfig.Destination{{Address: "10.0.0.2", Port: u16(80), Forward: "masq",
			HealthCheck: &ipvsconfig.HealthCheck{Type: "tcp", Interval: "60s", Timeout: "5s", Rise: 1, Fall: 2}}},
	}, {
		Protocol: "tcp", Address: "10.0.0.1", Port: 81, OnFailure: "quiesce",
		Destinations: []ipvsconfig.Destination{
			{Address: "10.0.0.2", Port: u16(81), Forward: "masq", HealthCheck: &ipvsconfig.HealthCheck{Type: "tcp", Interval: "60s", Timeout: "5s", Rise: 1, Fall: 2}},
			{Address: "10.0.0.3", Port: u16(81), Forward: "masq"},
		},
	}}
	if d := cmp.Diff(want, res.Document.Services); d != "" {
		t.Errorf("services (-want +got):\n%s", d)
	}
	if len(res.Warnings) != 0 {
		t.Errorf("warnings: %v", messages(res))
	}
}

// TestDropInvalid: what the document model refuses is left out with a
// warning at its line, and the rest is kept.
func TestDropInvalid(t *testing.T) {
	res := run(t, "k.conf", `virtual_server 10.0.0.1 53 {
  protocol UDP
  lb_kind NAT
  real_server 2001:db8::1 53 {
  }
  real_server 10.0.0.2 53 {
    TCP_CHECK {
    }
  }
  real_server 10.0.0.3 53 {
    weight 3
  }
}
virtual_server 10.0.0.1 53 {
  protocol UDP
  real_server 10.0.0.9 53 {
  }
}
`, Keepalived)
	want := []string{
		"k.conf:4: warning: real_server 2001:db8::1 53 not converted: address: an inet6 destination in an inet service needs forward: tunnel (the kernel allows mixed address families only for tunnelling)",
		"k.conf:7: warning: the check of real_server 10.0.0.2 53 not converted: type: a UDP service's tcp check needs a side port (port: the TCP port to probe)",
		"k.conf:14: warning: virtual_server 10.0.0.1 53 not converted: service udp:10.0.0.1:53 is listed twice (first at services[0])",
	}
	if d := cmp.Diff(want, messages(res)); d != "" {
		t.Errorf("warnings (-want +got):\n%s", d)
	}
	s := res.Document.Services
	if len(s) != 1 || len(s[0].Destinations) != 2 || s[0].Destinations[0].HealthCheck != nil || s[0].HealthCheck != nil {
		t.Errorf("services: %+v", s)
	}
}

// TestKeepalivedIncludes: include is read in place, relative to the file
// that holds it, with glob patterns; a pattern that matches nothing is a
// warning; a file that includes itself is an error.
func TestKeepalivedIncludes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("conf.d/b.conf", "virtual_server 10.0.0.2 80 {\n  real_server 10.1.0.2 80 {\n  }\n}\n")
	write("conf.d/a.conf", "virtual_server 10.0.0.1 80 {\n  include ../servers/a.inc\n}\n")
	write("servers/a.inc", "real_server 10.1.0.1 80 {\n  TCP_CHECK {\n  }\n}\n")
	main := write("keepalived.conf", "include conf.d/*.conf\ninclude missing/*.conf\n")
	data, _ := os.ReadFile(main)
	res := run(t, main, string(data), "")
	var got []string
	for _, s := range res.Document.Services {
		got = append(got, s.Address+" "+s.Destinations[0].Address)
	}
	if d := cmp.Diff([]string{"10.0.0.1 10.1.0.1", "10.0.0.2 10.1.0.2"}, got); d != "" {
		t.Errorf("services (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{main + ":2: warning: include " + filepath.Join(dir, "missing/*.conf") + ": no file matches"}, messages(res)); d != "" {
		t.Errorf("warnings (-want +got):\n%s", d)
	}

	loop := write("loop.conf", "include loop.conf\n")
	_, err := Convert(loop, []byte("include loop.conf\n"), Keepalived)
	if err == nil || !strings.Contains(err.Error(), "nested includes") {
		t.Errorf("include loop: %v", err)
	}

	// A file that cannot be read is named once, without Go's "open".
	if err := os.MkdirAll(filepath.Join(dir, "adir.conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	bad := write("bad.conf", "include adir.conf\n")
	if _, err = Convert(bad, []byte("include adir.conf\n"), Keepalived); err == nil {
		t.Fatal("an include that cannot be read converted")
	}
	if d := cmp.Diff(bad+":1: include "+filepath.Join(dir, "adir.conf")+": is a directory", err.Error()); d != "" {
		t.Errorf("unreadable include (-want +got):\n%s", d)
	}
}

func TestSyntaxErrors(t *testing.T) {
	for _, tt := range []struct {
		name, text string
		from       Source
		want       string
	}{
		{"unterminated quote", "virtual_server 10.0.0.1 80 {\n  real_server 10.0.0.2 80 {\n    MISC_CHECK {\n      misc_path \"/bin/x\n", Keepalived, `k.conf:4: unterminated quote: "/bin/x`},
		{"missing brace", "virtual_server 10.0.0.1 80 {\n  real_server 10.0.0.2 80 {\n  }\n", Keepalived, `k.conf:1: the block of "virtual_server 10.0.0.1 80" is never closed (a missing })`},
		{"extra brace", "virtual_server 10.0.0.1 80 {\n}\n}\n", Keepalived, "k.conf:3: unexpected } (no block is open)"},
		{"stray brace", "virtual_server 10.0.0.1 80 {\n} {\n}\n", Keepalived, "k.conf:2: unexpected { (it must follow a keyword such as virtual_server or real_server)"},
		{"ldirectord indented line", "checktimeout = 3\n\n\treal=10.0.0.1:80 gate\n", Ldirectord, "k.conf:3: an indented line outside a virtual section"},
		{"ldirectord blank line ends a section", "virtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n\n\treal=10.0.0.3:80 gate\n", Ldirectord, "k.conf:4: an indented line outside a virtual section"},
		{"ldirectord garbage", "virtual=10.0.0.1:80\n!!!\n", Ldirectord, `k.conf:2: "!!!" is not a setting`},
		{"undetectable", "hello\n", "", "k.conf: neither a keepalived.conf"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Convert("k.conf", []byte(tt.text), tt.from)
			if _, ok := err.(*Error); !ok || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %v, want it to start with %q", err, tt.want)
			}
		})
	}
}

// TestKeepalivedOneLineBlocks: braces end statements wherever they are,
// and a "{" on the next line opens the statement of the line before.
func TestKeepalivedOneLineBlocks(t *testing.T) {
	res := run(t, "k.conf", "virtual_server 10.0.0.1 80\n{\n lb_kind DR\n real_server 10.0.0.2 80 { HTTP_GET { url { path /x\nstatus_code 204 } } }\n}\n", Keepalived)
	h := check(t, res, 0, 0)
	if h == nil || h.Path != "/x" || !cmp.Equal(h.ExpectStatus, []int{204}) {
		t.Errorf("check %+v; warnings %v", h, messages(res))
	}
}

// TestDedupe: a warning repeated on several lines of a file is given once,
// in the order of the input.
func TestDedupe(t *testing.T) {
	in := []Warning{
		{File: "a", Line: 9, Msg: "x"}, {File: "a", Line: 3, Msg: "y"}, {File: "b", Line: 1, Msg: "x"},
		{File: "a", Line: 12, Msg: "x"}, {File: "a", Line: 9, Msg: "x"}, {File: "a", Line: 20, Msg: "x", Note: true},
	}
	want := []Warning{
		{File: "a", Line: 3, Msg: "y"}, {File: "a", Line: 9, Msg: "x (also line 12)"}, {File: "a", Line: 20, Msg: "x", Note: true},
		{File: "b", Line: 1, Msg: "x"},
	}
	if d := cmp.Diff(want, dedupe(in)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestLdirectordRules: globals apply to every virtual section, quiescent
// decides onFailure (ldirectord's code defaults it to no), checktype off
// writes weight 0, and a virtual section's checkinterval counts only with
// fork = yes.
func TestLdirectordRules(t *testing.T) {
	for _, tt := range []struct {
		name, conf string
		check      func(*testing.T, *Result)
	}{
		{"quiescent unset", "virtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n\tchecktype=connect\n", func(t *testing.T, r *Result) {
			if r.Document.Services[0].OnFailure != "remove" || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0].Msg, "quiescent is not set") {
				t.Errorf("%+v %v", r.Document.Services[0], messages(r))
			}
		}},
		{"quiescent global", "quiescent = yes\nvirtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n\tchecktype=connect\nvirtual=10.0.0.1:81\n\treal=10.0.0.2:81 gate\n\tchecktype=connect\n\tquiescent=no\n", func(t *testing.T, r *Result) {
			if r.Document.Services[0].OnFailure != "quiesce" || r.Document.Services[1].OnFailure != "remove" {
				t.Errorf("%+v", r.Document.Services)
			}
		}},
		{"checktype off", "quiescent=no\nfallback=10.0.0.9:80\nvirtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate 4\n\tchecktype=off\n", func(t *testing.T, r *Result) {
			s := r.Document.Services[0]
			if *s.Destinations[0].Weight != 0 || s.HealthCheck != nil || s.SorryServer != nil {
				t.Errorf("%+v", s)
			}
		}},
		{"checkinterval without fork", "quiescent=no\ncheckinterval=7\nvirtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n\tchecktype=connect\n\tcheckinterval=3\n", func(t *testing.T, r *Result) {
			if h := check(t, r, 0, 0); h.Interval != "7s" || len(r.Warnings) != 1 {
				t.Errorf("%+v %v", h, messages(r))
			}
		}},
		{"checkinterval with fork", "quiescent=no\nfork=yes\ncheckinterval=7\nvirtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n\tchecktype=connect\n\tcheckinterval=3\n", func(t *testing.T, r *Result) {
			if h := check(t, r, 0, 0); h.Interval != "3s" || h.Timeout != "3s" || len(r.Warnings) != 0 {
				t.Errorf("%+v %v", h, messages(r))
			}
		}},
		{"negotiate defaults", "quiescent=no\nvirtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n", func(t *testing.T, r *Result) {
			want := &ipvsconfig.HealthCheck{Type: "http", Interval: "10s", Timeout: "10s", Rise: 1, Fall: 1}
			if d := cmp.Diff(want, check(t, r, 0, 0)); d != "" || r.Document.Services[0].Scheduler != "wrr" {
				t.Errorf("(-want +got):\n%s", d)
			}
		}},
		{"udp and names", "quiescent=no\nvirtual=10.0.0.1:domain\n\treal=10.0.0.2:domain gate\n\trequest=\"/example.org\"\n", func(t *testing.T, r *Result) {
			s := r.Document.Services[0]
			h := check(t, r, 0, 0)
			if s.Protocol != "udp" || s.Port != 53 || h.Type != "dns" || h.Query != "example.org" {
				t.Errorf("%+v %+v", s, h)
			}
		}},
		{"firewall mark", "quiescent=no\nvirtual=7\n\treal=10.0.0.2 gate\n\treal=10.0.0.3:8080 gate\n\tservice=https\n", func(t *testing.T, r *Result) {
			s := r.Document.Services[0]
			if s.FWMark != 7 || s.Destinations[0].HealthCheck.Port != 443 || s.Destinations[1].HealthCheck.Port != 0 {
				t.Errorf("%+v %+v %+v", s, s.Destinations[0].HealthCheck, s.Destinations[1].HealthCheck)
			}
		}},
		{"real server options", "quiescent=no\nvirtual=10.0.0.1:80\n\treal=10.0.0.2:80 masq 3 \"/a\", \"b\" l:10 u:20\n\treal=10.0.0.3:80 masq u:50\n\treal=10.0.0.4:80 masq l:5 bogus\n\tschedflags=sh-port,sh-fallback\n\tscheduler=sh\n\tchecktype=on\n", func(t *testing.T, r *Result) {
			s := r.Document.Services[0]
			want := []ipvsconfig.Destination{
				{Address: "10.0.0.2", Port: u16(80), Forward: "masq", Weight: u32(3), LowerThreshold: 10, UpperThreshold: 20},
				{Address: "10.0.0.3", Port: u16(80), Forward: "masq", UpperThreshold: 50},
				{Address: "10.0.0.4", Port: u16(80), Forward: "masq"},
			}
			if d := cmp.Diff(want, s.Destinations); d != "" || !cmp.Equal(s.SchedFlags, []string{"sh-port", "sh-fallback"}) {
				t.Errorf("(-want +got):\n%s%v", d, s.SchedFlags)
			}
			if d := cmp.Diff([]string{
				`l.cf:5: warning: real=10.0.0.4:80 masq l:5 bogus: "bogus" is not a weight, a "request", "receive" pair or a threshold (l:N, u:N): ignored`,
				"l.cf:5: warning: real=10.0.0.4:80 masq l:5 bogus: a lower threshold without an upper one has no effect: not converted",
			}, messages(r)); d != "" {
				t.Errorf("warnings (-want +got):\n%s", d)
			}
		}},
		{"unsupported service", "quiescent=no\nvirtual=10.0.0.1:21\n\treal=10.0.0.2:21 gate\n", func(t *testing.T, r *Result) {
			if h := check(t, r, 0, 0); h.Type != "tcp" || !strings.Contains(r.Warnings[0].Msg, "no ftp check") {
				t.Errorf("%+v %v", h, messages(r))
			}
		}},
		{"host names", "quiescent=no\nvirtual=www.example.org:80\n\treal=10.0.0.2:80 gate\nvirtual=10.0.0.1:80\n\treal=web1:80 gate\n\treal=10.0.0.3 gate\n", func(t *testing.T, r *Result) {
			if len(r.Document.Services) != 1 || len(r.Document.Services[0].Destinations) != 1 || len(r.Warnings) != 2 {
				t.Errorf("%+v %v", r.Document.Services, messages(r))
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, run(t, "l.cf", tt.conf, Ldirectord))
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func mustDuration(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return d
}

// TestKeepalivedInhibitOnFailure: inhibit_on_failure is a real_server
// keyword; servers that all have it make a quiesce service.
func TestKeepalivedInhibitOnFailure(t *testing.T) {
	rs := func(addr, extra string) string {
		return " real_server " + addr + " 80 {\n" + extra + "  TCP_CHECK {\n  }\n }\n"
	}
	for _, tt := range []struct {
		name, conf string
		want       string
		warnings   int
	}{
		{"none", "virtual_server 10.0.0.1 80 {\n" + rs("10.0.0.2", "") + rs("10.0.0.3", "") + "}\n", "remove", 0},
		{"every real server", "virtual_server 10.0.0.1 80 {\n" + rs("10.0.0.2", "  inhibit_on_failure\n") + rs("10.0.0.3", "  inhibit_on_failure\n") + "}\n", "quiesce", 0},
		{"virtual_server level", "virtual_server 10.0.0.1 80 {\n inhibit_on_failure\n" + rs("10.0.0.2", "") + "}\n", "quiesce", 0},
		{"mixed: the first real server's", "virtual_server 10.0.0.1 80 {\n" + rs("10.0.0.2", "  inhibit_on_failure\n") + rs("10.0.0.3", "") + "}\n", "quiesce", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, "k.conf", tt.conf, Keepalived)
			if got := res.Document.Services[0].OnFailure; got != tt.want {
				t.Errorf("onFailure %q, want %q\n%v", got, tt.want, messages(res))
			}
			if n := len(messages(res)); n != tt.warnings {
				t.Errorf("%d messages, want %d: %v", n, tt.warnings, messages(res))
			}
		})
	}
}
