package ipvs_test

import (
	"os/exec"
	"strings"
	"testing"
)

// deps lists the packages pkg depends on (go list -deps), for GOOS.
func deps(t *testing.T, goos, pkg string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg)
	cmd.Env = append(cmd.Environ(), "GOOS="+goos)
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	return strings.Fields(string(out))
}

// TestImportDirection: the vocabulary depends on the standard library
// only, and the kernel model on the vocabulary only, on every GOOS, and the packages that reason about tables (the
// ipvsadm grammar and formats, save files, plans) on no transport.
func TestImportDirection(t *testing.T) {
	const mod = "github.com/ipvs-tools/ipvs"
	for _, goos := range []string{"linux", "darwin", "windows"} {
		if d := deps(t, goos, "."); len(d) != 1 || d[0] != mod {
			t.Errorf("GOOS=%s: the vocabulary depends on %v", goos, d)
		}
		// The kernel model: the vocabulary and nothing else.
		if d := deps(t, goos, "./ipvsmodel"); len(d) != 2 || d[0] != mod || d[1] != mod+"/ipvsmodel" {
			t.Errorf("GOOS=%s: ipvsmodel depends on %v", goos, d)
		}
	}
	transports := []string{mod + "/netlinkipvs", mod + "/netns", mod + "/ipvsproc", mod + "/ipvssysctl", mod + "/ipvsprobe", mod + "/ipvslock"}
	for _, pkg := range []string{"./ipvsplan", "./internal/ipvsadmargs", "./internal/ipvsadmfmt", "./internal/rulesfile"} {
		for _, d := range deps(t, "linux", pkg) {
			for _, tr := range transports {
				if d == tr {
					t.Errorf("%s depends on the transport %s", pkg, tr)
				}
			}
		}
	}
}
