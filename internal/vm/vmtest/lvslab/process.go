package lvslab

import (
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"
)

// process is a started command whose end a goroutine waits for.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // cmd.Wait's, once done is closed
}

func startProcess(cmd *exec.Cmd) (*process, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// pid returns the process's PID.
func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig and waits up to grace for the process to end, then
// kills it and waits for that. It returns an error if the process did
// not end on sig within grace; how it ended is p.err.
func (p *process) stop(sig syscall.Signal, grace time.Duration) error {
	if !p.exited() {
		p.cmd.Process.Signal(sig)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	p.cmd.Process.Kill()
	select {
	case <-p.done:
		return fmt.Errorf("did not end within %v of %v, killed", grace, sig)
	case <-time.After(10 * time.Second):
		return errors.New("did not end even after SIGKILL")
	}
}

// alive reports whether process pid exists (as anything but a zombie).
func alive(pid int) bool {
	st, err := readStat(pid)
	return err == nil && st.state != 'Z'
}
