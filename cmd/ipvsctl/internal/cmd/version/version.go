// Package version implements ipvsctl version.
package version

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/printers"
	"github.com/spf13/cobra"
)

// Options of version.
type Options struct {
	IO      *iostreams.IOStreams
	Version string
	Kernel  bool
	Output  printers.Format
	// Info fetches the kernel's IPVS version (only with --kernel).
	Info func() (string, error)
	// Build reads the build information (default debug.ReadBuildInfo).
	Build func() (*debug.BuildInfo, bool)
}

// Output is ipvsctl version -o json: the program's version, the build's
// source revision, and with --kernel the kernel's IPVS.
type Output struct {
	printers.TypeMeta `json:",inline" yaml:",inline"`
	// Version is the release ("1.5.0") or the module version; "dev" for
	// a build from a work tree.
	Version   string `json:"version" yaml:"version"`
	GoVersion string `json:"goVersion" yaml:"goVersion"`
	Platform  string `json:"platform" yaml:"platform"`
	// Revision, Time and Modified are the VCS commit built, its time and
	// whether the work tree had changes (empty when the build has no VCS
	// information, as with go install of a module).
	Revision string `json:"revision,omitempty" yaml:"revision,omitempty"`
	Time     string `json:"time,omitempty" yaml:"time,omitempty"`
	Modified bool   `json:"modified,omitempty" yaml:"modified,omitempty"`
	// Kernel is the kernel's IPVS version (--kernel).
	Kernel string `json:"kernel,omitempty" yaml:"kernel,omitempty"`
}

var _ = printers.Register[Output]("Version")

// NewCmdVersion returns the version command. It prints the program's
// version without touching the kernel, so it works without root and
// without the ip_vs module; --kernel adds the kernel's IPVS version.
func NewCmdVersion(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Version: f.Version}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version and the source revision built (no root or ip_vs module needed)",
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
	printers.AddFlags(cmd, &opts.Output, printers.Table, printers.JSON, printers.YAML)
	return cmd
}

// Run prints the version.
func Run(o *Options) error {
	read := o.Build
	if read == nil {
		read = debug.ReadBuildInfo
	}
	out := Output{Version: o.Version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	out.APIVersion, out.Kind = printers.APIVersion, "Version"
	bi, ok := read()
	if out.Version == "" || out.Version == "dev" {
		if ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			out.Version = bi.Main.Version
		} else if out.Version == "" {
			out.Version = "dev"
		}
	}
	if ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				out.Revision = s.Value
			case "vcs.time":
				out.Time = s.Value
			case "vcs.modified":
				out.Modified = s.Value == "true"
			}
		}
	}
	if o.Kernel {
		s, err := o.Info()
		if err != nil {
			return err
		}
		out.Kernel = s
	}
	return o.Output.Print(o.IO.Out, &out, func(w io.Writer) error {
		fmt.Fprintf(w, "ipvsctl %s (%s, %s)\n", out.Version, out.GoVersion, out.Platform)
		if out.Revision != "" {
			mod := ""
			if out.Modified {
				mod = ", with uncommitted changes"
			}
			fmt.Fprintf(w, "built from revision %s of %s%s\n", out.Revision, out.Time, mod)
		}
		if out.Kernel != "" {
			fmt.Fprintln(w, out.Kernel)
		}
		return nil
	})
}
