package vm

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeClock advances one second per call.
func fakeClock() func() time.Time {
	t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Second)
		return t
	}
}

// feed writes s to the parser in chunks of n bytes.
func feed(p *ConsoleParser, s string, n int) {
	for len(s) > 0 {
		k := min(n, len(s))
		p.Write([]byte(s[:k]))
		s = s[k:]
	}
	p.Close()
}

const sampleConsole = "\x1bc\x1b[?7l\x1b[2JSeaBIOS (version 1.16.2)\r\n" +
	"iPXE noise @@@ not a marker\r\n" +
	"Booting from ROM..\x1bc\x1b[?7l\x1b[2J@@@VM-INIT\r\n" +
	"@@@VMJOB-BEGIN pkg/one\r\n" +
	"=== RUN   TestVMA\r\n" +
	"--- PASS: TestVMA (0.00s)\r\n" +
	"PASS\r\n" +
	"@@@VMJOB-END pkg/one rc=0\r\n" +
	"@@@VMJOB-BEGIN two\r\n" +
	"line without newline@@@VMJOB-END two rc=3\r\n" +
	"@@@VMJOB-BEGIN empty\r\n" +
	"@@@VMJOB-END empty rc=0\r\n" +
	"@@@VM-DONE\r\n" +
	"[    4.312145] reboot: Power down\r\n"

func TestConsoleParser(t *testing.T) {
	for _, chunk := range []int{1, 3, 7, 1000} {
		p := NewConsoleParser(fakeClock())
		feed(p, sampleConsole, chunk)
		r := p.Result()
		if !r.Done || r.Panic != "" || len(r.ModuleFailures) != 0 {
			t.Fatalf("chunk %d: done=%v panic=%q mods=%v", chunk, r.Done, r.Panic, r.ModuleFailures)
		}
		if len(r.Jobs) != 3 {
			t.Fatalf("chunk %d: %d jobs: %+v", chunk, len(r.Jobs), r.Jobs)
		}
		one := r.Job("pkg/one")
		if one == nil || one.RC != 0 || !one.Finished ||
			one.Output != "=== RUN   TestVMA\n--- PASS: TestVMA (0.00s)\nPASS\n" {
			t.Fatalf("chunk %d: job one %+v", chunk, one)
		}
		if one.Duration <= 0 {
			t.Errorf("job duration %v", one.Duration)
		}
		two := r.Job("two")
		if two == nil || two.RC != 3 || two.Output != "line without newline\n" {
			t.Fatalf("chunk %d: job two %+v", chunk, two)
		}
		if e := r.Job("empty"); e == nil || e.Output != "" || e.Lines() != nil {
			t.Fatalf("chunk %d: job empty %+v", chunk, e)
		}
		if r.BootTime <= 0 {
			t.Errorf("boot time %v", r.BootTime)
		}
		if strings.Contains(r.TailText(), "\r") {
			t.Error("tail keeps \\r")
		}
		if r.Tail[len(r.Tail)-1] != "[    4.312145] reboot: Power down" {
			t.Errorf("tail ends %q", r.Tail[len(r.Tail)-1])
		}
	}
}

func TestConsoleParserPanic(t *testing.T) {
	p := NewConsoleParser(nil)
	feed(p, "@@@VM-INIT\n@@@VM-INSMOD-FAIL ip_vs\n@@@VMJOB-BEGIN a\nworking\n"+
		"[    5.1] BUG: kernel NULL pointer dereference, address: 0000000000000000\n"+
		"[    5.2] Kernel panic - not syncing: Fatal exception\n", 5)
	r := p.Result()
	if r.Done {
		t.Error("done without the marker")
	}
	if !strings.Contains(r.Panic, "Kernel panic - not syncing: Fatal exception") {
		t.Errorf("panic %q", r.Panic)
	}
	if len(r.KernelErrors) != 1 || !strings.Contains(r.KernelErrors[0], "NULL pointer") {
		t.Errorf("kernel errors %q", r.KernelErrors)
	}
	if len(r.ModuleFailures) != 1 || r.ModuleFailures[0] != "ip_vs" {
		t.Errorf("module failures %q", r.ModuleFailures)
	}
	if len(r.Jobs) != 1 || r.Jobs[0].Finished || r.Jobs[0].RC != -1 ||
		!strings.HasPrefix(r.Jobs[0].Output, "working\n") {
		t.Errorf("running job %+v", r.Jobs)
	}
	d := describeEnd(r)
	if !strings.Contains(d, "job a was running") || !strings.Contains(d, "Kernel panic") {
		t.Errorf("describeEnd: %s", d)
	}
}

func TestConsoleParserOddMarkers(t *testing.T) {
	p := NewConsoleParser(nil)
	// An end without a begin, a begin followed by another begin, an end
	// with a bad rc.
	feed(p, "@@@VMJOB-END lost rc=2\n@@@VMJOB-BEGIN x\nout\n@@@VMJOB-BEGIN y\n@@@VMJOB-END y rc=zz\n", 4)
	r := p.Result()
	if len(r.Jobs) != 3 {
		t.Fatalf("jobs %+v", r.Jobs)
	}
	if j := r.Jobs[0]; j.Name != "lost" || j.RC != 2 || !j.Finished {
		t.Errorf("lost: %+v", j)
	}
	if j := r.Jobs[1]; j.Name != "x" || j.Finished || j.Output != "out\n" {
		t.Errorf("x: %+v", j)
	}
	if j := r.Jobs[2]; j.Name != "y" || j.RC != -1 || !j.Finished {
		t.Errorf("y: %+v", j)
	}
}

func TestConsoleCleaner(t *testing.T) {
	in := "\x1bc\x1b[?7l\x1b[2JSeaBIOS\r\nok \x1b[0mdone\r\n"
	for _, chunk := range []int{1, 2, 100} {
		var out bytes.Buffer
		c := &consoleCleaner{w: &out}
		for s := in; len(s) > 0; {
			k := min(chunk, len(s))
			c.Write([]byte(s[:k]))
			s = s[k:]
		}
		if got := out.String(); got != "SeaBIOS\nok done\n" {
			t.Errorf("chunk %d: got %q", chunk, got)
		}
	}
}

func TestLineWriter(t *testing.T) {
	var got []string
	w := &LineWriter{Line: func(l string) { got = append(got, l) }}
	for _, chunk := range []string{"a", "b\n\nc", "d\ne", ""} {
		w.Write([]byte(chunk))
	}
	if w.Pending() != "e" {
		t.Errorf("pending %q", w.Pending())
	}
	w.Flush()
	w.Flush()
	if want := []string{"ab", "", "cd", "e"}; !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
}
