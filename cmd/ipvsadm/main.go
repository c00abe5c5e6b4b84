// Command ipvsadm is a byte-for-byte compatible rewrite of ipvsadm 1.31
// (as shipped by Debian 12): same grammar, same output on stdout and
// stderr, same exit statuses. See COMPATIBILITY.md at the repository root
// for the few deliberate deviations.
//
// Called as ipvsadm-save or ipvsadm-restore (multi-call, by the base name
// of argv[0]) it does what the package's scripts of those names do; see
// multicall.go.
//
// The directive below stops the Go runtime from re-checking the CPU limit
// in the background: ipvsadm runs for milliseconds.
//
//go:debug updatemaxprocs=0
package main

import "os"

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
