package main

// Transparent huge pages: on kernels set to THP "always" (the test VM's
// Debian kernel, Debian's default), the kernel backs the Go heap with 2 MB
// pages that it must zero on first touch: "ipvsadm -v" reached 4.5 MB of
// RSS and took 6 times as long in the emulated VM. ipvsadm's heap is small
// and short lived, so it asks for normal pages as early as a Go program
// can: package nothp is initialised before any package that allocates
// much (see its documentation).
import _ "github.com/ipvs-tools/ipvs/internal/nothp"
