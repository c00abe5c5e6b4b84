package vm

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Image collects the contents of an initramfs: directories, files (from the
// host or from memory), symlinks and device nodes, keyed by absolute guest
// path. Parent directories are added automatically (mode 0755). Adding a
// path twice replaces the earlier entry. Write the archive with WriteTo.
type Image struct {
	entries map[string]imageEntry
}

type imageEntry struct {
	kind   byte // 'd', 'f', 'l', 'c'
	perm   uint32
	host   string // for 'f' from the host
	data   []byte // for 'f' from memory
	target string // for 'l'
	major  uint32 // for 'c'
	minor  uint32
}

// NewImage returns an empty Image.
func NewImage() *Image {
	return &Image{entries: map[string]imageEntry{}}
}

// guestPath cleans an absolute guest path.
func guestPath(p string) (string, error) {
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("guest path %q is not absolute", p)
	}
	c := path.Clean(p)
	if c == "/" {
		return "", fmt.Errorf("guest path %q names the root", p)
	}
	return c, nil
}

func (im *Image) put(p string, e imageEntry) error {
	g, err := guestPath(p)
	if err != nil {
		return err
	}
	for d := path.Dir(g); d != "/"; d = path.Dir(d) {
		if old, ok := im.entries[d]; ok {
			if old.kind != 'd' {
				return fmt.Errorf("guest path %s: parent %s is not a directory", g, d)
			}
			continue
		}
		im.entries[d] = imageEntry{kind: 'd', perm: 0o755}
	}
	if old, ok := im.entries[g]; ok && old.kind == 'd' && e.kind == 'd' {
		// Keep one directory entry; the later mode wins.
		old.perm = e.perm
		im.entries[g] = old
		return nil
	}
	im.entries[g] = e
	return nil
}

// AddDir adds a directory.
func (im *Image) AddDir(guest string, perm os.FileMode) error {
	p := uint32(perm.Perm())
	if perm&os.ModeSticky != 0 {
		p |= 0o1000
	}
	return im.put(guest, imageEntry{kind: 'd', perm: p})
}

// AddData adds a file with the given contents.
func (im *Image) AddData(guest string, data []byte, perm os.FileMode) error {
	return im.put(guest, imageEntry{kind: 'f', perm: uint32(perm.Perm()), data: data})
}

// AddFile adds a copy of the host file host (symlinks followed) at guest.
// perm 0 keeps the host file's permission bits.
func (im *Image) AddFile(guest, host string, perm os.FileMode) error {
	st, err := os.Stat(host)
	if err != nil {
		return fmt.Errorf("adding %s to the image: %w", host, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("adding %s to the image: not a regular file", host)
	}
	if perm == 0 {
		perm = st.Mode().Perm()
	}
	return im.put(guest, imageEntry{kind: 'f', perm: uint32(perm.Perm()), host: host})
}

// AddTree adds the host directory tree hostDir under guestDir: directories,
// regular files and symlinks (kept as symlinks). Other file types are
// skipped.
func (im *Image) AddTree(guestDir, hostDir string) error {
	return filepath.Walk(hostDir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return fmt.Errorf("adding tree %s: %w", hostDir, err)
		}
		rel, err := filepath.Rel(hostDir, p)
		if err != nil {
			return err
		}
		g := path.Join(guestDir, filepath.ToSlash(rel))
		switch {
		case info.IsDir():
			return im.AddDir(g, info.Mode().Perm())
		case info.Mode()&os.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return fmt.Errorf("adding tree %s: %w", hostDir, err)
			}
			return im.AddSymlink(g, t)
		case info.Mode().IsRegular():
			return im.AddFile(g, p, info.Mode().Perm())
		}
		return nil
	})
}

// AddSymlink adds a symbolic link at guest pointing to target.
func (im *Image) AddSymlink(guest, target string) error {
	if target == "" {
		return fmt.Errorf("symlink %s: empty target", guest)
	}
	return im.put(guest, imageEntry{kind: 'l', perm: 0o777, target: target})
}

// AddCharDev adds a character device node.
func (im *Image) AddCharDev(guest string, perm os.FileMode, major, minor uint32) error {
	return im.put(guest, imageEntry{kind: 'c', perm: uint32(perm.Perm()), major: major, minor: minor})
}

// Has reports whether the image has an entry at guest.
func (im *Image) Has(guest string) bool {
	g, err := guestPath(guest)
	if err != nil {
		return false
	}
	_, ok := im.entries[g]
	return ok
}

// AddProgram adds the host program host at guest together with the shared
// libraries ldd lists for it and its ELF interpreter, each at the path ldd
// names. Static programs are added alone.
func (im *Image) AddProgram(ctx context.Context, guest, host string) error {
	if err := im.AddFile(guest, host, 0o755); err != nil {
		return err
	}
	libs, err := sharedLibs(ctx, host)
	if err != nil {
		return err
	}
	for _, l := range libs {
		if im.Has(l) {
			continue
		}
		if err := im.AddFile(l, l, 0o755); err != nil {
			return fmt.Errorf("library of %s: %w", host, err)
		}
	}
	return nil
}

// sharedLibs returns the absolute paths of the shared libraries and the ELF
// interpreter a host program loads, or nil for a static program.
func sharedLibs(ctx context.Context, prog string) ([]string, error) {
	f, err := elf.Open(prog)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", prog, err)
	}
	dynamic := false
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			dynamic = true
		}
	}
	f.Close()
	if !dynamic {
		return nil, nil
	}
	out, err := exec.CommandContext(ctx, "ldd", prog).Output()
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %w", prog, err)
	}
	libs, err := parseLdd(out)
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %w", prog, err)
	}
	return libs, nil
}

// parseLdd extracts absolute library paths from ldd output. Lines look like
// "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)",
// "/lib64/ld-linux-x86-64.so.2 (0x...)" or "linux-vdso.so.1 (0x...)"; a
// "not found" library is an error.
func parseLdd(out []byte) ([]string, error) {
	var libs []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if name, rest, ok := strings.Cut(line, "=>"); ok {
			rest = strings.TrimSpace(rest)
			if strings.HasPrefix(rest, "not found") {
				return nil, fmt.Errorf("library %s not found", strings.TrimSpace(name))
			}
			if f := strings.Fields(rest); len(f) > 0 && strings.HasPrefix(f[0], "/") {
				libs = append(libs, f[0])
			}
			continue
		}
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], "/") {
			libs = append(libs, f[0])
		}
	}
	return libs, nil
}

// WriteTo writes the image as a gzip-compressed newc cpio archive, entries
// sorted by path so that directories precede their contents. It implements
// io.WriterTo.
func (im *Image) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	zw, err := gzip.NewWriterLevel(cw, gzip.BestSpeed)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(zw, 1<<20)
	c := NewCPIOWriter(bw)
	names := make([]string, 0, len(im.entries))
	for n := range im.entries {
		names = append(names, n)
	}
	// Sorting by path puts "/a" before "/a/b"; comparing with "/" lowest
	// keeps "/a/b" before "/a-b/..." too, which does not matter for
	// correctness but keeps the order obvious.
	sort.Slice(names, func(i, j int) bool {
		return strings.ReplaceAll(names[i], "/", "\x00") < strings.ReplaceAll(names[j], "/", "\x00")
	})
	for _, n := range names {
		e := im.entries[n]
		var err error
		switch e.kind {
		case 'd':
			err = c.WriteDir(n, e.perm)
		case 'l':
			err = c.WriteSymlink(n, e.target)
		case 'c':
			err = c.WriteCharDev(n, e.perm, e.major, e.minor)
		case 'f':
			if e.host == "" {
				err = c.WriteFile(n, e.perm, int64(len(e.data)), bytes.NewReader(e.data))
			} else {
				err = writeHostFile(c, n, e)
			}
		}
		if err != nil {
			return cw.n, fmt.Errorf("writing initramfs: %w", err)
		}
	}
	if err := c.Close(); err != nil {
		return cw.n, fmt.Errorf("writing initramfs: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("writing initramfs: %w", err)
	}
	if err := zw.Close(); err != nil {
		return cw.n, fmt.Errorf("writing initramfs: %w", err)
	}
	return cw.n, nil
}

func writeHostFile(c *CPIOWriter, name string, e imageEntry) error {
	f, err := os.Open(e.host)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	return c.WriteFile(name, e.perm, st.Size(), f)
}

// WriteFile writes the image to a file at p (see WriteTo).
func (im *Image) WriteFile(p string) error {
	f, err := os.Create(p)
	if err != nil {
		return fmt.Errorf("writing initramfs: %w", err)
	}
	if _, err := im.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing initramfs: %w", err)
	}
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

// Write passes p on and counts the bytes written.
func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
