package main

import "golang.org/x/sys/unix"

// Transparent huge pages: on kernels set to THP "always" (the test VM's
// Debian kernel), the kernel backs the Go heap with 2 MB pages that it
// must zero on first touch: "ipvsadm -v" reached 4.5 MB of RSS and took
// 6 times as long in the emulated VM. ipvsadm's heap is small and short
// lived, so it asks for normal pages before the heap grows.
func init() {
	unix.Prctl(unix.PR_SET_THP_DISABLE, 1, 0, 0, 0)
}
