// Command ipvsadm is a byte-for-byte compatible rewrite of ipvsadm 1.31
// (as shipped by Debian 12): same grammar, same output on stdout and
// stderr, same exit statuses. See COMPATIBILITY.md at the repository root
// for the few deliberate deviations.
package main

import "os"

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
