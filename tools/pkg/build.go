package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the "deb" packager
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the "rpm" packager
)

// The package's fields.
const (
	packageName = "ipvs-tools"
	maintainer  = "The ipvs-tools authors"
	homepage    = "https://github.com/ipvs-tools/ipvs"
	description = `IPVS (Linux Virtual Server) administration: ipvsadm and ipvsctl
ipvsadm is a byte-for-byte compatible rewrite of ipvsadm 1.31, with
ipvsadm-save and ipvsadm-restore as links to it. ipvsctl is the modern
front end: JSON and YAML output, declarative diff and apply, a
health-checking agent, connection listing, sysctls and sync daemons.
Both are static programs; with them come man pages, bash, zsh and fish
completions, and systemd units that restore /etc/ipvsadm.rules at boot.`
)

// rpmArch names the architectures the packages are built for, in rpm's
// words; the deb's are Go's.
var rpmArch = map[string]string{"amd64": "x86_64", "arm64": "aarch64"}

// A build says what to package.
type build struct {
	Version string    // the package version (see the command's documentation)
	Arch    string    // GOARCH: amd64 or arm64
	MTime   time.Time // the time every packaged file carries
	Stage   string    // install.sh's DESTDIR
	Entries []entry   // install.sh's manifest
}

// fileNames are the packages' file names: ipvs-tools_V_ARCH.deb and
// ipvs-tools-V.RPMARCH.rpm.
func (b build) fileNames() map[string]string {
	return map[string]string{
		"deb": fmt.Sprintf("%s_%s_%s.deb", packageName, b.Version, b.Arch),
		"rpm": fmt.Sprintf("%s-%s.%s.rpm", packageName, b.Version, rpmArch[b.Arch]),
	}
}

// contents are the manifest's entries as nfpm's, their files taken from
// the staging directory.
func (b build) contents() files.Contents {
	var cs files.Contents
	for _, e := range b.Entries {
		c := &files.Content{Destination: e.Path, FileInfo: &files.ContentFileInfo{
			Owner: "root", Group: "root", Mode: e.Mode, MTime: b.MTime,
		}}
		switch e.Kind {
		case "file":
			c.Source = filepath.Join(b.Stage, e.Path)
		case "conf":
			c.Source = filepath.Join(b.Stage, e.Path)
			c.Type = files.TypeConfigNoReplace
		case "link":
			c.Source = e.Target
			c.Type = files.TypeSymlink
			c.FileInfo.Mode = 0o777
		}
		cs = append(cs, c)
	}
	return cs
}

// info is the package's description for nfpm in format ("deb" or "rpm");
// each packager needs its own, as packaging changes it.
func (b build) info(format string) *nfpm.Info {
	info := nfpm.WithDefaults(&nfpm.Info{
		Name:          packageName,
		Arch:          b.Arch,
		Platform:      "linux",
		Version:       b.Version,
		VersionSchema: "none",
		Section:       "net",
		Priority:      "optional",
		Maintainer:    maintainer,
		Description:   description,
		Vendor:        "The ipvs-tools authors",
		Homepage:      homepage,
		License:       "Apache-2.0",
		MTime:         b.MTime,
		Overridables: nfpm.Overridables{
			Provides:  []string{"ipvsadm"},
			Conflicts: []string{"ipvsadm"},
			Contents:  b.contents(),
			Umask:     0o022,
			RPM:       nfpm.RPM{Group: "Applications/System", Summary: "IPVS (Linux Virtual Server) administration: ipvsadm and ipvsctl"},
		},
	})
	if format == "rpm" {
		info.Replaces = []string{"ipvsadm"}
	}
	return info
}

// write writes the deb and the rpm into dir and answers their paths.
func (b build) write(dir string) ([]string, error) {
	if _, ok := rpmArch[b.Arch]; !ok {
		return nil, fmt.Errorf("cannot package for architecture %q: amd64 and arm64 only", b.Arch)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	names := b.fileNames()
	for _, format := range []string{"deb", "rpm"} {
		packager, err := nfpm.Get(format)
		if err != nil {
			return nil, err
		}
		info := b.info(format) // Package prepares it for its format
		path := filepath.Join(dir, names[format])
		if err := writeFile(path, func(f *os.File) error { return packager.Package(info, f) }); err != nil {
			return nil, fmt.Errorf("writing %s: %w", path, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// writeFile writes path through a temporary file beside it, renamed once
// fill succeeds, so a failure leaves no half package.
func writeFile(path string, fill func(*os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".pkg-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := fill(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
