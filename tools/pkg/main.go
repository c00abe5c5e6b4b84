package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "pkg: %v\n", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage: go run ./tools/pkg [-version V] [-o DIR] [-arch GOARCH] [-binaries DIR]")

// run builds the packages as args say and names them on stdout.
func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pkg", flag.ContinueOnError)
	fs.SetOutput(stderr)
	version := fs.String("version", "", "the package version (default: from git describe)")
	out := fs.String("o", "out", "the directory to write the packages to")
	arch := fs.String("arch", runtime.GOARCH, "the architecture to build for (amd64 or arm64)")
	binaries := fs.String("binaries", "", "a directory with prebuilt ipvsadm and ipvsctl (default: build them)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w (unexpected %q)", errUsage, fs.Arg(0))
	}
	if _, ok := rpmArch[*arch]; !ok {
		return fmt.Errorf("cannot package for architecture %q: amd64 and arm64 only", *arch)
	}
	outDir, err := filepath.Abs(*out)
	if err != nil {
		return err
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}

	b := build{Arch: *arch}
	commit, commitErr := commitTime(root)
	b.MTime = commit
	if commitErr != nil {
		b.MTime = time.Now().UTC().Truncate(time.Second)
	}
	if *version != "" {
		b.Version, err = flagVersion(*version)
	} else if commitErr != nil {
		err = fmt.Errorf("no -version, and git cannot tell the commit (%v): give one with -version", commitErr)
	} else {
		b.Version, err = gitVersion(root, commit)
	}
	if err != nil {
		return err
	}

	tmp, err := os.MkdirTemp("", "ipvs-tools-pkg-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	binDir := *binaries
	if binDir == "" {
		binDir = filepath.Join(tmp, "bin")
		for _, p := range []string{"ipvsadm", "ipvsctl"} {
			fmt.Fprintf(stdout, "building ./cmd/%s (%s, version %s)\n", p, b.Arch, b.Version)
			if err := goBuild(root, b.Arch, b.Version, p, binDir); err != nil {
				return err
			}
		}
	} else if binDir, err = filepath.Abs(binDir); err != nil {
		return err
	}
	b.Stage = filepath.Join(tmp, "stage")
	if b.Entries, err = stage(root, b.Stage, binDir); err != nil {
		return err
	}
	paths, err := b.write(outDir)
	if err != nil {
		return err
	}
	for _, p := range paths {
		fmt.Fprintf(stdout, "wrote %s (%d entries)\n", p, len(b.Entries))
	}
	return nil
}

// moduleRoot finds the directory of this module's go.mod at or above the
// working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(b), "module github.com/ipvs-tools/ipvs\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run it inside the ipvs-tools source tree: no go.mod of github.com/ipvs-tools/ipvs at or above the working directory")
		}
		dir = parent
	}
}

// git runs git in root and answers its trimmed output.
func git(root string, args ...string) (string, error) {
	out, err := exec.Command("git", append([]string{"-C", root}, args...)...).Output()
	if ee, ok := err.(*exec.ExitError); ok {
		return "", fmt.Errorf("git %s: %s", strings.Join(args, " "), strings.TrimSpace(string(ee.Stderr)))
	} else if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// commitTime is the time of the commit checked out in root.
func commitTime(root string) (time.Time, error) {
	s, err := git(root, "show", "-s", "--format=%ct", "HEAD")
	if err != nil {
		return time.Time{}, err
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("git show: commit time %q: %v", s, err)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// gitVersion is the package version git describe gives.
func gitVersion(root string, commit time.Time) (string, error) {
	d, err := git(root, "describe", "--tags", "--always", "--dirty")
	if err != nil {
		return "", err
	}
	return describeVersion(d, commit)
}

// goBuild builds ./cmd/NAME for linux/ARCH, static, into dir.
func goBuild(root, arch, version, name, dir string) error {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = "/usr/local/go/bin/go" // as install.sh: where Go's tarball goes
	}
	cmd := exec.Command(goCmd, "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version,
		"-o", filepath.Join(dir, name), "./cmd/"+name)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/%s: %v\n%s", name, err, out)
	}
	return nil
}
