// Package iostreams holds the standard streams of ipvsctl and knows
// whether they are terminals, so commands can show progress and refresh
// screens on a terminal and stay quiet and plain otherwise. It also
// holds the policies that go with a terminal: colour (ColorScheme,
// NO_COLOR, --color), ASCII in a locale that is not UTF-8 (Text) and a
// progress line on standard error (Progress).
package iostreams

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// IOStreams are a command's input and outputs.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	outTTY, errTTY bool
	// color: table output may carry ANSI colour; ascii: the locale is
	// not UTF-8.
	color, ascii bool
	// Width is the terminal width (0 if unknown).
	Width int
}

// System returns the process's streams.
func System() *IOStreams {
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	s.outTTY = isTerminal(os.Stdout.Fd())
	s.errTTY = isTerminal(os.Stderr.Fd())
	s.color = systemColor(s.outTTY)
	s.ascii = !systemLocale()
	if ws, err := unix.IoctlGetWinsize(int(os.Stdout.Fd()), unix.TIOCGWINSZ); err == nil {
		s.Width = int(ws.Col)
	}
	return s
}

func isTerminal(fd uintptr) bool {
	_, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
	return err == nil
}

// Test returns streams backed by buffers: in, out and errOut. They are
// no terminals, have no colour and a UTF-8 locale.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// IsStdoutTTY reports whether standard output is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.outTTY }

// IsStderrTTY reports whether standard error is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.errTTY }

// SetStdoutTTY overrides terminal detection (tests).
func (s *IOStreams) SetStdoutTTY(v bool) { s.outTTY = v }

// SetStderrTTY overrides terminal detection (tests).
func (s *IOStreams) SetStderrTTY(v bool) { s.errTTY = v }
