package vm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// CacheEnv names the environment variable that overrides the cache
// directory of [DefaultCacheDir].
const CacheEnv = "IPVS_VM_CACHE"

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

// cacheDirOrDefault returns dir, or DefaultCacheDir if dir is empty.
func cacheDirOrDefault(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	return DefaultCacheDir()
}

// AssetOptions configures [PrepareAssets].
type AssetOptions struct {
	// CacheDir holds downloaded packages and extracted trees. Empty means
	// DefaultCacheDir.
	CacheDir string
	// Kernel is the kernel to prepare. The zero value means
	// DefaultKernel.
	Kernel Kernel
	// Log receives progress messages (downloads, extraction). May be nil.
	Log io.Writer
}

// Assets are the kernel files a guest boots from.
type Assets struct {
	// Kernel is the pinned kernel these files are from.
	Kernel Kernel
	// CacheDir is the cache directory the assets live in.
	CacheDir string
	// KernelVersion is the module directory name and what uname -r
	// prints in the guest, e.g. "6.1.0-57-amd64".
	KernelVersion string
	// Root is the directory the package was extracted into.
	Root string
	// Vmlinuz is the kernel image.
	Vmlinuz string
	// ModulesDir is the kernel's module tree,
	// Root/[usr/]lib/modules/<KernelVersion>.
	ModulesDir string
}

// stampName is the file written into an extracted tree once extraction has
// finished; it holds the SHA-256 of the .deb it came from.
const stampName = ".ipvs-vm-extracted"

// PrepareAssets makes sure the pinned kernel package is downloaded,
// checked against its SHA-256 and extracted in the cache, and returns where
// its files are. The first call downloads the package with apt-get (from
// Debian's archive, through a private apt configuration for the kernel's
// suite kept in the cache) and extracts it with dpkg -x; later calls reuse
// the extracted tree.
func PrepareAssets(ctx context.Context, opt AssetOptions) (*Assets, error) {
	cache, err := cacheDirOrDefault(opt.CacheDir)
	if err != nil {
		return nil, err
	}
	k := opt.Kernel
	if k.Name == "" {
		if k, err = LookupKernel(DefaultKernel); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, fmt.Errorf("creating VM cache: %w", err)
	}
	// Two runs (or two guests of one run) preparing the same cache at
	// once would download and extract into the same places: take turns.
	unlock, err := lockDir(ctx, cache)
	if err != nil {
		return nil, err
	}
	defer unlock()
	root := filepath.Join(cache, strings.TrimSuffix(k.debFile(), "_amd64.deb"))
	if stamp, err := os.ReadFile(filepath.Join(root, stampName)); err == nil && strings.TrimSpace(string(stamp)) == k.SHA256 {
		a, err := findAssets(k, cache, root)
		if err != nil {
			return nil, fmt.Errorf("cached kernel %s (remove %s to fetch it again): %w", k, root, err)
		}
		return a, nil
	}
	deb := filepath.Join(cache, k.debFile())
	if err := checkSHA256(deb, k.SHA256); err != nil {
		if !os.IsNotExist(err) {
			logf(opt.Log, "vm: %v; fetching it again\n", err)
			os.Remove(deb)
		}
		if err := downloadKernel(ctx, cache, k, opt.Log); err != nil {
			return nil, err
		}
		if err := checkSHA256(deb, k.SHA256); err != nil {
			os.Remove(deb)
			return nil, fmt.Errorf("kernel %s: %w (the pin in internal/vm/kernels.txt names other bytes)", k, err)
		}
	}
	logf(opt.Log, "vm: extracting %s\n", filepath.Base(deb))
	tmpRoot := root + ".partial"
	if err := os.RemoveAll(tmpRoot); err != nil {
		return nil, fmt.Errorf("clearing %s: %w", tmpRoot, err)
	}
	if err := runIn(ctx, cache, "dpkg", "-x", deb, tmpRoot); err != nil {
		return nil, fmt.Errorf("extracting %s: %w", deb, err)
	}
	if _, err := findAssets(k, cache, tmpRoot); err != nil {
		return nil, fmt.Errorf("extracted %s: %w", k, err)
	}
	if err := os.WriteFile(filepath.Join(tmpRoot, stampName), []byte(k.SHA256+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("writing stamp: %w", err)
	}
	if err := os.RemoveAll(root); err != nil {
		return nil, fmt.Errorf("clearing %s: %w", root, err)
	}
	if err := os.Rename(tmpRoot, root); err != nil {
		return nil, fmt.Errorf("installing extracted kernel: %w", err)
	}
	return findAssets(k, cache, root)
}

// downloadKernel fetches the pinned package into cache.
func downloadKernel(ctx context.Context, cache string, k Kernel, log io.Writer) error {
	s, err := newAptSuite(cache, k.Suite)
	if err != nil {
		return err
	}
	logf(log, "vm: fetching the package lists of Debian %s\n", k.Suite)
	if err := s.update(ctx); err != nil {
		return fmt.Errorf("package lists of Debian %s: %w", k.Suite, err)
	}
	logf(log, "vm: downloading %s %s into %s\n", k.Package, k.Version, cache)
	if err := s.download(ctx, cache, k.Package, k.Version); err != nil {
		hint := ""
		if l, lerr := s.latest(ctx, k.Name); lerr == nil && (l.Package != k.Package || l.Version != k.Version) {
			hint = fmt.Sprintf("\nDebian %s now offers %s %s; to move to it, put this line in internal/vm/kernels.txt:\n%s",
				k.Suite, l.Package, l.Version, FormatKernelLine(l))
		}
		return fmt.Errorf("downloading kernel %s: %w%s", k, err, hint)
	}
	return nil
}

// checkSHA256 checks that the file at p has the given SHA-256.
func checkSHA256(p, want string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("reading %s: %w", p, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s has SHA-256 %s, want %s", filepath.Base(p), got, want)
	}
	return nil
}

// findAssets locates the kernel image and the module tree in an extracted
// package: boot/vmlinuz-<version> and lib/modules/<version> (usr/lib/modules
// from Debian 13 on).
func findAssets(k Kernel, cache, root string) (*Assets, error) {
	var mods []string
	for _, base := range []string{"lib/modules", "usr/lib/modules"} {
		m, _ := filepath.Glob(filepath.Join(root, base, "*", "kernel"))
		mods = append(mods, m...)
	}
	if len(mods) != 1 {
		return nil, fmt.Errorf("want one module tree under %s/[usr/]lib/modules, found %d", root, len(mods))
	}
	modDir := filepath.Dir(mods[0])
	a := &Assets{
		Kernel:        k,
		CacheDir:      cache,
		KernelVersion: filepath.Base(modDir),
		Root:          root,
		ModulesDir:    modDir,
	}
	a.Vmlinuz = filepath.Join(root, "boot", "vmlinuz-"+a.KernelVersion)
	if _, err := os.Stat(a.Vmlinuz); err != nil {
		return nil, err
	}
	return a, nil
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
