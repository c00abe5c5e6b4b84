// Command ipvsctl is the modern front end of the IPVS tools: declarative
// apply/diff/restore with scopes and rollback, machine-readable output,
// network namespaces, connection and statistics tooling.
package main

import (
	"os"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/root"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
)

// version is set with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ios := iostreams.System()
	f := factory.New(version, ios)
	code := cmdutil.Execute(root.NewCmdRoot(f), os.Args[1:], ios.Out, ios.ErrOut)
	f.Close()
	os.Exit(code)
}
