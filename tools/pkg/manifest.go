package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// An entry is one line of install.sh's manifest (install.sh --list).
type entry struct {
	Kind   string      // "file", "link" or "conf"
	Path   string      // where it is installed, without DESTDIR
	Mode   fs.FileMode // file: its permissions; conf: 0644
	Target string      // link: what it points to
}

// parseManifest reads install.sh --list's lines:
//
//	file MODE PATH SOURCE
//	link PATH TARGET
//	conf PATH SOURCE
func parseManifest(text string) ([]entry, error) {
	var entries []entry
	for i, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		f := strings.Fields(line)
		bad := func(why string) error {
			return fmt.Errorf("install.sh --list, line %d %q: %s", i+1, line, why)
		}
		if len(f) == 0 {
			return nil, bad("empty")
		}
		var e entry
		switch f[0] {
		case "file":
			if len(f) != 4 {
				return nil, bad("want file MODE PATH SOURCE")
			}
			mode, err := strconv.ParseUint(f[1], 8, 32)
			if err != nil || mode&^0o7777 != 0 {
				return nil, bad("the mode is not octal permissions")
			}
			e = entry{Kind: "file", Path: f[2], Mode: fs.FileMode(mode)}
		case "link":
			if len(f) != 3 {
				return nil, bad("want link PATH TARGET")
			}
			e = entry{Kind: "link", Path: f[1], Target: f[2]}
		case "conf":
			if len(f) != 3 {
				return nil, bad("want conf PATH SOURCE")
			}
			e = entry{Kind: "conf", Path: f[1], Mode: 0o644}
		default:
			return nil, bad("unknown kind " + strconv.Quote(f[0]))
		}
		if !filepath.IsAbs(e.Path) || filepath.Clean(e.Path) != e.Path {
			return nil, bad("the path is not absolute and clean")
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// installScript runs root's scripts/install.sh with args and answers its
// standard output; a failure carries what it printed.
func installScript(root string, args ...string) (string, error) {
	cmd := exec.Command("bash", append([]string{filepath.Join(root, "scripts", "install.sh")}, args...)...)
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("scripts/install.sh %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// stage answers install.sh's manifest for PREFIX=/usr and installs it
// under stageDir with the programs in binDir. It checks that every file
// the manifest names was staged as it says.
func stage(root, stageDir, binDir string) ([]entry, error) {
	list, err := installScript(root, "--list", "PREFIX=/usr")
	if err != nil {
		return nil, err
	}
	entries, err := parseManifest(list)
	if err != nil {
		return nil, err
	}
	if _, err := installScript(root, "DESTDIR="+stageDir, "PREFIX=/usr", "BINARIES="+binDir); err != nil {
		return nil, err
	}
	for _, e := range entries {
		info, err := os.Lstat(filepath.Join(stageDir, e.Path))
		switch {
		case err != nil:
			return nil, fmt.Errorf("install.sh did not stage %s: %v", e.Path, err)
		case e.Kind == "link" && info.Mode()&fs.ModeSymlink == 0:
			return nil, fmt.Errorf("install.sh staged %s as a %v, not a link", e.Path, info.Mode().Type())
		case e.Kind != "link" && !info.Mode().IsRegular():
			return nil, fmt.Errorf("install.sh staged %s as a %v, not a file", e.Path, info.Mode().Type())
		}
	}
	return entries, nil
}
