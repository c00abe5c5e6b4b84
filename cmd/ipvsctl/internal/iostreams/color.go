package iostreams

import (
	"fmt"
	"os"
)

// colorOnTerminal reports whether colour is wanted on a terminal: the
// NO_COLOR convention (https://no-color.org: set and not empty turns it
// off) and TERM=dumb turn it off.
func colorOnTerminal(getenv func(string) string) bool {
	return getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}

// ColorEnabled reports whether table output on standard output may
// carry colour: standard output is a terminal and the environment does
// not refuse colour, or --color=always.
func (s *IOStreams) ColorEnabled() bool { return s.color }

// SetColorEnabled overrides the colour policy (tests).
func (s *IOStreams) SetColorEnabled(v bool) { s.color = v }

// SetColorMode applies --color: "auto" keeps the policy of
// ColorEnabled, "always" and "never" override it.
func (s *IOStreams) SetColorMode(mode string) error {
	switch mode {
	case "", "auto":
	case "always":
		s.color = true
	case "never":
		s.color = false
	default:
		return fmt.Errorf("--color %s: want auto, always or never", mode)
	}
	return nil
}

// ColorModes are the values of --color.
var ColorModes = []string{"auto", "always", "never"}

// ColorScheme colours text for standard output, or leaves it as it is
// when colour is off. Commands colour only their table (text) output,
// never JSON, YAML or other data.
type ColorScheme struct{ enabled bool }

// ColorScheme returns the scheme of standard output.
func (s *IOStreams) ColorScheme() *ColorScheme { return &ColorScheme{enabled: s.color} }

// Enabled reports whether the scheme adds colour.
func (c *ColorScheme) Enabled() bool { return c != nil && c.enabled }

func (c *ColorScheme) wrap(code, text string) string {
	if !c.Enabled() || text == "" {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

// Bold is for headers.
func (c *ColorScheme) Bold(text string) string { return c.wrap("1", text) }

// Dim is for rows that matter less (a destination that takes no new
// connections).
func (c *ColorScheme) Dim(text string) string { return c.wrap("2", text) }

// Red is for what goes away (deletions).
func (c *ColorScheme) Red(text string) string { return c.wrap("31", text) }

// Green is for what comes (additions).
func (c *ColorScheme) Green(text string) string { return c.wrap("32", text) }

// Yellow is for what changes.
func (c *ColorScheme) Yellow(text string) string { return c.wrap("33", text) }

// Change colours a line of a plan by its action: "add" green, "delete"
// red, "update" yellow, anything else as it is.
func (c *ColorScheme) Change(action, text string) string {
	switch action {
	case "add":
		return c.Green(text)
	case "delete":
		return c.Red(text)
	case "update":
		return c.Yellow(text)
	}
	return text
}

// systemColor is the colour policy for the process's streams.
func systemColor(outTTY bool) bool { return outTTY && colorOnTerminal(os.Getenv) }
