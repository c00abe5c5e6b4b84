//go:build !linux

package healthcheck

import "os/exec"

// ownProcessGroup leaves cmd as it is: off Linux only the command itself
// is killed when the probe's context ends.
func ownProcessGroup(cmd *exec.Cmd) {}

// killGroup does nothing: off Linux the command has no group of its own.
func killGroup(cmd *exec.Cmd) {}

// signaled words the exit of a command killed by a signal.
func signaled(exit *exec.ExitError) string { return exit.String() }
