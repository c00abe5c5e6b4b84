package ipvssysctl

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/bits"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/ipvs-tools/ipvs/netns"
)

// DefaultDir is where the kernel shows the IPVS sysctls.
const DefaultDir = "/proc/sys/net/ipv4/vs"

// ErrInvalid is matched (errors.Is) by errors for values that are out of
// range or malformed, whether this package or the kernel rejected them.
var ErrInvalid = errors.New("invalid value")

// Error is the error of every operation: which sysctl, which operation,
// and why. errors.Is(err, os.ErrNotExist) holds when the sysctl (or the
// whole directory) is absent, os.ErrPermission when it is read-only or the
// caller lacks the privilege, ErrInvalid for rejected values.
type Error struct {
	// Name is the sysctl ("" for the directory).
	Name string
	// Op is "list", "get" or "set".
	Op string
	// Value is the value that Set was given.
	Value string
	// Reason explains a rejected value (empty otherwise).
	Reason string
	// Err is the underlying error: ErrInvalid, an *os.PathError, ...
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	s := "ipvs sysctl"
	if e.Name != "" {
		s += " " + e.Name
	}
	s += ": " + e.Op
	if e.Op == "set" {
		s += " " + strconv.Quote(e.Value)
	}
	s += ": "
	if e.Reason != "" {
		return s + e.Reason
	}
	return s + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Option configures New.
type Option func(*Sysctls)

// WithNetNS makes the handle read and write the sysctls of the network
// namespace nameOrPath (a name under /run/netns or a path such as
// /proc/PID/ns/net). Every file is opened, and directories listed, on a
// thread switched into that namespace (package netns); no other thread or
// goroutine changes namespace.
func WithNetNS(nameOrPath string) Option {
	return func(s *Sysctls) { s.netns = nameOrPath }
}

// WithDir uses dir instead of DefaultDir (for tests with a directory tree
// that stands in for /proc/sys/net/ipv4/vs).
func WithDir(dir string) Option {
	return func(s *Sysctls) { s.dir = dir }
}

// Sysctls reads and writes the IPVS sysctls of one network namespace. It
// holds no open files; the zero value is not usable, call New.
type Sysctls struct {
	dir   string
	netns string
}

// New returns a handle for the sysctls chosen by the options (the calling
// process's namespace and DefaultDir by default).
func New(opts ...Option) *Sysctls {
	s := &Sysctls{dir: DefaultDir}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Sysctl is one sysctl found in the directory.
type Sysctl struct {
	// Name is the file name.
	Name string
	// Value is the current value with the trailing newline removed (the
	// kernel separates the two numbers of sync_threshold with a tab).
	Value string
	// Writable is false for read-only files (mode without write bits).
	Writable bool
	// Known tells whether Info describes it; unknown sysctls are still
	// listed and can be set as raw strings.
	Known bool
	Info  Info
	// Err is set when the value could not be read.
	Err error
}

// List discovers the sysctls present now (the set depends on the kernel
// version, its configuration, the loaded scheduler modules and the
// namespace), with their values, sorted by name. A missing directory (no
// ip_vs module loaded) is an error matching os.ErrNotExist; a 6.1
// namespace owned by a non-init user namespace gives an empty list.
func (s *Sysctls) List() ([]Sysctl, error) {
	var out []Sysctl
	err := netns.Do(s.netns, func() error {
		ents, err := os.ReadDir(s.dir)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if e.IsDir() {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				continue // vanished meanwhile
			}
			sc := Sysctl{Name: e.Name(), Writable: fi.Mode().Perm()&0o222 != 0}
			sc.Info, sc.Known = Lookup(sc.Name)
			if fi.Mode().Perm()&0o444 != 0 {
				sc.Value, sc.Err = readValue(filepath.Join(s.dir, sc.Name))
			} else {
				sc.Err = fs.ErrPermission
			}
			if sc.Err != nil {
				sc.Err = &Error{Name: sc.Name, Op: "get", Err: sc.Err}
			}
			out = append(out, sc)
		}
		return nil
	})
	if err != nil {
		return nil, &Error{Op: "list", Err: err}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func readValue(p string) (string, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

// path checks name and returns its file.
func (s *Sysctls) path(name, op, value string) (string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return "", &Error{Name: name, Op: op, Value: value, Reason: "not a sysctl name", Err: ErrInvalid}
	}
	return filepath.Join(s.dir, name), nil
}

// openError describes a failure to open (or stat) sysctl name. A sysctl
// that does not exist is one this kernel lacks (the known ones say since
// when), or one of a namespace without IPVS sysctls at all; the error still
// matches os.ErrNotExist.
func (s *Sysctls) openError(name, op, value string, err error) error {
	e := &Error{Name: name, Op: op, Value: value, Err: err}
	if !errors.Is(err, fs.ErrNotExist) {
		return e
	}
	dirErr := netns.Do(s.netns, func() error {
		_, err := os.Stat(s.dir)
		return err
	})
	switch {
	case errors.Is(dirErr, fs.ErrNotExist):
		e.Reason = "there are no IPVS sysctls here (" + s.dir + "): the ip_vs module is not loaded, or not visible in this namespace"
	case dirErr == nil:
		e.Reason = "this kernel has no such sysctl"
		if info, ok := Lookup(name); ok && info.Note != "" {
			e.Reason += " (" + strings.TrimSuffix(info.Note, ".") + ")"
		}
	}
	return e
}

// Get returns the value of name without its trailing newline.
func (s *Sysctls) Get(name string) (string, error) {
	p, err := s.path(name, "get", "")
	if err != nil {
		return "", err
	}
	f, err := netns.OpenFile(s.netns, p, os.O_RDONLY, 0)
	if err != nil {
		return "", s.openError(name, "get", "", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<16))
	if err != nil {
		return "", &Error{Name: name, Op: "get", Err: err}
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

// GetInt returns the value of an integer sysctl. A defense mode reads as
// its number (2 is a valid reading of an automatic mode, see DefenseMode).
func (s *Sysctls) GetInt(name string) (int64, error) {
	v, err := s.Get(name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, &Error{Name: name, Op: "get", Reason: fmt.Sprintf("value %q is not an integer", v), Err: ErrInvalid}
	}
	return n, nil
}

// Set validates value against what the package knows about name and
// writes it. An invalid value is refused before anything is written, so
// the sysctl keeps its value. Unknown sysctls take any text (as SetRaw).
func (s *Sysctls) Set(name, value string) error {
	if err := Validate(name, value); err != nil {
		return err
	}
	return s.SetRaw(name, value)
}

// SetInt is Set with an integer.
func (s *Sysctls) SetInt(name string, v int64) error {
	return s.Set(name, strconv.FormatInt(v, 10))
}

// SetRaw writes value to name without this package's validation (the
// kernel still rejects what it does not accept; the error then matches
// ErrInvalid and the value is unchanged). A read-only sysctl gives an
// error matching os.ErrPermission without an attempt to write.
func (s *Sysctls) SetRaw(name, value string) error {
	p, err := s.path(name, "set", value)
	if err != nil {
		return err
	}
	fail := func(err error) error { return s.openError(name, "set", value, err) }
	err = netns.Do(s.netns, func() error {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o222 == 0 {
			return &os.PathError{Op: "write", Path: p, Err: fs.ErrPermission}
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	f, err := netns.OpenFile(s.netns, p, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fail(err)
	}
	_, werr := f.Write([]byte(value + "\n"))
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr != nil {
		var pe *os.PathError
		if errors.As(werr, &pe) && (errors.Is(pe.Err, errEINVAL) || errors.Is(pe.Err, errERANGE)) {
			return &Error{Name: name, Op: "set", Value: value,
				Reason: "the kernel rejected the value (" + pe.Err.Error() + ")",
				Err:    fmt.Errorf("%w: %w", ErrInvalid, werr)}
		}
		return fail(werr)
	}
	return nil
}

// SyncThreshold returns the two numbers of sync_threshold.
func (s *Sysctls) SyncThreshold() (threshold, period int, err error) {
	v, err := s.Get("sync_threshold")
	if err != nil {
		return 0, 0, err
	}
	a, b, ok := parsePair(v)
	if !ok {
		return 0, 0, &Error{Name: "sync_threshold", Op: "get", Reason: fmt.Sprintf("value %q is not two integers", v), Err: ErrInvalid}
	}
	return int(a), int(b), nil
}

// SetSyncThreshold sets sync_threshold; threshold must be below period
// unless period is 0, and neither may be negative.
func (s *Sysctls) SetSyncThreshold(threshold, period int) error {
	return s.Set("sync_threshold", strconv.Itoa(threshold)+" "+strconv.Itoa(period))
}

// Validate checks value for the sysctl name without writing anything.
// Unknown names accept any value without a newline.
func Validate(name, value string) error {
	bad := func(format string, a ...any) error {
		return &Error{Name: name, Op: "set", Value: value, Reason: "invalid value: " + fmt.Sprintf(format, a...), Err: ErrInvalid}
	}
	if strings.ContainsAny(value, "\n\x00") {
		return bad("contains a newline or NUL")
	}
	info, ok := Lookup(name)
	if !ok {
		return nil
	}
	v := strings.TrimSpace(value)
	intValue := func() (int64, error) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, bad("want an integer")
		}
		return n, nil
	}
	switch info.Kind {
	case KindString:
		return nil
	case KindInt:
		n, err := intValue()
		if err != nil {
			return err
		}
		if n < info.Min || n > info.Max {
			return bad("want %d..%d%s", info.Min, info.Max, unitSuffix(info.Unit))
		}
	case KindBool:
		n, err := intValue()
		if err != nil {
			return err
		}
		if n != 0 && n != 1 {
			return bad("want 0 (off) or 1 (on)")
		}
	case KindDefense:
		n, err := intValue()
		if err != nil {
			return err
		}
		if n < 0 || n > 3 {
			return bad("a defense mode is 0 (never), 1 or 2 (automatic) or 3 (always)")
		}
	case KindPowerOf2:
		n, err := intValue()
		if err != nil {
			return err
		}
		if n < info.Min || n > info.Max || bits.OnesCount64(uint64(n)) != 1 {
			return bad("want a power of two (1, 2, 4, ...)")
		}
	case KindBitmap:
		n, err := intValue()
		if err != nil {
			return err
		}
		if n < 0 || n&^info.Max != 0 {
			return bad("want a combination of the bits %#x (0..%d)", info.Max, info.Max)
		}
	case KindIntPair:
		a, b, ok := parsePair(v)
		if !ok {
			return bad("want two integers, threshold and period")
		}
		if a < 0 || b < 0 || a > info.Max || b > info.Max {
			return bad("threshold and period must be 0..%d", info.Max)
		}
		if b != 0 && a >= b {
			return bad("threshold %d must be below period %d (or period 0)", a, b)
		}
	case KindCPUList:
		if !validCPUList(v) {
			return bad("want a CPU list such as 0-3,8 (or empty)")
		}
	}
	return nil
}

func unitSuffix(u string) string {
	if u == "" {
		return ""
	}
	return " " + u
}

// parsePair parses two integers separated by blanks or tabs.
func parsePair(v string) (int64, int64, bool) {
	f := strings.Fields(v)
	if len(f) != 2 {
		return 0, 0, false
	}
	a, err1 := strconv.ParseInt(f[0], 10, 64)
	b, err2 := strconv.ParseInt(f[1], 10, 64)
	return a, b, err1 == nil && err2 == nil
}

// validCPUList accepts the kernel's cpulist syntax: comma-separated CPUs
// and ranges "a-b", optionally "a-b:used/group"; empty is allowed.
func validCPUList(v string) bool {
	if v == "" {
		return true
	}
	for _, part := range strings.Split(v, ",") {
		rng, stride, hasStride := strings.Cut(part, ":")
		lo, hi, isRange := strings.Cut(rng, "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return false
		}
		if isRange {
			b, err := strconv.ParseUint(hi, 10, 16)
			if err != nil || b < a {
				return false
			}
		}
		if hasStride {
			if !isRange {
				return false
			}
			used, group, ok := strings.Cut(stride, "/")
			u, err1 := strconv.ParseUint(used, 10, 16)
			g, err2 := strconv.ParseUint(group, 10, 16)
			if !ok || err1 != nil || err2 != nil || u == 0 || g == 0 || u > g {
				return false
			}
		}
	}
	return true
}
