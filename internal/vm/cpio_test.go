package vm

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// cpioEntry is one entry read back by readCPIO.
type cpioEntry struct {
	name  string
	mode  uint32
	ino   uint32
	nlink uint32
	data  []byte
	major uint32
	minor uint32
}

// readCPIO parses a newc archive independently of the writer, checking
// the magic, field syntax and padding, and stops at the trailer.
func readCPIO(b []byte) ([]cpioEntry, error) {
	var out []cpioEntry
	off := 0
	for {
		if off%4 != 0 {
			return nil, fmt.Errorf("entry at %d not 4-aligned", off)
		}
		if len(b)-off < 110 {
			return nil, fmt.Errorf("short header at %d", off)
		}
		h := string(b[off : off+110])
		if h[:6] != "070701" {
			return nil, fmt.Errorf("bad magic %q at %d", h[:6], off)
		}
		field := func(i int) (uint32, error) {
			v, err := strconv.ParseUint(h[6+8*i:6+8*i+8], 16, 32)
			return uint32(v), err
		}
		var f [13]uint32
		for i := range f {
			v, err := field(i)
			if err != nil {
				return nil, fmt.Errorf("header field %d at %d: %v", i, off, err)
			}
			f[i] = v
		}
		namesize := int(f[11])
		nameStart := off + 110
		if nameStart+namesize > len(b) || namesize == 0 {
			return nil, fmt.Errorf("bad name size %d at %d", namesize, off)
		}
		name := b[nameStart : nameStart+namesize]
		if name[namesize-1] != 0 {
			return nil, fmt.Errorf("name not NUL-terminated at %d", off)
		}
		dataStart := nameStart + namesize
		dataStart += pad4(dataStart)
		size := int(f[6])
		if dataStart+size > len(b) {
			return nil, fmt.Errorf("data of %q runs past the end", name)
		}
		e := cpioEntry{name: string(name[:namesize-1]), ino: f[0], mode: f[1], nlink: f[4],
			data: b[dataStart : dataStart+size], major: f[9], minor: f[10]}
		off = dataStart + size
		off += pad4(off)
		if e.name == cpioTrailer {
			if off != len(b) {
				return nil, fmt.Errorf("%d bytes after the trailer", len(b)-off)
			}
			return out, nil
		}
		out = append(out, e)
	}
}

func writeSample(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	c := NewCPIOWriter(&buf)
	steps := []error{
		c.WriteDir("bin", 0o755),
		c.WriteFile("/bin/hello", 0o755, 5, strings.NewReader("hello")),
		c.WriteFile("bin/empty", 0o644, 0, strings.NewReader("")),
		c.WriteFile("bin/abc", 0o600, 3, strings.NewReader("abcdef")), // only 3 read
		c.WriteSymlink("bin/sh", "busybox"),
		c.WriteDir("tmp", 0o1777),
		c.WriteCharDev("dev/console", 0o600, 5, 1),
		c.Close(),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	return buf.Bytes()
}

func TestCPIOWriterRoundTrip(t *testing.T) {
	b := writeSample(t)
	ents, err := readCPIO(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name string
		mode uint32
		data string
	}{
		{"bin", 0o040755, ""},
		{"bin/hello", 0o100755, "hello"},
		{"bin/empty", 0o100644, ""},
		{"bin/abc", 0o100600, "abc"},
		{"bin/sh", 0o120777, "busybox"},
		{"tmp", 0o041777, ""},
		{"dev/console", 0o020600, ""},
	}
	if len(ents) != len(want) {
		t.Fatalf("got %d entries, want %d", len(ents), len(want))
	}
	inos := map[uint32]bool{}
	for i, w := range want {
		e := ents[i]
		if e.name != w.name || e.mode != w.mode || string(e.data) != w.data {
			t.Errorf("entry %d: got %q mode %o data %q; want %q mode %o data %q",
				i, e.name, e.mode, e.data, w.name, w.mode, w.data)
		}
		if inos[e.ino] {
			t.Errorf("entry %s reuses inode %d", e.name, e.ino)
		}
		inos[e.ino] = true
	}
	if c := ents[6]; c.major != 5 || c.minor != 1 {
		t.Errorf("console device %d:%d, want 5:1", c.major, c.minor)
	}
	if ents[0].nlink != 2 || ents[1].nlink != 1 {
		t.Errorf("nlink: dir %d file %d", ents[0].nlink, ents[1].nlink)
	}
	// The same input gives the same bytes.
	if !bytes.Equal(b, writeSample(t)) {
		t.Error("archive is not reproducible")
	}
}

// TestCPIOWriterHostCpio lists the archive with an independent cpio
// implementation (GNU cpio, else busybox cpio) when one is installed.
func TestCPIOWriterHostCpio(t *testing.T) {
	var tool []string
	if p, err := exec.LookPath("cpio"); err == nil {
		tool = []string{p}
	} else if p, err := exec.LookPath("busybox"); err == nil {
		tool = []string{p, "cpio"}
	} else {
		t.Skip("no cpio or busybox on this host")
	}
	b := writeSample(t)
	cmd := exec.Command(tool[0], append(tool[1:], "-t")...)
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s -t: %v", strings.Join(tool, " "), err)
	}
	got := strings.Fields(string(out))
	want := []string{"bin", "bin/hello", "bin/empty", "bin/abc", "bin/sh", "tmp", "dev/console"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("%s -t listed %q, want %q", tool[0], got, want)
	}

	// Extract it too and check contents and the symlink.
	dir := t.TempDir()
	cmd = exec.Command(tool[0], append(tool[1:], "-i", "-d")...)
	cmd.Dir = dir
	// Skip the device node: creating it needs privileges the host may
	// not grant; the listing above covered it.
	var buf bytes.Buffer
	c := NewCPIOWriter(&buf)
	if err := c.WriteDir("d", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFile("d/f", 0o640, 6, strings.NewReader("data\n\x00")); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteSymlink("d/l", "f"); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	cmd.Stdin = &buf
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s -i: %v\n%s", tool[0], err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "d", "l"))
	if err != nil || string(data) != "data\n\x00" {
		t.Fatalf("extracted d/l: %q %v", data, err)
	}
	st, err := os.Stat(filepath.Join(dir, "d", "f"))
	if err != nil || st.Mode().Perm() != 0o640 {
		t.Fatalf("extracted d/f: %v %v", st.Mode(), err)
	}
}

func TestCPIOWriterErrors(t *testing.T) {
	var buf bytes.Buffer
	c := NewCPIOWriter(&buf)
	for _, name := range []string{"", "/", "a/../../b", cpioTrailer, "a\x00b"} {
		if err := c.WriteDir(name, 0o755); err == nil {
			t.Errorf("WriteDir(%q) succeeded", name)
		}
	}
	if err := c.WriteSymlink("x", ""); err == nil {
		t.Error("empty symlink target accepted")
	}
	// A short reader is an error, and it sticks.
	c = NewCPIOWriter(&buf)
	if err := c.WriteFile("f", 0o644, 10, strings.NewReader("abc")); err == nil {
		t.Error("short file accepted")
	}
	if err := c.WriteDir("d", 0o755); err == nil {
		t.Error("write after an error accepted")
	}
	c = NewCPIOWriter(&buf)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteDir("d", 0o755); err == nil {
		t.Error("write after Close accepted")
	}
}

func TestImageWriteTo(t *testing.T) {
	dir := t.TempDir()
	host := filepath.Join(dir, "prog")
	if err := os.WriteFile(host, []byte("#!/bin/sh\necho hi\n"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "tree", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tree", "sub", "x.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/x.txt", filepath.Join(dir, "tree", "link")); err != nil {
		t.Fatal(err)
	}
	im := NewImage()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(im.AddFile("/usr/local/sbin/prog", host, 0))
	must(im.AddData("/etc/hosts", []byte("127.0.0.1 localhost\n"), 0o644))
	must(im.AddSymlink("/bin/sh", "busybox"))
	must(im.AddTree("/src/pkg/testdata", filepath.Join(dir, "tree")))
	must(im.AddDir("/tmp", 0o777|os.ModeSticky))
	if err := im.AddData("relative", nil, 0o644); err == nil {
		t.Error("relative guest path accepted")
	}
	if err := im.AddData("/etc/hosts/x", nil, 0o644); err == nil {
		t.Error("file below a file accepted")
	}
	var gz bytes.Buffer
	if _, err := im.WriteTo(&gz); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&gz)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	ents, err := readCPIO(raw)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]cpioEntry{}
	var order []string
	for _, e := range ents {
		got[e.name] = e
		order = append(order, e.name)
	}
	checks := map[string]uint32{
		"usr":                        0o040755,
		"usr/local":                  0o040755,
		"usr/local/sbin":             0o040755,
		"usr/local/sbin/prog":        0o100750,
		"etc/hosts":                  0o100644,
		"bin/sh":                     0o120777,
		"src/pkg/testdata":           0o040755,
		"src/pkg/testdata/sub/x.txt": 0o100644,
		"src/pkg/testdata/link":      0o120777,
		"tmp":                        0o041777,
	}
	for name, mode := range checks {
		e, ok := got[name]
		if !ok {
			t.Errorf("missing %s (have %v)", name, order)
			continue
		}
		if e.mode != mode {
			t.Errorf("%s: mode %o, want %o", name, e.mode, mode)
		}
	}
	if string(got["src/pkg/testdata/link"].data) != "sub/x.txt" {
		t.Errorf("symlink target %q", got["src/pkg/testdata/link"].data)
	}
	if string(got["usr/local/sbin/prog"].data) != "#!/bin/sh\necho hi\n" {
		t.Errorf("prog data %q", got["usr/local/sbin/prog"].data)
	}
	// Every directory precedes its contents.
	seen := map[string]bool{}
	for _, n := range order {
		if d := filepath.Dir(n); d != "." && !seen[d] {
			t.Errorf("%s comes before its directory %s", n, d)
		}
		seen[n] = true
	}
}

func TestParseLdd(t *testing.T) {
	out := []byte(`	linux-vdso.so.1 (0x00007ffd5a5f2000)
	libpopt.so.0 => /lib/x86_64-linux-gnu/libpopt.so.0 (0x00007f619e8d4000)
	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f619e6c8000)
	/lib64/ld-linux-x86-64.so.2 (0x00007f619e90d000)
`)
	got, err := parseLdd(out)
	if err != nil {
		t.Fatal(err)
	}
	want := "/lib/x86_64-linux-gnu/libpopt.so.0 /lib/x86_64-linux-gnu/libc.so.6 /lib64/ld-linux-x86-64.so.2"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %q", got)
	}
	if _, err := parseLdd([]byte("\tlibfoo.so.1 => not found\n")); err == nil {
		t.Fatal("missing library not reported")
	}
}
