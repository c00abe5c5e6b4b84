package healthcheck

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// waitDelay bounds the wait for a command's output after it ended (a
// child that left the process group may hold it open), and for a killed
// command to end.
const waitDelay = 500 * time.Millisecond

// exec runs the check's command and decides on its exit status (and, with
// DynamicWeight, its output); it returns the weight asked for, or -1.
//
// The command runs in its own process group, killed whole at the timeout;
// whatever is left of the group when the command ends is killed too. Its
// output is read only with DynamicWeight, and then only its last 64 KiB
// are kept.
func (p *prober) exec() (int, error) {
	c := p.c
	if len(c.Command) == 0 {
		return -1, &probeError{"no command", nil}
	}
	cmd := exec.CommandContext(p.ctx, c.Command[0], c.Command[1:]...)
	cmd.Env = append(slices.DeleteFunc(os.Environ(), notForChecks),
		"IPVS_SERVER_ADDRESS="+p.target.Addr().String(),
		"IPVS_SERVER_PORT="+strconv.Itoa(int(p.target.Port())))
	ownProcessGroup(cmd)
	cmd.WaitDelay = waitDelay
	// The output goes to a pipe of ours rather than one of exec's, so that
	// the wait for the command does not include its leftovers' output.
	var out tail
	var r, w *os.File
	if c.DynamicWeight {
		var err error
		if r, w, err = os.Pipe(); err != nil {
			return -1, &probeError{"cannot run the command: " + bare(err).Error(), err}
		}
		defer r.Close()
		cmd.Stdout = w
	}
	start := p.env.Start
	if start == nil {
		start = (*exec.Cmd).Start
	}
	err := start(cmd)
	if w != nil {
		w.Close()
	}
	if err != nil {
		return -1, p.startFail(err)
	}
	read := make(chan struct{})
	if r != nil {
		go func() { io.Copy(&out, r); close(read) }()
	} else {
		close(read)
	}
	err = cmd.Wait()
	killGroup(cmd)
	if r != nil {
		r.SetReadDeadline(time.Now().Add(waitDelay))
	}
	<-read
	status := 0
	var exit *exec.ExitError
	switch {
	case err == nil:
	case p.parent.Err() != nil:
		return -1, &probeError{"canceled", err}
	case p.ctx.Err() != nil:
		return -1, &probeError{fmt.Sprintf("killed after timeout %v", p.timeout), err}
	case errors.As(err, &exit):
		if status = exit.ExitCode(); status < 0 {
			return -1, &probeError{signaled(exit), err}
		}
	default:
		return -1, &probeError{bare(err).Error(), err}
	}

	if !c.DynamicWeight {
		if status != 0 {
			return -1, &probeError{fmt.Sprintf("exit status %d", status), err}
		}
		return -1, nil
	}
	weight := -1
	switch status {
	case 0:
	case 1:
		return -1, &probeError{"exit status 1", err}
	default:
		weight = status - 2
	}
	if w, ok := weightLine(out.b); ok {
		weight = w
	}
	return weight, nil
}

// startFail words a failure to start the command: "/bin/x: no such file
// or directory", "x: executable file not found in $PATH".
func (p *prober) startFail(err error) error {
	if p.parent.Err() != nil {
		return &probeError{"canceled", err}
	}
	if p.ctx.Err() != nil {
		return &probeError{fmt.Sprintf("timed out after %v", p.timeout), err}
	}
	var ee *exec.Error
	var pe *fs.PathError
	switch {
	case errors.As(err, &ee):
		return &probeError{fmt.Sprintf("cannot run %s: %v", ee.Name, ee.Err), err}
	case errors.As(err, &pe):
		return &probeError{fmt.Sprintf("cannot run %s: %v", pe.Path, pe.Err), err}
	}
	return &probeError{"cannot run the command: " + err.Error(), err}
}

// weightLine reads "weight N" (0 <= N < 2^31) off the last non-empty line
// of out.
func weightLine(out []byte) (int, bool) {
	lines := strings.Split(strings.TrimRight(string(out), " \t\r\n"), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) != 2 || f[0] != "weight" {
		return 0, false
	}
	n, err := strconv.ParseInt(f[1], 10, 32)
	if err != nil || n < 0 {
		return 0, false
	}
	return int(n), true
}

// tail is a writer keeping the last maxRead bytes written to it.
type tail struct{ b []byte }

func (t *tail) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= maxRead {
		t.b = append(t.b[:0], p[len(p)-maxRead:]...)
		return n, nil
	}
	if over := len(t.b) + len(p) - maxRead; over > 0 {
		t.b = t.b[:copy(t.b, t.b[over:])]
	}
	t.b = append(t.b, p...)
	return n, nil
}

// notForChecks reports the variables a check command must not inherit:
// systemd's notification socket and watchdog belong to the agent.
func notForChecks(kv string) bool {
	return strings.HasPrefix(kv, "NOTIFY_SOCKET=") || strings.HasPrefix(kv, "WATCHDOG_")
}
