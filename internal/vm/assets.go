package vm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CacheEnv names the environment variable that overrides the cache
// directory of [DefaultCacheDir].
const CacheEnv = "IPVS_VM_CACHE"

// KernelMetaPackage is the Debian package whose dependency names the
// current kernel image package.
const KernelMetaPackage = "linux-image-amd64"

// kernelPkgRE matches the versioned kernel image package names this package
// works with, e.g. linux-image-6.1.0-56-amd64.
var kernelPkgRE = regexp.MustCompile(`^linux-image-(6\.1\.0-(\d+)-amd64)$`)

// DefaultCacheDir returns where downloaded kernels are kept: $IPVS_VM_CACHE
// if set, else $XDG_CACHE_HOME/ipvs-vm, else ~/.cache/ipvs-vm.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv(CacheEnv); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "ipvs-vm"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the VM cache directory (set %s): %w", CacheEnv, err)
	}
	return filepath.Join(home, ".cache", "ipvs-vm"), nil
}

// AssetOptions configures [PrepareAssets].
type AssetOptions struct {
	// CacheDir holds downloaded packages and extracted trees. Empty means
	// DefaultCacheDir.
	CacheDir string
	// Package is the kernel image package to use, e.g.
	// "linux-image-6.1.0-56-amd64". Empty means the one apt-cache names as
	// the dependency of linux-image-amd64, or else the newest one in the
	// cache.
	Package string
	// Log receives progress messages (downloads, extraction). May be nil.
	Log io.Writer
}

// Assets are the kernel files a guest boots from.
type Assets struct {
	// CacheDir is the cache directory the assets live in.
	CacheDir string
	// Package is the kernel image package name.
	Package string
	// KernelVersion is the module directory name, e.g. "6.1.0-56-amd64".
	KernelVersion string
	// Root is the directory the package was extracted into.
	Root string
	// Vmlinuz is the kernel image.
	Vmlinuz string
	// ModulesDir is Root/lib/modules/<KernelVersion>, with modules.dep.
	ModulesDir string
}

// stampName is the file written into an extracted tree once extraction and
// indexing have finished.
const stampName = ".ipvs-vm-extracted"

// PrepareAssets makes sure a kernel image package is downloaded and
// extracted in the cache and returns where its files are. The first call
// downloads the package with apt-get download (run in the cache directory)
// and extracts it with dpkg -x; later calls reuse the extracted tree,
// recognised by a stamp file.
func PrepareAssets(ctx context.Context, opt AssetOptions) (*Assets, error) {
	cache := opt.CacheDir
	if cache == "" {
		d, err := DefaultCacheDir()
		if err != nil {
			return nil, err
		}
		cache = d
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, fmt.Errorf("creating VM cache: %w", err)
	}
	// Two runs preparing the same cache at once would download and
	// extract into the same places: take turns.
	unlock, err := lockDir(ctx, cache)
	if err != nil {
		return nil, err
	}
	defer unlock()
	pkg := opt.Package
	if pkg == "" {
		p, err := currentKernelPackage(ctx)
		if err != nil {
			cached := newestCachedKernel(cache)
			if cached == "" {
				return nil, fmt.Errorf("choosing a kernel package: %w (and none is in the cache %s)", err, cache)
			}
			logf(opt.Log, "vm: apt-cache failed (%v); using cached %s\n", err, cached)
			p = cached
		}
		pkg = p
	}
	m := kernelPkgRE.FindStringSubmatch(pkg)
	if m == nil {
		return nil, fmt.Errorf("kernel package %q: want linux-image-6.1.0-NN-amd64", pkg)
	}
	a := &Assets{
		CacheDir:      cache,
		Package:       pkg,
		KernelVersion: m[1],
		Root:          filepath.Join(cache, pkg),
	}
	a.Vmlinuz = filepath.Join(a.Root, "boot", "vmlinuz-"+a.KernelVersion)
	a.ModulesDir = filepath.Join(a.Root, "lib", "modules", a.KernelVersion)
	if _, err := os.Stat(filepath.Join(a.Root, stampName)); err == nil {
		if err := a.check(); err != nil {
			return nil, fmt.Errorf("cached kernel %s (remove %s to fetch it again): %w", pkg, a.Root, err)
		}
		return a, nil
	}
	deb, err := findDeb(cache, pkg)
	if err != nil {
		return nil, err
	}
	if deb == "" {
		logf(opt.Log, "vm: downloading %s into %s\n", pkg, cache)
		if err := runIn(ctx, cache, "apt-get", "download", pkg); err != nil {
			return nil, fmt.Errorf("downloading %s: %w", pkg, err)
		}
		if deb, err = findDeb(cache, pkg); err != nil {
			return nil, err
		}
		if deb == "" {
			return nil, fmt.Errorf("apt-get download %s left no .deb in %s", pkg, cache)
		}
	}
	logf(opt.Log, "vm: extracting %s\n", filepath.Base(deb))
	tmpRoot := a.Root + ".partial"
	if err := os.RemoveAll(tmpRoot); err != nil {
		return nil, fmt.Errorf("clearing %s: %w", tmpRoot, err)
	}
	if err := runIn(ctx, cache, "dpkg", "-x", deb, tmpRoot); err != nil {
		return nil, fmt.Errorf("extracting %s: %w", deb, err)
	}
	tmpMods := filepath.Join(tmpRoot, "lib", "modules", a.KernelVersion)
	if _, err := os.Stat(filepath.Join(tmpMods, "modules.dep")); err != nil {
		logf(opt.Log, "vm: indexing kernel modules\n")
		if err := GenerateModuleIndex(tmpMods); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(tmpRoot, stampName), []byte(filepath.Base(deb)+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("writing stamp: %w", err)
	}
	if err := os.RemoveAll(a.Root); err != nil {
		return nil, fmt.Errorf("clearing %s: %w", a.Root, err)
	}
	if err := os.Rename(tmpRoot, a.Root); err != nil {
		return nil, fmt.Errorf("installing extracted kernel: %w", err)
	}
	if err := a.check(); err != nil {
		return nil, fmt.Errorf("extracted %s: %w", pkg, err)
	}
	return a, nil
}

// check verifies that the kernel and the module index exist.
func (a *Assets) check() error {
	for _, p := range []string{a.Vmlinuz, filepath.Join(a.ModulesDir, "modules.dep")} {
		if _, err := os.Stat(p); err != nil {
			return err
		}
	}
	return nil
}

// currentKernelPackage asks apt-cache which versioned kernel package the
// meta package depends on.
func currentKernelPackage(ctx context.Context) (string, error) {
	if _, err := exec.LookPath("apt-cache"); err != nil {
		return "", err
	}
	out, err := exec.CommandContext(ctx, "apt-cache", "depends", KernelMetaPackage).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(ee.Stderr) > 0 {
			return "", fmt.Errorf("apt-cache depends %s: %w: %s", KernelMetaPackage, err, bytes.TrimSpace(ee.Stderr))
		}
		return "", fmt.Errorf("apt-cache depends %s: %w", KernelMetaPackage, err)
	}
	if p := parseAptDepends(string(out)); p != "" {
		return p, nil
	}
	return "", fmt.Errorf("apt-cache depends %s names no linux-image-6.1.0-NN-amd64 package (run apt-get update?)", KernelMetaPackage)
}

// parseAptDepends finds the kernel image package in apt-cache depends
// output ("  Depends: linux-image-6.1.0-56-amd64"). If several match, the
// highest ABI number wins.
func parseAptDepends(out string) string {
	best, bestN := "", -1
	for _, line := range strings.Split(out, "\n") {
		_, v, ok := strings.Cut(strings.TrimSpace(line), "Depends:")
		if !ok {
			continue
		}
		name := strings.Trim(strings.TrimSpace(v), "<>")
		if m := kernelPkgRE.FindStringSubmatch(name); m != nil {
			if n, _ := strconv.Atoi(m[2]); n > bestN {
				best, bestN = name, n
			}
		}
	}
	return best
}

// newestCachedKernel returns the kernel package with the highest ABI number
// that is in the cache, extracted or as a .deb, or "".
func newestCachedKernel(cache string) string {
	ents, err := os.ReadDir(cache)
	if err != nil {
		return ""
	}
	best, bestN := "", -1
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() {
			if _, err := os.Stat(filepath.Join(cache, name, stampName)); err != nil {
				continue
			}
		} else if n, _, ok := strings.Cut(name, "_"); ok && strings.HasSuffix(name, ".deb") {
			name = n
		} else {
			continue
		}
		if m := kernelPkgRE.FindStringSubmatch(name); m != nil {
			if n, _ := strconv.Atoi(m[2]); n > bestN {
				best, bestN = name, n
			}
		}
	}
	return best
}

// findDeb returns the newest downloaded .deb of pkg in dir, or "".
func findDeb(dir, pkg string) (string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
	if err != nil {
		return "", fmt.Errorf("looking for %s in %s: %w", pkg, dir, err)
	}
	if len(matches) == 0 {
		return "", nil
	}
	sort.Strings(matches)
	return matches[len(matches)-1], nil
}

// runIn runs a command in dir, returning its combined output in the error
// if it fails.
func runIn(ctx context.Context, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, tail(string(out), 20))
	}
	return nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// logf writes a progress message to w if it is not nil.
func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format, args...)
	}
}

// lockDir takes an exclusive flock on dir/.lock, waiting until ctx ends.
// It returns the function that releases it.
func lockDir(ctx context.Context, dir string) (func(), error) {
	p := filepath.Join(dir, ".lock")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking the VM cache: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", p, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for the VM cache lock %s: %w", p, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
