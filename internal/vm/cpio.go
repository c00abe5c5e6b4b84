package vm

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// File type bits of a cpio mode, as in <sys/stat.h>.
const (
	modeTypeMask = 0o170000
	modeDir      = 0o040000
	modeRegular  = 0o100000
	modeSymlink  = 0o120000
	modeCharDev  = 0o020000
)

// cpioTrailer is the name of the entry that ends a cpio archive.
const cpioTrailer = "TRAILER!!!"

// CPIOWriter writes an uncompressed cpio archive in the "newc" format
// (magic 070701), the format the Linux kernel unpacks as an initramfs.
//
// Names are written as given, without a leading slash ("bin/busybox", not
// "/bin/busybox"); a leading slash is removed. Parent directories are not
// created implicitly: write them first. Every entry gets its own inode
// number, owner root:root and modification time 0, so the same input gives
// the same bytes.
type CPIOWriter struct {
	w      io.Writer
	ino    uint32
	closed bool
	err    error
}

// NewCPIOWriter returns a CPIOWriter that writes the archive to w. Call
// Close to write the trailer; Close does not close w.
func NewCPIOWriter(w io.Writer) *CPIOWriter {
	return &CPIOWriter{w: w, ino: 1}
}

// cpioHeader describes one archive entry.
type cpioHeader struct {
	name      string
	mode      uint32 // type and permission bits
	size      int64
	rdevMajor uint32
	rdevMinor uint32
}

// WriteDir adds a directory entry with permission bits perm.
func (c *CPIOWriter) WriteDir(name string, perm uint32) error {
	return c.writeEntry(cpioHeader{name: name, mode: modeDir | perm&0o7777}, nil)
}

// WriteFile adds a regular file of size bytes read from r, with permission
// bits perm. It fails if r yields fewer than size bytes.
func (c *CPIOWriter) WriteFile(name string, perm uint32, size int64, r io.Reader) error {
	if size < 0 || size > 0xffffffff {
		return fmt.Errorf("cpio: %s: size %d out of range for newc", name, size)
	}
	return c.writeEntry(cpioHeader{name: name, mode: modeRegular | perm&0o7777, size: size}, r)
}

// WriteSymlink adds a symbolic link name pointing to target.
func (c *CPIOWriter) WriteSymlink(name, target string) error {
	if target == "" {
		return fmt.Errorf("cpio: %s: empty symlink target", name)
	}
	return c.writeEntry(cpioHeader{name: name, mode: modeSymlink | 0o777, size: int64(len(target))},
		strings.NewReader(target))
}

// WriteCharDev adds a character device node with the given device numbers
// (for example /dev/console, 5:1).
func (c *CPIOWriter) WriteCharDev(name string, perm uint32, major, minor uint32) error {
	return c.writeEntry(cpioHeader{name: name, mode: modeCharDev | perm&0o7777,
		rdevMajor: major, rdevMinor: minor}, nil)
}

// Close writes the trailer entry. It does not close the underlying writer.
// Further writes fail.
func (c *CPIOWriter) Close() error {
	if c.closed {
		return c.err
	}
	if c.err == nil {
		c.err = c.writeRaw(cpioHeader{name: cpioTrailer}, nil)
	}
	c.closed = true
	return c.err
}

func (c *CPIOWriter) writeEntry(h cpioHeader, body io.Reader) error {
	if c.closed {
		return errors.New("cpio: write after Close")
	}
	if c.err != nil {
		return c.err
	}
	name, err := cleanArchiveName(h.name)
	if err != nil {
		return err
	}
	h.name = name
	c.err = c.writeRaw(h, body)
	return c.err
}

// cleanArchiveName validates an entry name and strips leading slashes.
func cleanArchiveName(name string) (string, error) {
	n := strings.TrimLeft(name, "/")
	if n == "" {
		return "", fmt.Errorf("cpio: invalid entry name %q", name)
	}
	if strings.ContainsRune(n, 0) {
		return "", fmt.Errorf("cpio: entry name %q contains NUL", name)
	}
	if n == cpioTrailer {
		return "", fmt.Errorf("cpio: entry name %q is reserved", name)
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", fmt.Errorf("cpio: entry name %q leaves the archive root", name)
		}
	}
	return n, nil
}

func (c *CPIOWriter) writeRaw(h cpioHeader, body io.Reader) error {
	nlink := uint32(1)
	if h.mode&modeTypeMask == modeDir {
		nlink = 2
	}
	ino := c.ino
	c.ino++
	if h.name == cpioTrailer {
		ino = 0
		nlink = 1
	}
	namesize := len(h.name) + 1
	hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		ino, h.mode, 0, 0, nlink, 0, uint32(h.size), 0, 0, h.rdevMajor, h.rdevMinor, namesize, 0)
	// The header (110 bytes) plus the name and its NUL is padded to 4 bytes.
	buf := make([]byte, 0, len(hdr)+namesize+3)
	buf = append(buf, hdr...)
	buf = append(buf, h.name...)
	buf = append(buf, 0)
	buf = append(buf, make([]byte, pad4(len(buf)))...)
	if _, err := c.w.Write(buf); err != nil {
		return fmt.Errorf("cpio: writing header of %s: %w", h.name, err)
	}
	if h.size > 0 {
		n, err := io.CopyN(c.w, body, h.size)
		if err != nil {
			return fmt.Errorf("cpio: writing %s (%d of %d bytes): %w", h.name, n, h.size, err)
		}
		if p := pad4(int(h.size % 4)); p > 0 {
			if _, err := c.w.Write(make([]byte, p)); err != nil {
				return fmt.Errorf("cpio: padding %s: %w", h.name, err)
			}
		}
	}
	return nil
}

// pad4 returns how many bytes bring n to a multiple of 4.
func pad4(n int) int {
	return (4 - n%4) % 4
}
