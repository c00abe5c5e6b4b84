// Package convert implements ipvsctl convert, which turns a keepalived.conf
// or an ldirectord.cf into an ipvsctl/v1 document.
package convert

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	conv "github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/convert"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/printers"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/spf13/cobra"
)

// Options of convert.
type Options struct {
	IO *iostreams.IOStreams
	// File is the configuration, "-" for standard input.
	File string
	// From is the format of File; empty: detect it from the content.
	From   conv.Source
	Output printers.Format
}

// NewCmdConvert returns convert. It reads files only: no kernel, no root.
func NewCmdConvert(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams}
	var from string
	cmd := &cobra.Command{
		Use:   "convert FILE",
		Short: "Convert a keepalived.conf or ldirectord.cf to an ipvsctl/v1 document",
		Long: `Read the virtual servers of a keepalived.conf (virtual_server blocks, with
include files) or an ldirectord.cf (virtual= sections) and print them as an
ipvsctl/v1 document: services, real servers, and the health checks,
failure action, sorry server and quorum that ipvsctl agent reads.

The format is told by content (virtual_server blocks or virtual= lines)
unless --from names it; "-" reads standard input. Every setting that is
dropped or behaves differently is reported on standard error as
FILE:LINE: warning: ...; the document printed always validates. VRRP is
not converted: keep keepalived for VRRP only and let ipvsctl agent manage
the IPVS table. docs/migrating.md lists the mapping.

Nothing is applied and the kernel is not read. Exit status: 0 a document was
printed (perhaps with warnings), 1 the file could not be read or nothing in
it could be converted.`,
		Example: `  ipvsctl convert /etc/keepalived/keepalived.conf > lb.yaml
  ipvsctl convert --from ldirectord /etc/ha.d/ldirectord.cf -o json
  ipvsctl convert keepalived.conf > lb.yaml && ipvsctl diff -f lb.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			src, err := conv.ParseSource(from)
			if err != nil {
				return cmdutil.FlagErrorf("--from: %v", err)
			}
			opts.File, opts.From = args[0], src
			return cmdutil.Run(opts, runF, Run)
		},
	}
	printers.AddFlags(cmd, &opts.Output, printers.YAML, printers.JSON)
	names := make([]string, len(conv.Sources))
	for i, s := range conv.Sources {
		names[i] = string(s)
	}
	cmd.Flags().StringVar(&from, "from", "", "the `FORMAT` of FILE: "+strings.Join(names, " or ")+" (default: from the content)")
	_ = cmd.RegisterFlagCompletionFunc("from", cobra.FixedCompletions(names, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Run converts the file and prints the document.
func Run(o *Options) error {
	name := o.File
	var data []byte
	var err error
	if name == "-" {
		name = "<stdin>"
		data, err = io.ReadAll(o.IO.In)
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once, below ("open" is Go's)
		}
		return fmt.Errorf("read %s: %w", name, err)
	}
	res, err := conv.Convert(name, data, o.From)
	if err != nil {
		var ce *conv.Error
		if errors.As(err, &ce) {
			return &cmdutil.ExitError{Code: 1, Err: fmt.Errorf("convert: %w; nothing written", err)}
		}
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(o.IO.ErrOut, w)
	}
	doc := res.Document
	if len(doc.Services) == 0 {
		what := "virtual_server block"
		if res.From == conv.Ldirectord {
			what = "virtual section"
		}
		return &cmdutil.ExitError{Code: 1, Err: fmt.Errorf("convert %s: no %s could be converted; nothing written", name, what)}
	}
	// The converter leaves out whatever the document model refuses; this
	// is the check that it did.
	if _, err := doc.Desired(); err != nil {
		return fmt.Errorf("internal error: the document converted from %s does not validate: %w", name, err)
	}
	format := ipvsconfig.FormatYAML
	if o.Output == printers.JSON {
		format = ipvsconfig.FormatJSON
	}
	b, err := ipvsconfig.Marshal(doc, format)
	if err != nil {
		return err
	}
	if _, err := o.IO.Out.Write(b); err != nil {
		return err
	}
	n := 0
	for _, w := range res.Warnings {
		if !w.Note {
			n++
		}
	}
	if n > 0 {
		dests := 0
		for _, s := range doc.Services {
			dests += len(s.Destinations)
		}
		fmt.Fprintf(o.IO.ErrOut, "convert: %d service%s with %d real server%s from %s (%s); %d warning%s above\n",
			len(doc.Services), cmdutil.Plural(len(doc.Services)), dests, cmdutil.Plural(dests), name, res.From, n, cmdutil.Plural(n))
	}
	return nil
}
