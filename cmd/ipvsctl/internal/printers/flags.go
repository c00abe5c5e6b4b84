package printers

import (
	"slices"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/spf13/cobra"
)

// FormatsAnnotation is the annotation of the -o flag that lists the
// command's formats, the default first (for tests and documentation).
const FormatsAnnotation = "ipvsctl_formats"

// value is *Format as a pflag.Value.
type value Format

func (v *value) String() string { return string(*v) }

func (v *value) Set(s string) error {
	*v = value(s)
	return nil
}

func (v *value) Type() string { return "format" }

// AddFlags gives cmd the -o/--output flag, storing the format in out.
// formats are the formats the command prints, its default first; the
// flag's help lists them, the shell completes them, and before the
// command runs (PreRunE) any other value is refused with a usage error
// that names them. The table format is named "table" even where the
// human output is not a table.
func AddFlags(cmd *cobra.Command, out *Format, formats ...Format) {
	*out = formats[0]
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = string(f)
	}
	fs := cmd.Flags()
	fs.VarP((*value)(out), "output", "o", "print in `FORMAT`: "+list(formats))
	fs.Lookup("output").DefValue = string(formats[0])
	_ = fs.SetAnnotation("output", FormatsAnnotation, names)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(names, cobra.ShellCompDirectiveNoFileComp))
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		if err := Check(*out, c.CommandPath(), formats...); err != nil {
			return err
		}
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
}

// Check returns a usage error unless f is one of allowed; what names the
// command (or mode) in the message: "-o xml: ipvsctl list prints table,
// json or yaml".
func Check(f Format, what string, allowed ...Format) error {
	if slices.Contains(allowed, f) {
		return nil
	}
	return cmdutil.FlagErrorf("-o %s: %s prints %s", f, what, list(allowed))
}

// Formats returns the formats of cmd's -o flag, the default first; nil if
// it has none.
func Formats(cmd *cobra.Command) []Format {
	fl := cmd.Flags().Lookup("output")
	if fl == nil {
		return nil
	}
	var out []Format
	for _, s := range fl.Annotations[FormatsAnnotation] {
		out = append(out, Format(s))
	}
	return out
}
