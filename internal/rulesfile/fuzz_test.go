package rulesfile

import (
	"strings"
	"testing"
)

// FuzzRoundTrip: whatever parses into a table formats, parses back into
// the same table, and formats to the same bytes again.
func FuzzRoundTrip(f *testing.F) {
	for _, g := range saveGoldens(f) {
		f.Add(g.out)
	}
	for _, s := range []string{
		"-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 192.168.0.1:8080 -m -w 3\n",
		"-A -f -1412536447 -s wlc -p 300\n-a -f -1412536447 -r 192.168.0.9:0 -m -w 1\n",
		"-A -f 7 -6 -s mh -b mh-fallback,mh-port\n-a -f 7 -6 -r [2001:db8::10]:0 -m -w 1\n",
		"-A -u 10.0.0.2:5060 -s sh -b \n",
		"-A -t [2001:db8::1]:443 -s wlc -p 600 -M 96\n-a -t [2001:db8::1]:443 -r 10.9.9.9:443 -i -w 1 --tun-type ipip\n",
		"-A -t 10.0.0.1:443 -s rr -p 360 -M 255.255.255.0\n-a -t 10.0.0.1:443 -r 192.168.0.4:443 -i -w 100 --tun-type gue --tun-port 6080 --tun-csum\n",
		"# c\nipvsadm -A -t 10.1:8080\r\n",
	} {
		f.Add(s)
	}
	names := guestNames(f)
	f.Fuzz(func(t *testing.T, in string) {
		file, err := Parse(strings.NewReader(in), "fuzz", WithNames(names))
		if err != nil {
			return
		}
		table, err := file.Table()
		if err != nil {
			return
		}
		formatStable(t, table, names)
	})
}
