// Package version implements ipvsctl version.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/spf13/cobra"
)

// Options of version.
type Options struct {
	IO      *iostreams.IOStreams
	Version string
	Kernel  bool
	// Info fetches the kernel's IPVS version (only with --kernel).
	Info func() (string, error)
}

// NewCmdVersion returns the version command. It prints the program's
// version without touching the kernel, so it works without root and
// without the ip_vs module; --kernel adds the kernel's IPVS version.
func NewCmdVersion(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Version: f.Version}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version (no root or ip_vs module needed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Info = func() (string, error) {
				b, err := f.IPVS()
				if err != nil {
					return "", err
				}
				i, err := b.Info()
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("IP Virtual Server version %s (size=%d)", i.Version, i.ConnTableSize), nil
			}
			return cmdutil.Run(opts, runF, Run)
		},
	}
	cmd.Flags().BoolVar(&opts.Kernel, "kernel", false, "also ask the kernel for its IPVS version (needs root)")
	return cmd
}

// Run prints the version.
func Run(o *Options) error {
	v := o.Version
	if v == "" || v == "dev" {
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		} else if v == "" {
			v = "dev"
		}
	}
	fmt.Fprintf(o.IO.Out, "ipvsctl %s (%s, %s/%s)\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if o.Kernel {
		s, err := o.Info()
		if err != nil {
			return err
		}
		fmt.Fprintln(o.IO.Out, s)
	}
	return nil
}
