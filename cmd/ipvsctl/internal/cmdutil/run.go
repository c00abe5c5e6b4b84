package cmdutil

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Run does a command's work with opts, the options its flags and
// arguments filled in: with runF, the stand-in a test gave the command's
// constructor (NewCmdX(f, runF)), when there is one, else with run.
func Run[O any](opts O, runF, run func(O) error) error {
	if runF != nil {
		return runF(opts)
	}
	return run(opts)
}

// NewGroup returns cmd, a command that only groups others and runs
// nothing itself (cobra shows its help), with subs as its subcommands.
func NewGroup(cmd *cobra.Command, subs ...*cobra.Command) *cobra.Command {
	cmd.AddCommand(subs...)
	return cmd
}

// FlagsGiven returns the names of the flags given on cmd's command line
// (for edit commands, which change only those).
func FlagsGiven(cmd *cobra.Command) map[string]bool {
	set := map[string]bool{}
	cmd.Flags().Visit(func(fl *pflag.Flag) { set[fl.Name] = true })
	return set
}
