package iostreams

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestUTF8Locale(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"nothing set is C", nil, false},
		{"LANG=C", map[string]string{"LANG": "C"}, false},
		{"LANG=POSIX", map[string]string{"LANG": "POSIX"}, false},
		{"LANG=C.UTF-8", map[string]string{"LANG": "C.UTF-8"}, true},
		{"LANG=en_US.utf8", map[string]string{"LANG": "en_US.utf8"}, true},
		{"LANG=de_DE.ISO-8859-1", map[string]string{"LANG": "de_DE.ISO-8859-1"}, false},
		{"LC_CTYPE over LANG", map[string]string{"LANG": "C", "LC_CTYPE": "en_GB.UTF-8"}, true},
		{"LC_ALL=C over UTF-8 LANG", map[string]string{"LANG": "C.UTF-8", "LC_ALL": "C"}, false},
		{"LC_ALL=C over UTF-8 LC_CTYPE", map[string]string{"LC_CTYPE": "C.UTF-8", "LC_ALL": "C"}, false},
		{"LC_ALL UTF-8 over LANG=C", map[string]string{"LANG": "C", "LC_ALL": "C.UTF-8"}, true},
		{"empty LC_ALL is unset", map[string]string{"LC_ALL": "", "LANG": "C.UTF-8"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := utf8Locale(env(tt.env)); got != tt.want {
				t.Errorf("utf8Locale = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSystemLocale checks that System reads the process's locale.
func TestSystemLocale(t *testing.T) {
	const in = "set sysctl conntrack: 0 → 1 … — ✓ × ·"
	for _, tt := range []struct {
		name, lcAll, lang, want string
	}{
		{"LANG=C", "", "C", "set sysctl conntrack: 0 -> 1 ... - ok x -"},
		{"LANG=C.UTF-8", "", "C.UTF-8", in},
		{"LC_ALL=C overrides LANG", "C", "C.UTF-8", "set sysctl conntrack: 0 -> 1 ... - ok x -"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("LC_CTYPE", "")
			t.Setenv("LC_ALL", tt.lcAll)
			t.Setenv("LANG", tt.lang)
			if d := cmp.Diff(tt.want, System().Text(in)); d != "" {
				t.Errorf("Text (-want +got):\n%s", d)
			}
		})
	}
}

func TestColorPolicy(t *testing.T) {
	for _, tt := range []struct {
		name string
		tty  bool
		env  map[string]string
		mode string
		want bool
	}{
		{"terminal", true, map[string]string{"TERM": "xterm-256color"}, "auto", true},
		{"not a terminal", false, map[string]string{"TERM": "xterm"}, "auto", false},
		{"NO_COLOR set", true, map[string]string{"NO_COLOR": "1"}, "auto", false},
		{"NO_COLOR empty", true, map[string]string{"NO_COLOR": ""}, "auto", true},
		{"TERM=dumb", true, map[string]string{"TERM": "dumb"}, "auto", false},
		{"always on a pipe", false, nil, "always", true},
		{"always with NO_COLOR", false, map[string]string{"NO_COLOR": "1"}, "always", true},
		{"never on a terminal", true, nil, "never", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &IOStreams{outTTY: tt.tty, color: tt.tty && colorOnTerminal(env(tt.env))}
			if err := s.SetColorMode(tt.mode); err != nil {
				t.Fatal(err)
			}
			if got := s.ColorEnabled(); got != tt.want {
				t.Errorf("ColorEnabled = %v, want %v", got, tt.want)
			}
		})
	}
	s, _, _, _ := Test()
	if err := s.SetColorMode("sometimes"); err == nil || !strings.Contains(err.Error(), "want auto, always or never") {
		t.Errorf("SetColorMode(sometimes) = %v, want an error naming the choices", err)
	}
}

func TestColorScheme(t *testing.T) {
	on, off := &ColorScheme{enabled: true}, &ColorScheme{}
	var none *ColorScheme
	for _, tt := range []struct {
		name     string
		got      string
		want     string
		wantOff  string
		wantNone string
	}{
		{"bold", on.Bold("SERVICE"), "\x1b[1mSERVICE\x1b[0m", off.Bold("SERVICE"), none.Bold("SERVICE")},
		{"dim", on.Dim("x"), "\x1b[2mx\x1b[0m", off.Dim("x"), none.Dim("x")},
		{"add", on.Change("add", "+ a"), "\x1b[32m+ a\x1b[0m", off.Change("add", "+ a"), none.Change("add", "+ a")},
		{"delete", on.Change("delete", "- a"), "\x1b[31m- a\x1b[0m", off.Change("delete", "- a"), none.Change("delete", "- a")},
		{"update", on.Change("update", "~ a"), "\x1b[33m~ a\x1b[0m", off.Change("update", "~ a"), none.Change("update", "~ a")},
		{"unknown action", on.Change("?", "? a"), "? a", off.Change("?", "? a"), none.Change("?", "? a")},
		{"empty stays empty", on.Bold(""), "", off.Bold(""), none.Bold("")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, tt.got); d != "" {
				t.Errorf("on (-want +got):\n%s", d)
			}
			plain := strings.NewReplacer("\x1b[1m", "", "\x1b[2m", "", "\x1b[31m", "", "\x1b[32m", "", "\x1b[33m", "", "\x1b[0m", "").Replace(tt.want)
			if tt.wantOff != plain || tt.wantNone != plain {
				t.Errorf("off = %q, nil = %q, want %q", tt.wantOff, tt.wantNone, plain)
			}
		})
	}
}

// clock is a fake clock that a test moves by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestProgress(t *testing.T) {
	type step struct {
		after time.Duration // clock advance before the call
		add   int           // Add(add), or Done if -1
	}
	for _, tt := range []struct {
		name  string
		label string
		total int
		tty   bool
		ascii bool
		steps []step
		want  string
	}{
		{"quick operation shows nothing", "applying", 100, true, false,
			[]step{{10 * time.Millisecond, 50}, {10 * time.Millisecond, 50}, {0, -1}}, ""},
		{"count, rate and time left", "applying", 1000, true, false,
			[]step{{100 * time.Millisecond, 100}, {400 * time.Millisecond, 100}, {500 * time.Millisecond, 300}, {0, -1}},
			"\rapplying: 200/1000 (20%), 400/s, 2.0s left" +
				"\rapplying: 500/1000 (50%), 500/s, 1.0s left" +
				"\rapplying: 500/1000 (50%), 500/s, done in 1.0s\n"},
		{"redraws a few times a second at most", "applying", 10, true, false,
			[]step{{300 * time.Millisecond, 3}, {100 * time.Millisecond, 3}, {100 * time.Millisecond, 4}, {0, -1}},
			"\rapplying: 3/10 (30%), 10/s, 0.7s left" +
				"\rapplying: 10/10 (100%), 20/s, done in 0.5s\n"},
		{"a shorter line blanks the longer one", "x", 0, true, false,
			[]step{{time.Second, 12000}, {20 * time.Second, 0}, {0, -1}},
			"\rx: 12000, 12000/s" +
				"\rx: 12000, 571/s  " +
				"\rx: 12000, 571/s, done in 21s\n"},
		{"unknown total: count and rate", "deleting", 0, true, false,
			[]step{{time.Second, 3}, {0, -1}},
			"\rdeleting: 3, 3.0/s\rdeleting: 3, 3.0/s, done in 1.0s\n"},
		{"ASCII label in the C locale", "applying … plan", 4, true, true,
			[]step{{time.Second, 1}, {0, -1}},
			"\rapplying ... plan: 1/4 (25%), 1.0/s, 3.0s left\rapplying ... plan: 1/4 (25%), 1.0/s, done in 1.0s\n"},
		{"stderr not a terminal: nothing", "applying", 10, false, false,
			[]step{{time.Second, 5}, {time.Second, 5}, {0, -1}}, ""},
		{"Add after Done: nothing more", "a", 2, true, false,
			[]step{{time.Second, 1}, {0, -1}, {time.Second, 1}, {0, -1}},
			"\ra: 1/2 (50%), 1.0/s, 1.0s left\ra: 1/2 (50%), 1.0/s, done in 1.0s\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _, errOut := Test()
			s.SetStderrTTY(tt.tty)
			s.SetUTF8(!tt.ascii)
			c := &clock{t: time.Unix(1e9, 0)}
			p := s.NewProgress(tt.label, tt.total, c.now)
			for _, st := range tt.steps {
				c.advance(st.after)
				if st.add < 0 {
					p.Done()
				} else {
					p.Add(st.add)
				}
			}
			if d := cmp.Diff(tt.want, errOut.String()); d != "" {
				t.Errorf("stderr (-want +got):\n%s", d)
			}
		})
	}
}
