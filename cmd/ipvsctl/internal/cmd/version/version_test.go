package version

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/printers"
)

func TestVersion(t *testing.T) {
	vcs := func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0db9442c5d0e"}, {Key: "vcs.time", Value: "2026-12-03T19:47:00Z"}, {Key: "vcs.modified", Value: "true"}}}, true
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	plat := runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH
	for _, tc := range []struct {
		name    string
		version string
		build   func() (*debug.BuildInfo, bool)
		format  printers.Format
		want    string
	}{
		{"release", "1.5.0", none, printers.Table, "ipvsctl 1.5.0 (" + plat + ")\n"},
		{"work tree", "dev", vcs, printers.Table, "ipvsctl dev (" + plat + ")\nbuilt from revision 0db9442c5d0e of 2026-12-03T19:47:00Z, with uncommitted changes\n"},
		{"json", "dev", vcs, printers.JSON, `{
  "apiVersion": "ipvsctl/v1",
  "kind": "Version",
  "version": "dev",
  "goVersion": "` + runtime.Version() + `",
  "platform": "` + runtime.GOOS + "/" + runtime.GOARCH + `",
  "revision": "0db9442c5d0e",
  "time": "2026-12-03T19:47:00Z",
  "modified": true
}
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, out, _ := iostreams.Test()
			if err := Run(&Options{IO: ios, Version: tc.version, Build: tc.build, Output: tc.format}); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, out.String()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	t.Run("yaml", func(t *testing.T) {
		ios, _, out, _ := iostreams.Test()
		if err := Run(&Options{IO: ios, Version: "1.5.0", Build: none, Output: printers.YAML}); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out.String(), "apiVersion: ipvsctl/v1\nkind: Version\nversion: 1.5.0\n") {
			t.Errorf("got:\n%s", out)
		}
	})
}
