package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
)

// measureHWM runs cmd to completion under ptrace and returns its VmHWM in
// KiB, read from /proc/PID/status when the process stops at its exit
// (PTRACE_O_TRACEEXIT), its memory still mapped.
//
// ru_maxrss from wait4 cannot be used for small programs: os/exec starts
// children with vfork (CLONE_VM), and Linux records the parent's memory
// high-water mark into the child's maxrss when the child execs, so every
// child reports at least this process's own RSS (about 4.3 MB here).
func measureHWM(cmd *exec.Cmd) (int64, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Ptrace = true
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	pid := cmd.Process.Pid
	var ws syscall.WaitStatus
	// The child stops with SIGTRAP after its exec.
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
		return 0, err
	}
	const traceExit = 0x40 // PTRACE_O_TRACEEXIT
	if err := syscall.PtraceSetOptions(pid, traceExit); err != nil {
		return 0, err
	}
	hwm := int64(-1)
	sig := 0
	for {
		if err := syscall.PtraceCont(pid, sig); err != nil {
			return 0, err
		}
		if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
			return 0, err
		}
		if ws.Exited() || ws.Signaled() {
			break
		}
		sig = 0
		if ws.Stopped() {
			if ws.StopSignal() == syscall.SIGTRAP && ws.TrapCause() == 6 { // PTRACE_EVENT_EXIT
				hwm = readHWM(pid)
			} else if ws.StopSignal() != syscall.SIGTRAP {
				sig = int(ws.StopSignal())
			}
		}
	}
	// Let os/exec finish its bookkeeping (the process is already reaped,
	// so Wait reports an error we ignore; copy goroutines end).
	cmd.Wait()
	if !ws.Exited() || ws.ExitStatus() != 0 {
		return hwm, fmt.Errorf("exit status %v", ws)
	}
	if hwm < 0 {
		return 0, fmt.Errorf("no exit stop seen")
	}
	return hwm, nil
}

func readHWM(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1
	}
	i := bytes.Index(b, []byte("VmHWM:"))
	if i < 0 {
		return -1
	}
	f := bytes.Fields(b[i+len("VmHWM:"):])
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil {
		return -1
	}
	return v
}
