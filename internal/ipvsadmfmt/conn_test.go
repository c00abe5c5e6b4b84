package ipvsadmfmt

import (
	"errors"
	"strings"
	"testing"
)

const connFile = "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n" +
	"TCP C0A80064 D431 0A000001 0050 C0A80001 1F90 ESTABLISHED     899\n" +
	"TCP C0A80065 0000 0A000001 0050 C0A80002 0050 NONE            359\n" +
	"UDP C0A80066 E2F1 0A000001 0035 C0A80003 0035 UDP              59\n" +
	"IP  C0A80067 0000 00000000 0000 C0A80009 0000 NONE           3599\n" +
	"UDP 0A00000A 13C4 0A000001 13C4 C0A80004 13C4 UDP             179 sip 3f1b2c@host\n" +
	"TCP 2001:0db8:0000:0000:0000:0000:0000:0064 D431 2001:0db8:0000:0000:0000:0000:0000:0001 01BB 2001:0db8:aaaa:bbbb:cccc:dddd:eeee:ffff 20FB SYN_RECV         53\n" +
	"TCP 2001:0db8:0000:0000:0000:0000:0000:0064 D432 2001:0db8:0000:0000:0000:0000:0000:0001 01BB 0A090909 01BB FIN_WAIT          7\n"

func conns(t *testing.T, in string, f Format) (string, error) {
	t.Helper()
	var b strings.Builder
	err := WriteConnections(&b, strings.NewReader(in), f, nil)
	return b.String(), err
}

func TestReferenceConnections(t *testing.T) {
	want := dollars(`
IPVS connection entries$
pro expire state       source             virtual            destination$
TCP 14:59  ESTABLISHED 192.168.0.100:54321 10.0.0.1:80        192.168.0.1:8080$
TCP 05:59  NONE        192.168.0.101:0    10.0.0.1:80        192.168.0.2:80$
UDP 00:59  UDP         192.168.0.102:58097 10.0.0.1:53        192.168.0.3:53$
IP  59:59  NONE        192.168.0.103:0    0.0.0.0:0          192.168.0.9:0$
UDP 02:59  UDP         10.0.0.10:5060     10.0.0.1:5060      192.168.0.4:5060$
TCP 00:53  SYN_RECV    [2001:db8::64]:54321 [2001:db8::1]:443  [2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff]:8443$
TCP 00:07  FIN_WAIT    [2001:db8::64]:54322 [2001:db8::1]:443  10.9.9.9:443$
`)
	got, err := conns(t, connFile, Format{Numeric: true})
	if err != nil || got != want {
		t.Errorf("-Lcn: err %v\n%s\nwant\n%s", err, got, want)
	}
	got, err = conns(t, connFile, Format{Numeric: true, PersistentConn: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"pro expire state       source             virtual            destination        pe name          pe_data\n",
		"UDP 02:59  UDP         10.0.0.10:5060     10.0.0.1:5060      192.168.0.4:5060 sip                3f1b2c@host\n",
		"TCP 14:59  ESTABLISHED 192.168.0.100:54321 10.0.0.1:80        192.168.0.1:8080\n",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("--persistent-conn: missing %q in\n%s", line, got)
		}
	}
}

func TestConnectionErrors(t *testing.T) {
	var le *ListError
	_, err := conns(t, "", Format{})
	if !errors.As(err, &le) || le.Status != 1 || le.Msg != "unexpected input from /proc/net/ip_vs_conn\n" {
		t.Errorf("empty file: %v", err)
	}
	// A blank line makes sscanf return EOF: exit 1 without a message,
	// after what was printed before.
	out, err := conns(t, "header\nTCP C0A80064 D431 0A000001 0050 C0A80001 1F90 ESTABLISHED 86400\n\n", Format{Numeric: true})
	if !errors.As(err, &le) || le.Status != 1 || le.Msg != "" {
		t.Errorf("blank line: %v", err)
	}
	if !strings.HasSuffix(out, "TCP 1440:00 ESTABLISHED 192.168.0.100:54321 10.0.0.1:80        192.168.0.1:8080\n") {
		t.Errorf("blank line output:\n%s", out)
	}
	// Only the header: titles and nothing else.
	out, err = conns(t, "header\n", Format{})
	if err != nil || out != "IPVS connection entries\npro expire state       source             virtual            destination\n" {
		t.Errorf("header only: %v %q", err, out)
	}
}

func TestConnectionLongLineSplit(t *testing.T) {
	// fgets with a 256-byte buffer splits a 300-byte line; the rest is
	// parsed as a line of its own, keeping the earlier values it lacks.
	long := "TCP C0A80064 D431 0A000001 0050 C0A80001 1F90 ESTABLISHED      10 sip " + strings.Repeat("x", 300-72) + "\n"
	out, err := conns(t, "h\n"+long, Format{Numeric: true})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("want 2 rows, got\n%s", out)
	}
}
