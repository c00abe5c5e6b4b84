package vm

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestDefaultCacheDir(t *testing.T) {
	t.Setenv(CacheEnv, "/x/cache")
	if d, _ := DefaultCacheDir(); d != "/x/cache" {
		t.Errorf("with %s: %s", CacheEnv, d)
	}
	t.Setenv(CacheEnv, "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	if d, _ := DefaultCacheDir(); d != "/xdg/ipvs-vm" {
		t.Errorf("with XDG_CACHE_HOME: %s", d)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/u")
	if d, _ := DefaultCacheDir(); d != "/home/u/.cache/ipvs-vm" {
		t.Errorf("with HOME: %s", d)
	}
}

func TestParseAptDepends(t *testing.T) {
	out := "linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n"
	if got := parseAptDepends(out); got != "linux-image-6.1.0-56-amd64" {
		t.Errorf("got %q", got)
	}
	out = "linux-image-amd64\n  Depends: linux-image-6.1.0-9-amd64\n  Depends: <linux-image-6.1.0-12-amd64>\n  Recommends: firmware\n"
	if got := parseAptDepends(out); got != "linux-image-6.1.0-12-amd64" {
		t.Errorf("got %q", got)
	}
	if got := parseAptDepends("linux-image-amd64\n  Depends: linux-image-6.12.1-amd64\n"); got != "" {
		t.Errorf("other kernel series accepted: %q", got)
	}
}

func TestNewestCachedKernel(t *testing.T) {
	dir := t.TempDir()
	mk := func(p string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := newestCachedKernel(dir); got != "" {
		t.Errorf("empty cache gave %q", got)
	}
	mk("linux-image-6.1.0-9-amd64/" + stampName)
	mk("linux-image-6.1.0-40-amd64_6.1.150-1_amd64.deb")
	mk("linux-image-6.1.0-99-amd64/no-stamp")
	if got := newestCachedKernel(dir); got != "linux-image-6.1.0-40-amd64" {
		t.Errorf("got %q", got)
	}
}

func TestPrepareAssetsCached(t *testing.T) {
	// A cache with an extracted tree and its stamp needs neither apt
	// nor dpkg.
	dir := t.TempDir()
	pkg := "linux-image-6.1.0-7-amd64"
	root := filepath.Join(dir, pkg)
	modDir := filepath.Join(root, "lib", "modules", "6.1.0-7-amd64")
	if err := os.MkdirAll(modDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "boot"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(modDir, "modules.dep"), filepath.Join(root, "boot", "vmlinuz-6.1.0-7-amd64"),
		filepath.Join(root, stampName)} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, err := PrepareAssets(context.Background(), AssetOptions{CacheDir: dir, Package: pkg})
	if err != nil {
		t.Fatal(err)
	}
	if a.KernelVersion != "6.1.0-7-amd64" || a.ModulesDir != modDir {
		t.Errorf("assets %+v", a)
	}
	if _, err := PrepareAssets(context.Background(), AssetOptions{CacheDir: dir, Package: "linux-image-5.10.0-1-amd64"}); err == nil {
		t.Error("unsupported kernel package accepted")
	}
}

func TestLockDir(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := lockDir(ctx, dir); err == nil {
		t.Fatal("second lock taken while the first is held")
	}
	unlock()
	unlock2, err := lockDir(context.Background(), dir)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}
