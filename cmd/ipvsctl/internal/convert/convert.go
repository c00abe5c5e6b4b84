package convert

import (
	"bytes"
	"cmp"
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ipvs-tools/ipvs/ipvsconfig"
)

// Source is the program whose configuration is converted.
type Source string

// The sources Convert reads.
const (
	// Keepalived is a keepalived.conf: virtual_server blocks.
	Keepalived Source = "keepalived"
	// Ldirectord is an ldirectord.cf: virtual= sections.
	Ldirectord Source = "ldirectord"
)

// Sources lists the sources, in the order --from names them.
var Sources = []Source{Keepalived, Ldirectord}

// ParseSource reads keepalived or ldirectord; the empty string is the
// empty Source (detect from the content).
func ParseSource(s string) (Source, error) {
	switch Source(strings.ToLower(s)) {
	case "":
		return "", nil
	case Keepalived:
		return Keepalived, nil
	case Ldirectord:
		return Ldirectord, nil
	}
	return "", fmt.Errorf("%q is not a configuration ipvsctl converts (want keepalived or ldirectord)", s)
}

var (
	keepalivedRE = regexp.MustCompile(`(?m)^[ \t]*(virtual_server|virtual_server_group|vrrp_instance|vrrp_sync_group|global_defs|include)([ \t]|\{|$)`)
	ldirectordRE = regexp.MustCompile(`(?m)^virtual6?[ \t]*=`)
)

// Detect tells a keepalived.conf (a virtual_server, virtual_server_group,
// vrrp_instance or global_defs block, or an include) from an
// ldirectord.cf (a virtual= line) by content. It reports false when the
// content looks like neither.
func Detect(data []byte) (Source, bool) {
	k := keepalivedRE.FindIndex(data)
	l := ldirectordRE.FindIndex(data)
	switch {
	case k != nil && (l == nil || k[0] < l[0]):
		return Keepalived, true
	case l != nil:
		return Ldirectord, true
	}
	return "", false
}

// Warning is something about one line of the input that the document does
// not say, or says differently: a setting dropped, a behaviour that
// differs. Notes are information only.
type Warning struct {
	File string
	Line int
	Msg  string
	// Note marks information that needs no action (VRRP stays with
	// keepalived).
	Note bool
}

// String returns "FILE:LINE: warning: MSG" (or "note:").
func (w Warning) String() string {
	kind := "warning"
	if w.Note {
		kind = "note"
	}
	if w.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %s", w.File, w.Line, kind, w.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", w.File, kind, w.Msg)
}

// Error is a file that cannot be read as its format: the conversion stops
// at the first one.
type Error struct {
	File string
	Line int
	Msg  string
}

// Error returns "FILE:LINE: MSG".
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Result is a converted configuration.
type Result struct {
	// From is the format that was read.
	From Source
	// Document holds the services converted, in the order of the file; it
	// validates. It may have no services, when none could be converted.
	Document *ipvsconfig.Document
	// Warnings are in the order of the input. A warning that repeats for
	// several lines of one file is given once, with the other lines.
	Warnings []Warning
}

// Convert reads the configuration data, read from the file name, as from
// says (empty: Detect). keepalived's include statements are resolved
// relative to the directory of the file that holds them.
func Convert(name string, data []byte, from Source) (*Result, error) {
	if from == "" {
		var ok bool
		if from, ok = Detect(data); !ok {
			return nil, &Error{File: name, Msg: "neither a keepalived.conf (no virtual_server block) nor an ldirectord.cf (no virtual= line); name the format with --from"}
		}
	}
	c := &conv{}
	var err error
	switch from {
	case Keepalived:
		err = convertKeepalived(c, name, data)
	case Ldirectord:
		err = convertLdirectord(c, name, data)
	default:
		return nil, fmt.Errorf("unknown source %q", from)
	}
	if err != nil {
		return nil, err
	}
	doc := c.finish()
	return &Result{From: from, Document: doc, Warnings: dedupe(c.warnings)}, nil
}

// pos is a line of the input.
type pos struct {
	file string
	line int
}

// conv collects the services and warnings of one conversion.
type conv struct {
	services   []*svcEntry
	timeouts   *ipvsconfig.Timeouts
	timeoutsAt pos
	warnings   []Warning
}

func (c *conv) warnf(at pos, format string, args ...any) {
	c.warnings = append(c.warnings, Warning{File: at.file, Line: at.line, Msg: fmt.Sprintf(format, args...)})
}

func (c *conv) notef(at pos, format string, args ...any) {
	c.warnings = append(c.warnings, Warning{File: at.file, Line: at.line, Msg: fmt.Sprintf(format, args...), Note: true})
}

// svcEntry is a service being built, with the lines its parts came from.
type svcEntry struct {
	at   pos
	name string // "virtual_server 10.0.0.1 80", for messages
	svc  ipvsconfig.Service
	// dests are the real servers; their checks are put on the service
	// when they are all the same.
	dests []*destEntry
	sorry *destEntry
}

// destEntry is a destination and its check.
type destEntry struct {
	at      pos
	name    string
	dest    ipvsconfig.Destination
	check   *ipvsconfig.HealthCheck
	checkAt pos
}

// finish assembles the document and leaves out, with a warning at its
// line, every object ipvsconfig refuses, until the document validates.
func (c *conv) finish() *ipvsconfig.Document {
	for range 20 {
		doc := c.assemble()
		_, err := doc.Desired()
		if err == nil {
			return doc
		}
		list, ok := err.(ipvsconfig.ErrorList)
		if !ok || !c.drop(list) {
			// Nothing could be attributed: give up on every service
			// rather than write an invalid document.
			for _, s := range c.services {
				c.warnf(s.at, "%s not converted: %v", s.name, err)
			}
			c.services = nil
			c.timeouts = nil
			return c.assemble()
		}
	}
	c.services, c.timeouts = nil, nil
	return c.assemble()
}

// assemble builds the document from the entries: a check shared by every
// destination of a service becomes the service's check.
func (c *conv) assemble() *ipvsconfig.Document {
	doc := &ipvsconfig.Document{APIVersion: ipvsconfig.APIVersion, Timeouts: c.timeouts, Services: []ipvsconfig.Service{}}
	for _, e := range c.services {
		s := e.svc
		s.Destinations = make([]ipvsconfig.Destination, len(e.dests))
		shared := len(e.dests) > 1
		for i, d := range e.dests {
			if d.check == nil || !reflect.DeepEqual(d.check, e.dests[0].check) {
				shared = false
			}
			s.Destinations[i] = d.dest
		}
		if shared {
			s.HealthCheck = cloneCheck(e.dests[0].check)
		} else {
			for i, d := range e.dests {
				s.Destinations[i].HealthCheck = cloneCheck(d.check)
			}
		}
		if e.sorry != nil {
			sd := e.sorry.dest
			s.SorryServer = &sd
		}
		if !checked(&s) {
			s.OnFailure, s.Quorum = "", nil
		}
		doc.Services = append(doc.Services, s)
	}
	return doc
}

// checked reports whether s has a check or a sorry server, so that its
// onFailure and quorum mean something.
func checked(s *ipvsconfig.Service) bool {
	if s.HealthCheck != nil || s.SorryServer != nil {
		return true
	}
	for i := range s.Destinations {
		if s.Destinations[i].HealthCheck != nil {
			return true
		}
	}
	return false
}

func cloneCheck(h *ipvsconfig.HealthCheck) *ipvsconfig.HealthCheck {
	if h == nil {
		return nil
	}
	c := *h
	return &c
}

// drop removes the objects the errors are about, each with a warning, and
// reports whether it removed anything.
func (c *conv) drop(list ipvsconfig.ErrorList) bool {
	type target struct {
		svc, dest int // dest -1: the service; -2: its sorry server
		check     bool
	}
	seen := map[target]bool{}
	var dropped []target
	for _, e := range list {
		p := e.Path
		if len(p) < 2 || p[0] != "services" {
			if len(p) > 0 && p[0] == "timeouts" && c.timeouts != nil {
				c.warnf(c.timeoutsAt, "lvs_timeouts not converted: %s", e.Msg)
				c.timeouts = nil
				return true
			}
			continue
		}
		i, ok := p[1].(int)
		if !ok || i >= len(c.services) {
			continue
		}
		t := target{svc: i, dest: -1}
		rest := p[2:]
		switch {
		case len(rest) >= 2 && rest[0] == "destinations":
			if j, ok := rest[1].(int); ok && j < len(c.services[i].dests) {
				t.dest = j
				t.check = len(rest) >= 3 && rest[2] == "healthCheck"
				rest = rest[2:]
			}
		case len(rest) >= 1 && rest[0] == "sorryServer":
			t.dest = -2
			rest = rest[1:]
		case len(rest) >= 1 && rest[0] == "healthCheck":
			t.check = true
		}
		if seen[t] {
			continue
		}
		seen[t] = true
		s := c.services[i]
		what := ipvsconfig.Path(rest).String()
		if what != "" {
			what += ": "
		}
		switch {
		case t.dest >= 0 && t.check:
			d := s.dests[t.dest]
			c.warnf(d.checkAt, "the check of %s not converted: %s%s", d.name, trimCheck(what), e.Msg)
		case t.dest >= 0:
			d := s.dests[t.dest]
			c.warnf(d.at, "%s not converted: %s%s", d.name, what, e.Msg)
		case t.dest == -2:
			c.warnf(s.sorry.at, "%s not converted: %s%s", s.sorry.name, what, e.Msg)
		case t.check:
			at := s.at
			if len(s.dests) > 0 {
				at = s.dests[0].checkAt
			}
			c.warnf(at, "the checks of %s not converted: %s%s", s.name, trimCheck(what), e.Msg)
		default:
			c.warnf(s.at, "%s not converted: %s%s", s.name, what, e.Msg)
		}
		dropped = append(dropped, t)
	}
	if len(dropped) == 0 {
		return false
	}
	// Services last, from the end, so that indexes stay valid.
	gone := map[int]bool{}
	for _, t := range dropped {
		s := c.services[t.svc]
		switch {
		case t.dest == -1 && !t.check:
			gone[t.svc] = true
		case t.dest == -1:
			for _, d := range s.dests {
				d.check = nil
			}
		case t.dest == -2:
			s.sorry = nil
		case t.check:
			s.dests[t.dest].check = nil
		default:
			s.dests[t.dest] = nil
		}
	}
	kept := c.services[:0]
	for i, s := range c.services {
		if gone[i] {
			continue
		}
		ds := s.dests[:0]
		for _, d := range s.dests {
			if d != nil {
				ds = append(ds, d)
			}
		}
		s.dests = ds
		kept = append(kept, s)
	}
	c.services = kept
	return true
}

func trimCheck(what string) string {
	return strings.TrimPrefix(strings.TrimPrefix(what, "healthCheck."), "healthCheck: ")
}

// add appends a service; a service without destinations is kept (it
// validates), the callers warn where the source program would skip it.
func (c *conv) add(e *svcEntry) { c.services = append(c.services, e) }

// dedupe gives a warning that repeats for several lines of a file once,
// at its first line, naming the others.
func dedupe(ws []Warning) []Warning {
	// In the order of the input: files as they were first warned about,
	// lines in order.
	files := map[string]int{}
	for _, w := range ws {
		if _, ok := files[w.File]; !ok {
			files[w.File] = len(files)
		}
	}
	ws = slices.Clone(ws)
	slices.SortStableFunc(ws, func(a, b Warning) int {
		return cmp.Or(cmp.Compare(files[a.File], files[b.File]), cmp.Compare(a.Line, b.Line))
	})
	type key struct {
		file, msg string
		note      bool
	}
	first := map[key]int{}
	more := map[int][]int{}
	var out []Warning
	for _, w := range ws {
		k := key{w.File, w.Msg, w.Note}
		if i, ok := first[k]; ok {
			if w.Line != out[i].Line && !slices.Contains(more[i], w.Line) {
				more[i] = append(more[i], w.Line)
			}
			continue
		}
		first[k] = len(out)
		out = append(out, w)
	}
	for i, lines := range more {
		s := make([]string, 0, len(lines))
		for n, l := range lines {
			if n == 5 {
				s = append(s, fmt.Sprintf("and %d more", len(lines)-5))
				break
			}
			s = append(s, strconv.Itoa(l))
		}
		word := "line"
		if len(lines) > 1 {
			word = "lines"
		}
		out[i].Msg += fmt.Sprintf(" (also %s %s)", word, strings.Join(s, ", "))
	}
	return out
}

// duration writes d as the document does: 60s, 1.5s, 500ms.
func duration(d time.Duration) ipvsconfig.Duration {
	switch {
	case d%time.Second == 0:
		return ipvsconfig.Duration(strconv.FormatInt(int64(d/time.Second), 10) + "s")
	case d%time.Millisecond == 0 && d < time.Second:
		return ipvsconfig.Duration(strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms")
	case d%time.Millisecond == 0:
		return ipvsconfig.Duration(strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s")
	}
	return ipvsconfig.Duration(d.String())
}

// timing is the interval and timeout of a check as the source program
// has them, with the lines that set them (zero pos: a default).
type timing struct {
	interval, timeout       time.Duration
	intervalAt, timeoutAt   pos
	intervalKey, timeoutKey string // the source's names, for messages
}

// fit applies them to h: ipvsctl needs timeout <= interval, so a timeout
// written in the file makes the interval as long (with a warning), and a
// default timeout is shortened to the interval.
func (c *conv) fit(h *ipvsconfig.HealthCheck, t timing) {
	if t.timeout > t.interval {
		if t.timeoutAt.line > 0 {
			c.warnf(t.timeoutAt, "%s %s is longer than the %s %s: ipvsctl's timeout may not exceed its interval, so the check runs every %s",
				t.timeoutKey, duration(t.timeout), t.intervalKey, duration(t.interval), duration(t.timeout))
			t.interval = t.timeout
		} else {
			t.timeout = t.interval
		}
	}
	h.Interval, h.Timeout = duration(t.interval), duration(t.timeout)
}

// fall returns failures-before-down clamped to what a document takes.
func (c *conv) fall(at pos, n int, what string) int {
	switch {
	case n < 1:
		return 1
	case n > 100:
		c.warnf(at, "%s means %d failures in a row before a server goes down; ipvsctl takes at most 100", what, n)
		return 100
	}
	return n
}

// parseIP reads an address, with or without brackets; names are not
// resolved.
func parseIP(s string) (netip.Addr, bool) {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// parsePort reads a port number, 0..65535.
func parsePort(s string) (uint16, bool) {
	n, err := strconv.ParseUint(s, 10, 16)
	return uint16(n), err == nil
}

func u32(v uint32) *uint32 { return &v }
func u16(v uint16) *uint16 { return &v }

// prefixOrMask reads a persistence granularity: a prefix length or an
// IPv4 netmask (written as a prefix length when it is one).
func prefixOrMask(s string) (*ipvsconfig.Persistence, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 128 {
			return nil, false
		}
		return &ipvsconfig.Persistence{PrefixLength: &n}, true
	}
	m, err := netip.ParseAddr(s)
	if err != nil || !m.Is4() {
		return nil, false
	}
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	for n := 0; n <= 32; n++ {
		if n == 0 && v == 0 || n > 0 && v == ^uint32(0)<<(32-n) {
			return &ipvsconfig.Persistence{PrefixLength: &n}, true
		}
	}
	return &ipvsconfig.Persistence{Netmask: m.String()}, true
}

// expandRange lists the addresses of a keepalived or ldirectord range:
// ADDR, ADDR-LAST (the last IPv4 byte in decimal or IPv6 group in hex),
// ADDR-ADDR and ADDR/PREFIX. At most limit addresses.
func expandRange(s string, limit int) ([]netip.Addr, error) {
	var first, last netip.Addr
	switch {
	case strings.Contains(s, "/"):
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address range", s)
		}
		if p.Masked() != p {
			return nil, fmt.Errorf("%s has host bits set", s)
		}
		bits := p.Addr().BitLen() - p.Bits()
		if bits >= 31 || 1<<bits > limit {
			return nil, fmt.Errorf("%s has more than %d addresses", s, limit)
		}
		first = p.Addr()
		last = first
		for range 1<<bits - 1 {
			last = last.Next()
		}
	case strings.Contains(s, "-"):
		a, b, _ := strings.Cut(s, "-")
		var ok bool
		if first, ok = parseIP(a); !ok {
			return nil, fmt.Errorf("%q is not an address range", s)
		}
		if last, ok = parseIP(b); !ok {
			// The last byte (IPv4, decimal) or group (IPv6, hex).
			if first.Is4() {
				n, err := strconv.ParseUint(b, 10, 8)
				if err != nil {
					return nil, fmt.Errorf("%q is not an address range", s)
				}
				v := first.As4()
				v[3] = byte(n)
				last = netip.AddrFrom4(v)
			} else {
				n, err := strconv.ParseUint(b, 16, 16)
				if err != nil {
					return nil, fmt.Errorf("%q is not an address range", s)
				}
				v := first.As16()
				v[14], v[15] = byte(n>>8), byte(n)
				last = netip.AddrFrom16(v)
			}
		}
		if first.BitLen() != last.BitLen() || last.Less(first) {
			return nil, fmt.Errorf("%q is not an address range (the end is before the start)", s)
		}
	default:
		a, ok := parseIP(s)
		if !ok {
			return nil, fmt.Errorf("%q is not an IP address (names are not resolved)", s)
		}
		return []netip.Addr{a}, nil
	}
	var out []netip.Addr
	for a := first; ; a = a.Next() {
		if len(out) == limit {
			return nil, fmt.Errorf("%s has more than %d addresses", s, limit)
		}
		out = append(out, a)
		if a == last {
			return out, nil
		}
	}
}

// maxRange bounds the services or servers one range makes.
const maxRange = 256

// splitLines splits data into lines without their line ends.
func splitLines(data []byte) []string {
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	lines := strings.Split(string(data), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// printable reports whether s can be written as a document string: valid
// UTF-8 (control characters are escaped by the YAML and JSON writers).
func printable(s string) bool {
	return strings.ToValidUTF8(s, "\uFFFD") == s && !strings.ContainsRune(s, 0)
}
