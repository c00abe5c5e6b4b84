package vm

import (
	"bufio"
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// kernelsText is the pin list: see kernels.txt.
//
//go:embed kernels.txt
var kernelsText string

// DefaultKernel names the kernel a guest boots when none is chosen: Debian
// 12's, the one the golden files were captured on.
const DefaultKernel = "6.1"

// Kernel is one pinned guest kernel: a Debian kernel image package at an
// exact version, with the SHA-256 of its .deb.
type Kernel struct {
	// Name is the short name vmrun's -kernel takes, e.g. "6.1".
	Name string
	// Suite is the Debian release that ships it, e.g. "bookworm".
	Suite string
	// Package is the kernel image package, e.g.
	// "linux-image-6.1.0-57-amd64".
	Package string
	// Version is the package version, e.g. "6.1.192-3".
	Version string
	// SHA256 is the hex SHA-256 of the .deb file.
	SHA256 string
}

// String names the kernel as results print it: "6.1 (linux-image-6.1.0-57-amd64
// 6.1.192-3)".
func (k Kernel) String() string {
	return fmt.Sprintf("%s (%s %s)", k.Name, k.Package, k.Version)
}

// debFile is the file name apt-get download gives the package.
func (k Kernel) debFile() string {
	return fmt.Sprintf("%s_%s_amd64.deb", k.Package, strings.ReplaceAll(k.Version, ":", "%3a"))
}

var (
	kernelNameRE = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)
	suiteRE      = regexp.MustCompile(`^[a-z]+$`)
	packageRE    = regexp.MustCompile(`^linux-image-[0-9][0-9a-z.+~-]*-amd64$`)
	versionRE    = regexp.MustCompile(`^[0-9][0-9A-Za-z.+~-]*$`)
	sha256RE     = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// ParseKernels reads a pin list in the format of kernels.txt: one kernel a
// line, "name suite package version sha256", blank lines and # comments
// ignored.
func ParseKernels(text string) ([]Kernel, error) {
	var ks []Kernel
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 5 {
			return nil, fmt.Errorf("kernels line %d: want \"name suite package version sha256\", got %q", n, line)
		}
		k := Kernel{Name: f[0], Suite: f[1], Package: f[2], Version: f[3], SHA256: f[4]}
		for _, c := range []struct {
			what string
			v    string
			re   *regexp.Regexp
		}{
			{"name", k.Name, kernelNameRE}, {"suite", k.Suite, suiteRE}, {"package", k.Package, packageRE},
			{"version", k.Version, versionRE}, {"sha256", k.SHA256, sha256RE},
		} {
			if !c.re.MatchString(c.v) {
				return nil, fmt.Errorf("kernels line %d: bad %s %q", n, c.what, c.v)
			}
		}
		if seen[k.Name] {
			return nil, fmt.Errorf("kernels line %d: kernel %s listed twice", n, k.Name)
		}
		seen[k.Name] = true
		ks = append(ks, k)
	}
	return ks, sc.Err()
}

// Kernels returns the pinned kernels, oldest first.
func Kernels() []Kernel {
	ks, err := ParseKernels(kernelsText)
	if err != nil {
		// kernels.txt is part of the source; TestKernelsPinned keeps
		// it valid.
		panic(err)
	}
	return ks
}

// KernelNames returns the names of the pinned kernels, oldest first.
func KernelNames() []string {
	var names []string
	for _, k := range Kernels() {
		names = append(names, k.Name)
	}
	return names
}

// LookupKernel returns the pinned kernel called name ("5.10", "6.1", ...).
func LookupKernel(name string) (Kernel, error) {
	for _, k := range Kernels() {
		if k.Name == name {
			return k, nil
		}
	}
	return Kernel{}, fmt.Errorf("no kernel %q: the pinned kernels are %s (internal/vm/kernels.txt)",
		name, strings.Join(KernelNames(), ", "))
}

// debianMirror and debianSecurity are where the suites' packages come from.
const (
	debianMirror   = "http://deb.debian.org/debian"
	debianSecurity = "http://deb.debian.org/debian-security"
	debianKeyring  = "/usr/share/keyrings/debian-archive-keyring.gpg"
)

// aptSuite is a private apt configuration for one Debian suite, kept in
// the cache, so that packages of any release can be fetched whatever the
// host's own sources are.
type aptSuite struct {
	dir   string
	suite string
}

func newAptSuite(cache, suite string) (*aptSuite, error) {
	s := &aptSuite{dir: filepath.Join(cache, "apt", suite), suite: suite}
	for _, d := range []string{"lists/partial", "cache/archives/partial", "sources.list.d"} {
		if err := os.MkdirAll(filepath.Join(s.dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("apt configuration for %s: %w", suite, err)
		}
	}
	if _, err := os.Stat(debianKeyring); err != nil {
		return nil, fmt.Errorf("Debian's archive keyring %s is missing (apt-get install debian-archive-keyring)", debianKeyring)
	}
	src := fmt.Sprintf("deb [signed-by=%[1]s] %[2]s %[4]s main\ndeb [signed-by=%[1]s] %[2]s %[4]s-updates main\ndeb [signed-by=%[1]s] %[3]s %[4]s-security main\n",
		debianKeyring, debianMirror, debianSecurity, suite)
	if err := writeFileAtomic(filepath.Join(s.dir, "sources.list"), []byte(src), 0o644); err != nil {
		return nil, err
	}
	return s, nil
}

// options are the apt-get/apt-cache options that point apt at this suite
// only.
func (s *aptSuite) options() []string {
	return []string{
		"-o", "Dir::Etc::SourceList=" + filepath.Join(s.dir, "sources.list"),
		"-o", "Dir::Etc::SourceParts=" + filepath.Join(s.dir, "sources.list.d"),
		"-o", "Dir::State::Lists=" + filepath.Join(s.dir, "lists"),
		"-o", "Dir::Cache=" + filepath.Join(s.dir, "cache"),
		"-o", "Dir::State::status=/dev/null",
		"-o", "APT::Sandbox::User=root",
		"-o", "Debug::NoLocking=1",
	}
}

// update fetches the suite's package lists.
func (s *aptSuite) update(ctx context.Context) error {
	return runIn(ctx, s.dir, "apt-get", append(s.options(), "-q", "update")...)
}

// download fetches pkg=version into dir.
func (s *aptSuite) download(ctx context.Context, dir, pkg, version string) error {
	return runIn(ctx, dir, "apt-get", append(s.options(), "-q", "download", pkg+"="+version)...)
}

// cache runs apt-cache with the suite's lists and returns its output.
func (s *aptSuite) cache(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "apt-cache", append(s.options(), args...)...).Output()
	if err != nil {
		return "", fmt.Errorf("apt-cache %s (%s): %w", strings.Join(args, " "), s.suite, err)
	}
	return string(out), nil
}

// latest returns the kernel that the suite offers now as the dependency
// of linux-image-amd64 (apt's candidate), with its version and the SHA-256
// of its .deb, called name.
func (s *aptSuite) latest(ctx context.Context, name string) (Kernel, error) {
	out, err := s.cache(ctx, "depends", "linux-image-amd64")
	if err != nil {
		return Kernel{}, err
	}
	pkg := parseAptDepends(out)
	if pkg == "" {
		return Kernel{}, fmt.Errorf("%s: linux-image-amd64 depends on no kernel image package", s.suite)
	}
	out, err = s.cache(ctx, "show", "--no-all-versions", pkg)
	if err != nil {
		return Kernel{}, err
	}
	k := Kernel{Name: name, Suite: s.suite, Package: pkg}
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "Version: "); ok {
			k.Version = v
		}
		if v, ok := strings.CutPrefix(l, "SHA256: "); ok {
			k.SHA256 = v
		}
	}
	if k.Version == "" || k.SHA256 == "" {
		return Kernel{}, fmt.Errorf("%s: apt-cache show %s gave no version or checksum", s.suite, pkg)
	}
	return k, nil
}

// parseAptDepends finds the kernel image package in apt-cache depends
// output ("  Depends: linux-image-6.1.0-57-amd64"): the first one named.
func parseAptDepends(out string) string {
	for _, line := range strings.Split(out, "\n") {
		_, v, ok := strings.Cut(strings.TrimSpace(line), "Depends:")
		if !ok {
			continue
		}
		if name := strings.Trim(strings.TrimSpace(v), "<>"); packageRE.MatchString(name) {
			return name
		}
	}
	return ""
}

// LatestKernels asks Debian's archive which kernel each pinned kernel's
// suite offers now (what linux-image-amd64 depends on), for moving the
// pins forward. The package lists are fetched into the cache.
func LatestKernels(ctx context.Context, cacheDir string) ([]Kernel, error) {
	cache, err := cacheDirOrDefault(cacheDir)
	if err != nil {
		return nil, err
	}
	var out []Kernel
	for _, k := range Kernels() {
		s, err := newAptSuite(cache, k.Suite)
		if err != nil {
			return nil, err
		}
		if err := s.update(ctx); err != nil {
			return nil, fmt.Errorf("package lists of %s: %w", k.Suite, err)
		}
		l, err := s.latest(ctx, k.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// FormatKernelLine formats k as a line of kernels.txt.
func FormatKernelLine(k Kernel) string {
	return fmt.Sprintf("%-7s %-9s %-33s %-12s %s", k.Name, k.Suite, k.Package, k.Version, k.SHA256)
}
