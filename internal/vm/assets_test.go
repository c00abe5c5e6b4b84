package vm

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	for _, c := range []struct{ out, want string }{
		{"linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n", "linux-image-6.1.0-56-amd64"},
		{"linux-image-amd64\n  Depends: linux-image-6.12.118+deb13-amd64\n  Recommends: firmware\n", "linux-image-6.12.118+deb13-amd64"},
		{"linux-image-amd64\n  Depends: <linux-image-5.10.0-46-amd64>\n", "linux-image-5.10.0-46-amd64"},
		{"linux-image-amd64\n  Depends: initramfs-tools\n", ""},
	} {
		if got := parseAptDepends(c.out); got != c.want {
			t.Errorf("parseAptDepends(%q) = %q, want %q", c.out, got, c.want)
		}
	}
}

// fakeExtracted makes an extracted kernel package for k under cache, as
// PrepareAssets leaves it, with the modules under modBase
// ("lib/modules" or "usr/lib/modules").
func fakeExtracted(t *testing.T, cache string, k Kernel, release, modBase string) string {
	t.Helper()
	root := filepath.Join(cache, strings.TrimSuffix(k.debFile(), "_amd64.deb"))
	for _, d := range []string{filepath.Join(root, modBase, release, "kernel"), filepath.Join(root, "boot")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, data := range map[string]string{
		filepath.Join(root, "boot", "vmlinuz-"+release): "",
		filepath.Join(root, stampName):                  k.SHA256 + "\n",
	} {
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestPrepareAssetsCached(t *testing.T) {
	// A cache with the extracted tree and its stamp needs neither apt
	// nor dpkg, for the old layout and Debian 13's (usr/lib/modules).
	dir := t.TempDir()
	k61 := Kernel{Name: "6.1", Suite: "bookworm", Package: "linux-image-6.1.0-7-amd64", Version: "6.1.1-1", SHA256: strings.Repeat("a", 64)}
	k612 := Kernel{Name: "6.12", Suite: "trixie", Package: "linux-image-6.12.9+deb13-amd64", Version: "6.12.9-1", SHA256: strings.Repeat("b", 64)}
	fakeExtracted(t, dir, k61, "6.1.0-7-amd64", "lib/modules")
	root := fakeExtracted(t, dir, k612, "6.12.9+deb13-amd64", "usr/lib/modules")
	for _, c := range []struct {
		k       Kernel
		release string
		modDir  string
	}{
		{k61, "6.1.0-7-amd64", filepath.Join(dir, "linux-image-6.1.0-7-amd64_6.1.1-1", "lib", "modules", "6.1.0-7-amd64")},
		{k612, "6.12.9+deb13-amd64", filepath.Join(root, "usr", "lib", "modules", "6.12.9+deb13-amd64")},
	} {
		a, err := PrepareAssets(context.Background(), AssetOptions{CacheDir: dir, Kernel: c.k})
		if err != nil {
			t.Fatal(err)
		}
		if a.KernelVersion != c.release || a.ModulesDir != c.modDir || a.Kernel != c.k {
			t.Errorf("assets %+v", a)
		}
	}
}

func TestCheckSHA256(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.deb")
	if err := os.WriteFile(p, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := checkSHA256(p, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"); err != nil {
		t.Error(err)
	}
	if err := checkSHA256(p, strings.Repeat("0", 64)); err == nil || !strings.Contains(err.Error(), "x.deb has SHA-256 ba7816bf") {
		t.Errorf("wrong checksum: %v", err)
	}
	if err := checkSHA256(p+".missing", strings.Repeat("0", 64)); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
}

func TestParseKernels(t *testing.T) {
	sha := strings.Repeat("0", 64)
	good := "# comment\n\n5.10 bullseye linux-image-5.10.0-46-amd64 5.10.262-1 " + sha +
		"\n6.12  trixie  linux-image-6.12.118+deb13-amd64  6.12.118-1  " + sha + "\n"
	ks, err := ParseKernels(good)
	if err != nil {
		t.Fatal(err)
	}
	want := []Kernel{
		{Name: "5.10", Suite: "bullseye", Package: "linux-image-5.10.0-46-amd64", Version: "5.10.262-1", SHA256: sha},
		{Name: "6.12", Suite: "trixie", Package: "linux-image-6.12.118+deb13-amd64", Version: "6.12.118-1", SHA256: sha},
	}
	if !slices.Equal(ks, want) {
		t.Errorf("got %+v", ks)
	}
	// A formatted line reads back as itself.
	if back, err := ParseKernels(FormatKernelLine(want[1])); err != nil || !slices.Equal(back, want[1:]) {
		t.Errorf("FormatKernelLine round trip: %v %v", back, err)
	}
	for _, c := range []struct{ name, text, want string }{
		{"fields", "6.1 bookworm linux-image-6.1.0-57-amd64 6.1.192-3\n", "want \"name suite package version sha256\""},
		{"name", "six bookworm linux-image-6.1.0-57-amd64 6.1.192-3 " + sha, "bad name"},
		{"package", "6.1 bookworm linux-headers-6.1.0-57-amd64 6.1.192-3 " + sha, "bad package"},
		{"sha", "6.1 bookworm linux-image-6.1.0-57-amd64 6.1.192-3 abc", "bad sha256"},
		{"twice", "6.1 bookworm linux-image-6.1.0-57-amd64 6.1.192-3 " + sha + "\n6.1 bookworm linux-image-6.1.0-56-amd64 6.1.192-2 " + sha, "listed twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseKernels(c.text); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestKernelsPinned: the pin list in the source parses, names the three
// Debian kernels users run and the default kernel.
func TestKernelsPinned(t *testing.T) {
	if got := KernelNames(); !slices.Equal(got, []string{"5.10", "6.1", "6.12"}) {
		t.Errorf("pinned kernels %v", got)
	}
	k, err := LookupKernel(DefaultKernel)
	if err != nil || k.Suite != "bookworm" {
		t.Errorf("default kernel %+v %v", k, err)
	}
	if _, err := LookupKernel("4.19"); err == nil || !strings.Contains(err.Error(), "the pinned kernels are 5.10, 6.1, 6.12") {
		t.Errorf("unknown kernel: %v", err)
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
