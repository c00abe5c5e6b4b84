package main

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// Buffering modes of a C stdio stream.
const (
	fullyBuffered = iota
	lineBuffered
	unbuffered
)

// bufsiz is glibc's BUFSIZ, the largest stdio buffer it allocates.
const bufsiz = 8192

// cStream emulates a glibc stdio output stream over w, so that output
// reaches the file descriptor in the same pieces and at the same moments as
// ipvsadm's: stdout is line-buffered on a terminal and fully buffered
// (st_blksize bytes, at most BUFSIZ) otherwise, and is flushed at exit;
// stderr is unbuffered. This keeps "2>&1" interleaving identical.
type cStream struct {
	w    io.Writer
	mode int
	size int
	buf  []byte
	err  error
}

// newStdout returns the stream for w as glibc would set up stdout.
func newStdout(w io.Writer) *cStream {
	s := &cStream{w: w, mode: fullyBuffered, size: 4096}
	if f, ok := w.(*os.File); ok {
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err == nil {
			s.size = bufsiz
			if st.Blksize > 0 && st.Blksize < bufsiz {
				s.size = int(st.Blksize)
			}
			if st.Mode&unix.S_IFMT == unix.S_IFCHR {
				if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err == nil {
					s.mode = lineBuffered
				}
			}
		}
	}
	return s
}

func (s *cStream) write(p []byte) {
	if s.err != nil || len(p) == 0 {
		return
	}
	_, s.err = s.w.Write(p)
}

// Write copies p into the stream as glibc's _IO_new_file_xsputn does.
func (s *cStream) Write(p []byte) (int, error) {
	n := len(p)
	switch s.mode {
	case unbuffered:
		s.write(p)
	case lineBuffered:
		s.buf = append(s.buf, p...)
		last := -1
		for i := len(s.buf) - 1; i >= 0; i-- {
			if s.buf[i] == '\n' {
				last = i
				break
			}
		}
		if last >= 0 {
			s.write(s.buf[:last+1])
			s.buf = append(s.buf[:0], s.buf[last+1:]...)
		}
		for len(s.buf) >= s.size {
			s.write(s.buf[:s.size])
			s.buf = append(s.buf[:0], s.buf[s.size:]...)
		}
	default:
		if space := s.size - len(s.buf); space > 0 {
			k := min(space, len(p))
			s.buf = append(s.buf, p[:k]...)
			p = p[k:]
		}
		if len(p) > 0 {
			// The buffer is full: flush it, write whole blocks
			// directly and keep the rest.
			s.Flush()
			direct := len(p) - len(p)%s.size
			s.write(p[:direct])
			s.buf = append(s.buf[:0], p[direct:]...)
		}
	}
	return n, nil
}

// WriteString is Write for a string.
func (s *cStream) WriteString(str string) (int, error) { return s.Write([]byte(str)) }

// Flush writes out the buffer (fflush).
func (s *cStream) Flush() error {
	if len(s.buf) > 0 {
		s.write(s.buf)
		s.buf = s.buf[:0]
	}
	return s.err
}
