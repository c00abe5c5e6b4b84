// Package completions holds the shell completion scripts. The ipvsadm
// ones are written by hand; their command/option matrix is checked here
// against ipvsadmargs, and their behaviour is checked by running them in
// real bash, zsh and fish.
package completions_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs/internal/ipvsadmargs"
	"github.com/ipvs-tools/ipvs/internal/ipvsadmfmt"
)

// tables are the data of one completion script: per table ("matrix",
// "commands", "options") the rows by key.
type tables map[string]map[string]string

var rowPatterns = map[string]*regexp.Regexp{
	// bash and zsh: [key]='value' inside an associative array.
	"ipvsadm.bash": regexp.MustCompile(`^\s*\[([a-z0-9-]+)\]='([^']*)'$`),
	"_ipvsadm":     regexp.MustCompile(`^\s*\[([a-z0-9-]+)\]='([^']*)'$`),
	// fish: __ipvsadm_row TABLE key 'value'
	"ipvsadm.fish": regexp.MustCompile(`^__ipvsadm_row [a-z]+ ([a-z0-9-]+) '([^']*)'$`),
}

// readTables extracts the tables between "# NAME:begin" and "# NAME:end".
func readTables(t *testing.T, file string) tables {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	re := rowPatterns[file]
	tabs := tables{}
	current := ""
	for n, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if name, ok := strings.CutPrefix(trimmed, "# "); ok {
			if table, ok := strings.CutSuffix(name, ":begin"); ok {
				current = table
				tabs[current] = map[string]string{}
				continue
			}
			if _, ok := strings.CutSuffix(name, ":end"); ok {
				current = ""
				continue
			}
		}
		if current == "" {
			continue
		}
		m := re.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("%s:%d: not a row of table %s: %q", file, n+1, current, line)
		}
		if _, dup := tabs[current][m[1]]; dup {
			t.Fatalf("%s:%d: %s listed twice", file, n+1, m[1])
		}
		tabs[current][m[1]] = m[2]
	}
	for _, name := range []string{"matrix", "commands", "options"} {
		if len(tabs[name]) == 0 {
			t.Fatalf("%s: no %s table", file, name)
		}
	}
	return tabs
}

var scripts = []string{"ipvsadm.bash", "_ipvsadm", "ipvsadm.fish"}

// spelling is one way to type an option or command, with its value
// marker: "" none, ":" required, "::" optional.
type spelling struct{ word, arg string }

func spellings(row string) []spelling {
	var out []spelling
	for _, f := range strings.Fields(row) {
		w, arg, _ := strings.Cut(f, ":")
		if arg != "" || strings.HasSuffix(f, ":") {
			arg = ":" + arg
		}
		out = append(out, spelling{w, arg})
	}
	return out
}

// TestScriptsShareTables: the three scripts carry the same tables.
func TestScriptsShareTables(t *testing.T) {
	want := readTables(t, scripts[0])
	for _, s := range scripts[1:] {
		got := readTables(t, s)
		for _, name := range []string{"matrix", "commands", "options"} {
			for _, k := range sortedKeys(want[name]) {
				if got[name][k] != want[name][k] {
					t.Errorf("%s: %s[%s] = %q, %s has %q", s, name, k, got[name][k], scripts[0], want[name][k])
				}
			}
			for _, k := range sortedKeys(got[name]) {
				if _, ok := want[name][k]; !ok {
					t.Errorf("%s: %s[%s] is not in %s", s, name, k, scripts[0])
				}
			}
		}
	}
}

// TestMatrixAgreesWithIpvsadmargs derives the matrix from
// ipvsadmargs.Parse and compares it with every script's rows.
func TestMatrixAgreesWithIpvsadmargs(t *testing.T) {
	tabs := readTables(t, scripts[0])
	cmdSpelling := map[string]string{}
	for cmd, row := range tabs["commands"] {
		cmdSpelling[cmd] = spellings(row)[0].word
	}
	bitSpelling := map[string]string{}
	for _, bit := range optionBits() {
		row, ok := tabs["options"][bit]
		if !ok {
			t.Fatalf("option %s (ipvsadmargs) is not in the options table", bit)
		}
		bitSpelling[bit] = spellings(row)[0].word
		if _, ok := sample[bit]; !ok && spellings(row)[0].arg == ":" {
			t.Fatalf("no sample value for %s in matrix_test.go", bit)
		}
	}
	for _, cmd := range commandNames() {
		if _, ok := cmdSpelling[cmd]; !ok {
			t.Fatalf("command %s (ipvsadmargs) is not in the commands table", cmd)
		}
	}
	derived := deriveMatrix(t, cmdSpelling, bitSpelling)
	for _, s := range scripts {
		got := readTables(t, s)["matrix"]
		for _, cmd := range commandNames() {
			if want := rowString(derived[cmd]); got[cmd] != want {
				t.Errorf("%s: matrix row %s\n got: %q\nwant: %q (from ipvsadmargs)", s, cmd, got[cmd], want)
			}
		}
		for _, cmd := range sortedKeys(got) {
			if _, ok := derived[cmd]; !ok {
				t.Errorf("%s: matrix row %s is not an ipvsadm command", s, cmd)
			}
		}
	}
}

// TestOptionSpellings checks every spelling of the options table: that it
// sets the option bit its row names, and takes a value exactly when its
// marker says so.
func TestOptionSpellings(t *testing.T) {
	tabs := readTables(t, scripts[0])
	for _, bit := range sortedKeys(tabs["options"]) {
		for _, sp := range spellings(tabs["options"][bit]) {
			args := []string{sp.word}
			if sp.arg == ":" {
				v := sample[bit]
				if sp.word == "-f" || sp.word == "--fwmark-service" {
					v = "1"
				}
				if bit == "ipv6" || bit == "sort" {
					t.Fatalf("%s: %s takes no value", bit, sp.word)
				}
				args = append(args, v)
			}
			switch bit {
			case "sort":
				// A no-op that every command accepts, repeatedly.
				if msg := parseMsg("-C", sp.word, sp.word); msg != "" {
					t.Errorf("-C %s %s: %q", sp.word, sp.word, msg)
				}
			case "ipv6":
				if msg := parseMsg("-A", "-f", "1", sp.word, "-s", "rr"); msg != "" {
					t.Errorf("-A -f 1 %s: %q", sp.word, msg)
				}
			default:
				// A bit given twice is "multiple 'BIT' options",
				// whatever the command.
				argv := append(append([]string{"-L"}, args...), args...)
				if msg, want := parseMsg(argv...), fmt.Sprintf("multiple '%s' options specified", bit); msg != want {
					t.Errorf("%s sets %q, not %s", sp.word, msg, bit)
				}
			}
			// The value marker, from popt's point of view.
			missing := sp.word + ": missing argument"
			unwanted := sp.word + "=x: option does not take an argument"
			switch sp.arg {
			case ":":
				if msg := parseMsg("-L", "-n", sp.word); msg != missing {
					t.Errorf("%s at the end: %q, want %q", sp.word, msg, missing)
				}
			case "::":
				if msg := parseMsg("-A", "-t", "10.0.0.1:80", sp.word); msg != "" {
					t.Errorf("%s without its optional value: %q", sp.word, msg)
				}
			default:
				if strings.HasPrefix(sp.word, "--") {
					if msg := parseMsg("-L", sp.word+"=x"); msg != unwanted {
						t.Errorf("%s=x: %q, want %q", sp.word, msg, unwanted)
					}
				} else if msg := parseMsg("-L", "-n", sp.word); strings.Contains(msg, "missing argument") {
					t.Errorf("%s wants an argument: %q", sp.word, msg)
				}
			}
		}
	}
}

// TestCommandSpellings checks that each spelling of the commands table is
// the command its row names.
func TestCommandSpellings(t *testing.T) {
	tabs := readTables(t, scripts[0])
	named := regexp.MustCompile(`for the '([a-z-]+)' command$`)
	for _, cmd := range sortedKeys(tabs["commands"]) {
		for _, sp := range spellings(tabs["commands"][cmd]) {
			argv := append([]string{"ipvsadm", sp.word}, commandArgs[cmd]...)
			c, err := ipvsadmargs.Parse(argv, ipvsadmargs.Env{})
			got := ""
			var e *ipvsadmargs.Error
			switch {
			case err == nil:
				got = c.Kind.String()
			case errors.As(err, &e) && named.MatchString(strings.TrimSpace(e.Msg)):
				got = named.FindStringSubmatch(strings.TrimSpace(e.Msg))[1]
			default:
				t.Errorf("%s: %v", sp.word, err)
				continue
			}
			if got != cmd {
				t.Errorf("%s is %s, the table says %s", sp.word, got, cmd)
			}
			if want := ""; commandArgs[cmd] != nil {
				want = ":"
				if sp.arg != want && !(cmd == "set") {
					t.Errorf("%s takes a value; mark it %q", sp.word, want)
				}
			}
		}
	}
}

// TestEveryOptionOffered: every option of ipvsadm's help text (and the
// undocumented -X and -l, and -v) is in the scripts' tables.
func TestEveryOptionOffered(t *testing.T) {
	tabs := readTables(t, scripts[0])
	known := map[string]bool{}
	for _, name := range []string{"commands", "options"} {
		for _, row := range tabs[name] {
			for _, sp := range spellings(row) {
				if known[sp.word] {
					t.Errorf("%s is spelled twice", sp.word)
				}
				known[sp.word] = true
			}
		}
	}
	var help bytes.Buffer
	ipvsadmfmt.WriteHelp(&help, "ipvsadm")
	opts := regexp.MustCompile(`--[a-z0-9][a-z0-9-]*|(?:^|[ |])-[A-Za-z0-9]\b`).FindAllString(help.String(), -1)
	opts = append(opts, "-X", "-l", "-v", "--version")
	for _, o := range opts {
		o = strings.TrimLeft(o, " |")
		if !known[o] {
			t.Errorf("%s (ipvsadm -h) is not in the completion tables", o)
		}
	}
}

// A case is a command line ending where completion is asked for (a
// trailing blank asks for a new word) and the words that must be offered,
// as whole words. exact: exactly these; otherwise at least these and none
// of not.
type compCase struct {
	line  string
	want  []string
	exact bool
	not   []string
}

var listOpts = []string{"-n", "--numeric", "-c", "--connection", "-t", "--tcp-service", "-u", "--udp-service",
	"--sctp-service", "-f", "--fwmark-service", "--timeout", "--daemon", "--stats", "--rate", "--thresholds",
	"--persistent-conn", "--nosort", "--syncid", "-X", "--exact", "--tun-info"}

var schedulers = []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"}

var cases = []compCase{
	{line: "ipvsadm ", exact: true, want: []string{"-A", "--add-service", "-E", "--edit-service", "-D", "--delete-service",
		"-C", "--clear", "-R", "--restore", "-S", "--save", "-a", "--add-server", "-e", "--edit-server", "-d",
		"--delete-server", "-L", "-l", "--list", "-Z", "--zero", "--set", "--start-daemon", "--stop-daemon",
		"-h", "--help", "-v", "--version"}},
	{line: "ipvsadm --st", exact: true, want: []string{"--start-daemon", "--stop-daemon"}},
	{line: "ipvsadm -L ", exact: true, want: listOpts},
	{line: "ipvsadm -l -", exact: true, want: listOpts},
	{line: "ipvsadm -L -c ", exact: true, want: []string{"-n", "--numeric", "--persistent-conn", "--nosort", "--syncid", "-X", "--exact", "--tun-info"}},
	{line: "ipvsadm -Ln --stats ", want: []string{"--rate", "--thresholds", "-t", "--exact"},
		not: []string{"-n", "--numeric", "-c", "--timeout", "--daemon", "--stats"}},
	{line: "ipvsadm -L --timeout ", exact: true, want: []string{"-n", "--numeric", "--nosort", "--syncid", "-X", "--exact", "--tun-info"}},
	{line: "ipvsadm -A -t 10.0.0.1:80 ", exact: true, want: []string{"-s", "--scheduler", "-p", "--persistent", "-M", "--netmask",
		"-o", "--ops", "--pe", "-b", "--sched-flags"}},
	{line: "ipvsadm -A -t 10.0.0.1:80 -s rr -p 600 -", want: []string{"-M", "--pe"}, not: []string{"-s", "--scheduler", "-p", "--persistent", "-6"}},
	{line: "ipvsadm -A -f 1 ", want: []string{"-6", "--ipv6", "-s"}},
	{line: "ipvsadm -E --fwmark-service 1 -6 ", want: []string{"-s"}, not: []string{"-6", "--ipv6"}},
	{line: "ipvsadm -A -t 10.0.0.1:80 -s ", exact: true, want: schedulers},
	{line: "ipvsadm -A -t 10.0.0.1:80 -s w", exact: true, want: []string{"wlc", "wrr"}},
	{line: "ipvsadm -A -t 10.0.0.1:80 --scheduler=lb", exact: true, want: []string{"--scheduler=lblc", "--scheduler=lblcr"}},
	{line: "ipvsadm -A -t 10.0.0.1:80 -p ", want: []string{"-s", "-M"}, not: []string{"-p", "--persistent"}},
	{line: "ipvsadm -A -t 10.0.0.1:80 -p 6", exact: true},
	{line: "ipvsadm -A -u 10.0.0.1:53 -s sh -b ", exact: true, want: []string{"flag-1", "flag-2", "flag-3", "sh-fallback", "sh-port"}},
	{line: "ipvsadm -A -u 10.0.0.1:53 -s mh -b mh-port,", exact: true, want: []string{"mh-port,flag-1", "mh-port,flag-2", "mh-port,flag-3", "mh-port,mh-fallback"}},
	{line: "ipvsadm -A -u 10.0.0.1:53 --pe ", exact: true, want: []string{"sip"}},
	{line: "ipvsadm -a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type ", exact: true, want: []string{"ipip", "gue", "gre"}},
	{line: "ipvsadm -a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gre ", exact: true, want: []string{"-w", "--weight", "-x",
		"--u-threshold", "-y", "--l-threshold", "--tun-nocsum", "--tun-csum"}},
	{line: "ipvsadm -a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue --tun-csum ", want: []string{"--tun-port", "-w"},
		not: []string{"--tun-nocsum", "--tun-remcsum", "--tun-csum", "--tun-type"}},
	{line: "ipvsadm -a -t 10.0.0.1:80 -r 10.0.0.2 -m ", exact: true, want: []string{"-w", "--weight", "-x", "--u-threshold", "-y", "--l-threshold"}},
	{line: "ipvsadm -a -t 10.0.0.1:80 ", want: []string{"-r", "--real-server", "-g", "-i", "-m", "--tun-type"}, not: []string{"-t", "-s"}},
	{line: "ipvsadm -d -t 10.0.0.1:80 ", exact: true, want: []string{"-r", "--real-server"}},
	{line: "ipvsadm --start-daemon ", exact: true, want: []string{"master", "backup"}},
	{line: "ipvsadm --start-daemon backup ", exact: true, want: []string{"--mcast-interface", "--syncid", "--mcast-group",
		"--mcast-port", "--mcast-ttl", "--sync-maxlen"}},
	{line: "ipvsadm --start-daemon master --mcast-interface ", want: []string{"lo"}},
	{line: "ipvsadm --stop-daemon m", exact: true, want: []string{"master"}},
	{line: "ipvsadm --stop-daemon master ", exact: true, want: []string{"--syncid"}},
	{line: "ipvsadm -C ", exact: true},
	{line: "ipvsadm -R ", exact: true},
	{line: "ipvsadm --set ", exact: true},
	{line: "ipvsadm -h ", exact: true},
	{line: "ipvsadm -S ", exact: true, want: []string{"-n", "--numeric"}},
	{line: "ipvsadm -Z ", exact: true, want: []string{"-t", "--tcp-service", "-u", "--udp-service", "--sctp-service", "-f", "--fwmark-service"}},
	// From the live table (the fake ipvsadm's -Sn output below).
	{line: "ipvsadm -D -t ", exact: true, want: []string{"10.0.0.1:80", "[2001:db8::1]:443"}},
	{line: "ipvsadm -D -t 10.0.0.1:", exact: true, want: []string{"10.0.0.1:80"}},
	{line: "ipvsadm -D -t [2001:db8::1]:4", exact: true, want: []string{"[2001:db8::1]:443"}},
	{line: "ipvsadm -E -u ", exact: true, want: []string{"10.0.0.1:53"}},
	{line: "ipvsadm -Z -f ", exact: true, want: []string{"7", "8"}},
	{line: "ipvsadm -L --tcp-service=", exact: true, want: []string{"--tcp-service=10.0.0.1:80", "--tcp-service=[2001:db8::1]:443"}},
	{line: "ipvsadm -Lt ", exact: true, want: []string{"10.0.0.1:80", "[2001:db8::1]:443"}},
	{line: "ipvsadm -A -t ", exact: true},
	{line: "ipvsadm -e -t 10.0.0.1:80 -r ", exact: true, want: []string{"192.168.0.1:8080", "192.168.0.2:80"}},
	{line: "ipvsadm -d -t 10.0.0.1:80 -r 192.168.0.1:", exact: true, want: []string{"192.168.0.1:8080"}},
	{line: "ipvsadm -d -t [2001:db8::1]:443 -r ", exact: true, want: []string{"[2001:db8::10]:443"}},
	{line: "ipvsadm -a -t 10.0.0.1:80 -r ", exact: true},
}

// liveTable is what the fake ipvsadm prints for -Sn.
const liveTable = `-A -t 10.0.0.1:80 -s wlc
-a -t 10.0.0.1:80 -r 192.168.0.1:8080 -m -w 2
-a -t 10.0.0.1:80 -r 192.168.0.2:80 -m -w 1
-A -u 10.0.0.1:53 -s rr
-a -u 10.0.0.1:53 -r 192.168.0.3:53 -g -w 1
-A -t [2001:db8::1]:443 -s wlc
-a -t [2001:db8::1]:443 -r [2001:db8::10]:443 -m -w 1
-A -f 7 -s wlc
-A -f 8 -6 -s wlc
`

// fakeIpvsadm makes a directory with an ipvsadm that prints body for -Sn.
func fakeIpvsadm(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/sh\n[ \"$1\" = -Sn ] || exit 2\n" + body
	if err := os.WriteFile(filepath.Join(dir, "ipvsadm"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func shellEnv(dir string) []string {
	return append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"), "LC_ALL=C")
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// compWords splits a line the way bash fills COMP_WORDS: at blanks, and
// with every run of ':' or '=' a word of its own.
func compWords(line string) []string {
	var words []string
	for _, tok := range strings.Fields(line) {
		words = append(words, regexp.MustCompile(`[:=]+|[^:=]+`).FindAllString(tok, -1)...)
	}
	if line == "" || strings.HasSuffix(line, " ") {
		words = append(words, "")
	}
	return words
}

// current returns the word being completed, as one word.
func current(line string) string {
	if strings.HasSuffix(line, " ") {
		return ""
	}
	f := strings.Fields(line)
	return f[len(f)-1]
}

// check compares the offered words with the case.
func check(t *testing.T, shell string, c compCase, got []string) {
	t.Helper()
	slices.Sort(got)
	got = slices.Compact(got)
	if c.exact {
		want := slices.Clone(c.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %q\n got: %q\nwant: %q", shell, c.line, got, want)
		}
		return
	}
	for _, w := range c.want {
		if !slices.Contains(got, w) {
			t.Errorf("%s: %q does not offer %q (got %q)", shell, c.line, w, got)
		}
	}
	for _, w := range c.not {
		if slices.Contains(got, w) {
			t.Errorf("%s: %q offers %q", shell, c.line, w)
		}
	}
}

// splitOutput cuts a shell's output at "@@case N" lines.
func splitOutput(t *testing.T, out string, n int) [][]string {
	t.Helper()
	res := make([][]string, n)
	i := -1
	for _, line := range strings.Split(out, "\n") {
		if k, ok := strings.CutPrefix(line, "@@case "); ok {
			fmt.Sscan(k, &i)
			continue
		}
		if i >= 0 && line != "" {
			res[i] = append(res[i], line)
		}
	}
	if i != n-1 {
		t.Fatalf("output ends at case %d of %d:\n%s", i, n, out)
	}
	return res
}

func run(t *testing.T, dir, prog string, args []string, stdin string) string {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Env = shellEnv(dir)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstderr:\n%s", prog, err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("%s wrote to stderr:\n%s", prog, stderr.String())
	}
	return stdout.String()
}

func lookShell(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (scripts/deps.sh installs it), so its completion is not tested: %v", name, err)
	}
	return p
}

// TestBash drives the completion function that "complete -p ipvsadm"
// names, in a real bash, with COMP_WORDS and COMP_CWORD as bash sets them.
func TestBash(t *testing.T) {
	bash := lookShell(t, "bash")
	dir := fakeIpvsadm(t, "cat <<'EOF'\n"+liveTable+"EOF\n")
	var sb strings.Builder
	sb.WriteString("set -u\nsource ./ipvsadm.bash\n")
	sb.WriteString("spec=$(complete -p ipvsadm) || exit 1\n")
	sb.WriteString(`[[ $spec == "complete -F _ipvsadm ipvsadm" ]] || { echo "bad spec: $spec"; exit 1; }` + "\n")
	sb.WriteString(`fn=${spec#*-F }; fn=${fn%% *}` + "\n")
	sb.WriteString(`complete -p ipvsadm-save ipvsadm-restore >/dev/null || exit 1` + "\n")
	for i, c := range cases {
		words := compWords(c.line)
		var q []string
		for _, w := range words {
			q = append(q, quote(w))
		}
		cw := len(words) - 1
		prev := ""
		if cw > 0 {
			prev = words[cw-1]
		}
		fmt.Fprintf(&sb, "COMP_WORDS=(%s); COMP_CWORD=%d; COMP_LINE=%s; COMP_POINT=%d; COMPREPLY=()\n",
			strings.Join(q, " "), cw, quote(c.line), len(c.line))
		fmt.Fprintf(&sb, "\"$fn\" ipvsadm %s %s\necho '@@case %d'\nif ((${#COMPREPLY[@]})); then printf '%%s\\n' \"${COMPREPLY[@]}\"; fi\n",
			quote(words[cw]), quote(prev), i)
	}
	out := run(t, dir, bash, []string{"--norc", "--noprofile", "-s"}, sb.String())
	for i, got := range splitOutput(t, out, len(cases)) {
		c := cases[i]
		// bash replaces only the text after the last ':' or '=' of
		// the word, so the replies leave that part out.
		cur := current(c.line)
		prefix := cur[:strings.LastIndexAny(cur, ":=")+1]
		var full []string
		for _, g := range got {
			full = append(full, prefix+g)
		}
		check(t, "bash", c, full)
	}
}

// TestBashSave covers ipvsadm-save's one option and ipvsadm-restore's none.
func TestBashSave(t *testing.T) {
	bash := lookShell(t, "bash")
	script := `source ./ipvsadm.bash
COMP_WORDS=(ipvsadm-save ''); COMP_CWORD=1; _ipvsadm_save; echo "1:${COMPREPLY[*]}"
COMP_WORDS=(ipvsadm-save -n ''); COMP_CWORD=2; _ipvsadm_save; echo "2:${COMPREPLY[*]}"
COMP_WORDS=(ipvsadm-restore ''); COMP_CWORD=1; _ipvsadm_restore; echo "3:${COMPREPLY[*]}"
`
	out := run(t, t.TempDir(), bash, []string{"--norc", "--noprofile", "-s"}, script)
	if out != "1:-n\n2:\n3:\n" {
		t.Errorf("got %q", out)
	}
}

// TestBashLiveTableTimeout: an ipvsadm that hangs costs at most about a
// second and offers nothing; one that fails offers nothing.
func TestBashLiveTableTimeout(t *testing.T) {
	bash := lookShell(t, "bash")
	if _, err := exec.LookPath("timeout"); err != nil {
		t.Skip("no timeout(1)")
	}
	for name, body := range map[string]string{"hangs": "sleep 10\n", "fails": "echo 'Can'\\''t initialize ipvs' >&2; exit 2\n"} {
		t.Run(name, func(t *testing.T) {
			dir := fakeIpvsadm(t, body)
			script := "source ./ipvsadm.bash\nCOMP_WORDS=(ipvsadm -D -t ''); COMP_CWORD=3; _ipvsadm; echo \"[${COMPREPLY[*]}]\"\n"
			start := time.Now()
			out := run(t, dir, bash, []string{"--norc", "--noprofile", "-s"}, script)
			if d := time.Since(start); d > 4*time.Second {
				t.Errorf("completion took %v", d)
			}
			if out != "[]\n" {
				t.Errorf("got %q", out)
			}
		})
	}
}

// TestZsh checks the syntax with zsh -n, then runs the candidate logic of
// _ipvsadm (the part below compsys) on every case.
func TestZsh(t *testing.T) {
	zsh := lookShell(t, "zsh")
	if out, err := exec.Command(zsh, "-n", "_ipvsadm").CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v\n%s", err, out)
	}
	b, err := os.ReadFile("_ipvsadm")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "#compdef ipvsadm ipvsadm-save ipvsadm-restore\n") {
		t.Errorf("_ipvsadm does not start with its #compdef line")
	}
	dir := fakeIpvsadm(t, "cat <<'EOF'\n"+liveTable+"EOF\n")
	var sb strings.Builder
	// Stand-ins for compsys, so that sourcing the file defines the
	// functions; the candidates are read from _ipvsadm_candidates.
	sb.WriteString("_describe() { :; }; compadd() { :; }; compset() { :; }; _arguments() { :; }; _message() { :; }\n")
	sb.WriteString("words=(ipvsadm ''); CURRENT=2; service=ipvsadm; source ./_ipvsadm\n")
	for i, c := range cases {
		var q []string
		for _, w := range strings.Fields(c.line) {
			q = append(q, quote(w))
		}
		if strings.HasSuffix(c.line, " ") {
			q = append(q, "''")
		}
		fmt.Fprintf(&sb, "words=(%s); cword=%d; prog=ipvsadm; _ipvsadm_live_done=\n", strings.Join(q, " "), len(q))
		fmt.Fprintf(&sb, "kind= cands=() prefix= valueof=; _ipvsadm_candidates\necho '@@case %d'\nprint -rl -- ${prefix:+\"prefix $prefix\"} $cands\n", i)
	}
	out := run(t, dir, zsh, []string{"-f", "-s"}, sb.String())
	for i, got := range splitOutput(t, out, len(cases)) {
		prefix := ""
		if len(got) > 0 {
			if p, ok := strings.CutPrefix(got[0], "prefix "); ok {
				prefix, got = p, got[1:]
			}
		}
		// compadd keeps only what matches the word typed so far.
		cur := current(cases[i].line)
		var full []string
		for _, g := range got {
			if strings.HasPrefix(prefix+g, cur) {
				full = append(full, prefix+g)
			}
		}
		check(t, "zsh", cases[i], full)
	}
}

// TestFish checks the syntax with fish -n, then asks fish itself for the
// completions of every case (complete -C).
func TestFish(t *testing.T) {
	fish := lookShell(t, "fish")
	if out, err := exec.Command(fish, "-n", "ipvsadm.fish").CombinedOutput(); err != nil {
		t.Fatalf("fish -n: %v\n%s", err, out)
	}
	dir := fakeIpvsadm(t, "cat <<'EOF'\n"+liveTable+"EOF\n")
	var sb strings.Builder
	sb.WriteString("source ./ipvsadm.fish\n")
	for i, c := range cases {
		fmt.Fprintf(&sb, "echo '@@case %d'\ncomplete -C %s\n", i, quote(c.line))
	}
	fmt.Fprintf(&sb, "echo '@@case %d'\ncomplete -C 'ipvsadm-save -'\n", len(cases))
	t.Setenv("HOME", t.TempDir()) // fish keeps its state under HOME
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("XDG_DATA_HOME", "")
	out := run(t, dir, fish, []string{"--no-config", "-c", sb.String()}, "")
	res := splitOutput(t, out, len(cases)+1)
	for i, got := range res[:len(cases)] {
		var words []string
		for _, g := range got {
			w, _, _ := strings.Cut(g, "\t")
			words = append(words, w)
		}
		check(t, "fish", cases[i], words)
	}
	if save := res[len(cases)]; len(save) != 1 || !strings.HasPrefix(save[0], "-n\t") {
		t.Errorf("fish: ipvsadm-save - offers %q", save)
	}
}

// TestIpvsctlScriptsSyntax: the scripts cobra generates for ipvsctl
// (checked in; cmd/ipvsctl's TestGeneratedCompletions keeps them fresh)
// parse in their shells.
func TestIpvsctlScriptsSyntax(t *testing.T) {
	for _, c := range []struct{ shell, file string }{{"bash", "ipvsctl.bash"}, {"zsh", "_ipvsctl"}, {"fish", "ipvsctl.fish"}} {
		t.Run(c.shell, func(t *testing.T) {
			sh := lookShell(t, c.shell)
			if _, err := os.Stat(c.file); err != nil {
				t.Fatalf("%s: %v", c.file, err)
			}
			if out, err := exec.Command(sh, "-n", c.file).CombinedOutput(); err != nil || len(out) > 0 {
				t.Errorf("%s -n %s: %v\n%s", c.shell, c.file, err, out)
			}
		})
	}
	// bash: loading the script registers the completion.
	bash := lookShell(t, "bash")
	out, err := exec.Command(bash, "--norc", "--noprofile", "-c", "source ./ipvsctl.bash && complete -p ipvsctl").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ipvsctl") {
		t.Errorf("complete -p ipvsctl: %v %q", err, out)
	}
}
