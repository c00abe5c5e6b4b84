// Package completion implements ipvsctl completion.
package completion

import (
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/spf13/cobra"
)

// Options of completion.
type Options struct {
	Shell string
	Root  *cobra.Command
	Out   interface{ Write([]byte) (int, error) }
}

// NewCmdCompletion returns the completion command.
func NewCmdCompletion(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Out: f.IOStreams.Out}
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print a shell completion script",
		Long: `Print a completion script for bash, zsh or fish. For example:

  ipvsctl completion bash > /etc/bash_completion.d/ipvsctl
  ipvsctl completion zsh > "${fpath[1]}/_ipvsctl"
  ipvsctl completion fish > ~/.config/fish/completions/ipvsctl.fish`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"bash", "zsh", "fish"},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Shell = args[0]
			opts.Root = cmd.Root()
			return cmdutil.Run(opts, runF, Run)
		},
	}
	return cmd
}

// Run writes the script.
func Run(o *Options) error {
	switch o.Shell {
	case "bash":
		return o.Root.GenBashCompletionV2(o.Out, true)
	case "zsh":
		return o.Root.GenZshCompletion(o.Out)
	case "fish":
		return o.Root.GenFishCompletion(o.Out, true)
	}
	return cmdutil.FlagErrorf("unknown shell %q (want bash, zsh or fish)", o.Shell)
}
