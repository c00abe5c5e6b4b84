package main

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs/internal/vm/vmtest"
)

// step is one invocation of a sequence: arguments and standard input.
type step struct {
	args  []string
	stdin string
}

// sequence is a list of invocations run from an empty kernel table.
type sequence struct {
	name  string
	steps []step
}

// cmdline builds a step from a command line split on blanks.
func cmdline(s string) step { return step{args: strings.Fields(s)} }

// restoreStep is "-R" with the given lines on standard input.
func restoreStep(lines ...string) step {
	return step{args: []string{"-R"}, stdin: strings.Join(lines, "\n") + "\n"}
}

func seq(name string, steps ...any) sequence {
	s := sequence{name: name}
	for _, x := range steps {
		switch v := x.(type) {
		case string:
			s.steps = append(s.steps, cmdline(v))
		case step:
			s.steps = append(s.steps, v)
		default:
			panic(fmt.Sprintf("bad step %T", x))
		}
	}
	return s
}

// tableSequences are hand-written scenarios.
func tableSequences() []sequence {
	return []sequence{
		seq("names", "-A -t vip1:http -s rr", "-a -t vip1:http -r rs1:http -m", "-a -t vip1:www -r rs2:8080 -m -w 3",
			"-L", "-S", "-L -t vip1.example.com:http", "-Ln"),
		seq("edit-resets-service", "-A -t 10.0.0.1:80 -s rr -p 100 -M 255.255.0.0 -b flag-2", "-Sn", "-E -t 10.0.0.1:80", "-Sn",
			"-E -t 10.0.0.1:80 -s sh -b sh-port -p", "-L -n"),
		seq("edit-resets-dest", "-A -t 10.0.0.1:80", "-a -t 10.0.0.1:80 -r 192.168.0.1:8080 -m -w 5 -x 10 -y 5",
			"-L -n --thresholds", "-e -t 10.0.0.1:80 -r 192.168.0.1:8080 -m", "-L -n --thresholds", "-Ln --persistent-conn"),
		seq("port-forcing", "-A -t 10.0.0.1:80", "-a -t 10.0.0.1:80 -r 192.168.0.1:8080 -g", "-a -t 10.0.0.1:80 -r 192.168.0.2:8080 -i",
			"-a -t 10.0.0.1:80 -r 192.168.0.3:8080 -m", "-Ln", "-d -t 10.0.0.1:80 -r 192.168.0.1:8080", "-d -t 10.0.0.1:80 -r 192.168.0.1:80"),
		seq("r-before-t", "-A -t 10.0.0.1:80", "-a -r 192.168.0.1 -m -t 10.0.0.1:80", "-a -r 192.168.0.2 -t 10.0.0.1:80",
			"-a -r 192.168.0.3:http -t 10.0.0.1:80 -m", "-Ln"),
		seq("fwmark-ports", "-A -f 5", "-a -f 5 -r 192.168.0.1:8080 -g", "-a -f 5 -r 192.168.0.2", "-a -f 5 -r 192.168.0.3:http", "-L", "-Ln"),
		seq("ipv6", "-A -t [2001:db8::1]:443 -s wlc -p 600 -M 96", "-a -t [2001:db8::1]:443 -r [2001:db8::10]:8443 -m",
			"-a -t [2001:db8::1]:443 -r 10.0.0.9 -i", "-a -t [2001:db8::1]:443 -r 10.0.0.8 -m", "-L", "-Ln --tun-info", "-S"),
		seq("ipv6-fwmark", "-A -f 7 -6 -s mh -b mh-fallback,mh-port -p 60 -M 64", "-a -f 7 -6 -r [2001:db8::10]:0 -m",
			"-a -f 7 -6 -r 10.0.0.1 -m", "-Ln", "-Sn", "-L -f 7 -6", "-D -f 7"),
		seq("mixed-family", "-A -t 10.0.0.1:80", "-a -t 10.0.0.1:80 -r [2001:db8::2]:80 -i", "-a -t 10.0.0.1:80 -r [2001:db8::3]:80 -m",
			"-Ln", "-d -t 10.0.0.1:80 -r [2001:db8::2]:80", "-Ln"),
		seq("zero", "-A -t 10.0.0.1:80", "-Z", "-Z -t 10.0.0.1:80", "-Z -t 10.0.0.2:80", "-Z -t 0.0.0.0:0", "-Z -f 1", "-L -n --stats"),
		seq("timeouts", "--set 100 20 30", "-L --timeout", "--set 0 0 0", "-L --timeout", "--set 0 7 0", "--list --timeout",
			"--set 2678400 2678400 2678400", "--set 1 2"),
		seq("daemons", "--start-daemon master --mcast-interface dummy0", "-L --daemon",
			"--start-daemon master --mcast-interface dummy0", "--start-daemon backup --mcast-interface dummy0 --syncid 200",
			"-L --daemon", "--stop-daemon master", "--stop-daemon master", "-L --daemon", "--stop-daemon backup", "-L --daemon"),
		seq("daemon-options", "--start-daemon backup --mcast-interface dummy0 --sync-maxlen 576 --mcast-group ff02::1:3 --mcast-port 1 --mcast-ttl 255",
			"-L --daemon", "--start-daemon master --mcast-interface nosuchif", "--start-daemon master"),
		seq("kernel-errors", "-A -t 10.0.0.1:80", "-A -t 10.0.0.1:80", "-E -t 10.0.0.2:80", "-D -t 10.0.0.2:80",
			"-a -t 10.0.0.2:80 -r 1.2.3.4", "-a -t 10.0.0.1:80 -r 1.2.3.4", "-a -t 10.0.0.1:80 -r 1.2.3.4",
			"-e -t 10.0.0.1:80 -r 1.2.3.5", "-d -t 10.0.0.1:80 -r 1.2.3.5", "-a -t 10.0.0.1:80 -r 1.2.3.6 -y 10",
			"-a -t 10.0.0.1:80 -r 224.0.0.1", "-a -t 10.0.0.1:80 -r 0.0.0.0", "-A -t 10.0.0.3:80 -s nosuch",
			"-A -t 10.0.0.3:80 -p --pe sip", "-E -t 10.0.0.1:80 -s nosuch", "-L -t 10.0.0.9:80", "-Sn"),
		seq("tunnels", "-A -t 10.0.0.1:80", "-a -t 10.0.0.1:80 -r 1.1.1.1 -i --tun-type gue --tun-port 6080 --tun-csum",
			"-a -t 10.0.0.1:80 -r 1.1.1.2 -i --tun-type gue --tun-port 6081 --tun-remcsum",
			"-a -t 10.0.0.1:80 -r 1.1.1.3 -i --tun-type gue --tun-port 6082 --tun-nocsum",
			"-a -t 10.0.0.1:80 -r 1.1.1.4 -i --tun-type gre --tun-csum", "-a -t 10.0.0.1:80 -r 1.1.1.5 -i --tun-type gre",
			"-a -t 10.0.0.1:80 -r 1.1.1.6 -i --tun-type ipip", "-L -n --tun-info", "-Sn",
			"-e -t 10.0.0.1:80 -r 1.1.1.1 -i", "-L -n --tun-info"),
		seq("sched-flags", "-A -t 10.0.0.1:80 -s sh -b sh-fallback", "-A -t 10.0.0.1:81 -s sh -b flag-3", "-A -t 10.0.0.1:82 -s mh -b flag-3,flag-1",
			"-A -t 10.0.0.1:83 -b flag-1,flag-2,flag-3", "-A -t 10.0.0.1:84 -s rr -b flag-2 -o", "-A -u 10.0.0.1:85 -s rr -b flag-2 -o",
			"-Ln", "-Sn"),
		seq("persistence", "-A -t 10.0.0.1:0 -p", "-A -t 10.0.0.1:1 -p 1 -M 0.0.0.16", "-A -t 10.0.0.1:2 -p 2678400 -M 255.255.255.255",
			"-A -f 9 -p 50 -M 255.0.0.0", "-A -u 10.0.0.1:3 -o -M 255.255.0.0", "-Ln", "-Sn", "-Ln --persistent-conn"),
		seq("big-fwmark", "-A -f 2882430849 -p", "-a -f 2882430849 -r 1.2.3.4", "-A -f 2147483648", "-A -f 2147483647",
			"-A -f 1", "-Ln", "-Sn", "-L -f 2882430849", "-D -f 2882430849", "-Ln"),
		seq("sort-overflow", "-A -t 1.0.0.1:80", "-A -t 200.0.0.1:80", "-A -t 100.0.0.1:80", "-A -t 100.0.0.1:81",
			"-a -t 1.0.0.1:80 -r 100.0.0.2 -m", "-a -t 1.0.0.1:80 -r 200.0.0.2 -m", "-a -t 1.0.0.1:80 -r 1.0.0.2 -m",
			"-Ln", "-Ln --nosort", "-Sn"),
		seq("sort-ipv6", "-A -t [2001:db8::1]:80", "-A -t [ffff::1]:80", "-A -t [::1]:80", "-A -t [2001:db8::1]:79",
			"-A -u [2001:db8::1]:80", "-A -t 10.0.0.1:80", "-Ln", "-Ln --nosort"),
		seq("listing-formats", "-A -t 10.0.0.1:80", "-a -t 10.0.0.1:80 -r 192.168.0.1 -m -w 9 -x 4 -y 2", "-A -u 10.0.0.1:53",
			"-L -n --stats", "-L -n --rate", "-L -n --exact --stats", "-L -n --exact --rate", "-L -n --thresholds",
			"-L -n --persistent-conn", "-L -n --tun-info", "-L --stats --rate --thresholds", "-L --thresholds --persistent-conn --tun-info"),
		seq("list-conflicts", "-L -c --stats", "-L --timeout --rate", "-L --daemon --thresholds", "-L --timeout --persistent-conn",
			"-L -c --persistent-conn", "-L -c -n", "-L --timeout --syncid 3", "-L --daemon --nosort"),
		seq("long-names", "-A -t vip1.example.com:http-alt -s rr", "-a -t vip1:http-alt -r rs2.example.com:http-alt -m", "-L", "-L --stats"),
		seq("restore-basic", restoreStep("-A -t 10.0.0.1:80", "-a -t 10.0.0.1:80 -r 192.168.0.1 -m", "-Ln", "-Sn"), "-Sn"),
		seq("restore-fail-middle", restoreStep("-A -t 10.0.0.1:80", "-A -t 10.0.0.2", "-A -t 10.0.0.3:80"), "-Sn"),
		seq("restore-kernel-error", restoreStep("-A -t 10.0.0.1:80", "-A -t 10.0.0.1:80", "-A -t 10.0.0.3:80"), "-Sn"),
		seq("restore-kernel-error-last", restoreStep("-A -t 10.0.0.1:80", "-A -t 10.0.0.1:80")),
		seq("restore-popt", restoreStep("-A -t 10.0.0.1:80 -q", "-A -t 10.0.0.2:80", "-L --bogus"), "-Sn"),
		seq("restore-comment", restoreStep("-A -t 10.0.0.1:80", "# comment", "-A -t 10.0.0.2:80"), "-Sn"),
		seq("restore-trailing-comment", restoreStep("-A -t 10.0.0.1:80 # comment", "-A -t 10.0.0.2:80"), "-Sn"),
		seq("restore-nested", restoreStep("-A -t 10.0.0.1:80", "-R", "-A -t 10.0.0.2:80"), "-Sn"),
		seq("restore-help", restoreStep("-A -t 10.0.0.1:80", "-h", "-A -t 10.0.0.2:80"), "-Sn"),
		seq("restore-version", restoreStep("-Sn", "-v", "-A -t 10.0.0.2:80"), "-Sn"),
		seq("restore-daemon-list", restoreStep("--start-daemon master --mcast-interface dummy0", "-L --daemon", "-L --timeout", "-Lcn")),
		seq("restore-list-fail", restoreStep("-A -t 10.0.0.1:80", "-L -t 10.0.0.2:80", "-A -t 10.0.0.3:80"), "-Sn"),
		seq("restore-save-roundtrip", "-A -t 10.0.0.1:80 -s sh -b sh-port -p 30 -M 255.255.255.0",
			"-a -t 10.0.0.1:80 -r 192.168.0.1 -i --tun-type gue --tun-port 7 --tun-csum", "-A -f 2882430849",
			step{args: []string{"-R"}, stdin: "-C\n-A -t 10.0.0.1:80 -s sh -b sh-port -p 30 -M 255.255.255.0\n" +
				"-a -t 10.0.0.1:80 -r 192.168.0.1:80 -i -w 1 --tun-type gue --tun-port 7 --tun-csum\n-A -f -1412536447 -s wlc\n"},
			"-Sn"),
		seq("restore-whitespace", step{args: []string{"-R"}, stdin: "\n\n  \t -A\t-t   10.0.0.1:80 \r\n\r\nipvsadm -A ipvsadm -t 10.0.0.2:80\n-A -t 10.0.0.3:80  "}, "-Sn"),
		seq("restore-last-no-newline", step{args: []string{"-R"}, stdin: "-A -t 10.0.0.1:80\n-A -t 10.0.0.2:80"}, "-Sn"),
		seq("restore-args", "-R -n", "-R extra", step{args: []string{"-R", "--", "x"}}, "--restore"),
		seq("help-version", "-h", "--help", "-v", "--version", "-h -L", "-V", "-L -h", "-L -v", "-hv", "-vh"),
		seq("popt-forms", "-A -t=10.0.0.1:80 -s=rr", "-At10.0.0.2:80 -srr -p600", "--add-service --tcp-service=10.0.0.3:80 --persistent=5",
			"-A -t 10.0.0.4:80 -p -s rr", "-A -t 10.0.0.5:80 -p", "-A -t 10.0.0.6:80 -ps", "-A -t 10.0.0.7:80 --ops=1",
			"-A -t 10.0.0.8:80 -o==1", "-Ln=", "-L --", "-L -- -n", "-Sn"),
		seq("values", "-A -t 10.1:8080", "-A -t 167772162:080", "-A -t 0x0a000003:+80", "-A -t 010.0.0.1:80", "-A -t 10.0.0.9: ",
			"-A -t 10.0.0.9:0x50", "-A -t 10.0.0.9:http", "-A -u 10.0.0.9:http", "-A -u 10.0.0.9:domain", "-Sn"),
		seq("weights", "-A -t 10.0.0.1:80", "-a -t 10.0.0.1:80 -r 1.1.1.1 -w 0", "-a -t 10.0.0.1:80 -r 1.1.1.2 -w 2147483647",
			"-a -t 10.0.0.1:80 -r 1.1.1.3 -w 65536", "-a -t 10.0.0.1:80 -r 1.1.1.4 -w 2147483648", "-a -t 10.0.0.1:80 -r 1.1.1.5 -x 2147483647 -y 2147483647",
			"-Ln", "-Ln --thresholds"),
		seq("flush", "-A -t 10.0.0.1:80", "-a -t 10.0.0.1:80 -r 1.1.1.1", "-C", "-C", "-Ln", "-C -n", "--clear"),
		seq("no-args", "-A -t 10.0.0.1:80", step{args: nil}, "-A -t vip1:https", step{args: nil}),
		seq("ipv4-mapped", "-A -t [::ffff:1.2.3.4]:80 -s rr", "-a -t [::ffff:1.2.3.4]:80 -r [2001:db8::10]:80 -m",
			"-a -t [::ffff:1.2.3.4]:80 -r [::ffff:5.6.7.8]:80 -m", "-a -t [::ffff:1.2.3.4]:80 -r 10.0.0.5 -i", "-Ln", "-Sn",
			"-L -n -t [::ffff:1.2.3.4]:80", "-E -t [::ffff:1.2.3.4]:80 -s wrr -p", "-e -t [::ffff:1.2.3.4]:80 -r [2001:db8::10]:80 -m -w 4",
			"-Z -t [::ffff:1.2.3.4]:80", "-d -t [::ffff:1.2.3.4]:80 -r [2001:db8::10]:80", "-Ln", "-D -t [::ffff:1.2.3.4]:80",
			"-D -t [::ffff:1.2.3.4]:80", "-A -t [::1.2.3.4]:80", "-A -t ::ffff:10.0.0.1 -p", "-Ln", "-S"),
		seq("connections-empty", "-L -c", "-Lcn", "-L -c --persistent-conn", "-lnc"),
	}
}

// generated returns n pseudo-random sequences over the grammar, valid and
// invalid, from a fixed seed.
func generatedSequences(n int) []sequence { return generatedSequencesSeed(n, 20261125) }

func generatedSequencesSeed(n int, seed uint64) []sequence {
	r := rand.New(rand.NewPCG(seed, 1))
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	services := func() string {
		if r.IntN(8) == 0 {
			return pick("-t 10.0.0.1:99999", "-t 80", "-t nosuchhost:80", "-t [2001:db8::1]", "-u 10.0.0.1:http",
				"-f 0", "-f 0x10", "-t 10.0.0.1:", "-t [10.0.0.1]:80", "-f -1", "-t 10.0.0.1:-1", "-t 2001:db8::1")
		}
		return pick("-t 10.0.0.1:80", "-t 10.0.0.2:443", "-u 10.0.0.1:53", "--sctp-service 10.0.0.2:3868", "-f 1",
			"-f 7 -6", "-f 4294967295", "-t [2001:db8::1]:80", "-t vip1:http", "-u vip2:domain", "-t 1.0.0.1:80",
			"-t 200.0.0.1:80", "-t 10.1:8080", "-f 3000000000", "-t [2001:db8::1]:https", "-t 10.0.0.1:0")
	}
	reals := func() string {
		return pick("-r 192.168.0.1", "-r 192.168.0.2:8080", "-r rs1:http", "-r [2001:db8::10]:80", "-r 10.0.0.5",
			"-r 127.0.0.1", "-r 224.0.0.1", "-r 1.0.0.2", "-r 200.0.0.2", "-r 100.0.0.2:99", "-r bad..host",
			"-r [2001:db8::11]", "-r 10.0.0.6:domain", "-r rs2.example.com")
	}
	svcOpts := func() string {
		var o []string
		for i := r.IntN(4); i > 0; i-- {
			o = append(o, pick("-s rr", "-s wrr", "-s lc", "-s sh", "-s mh", "-s nosuch", "-p", "-p 100", "-p 0",
				"-M 255.255.255.0", "-M 64", "-o", "--pe sip", "-b flag-1", "-b sh-port", "-b mh-fallback,mh-port",
				"-b bogus", "-b flag-3", "-s dh", "-s lblc", "-s sed", "-s nq", "-s fo", "-s ovf", "-s lblcr"))
		}
		return strings.Join(o, " ")
	}
	destOpts := func() string {
		var o []string
		for i := r.IntN(4); i > 0; i-- {
			o = append(o, pick("-m", "-g", "-i", "-w 0", "-w 5", "-w 2147483647", "-w -1", "-x 10", "-y 5",
				"--tun-type gue --tun-port 6080", "--tun-type gre --tun-csum", "--tun-remcsum", "-x 2147483648"))
		}
		return strings.Join(o, " ")
	}
	listing := func() string {
		return pick("-L", "-Ln", "-L -n --stats", "-L --rate -n", "-Ln --exact --stats", "-Ln --thresholds",
			"-Ln --persistent-conn", "-Ln --tun-info", "-Ln --nosort", "-S", "-Sn", "-L --timeout", "-L --daemon",
			"-Lc", "-L -n "+services(), "-L "+services(), "-l --sort", "-L -c --stats", "-S --exact")
	}
	noise := func() string {
		return pick("--bogus", "-q", "-Z", "extra", "-- x", "-n", "-6", "--ops=1", "-h", "-s", "-p foo", "-M")
	}
	command := func() string {
		var c string
		switch r.IntN(14) {
		case 0, 1, 2:
			c = "-A " + services() + " " + svcOpts()
		case 3, 4, 5:
			c = "-a " + services() + " " + reals() + " " + destOpts()
		case 6:
			c = "-E " + services() + " " + svcOpts()
		case 7:
			c = "-e " + services() + " " + reals() + " " + destOpts()
		case 8:
			c = pick("-D ", "-d ") + services() + " " + pick("", reals())
		case 9:
			c = pick("-Z", "-Z "+services(), "-C", "--set 10 20 30", "--set 0 0 0", "--set 1 2", "--set a 1 2")
		case 10:
			c = pick("--start-daemon master --mcast-interface dummy0", "--start-daemon backup --mcast-interface dummy0 --syncid 5",
				"--stop-daemon master", "--stop-daemon backup", "--start-daemon master", "--start-daemon foo",
				"--start-daemon backup --mcast-interface dummy0 --mcast-group 239.0.0.9 --mcast-port 7 --mcast-ttl 2")
		case 11:
			c = pick("-n", "-t 10.0.0.1:80 -A", "--l", "-V", "-L -Z", "-A -L")
		default:
			c = listing()
		}
		if r.IntN(10) == 0 {
			c += " " + noise()
		}
		return strings.TrimSpace(c)
	}
	var out []sequence
	for i := 0; i < n; i++ {
		s := sequence{name: fmt.Sprintf("gen-%03d", i)}
		for j := 2 + r.IntN(4); j > 0; j-- {
			s.steps = append(s.steps, cmdline(command()))
		}
		if r.IntN(5) == 0 {
			var lines []string
			for j := 2 + r.IntN(4); j > 0; j-- {
				lines = append(lines, command())
			}
			s.steps = append(s.steps, restoreStep(lines...))
		}
		s.steps = append(s.steps, cmdline(listing()))
		out = append(out, s)
	}
	return out
}

// soupSequences returns n sequences of commands made of random tokens of
// the grammar, in random order: mostly invalid invocations that exercise
// popt's and ipvsadm's error paths.
func soupSequences(n int, seed uint64) []sequence {
	r := rand.New(rand.NewPCG(seed, 2))
	pool := []string{"-A", "-E", "-D", "-C", "-L", "-l", "-a", "-e", "-d", "-R", "-S", "-Z", "--set", "-h", "-v",
		"-t", "-u", "-f", "--sctp-service", "-s", "-p", "-M", "-r", "-m", "-g", "-i", "-w", "-x", "-y", "-c", "-n",
		"--timeout", "--daemon", "--stats", "--rate", "--thresholds", "--persistent-conn", "--nosort", "--sort", "-X",
		"-6", "-o", "--pe", "-b", "--tun-type", "--tun-port", "--tun-nocsum", "--tun-csum", "--tun-remcsum", "--tun-info",
		"--start-daemon", "--stop-daemon", "--mcast-interface", "--syncid", "--mcast-group", "--mcast-port", "--mcast-ttl",
		"--sync-maxlen", "10.0.0.1:80", "10.0.0.1", "[2001:db8::1]:80", "vip1:http", "1", "0", "-1", "65536", "2678400",
		"rr", "sh", "mh", "master", "backup", "dummy0", "255.255.255.0", "64", "sh-port", "flag-1", "gue", "gre", "ipip",
		"--", "-", "x", "=", "-Ln", "-At", "-p=5", "--ops=1", "-nc", "-lnc", "--list", "--numeric", "-tx", "-Lt10.0.0.1:80",
		"192.168.0.1", "rs1", "239.1.1.1", "ff02::1", "--bogus", "-q", "-ps", "-Sn", "--add-service", "--tcp-service=10.0.0.2:80"}
	var out []sequence
	for i := 0; i < n; i++ {
		s := sequence{name: fmt.Sprintf("soup-%03d", i)}
		for j := 0; j < 6; j++ {
			k := 1 + r.IntN(7)
			var args []string
			if r.IntN(3) > 0 {
				args = append(args, pool[r.IntN(14)])
			}
			for ; k > 0; k-- {
				args = append(args, pool[r.IntN(len(pool))])
			}
			st := step{args: args}
			for _, a := range args {
				if a == "-R" {
					st.stdin = "-A -t 10.0.0.9:80\n-Ln\n" + strings.Join(args, " ") + "\n"
				}
			}
			s.steps = append(s.steps, st)
		}
		s.steps = append(s.steps, cmdline("-Sn"))
		out = append(out, s)
	}
	return out
}

// runSequence runs s with the ipvsadm at path, from a reset kernel, and
// returns what each step printed, then the kernel state; it leaves the
// kernel reset again (one reference -R dumps the state and resets).
func runSequence(t *testing.T, path string, s sequence) []string {
	t.Helper()
	var out []string
	for _, st := range s.steps {
		r := vmtest.Run(t, path, "ipvsadm", st.stdin, st.args...)
		out = append(out, r.String())
	}
	final := vmtest.RefInput(t, stateInput+resetInput, "-R")
	return append(out, final.String())
}

func describeStep(st step) string {
	d := "ipvsadm " + strings.Join(st.args, " ")
	if st.stdin != "" {
		d += fmt.Sprintf(" <<< %q", st.stdin)
	}
	return d
}

// differentialSequences is what TestVMDifferential runs on kernel k: the
// hand-written sequences on every kernel; on the default kernel 160
// sequences generated from the grammar and 40 of random tokens, on the
// others samples of their own (60 and 15, seeded by the kernel's name).
// Every kernel sees every part of the grammar, the kernels together see
// more of it than one would, and the three fit the gate's time.
func differentialSequences(kernel string) []sequence {
	seqs := tableSequences()
	if kernel == "" || kernel == vmtest.DefaultKernel {
		seqs = append(seqs, generatedSequences(160)...)
		return append(seqs, soupSequences(40, 4242)...)
	}
	h := fnv.New64a()
	h.Write([]byte(kernel))
	seed := h.Sum64()
	seqs = append(seqs, generatedSequencesSeed(60, seed)...)
	return append(seqs, soupSequences(15, seed)...)
}

// TestVMDifferential runs the kernel's command sequences
// (differentialSequences) through the reference ipvsadm and ours and
// compares stdout, stderr, exit status and the kernel state after every
// command, on every pinned kernel.
//
//vmtest:kernels all
//vmtest:budget 6m
func TestVMDifferential(t *testing.T) {
	vmtest.Require(t)
	guestSetup(t)
	seqs := differentialSequences(vmtest.Kernel())
	reset(t)
	commands, differences := 0, 0
	for _, s := range seqs {
		ref := runSequence(t, vmtest.RefPath, s)
		ours := runSequence(t, vmtest.OursPath, s)
		commands += len(s.steps)
		for i := range ref {
			if ref[i] == ours[i] {
				continue
			}
			differences++
			what := "final state (reference -Sn, -L --timeout, -L --daemon)"
			if i < len(s.steps) {
				what = describeStep(s.steps[i])
			}
			var context []string
			for _, st := range s.steps[:min(i, len(s.steps))] {
				context = append(context, describeStep(st))
			}
			t.Errorf("sequence %s, after\n  %s\n%s differs (- reference, + ours):\n%s",
				s.name, strings.Join(context, "\n  "), what, lineDiff(ref[i], ours[i]))
			break
		}
	}
	summary := fmt.Sprintf("differential: %d sequences, %d commands, %d differences", len(seqs), commands, differences)
	fmt.Println(summary)
	t.Log(summary)
	reset(t)
}
