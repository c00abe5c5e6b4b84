package ipvsadmargs

import (
	"errors"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, c := range errorCases {
		f.Add(c.args)
	}
	for _, s := range []string{
		"-A -t 10.0.0.1:80 -s rr -p 600 -M 255.255.255.0 --pe sip -b flag-1,flag-2 -o",
		"-a -t [2001:db8::1]:80 -r 10.0.0.2 -i --tun-type gue --tun-port 1 --tun-csum",
		"--start-daemon master --mcast-group ff02::1 --mcast-port 1 --mcast-ttl 1 --sync-maxlen 1 --syncid 1",
		"-L -t vip1:http --stats --exact -n",
		"-Lcn --persistent-conn",
		"--set 1 2 3",
		"-p=",
		"-A\x00-t",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		argv := append([]string{"ipvsadm"}, strings.Split(s, " ")...)
		c, err := Parse(argv, testEnv)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%q: error %T is not *Error", s, err)
			}
			if e.Msg == "" || !strings.HasSuffix(e.Msg, "\n") {
				t.Fatalf("%q: bad message %q", s, e.Msg)
			}
			if e.Status != 2 && e.Status != 255 {
				t.Fatalf("%q: status %d", s, e.Status)
			}
			if (e.Kind == ErrFail) != (e.Status == 2) {
				t.Fatalf("%q: kind %d status %d", s, e.Kind, e.Status)
			}
			return
		}
		if c == nil || c.Kind == KindNone {
			t.Fatalf("%q: no command", s)
		}
	})
}
