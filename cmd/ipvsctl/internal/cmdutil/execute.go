package cmdutil

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Execute runs the command tree with args and returns the exit status,
// printing errors to errOut as "ipvsctl: message".
func Execute(root *cobra.Command, args []string, out, errOut io.Writer) int {
	root.SetArgs(args)
	root.SetOut(out)
	root.SetErr(errOut)
	cmd, err := root.ExecuteC()
	if err == nil {
		return 0
	}
	err = optionBeforeCommand(root, cmd, args, err)
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(errOut, "%s: %v\n", root.Name(), ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintf(errOut, "%s: %v\n", root.Name(), err)
	var fe *FlagError
	if errors.As(err, &fe) || isCobraUsage(err) {
		if cmd != nil {
			fmt.Fprintf(errOut, "Usage: %s\nRun '%s --help' for more.\n", cmd.UseLine(), cmd.CommandPath())
		}
	}
	return 1
}

// optionBeforeCommand returns the error of the first option root does not
// know in a line that starts with options, where cobra names a command:
// in "ipvsctl -A -t 10.0.0.1:80" cobra takes -t for -A's value and
// complains of the command "10.0.0.1:80", but -A is what is wrong (and
// root's flag error function may know what it means). Otherwise it
// returns err.
func optionBeforeCommand(root, cmd *cobra.Command, args []string, err error) error {
	if cmd != root || len(args) == 0 || !strings.HasPrefix(args[0], "-") || !strings.HasPrefix(err.Error(), "unknown command ") {
		return err
	}
	if ferr := root.ParseFlags(args); ferr != nil {
		return root.FlagErrorFunc()(root, ferr)
	}
	return err
}

func isCobraUsage(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "unknown flag", "unknown shorthand", "flag needs", "invalid argument", "if any flags in the group"} {
		if len(s) >= len(p) && contains(s, p) {
			return true
		}
	}
	return false
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
