package iostreams

import (
	"os"
	"strings"
)

// asciiSymbols are the typographic characters ipvsctl prints for people,
// each with the ASCII that stands for it where the locale cannot show it.
var asciiSymbols = strings.NewReplacer(
	"→", "->",
	"…", "...",
	"—", "-",
	"–", "-",
	"✓", "ok",
	"×", "x",
	"·", "-",
)

// utf8Locale reports whether the locale that governs character types —
// LC_ALL, else LC_CTYPE, else LANG, as setlocale picks it — names the
// UTF-8 codeset. Unset, "C" and "POSIX" are ASCII.
func utf8Locale(getenv func(string) string) bool {
	for _, name := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if v := getenv(name); v != "" {
			v = strings.ToLower(v)
			return strings.Contains(v, "utf-8") || strings.Contains(v, "utf8")
		}
	}
	return false
}

// UTF8 reports whether the locale can show non-ASCII characters.
func (s *IOStreams) UTF8() bool { return !s.ascii }

// SetUTF8 overrides the locale's verdict (tests).
func (s *IOStreams) SetUTF8(v bool) { s.ascii = !v }

// Text returns text for people with its typographic symbols (→ … — ✓ ×
// ·) as they are in a UTF-8 locale, and as ASCII ("->", "...", "-") in
// any other, such as LANG=C. Everything ipvsctl prints for people that
// holds such a symbol goes through it; data (JSON, YAML, save files)
// does not.
func (s *IOStreams) Text(text string) string {
	if !s.ascii {
		return text
	}
	return asciiSymbols.Replace(text)
}

// systemLocale is the verdict for the process's environment.
func systemLocale() bool { return utf8Locale(os.Getenv) }
