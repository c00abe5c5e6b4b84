// Package doctor implements ipvsctl doctor, the preflight of a director.
package doctor

import (
	"fmt"
	"io"
	"strings"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmd/apply"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/doctor"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/printers"
	"github.com/spf13/cobra"
)

// Options of ipvsctl doctor.
type Options struct {
	factory.Common
	// Files are the documents to check with the live table.
	Files []string
	// NetNS is the namespace (--netns), for the suggested commands.
	NetNS string
	// Host reads the director; Probe tries schedulers.
	Host   func() doctor.Host
	Probe  cmdutil.ProbeFunc
	Output printers.Format
}

// NewCmdDoctor returns ipvsctl doctor.
func NewCmdDoctor(f *factory.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Common: f.Common(), Host: f.Host, Probe: f.Probe}
	cmd := &cobra.Command{
		Use:   "doctor [-f FILE]...",
		Short: "Check that this director can carry its services, and say what to fix",
		Long: `Check the director against its live table, and against the documents given
with -f before they are applied:

  vip-local       each service's VIP is an address of this director (or in a
                  local route), as IPVS sees only packets addressed to it;
                  firewall-mark services take their marks from the firewall
  ip-forward      net.ipv4.ip_forward (net.ipv6.conf.all.forwarding) is on
                  when real servers use NAT: their replies are forwarded
  conntrack       net.ipv4.vs.conntrack with NAT: when it is needed, and
                  whether the conntrack table has room
  rp-filter       strict reverse-path filtering on the interfaces, which
                  drops packets of asymmetric routes
  scheduler       the documents' schedulers exist in this kernel (tried in a
                  scratch namespace)
  sync-interface  each sync daemon's interface exists, is up and multicast
  conn-reuse      what conn_reuse_mode and expire_nodest_conn trade on this
                  kernel

Each finding is ok, info, warning or problem, names its object and says
what to run next. Exit status: 1 when a problem is found (or the check
could not start), 0 otherwise: warnings and notes do not count.`,
		Example: `  ipvsctl doctor
  ipvsctl doctor -f /etc/ipvsctl/lb.yaml
  ipvsctl --netns lb doctor -o json | jq '.findings[] | select(.severity == "problem")'`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			opts.NetNS = f.Options.NetNS
			return cmdutil.Run(opts, runF, Run)
		},
	}
	printers.AddFlags(cmd, &opts.Output, printers.Table, printers.JSON, printers.YAML)
	cmd.Flags().StringArrayVarP(&opts.Files, "filename", "f", nil, "also check the document `FILE` before it is applied (repeatable; - for standard input)")
	_ = cmd.MarkFlagFilename("filename", "json", "yaml", "yml", "rules")
	return cmd
}

// Report is the JSON/YAML form of ipvsctl doctor.
type Report struct {
	printers.TypeMeta `json:",inline" yaml:",inline"`
	// Kernel is the kernel's release (uname -r).
	Kernel string `json:"kernel" yaml:"kernel"`
	// Documents are the documents checked with the live table.
	Documents []string `json:"documents" yaml:"documents"`
	// Findings are the results, check by check.
	Findings []doctor.Finding `json:"findings" yaml:"findings"`
	// Summary counts the findings by severity.
	Summary Summary `json:"summary" yaml:"summary"`
}

// Summary counts findings by severity.
type Summary struct {
	OK      int `json:"ok" yaml:"ok"`
	Info    int `json:"info" yaml:"info"`
	Warning int `json:"warning" yaml:"warning"`
	Problem int `json:"problem" yaml:"problem"`
}

var _ = printers.Register[Report]("DoctorReport")

// Run reads the documents, the table and the daemons, runs the checks
// and prints the report; a problem makes the exit status 1.
func Run(o *Options) error {
	in := doctor.Input{NetNS: o.NetNS}
	rep := Report{Documents: []string{}, Findings: []doctor.Finding{}}
	for _, file := range o.Files {
		want, err := apply.LoadDesired(file, "", o.IO.In, o.IO.ErrOut, nil, "nothing was checked")
		if err != nil {
			return err
		}
		name := file
		if file == "-" {
			name = "<stdin>"
		}
		in.Documents = append(in.Documents, doctor.Document{Name: name, Desired: want})
		rep.Documents = append(rep.Documents, name)
	}
	b, err := o.IPVS()
	if err != nil {
		return err
	}
	if in.Table, err = b.Table(); err != nil {
		return cmdutil.Explain(cmdutil.Context{Op: "read the IPVS table"}, err)
	}
	if in.Daemons, err = b.Daemons(); err != nil {
		return cmdutil.Explain(cmdutil.Context{Op: "list sync daemons"}, err)
	}
	h := o.Host()
	rep.Kernel = h.Kernel()
	rep.Findings = append(rep.Findings, doctor.Run(in, h, doctor.ProbeFunc(o.Probe))...)
	rep.Summary = Summary{OK: doctor.Count(rep.Findings, doctor.OK), Info: doctor.Count(rep.Findings, doctor.Info),
		Warning: doctor.Count(rep.Findings, doctor.Warning), Problem: doctor.Count(rep.Findings, doctor.Problem)}
	if err := o.Output.Print(o.IO.Out, &rep, func(w io.Writer) error { return write(w, &rep) }); err != nil {
		return err
	}
	if rep.Summary.Problem > 0 {
		return &cmdutil.ExitError{Code: 1} // the problems are printed
	}
	return nil
}

// write prints one line per finding under the title of its check, then a
// summary line.
func write(w io.Writer, rep *Report) error {
	what := "the live table"
	if len(rep.Documents) > 0 {
		what += " and " + strings.Join(rep.Documents, ", ")
	}
	fmt.Fprintf(w, "Checked %s on kernel %s.\n", what, rep.Kernel)
	for _, c := range doctor.Checks {
		first := true
		for _, f := range rep.Findings {
			if f.Check != c.ID {
				continue
			}
			if first {
				fmt.Fprintf(w, "\n%s (%s):\n", c.Title, c.ID)
				first = false
			}
			line := fmt.Sprintf("  %-7s  %s: %s", f.Severity, f.Object, f.Message)
			if f.Action != "" {
				line += "; run: " + f.Action
			}
			fmt.Fprintln(w, line)
		}
	}
	s := rep.Summary
	counts := fmt.Sprintf("%d problem%s, %d warning%s, %d note%s, %d passed",
		s.Problem, cmdutil.Plural(s.Problem), s.Warning, cmdutil.Plural(s.Warning), s.Info, cmdutil.Plural(s.Info), s.OK)
	if s.Problem > 0 {
		_, err := fmt.Fprintf(w, "\n%s: fix the problems above (exit status 1).\n", counts)
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s: this director has no problem doctor can see.\n", counts)
	return err
}
