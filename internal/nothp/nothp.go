// Package nothp turns transparent huge pages off for the process as the
// first thing its package initialisation does; a program imports it for
// that effect alone.
//
// On kernels set to THP "always" (Debian's default) the kernel backs any
// 2 MB-aligned stretch of anonymous memory with a huge page at its first
// touch, zeroing all of it: a short-lived Go program with a 3 MB heap then
// shows 2 to 4 MB more resident memory than it uses, and in emulated VMs
// pays for the zeroing in time. PR_SET_THP_DISABLE applies to every later
// page fault of the process and its children. Memory the Go runtime
// touched before package initialisation keeps its huge pages; only
// GODEBUG=disablethp=1 in the environment reaches that far.
package nothp

import "syscall"

// prSetTHPDisable is PR_SET_THP_DISABLE from linux/prctl.h.
const prSetTHPDisable = 41

func init() {
	syscall.RawSyscall6(syscall.SYS_PRCTL, prSetTHPDisable, 1, 0, 0, 0, 0)
}
