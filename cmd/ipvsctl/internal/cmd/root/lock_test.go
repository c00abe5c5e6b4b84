package root

import (
	"github.com/ipvs-tools/ipvs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
	"github.com/spf13/cobra"
)

// TestWritersTakeTheLock: every command that sends a write request takes
// the table lock first, before its first read too (its plan is made
// against a table no other writer changes); readers take none. Every
// command with a --wait flag is exercised here.
func TestWritersTakeTheLock(t *testing.T) {
	doc := filepath.Join(t.TempDir(), "doc.yaml")
	if err := os.WriteFile(doc, []byte("apiVersion: ipvsctl/v1\nservices:\n  - {fwmark: 9, destinations: [{address: 10.1.1.9}]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	writers := [][]string{
		{"apply", "-f", doc},
		{"restore", "-f", doc},
		{"flush"},
		{"flush", "--scope", "fwmark=7"},
		{"zero"},
		{"zero", "tcp:10.0.0.1:80"},
		{"service", "add", "tcp:10.0.0.9:80"},
		{"service", "edit", "tcp:10.0.0.1:80", "-s", "wrr"},
		{"service", "delete", "tcp:10.0.0.1:80"},
		{"dest", "add", "tcp:10.0.0.1:80", "192.168.0.9"},
		{"dest", "edit", "tcp:10.0.0.1:80", "192.168.0.1:8080", "-w", "7"},
		{"dest", "delete", "tcp:10.0.0.1:80", "192.168.0.1:8080"},
		{"dest", "drain", "tcp:10.0.0.1:80", "192.168.0.1:8080", "--timeout", "1ms"},
		{"timeout", "set", "--tcp", "100"},
		{"sync", "start", "master", "--interface", "lo"},
		{"sync", "stop", "all"},
	}
	readers := [][]string{
		{"list"}, {"save"}, {"diff", "-f", doc}, {"apply", "-f", doc, "--dry-run"}, {"stats"}, {"timeout", "get"},
	}
	withWait := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("wait") != nil && c.Name() != "agent" {
			withWait[c.CommandPath()] = true
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	ios, _, _, _ := iostreams.Test()
	walk(NewCmdRoot(factory.NewTest(ios, testutil.Sample())))

	for _, args := range append(writers, readers...) {
		name := strings.Join(args, " ")
		t.Run(name, func(t *testing.T) {
			fake := testutil.Sample()
			if args[0] == "sync" && args[1] == "stop" {
				if err := fake.NewDaemon(ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "lo", SyncID: 1}); err != nil {
					t.Fatal(err)
				}
				fake.ResetWrites()
			}
			ios, _, stdout, stderr := iostreams.Test()
			f := factory.NewTest(ios, fake)
			locks, readsBefore := 0, -1
			f.OnLock = func() {
				locks++
				if readsBefore < 0 {
					readsBefore = fake.Reads + len(fake.Writes)
				}
			}
			root := NewCmdRoot(f)
			code := cmdutil.Execute(root, args, stdout, stderr)
			if code != 0 && code != 2 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			cmd, _, _ := root.Find(args)
			delete(withWait, cmd.CommandPath())
			wrote := len(fake.Writes) > 0
			switch {
			case wrote && locks == 0:
				t.Errorf("sent %d write requests without taking the lock", len(fake.Writes))
			case wrote && readsBefore != 0:
				t.Errorf("%d requests were sent before the lock was taken", readsBefore)
			case !wrote && locks != 0 && cmd.Flags().Lookup("wait") == nil:
				t.Errorf("a reader took the lock")
			}
			if contains(writers, args) && !wrote {
				t.Errorf("this writer wrote nothing: the case tests nothing")
			}
		})
	}
	for c := range withWait {
		t.Errorf("%s has --wait but no case here", c)
	}
}

func contains(list [][]string, args []string) bool {
	for _, l := range list {
		if strings.Join(l, "\x00") == strings.Join(args, "\x00") {
			return true
		}
	}
	return false
}
