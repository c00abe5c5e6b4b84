package fleet

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fleet"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/printers"
	"github.com/spf13/cobra"
)

var _ = printers.Register[fleet.FleetStatus](fleet.KindFleetStatus)

// StatusOptions of ipvsctl fleet status.
type StatusOptions struct {
	Common
	Output printers.Format
}

// NewCmdStatus returns fleet status.
func NewCmdStatus(f *factory.Factory, store *StoreFlags, runF func(*StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{Common: newCommon(f, store)}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every director: its document, the revision it applied, unhealthy servers, its last report",
		Long: `Read the fleet from etcd and show every director that registered: the
document addressed to it (WANT is that document's revision), the revision
it applied, its state, its unhealthy servers and the age of its last
report. A director whose reports stopped (its agent stopped, or it cannot
reach etcd) is stale. Problems (refused documents, kernel errors, two
selectors matching one director) are listed below the table.

The exit status is 0 whenever etcd could be read, stale directors or not;
1 when it could not.`,
		Example: `  ipvsctl fleet --etcd http://10.0.0.5:2379 status
  ipvsctl fleet --etcd http://10.0.0.5:2379 status -o json | jq '.directors[] | select(.inSync | not)'`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return cmdutil.Run(opts, runF, RunStatus)
		},
	}
	printers.AddFlags(cmd, &opts.Output, printers.Table, printers.JSON, printers.YAML)
	return cmd
}

// RunStatus reads and prints the fleet's status.
func RunStatus(o *StatusOptions) error {
	c, l, snap, err := o.open()
	if err != nil {
		return err
	}
	defer c.Close()
	st := snap.Status(o.Now())
	return o.Output.Print(o.IO.Out, st, func(w io.Writer) error { return writeStatus(w, l, snap, st) })
}

// writeStatus prints the table and, below it, one line per problem.
func writeStatus(w io.Writer, l fleet.Layout, snap *fleet.Snapshot, st *fleet.FleetStatus) error {
	if len(st.Directors) == 0 {
		fmt.Fprintf(w, "No director has registered under %s yet (start ipvsctl agent --etcd URLS --prefix %s --name NAME).\n", l.Prefix, l.Prefix)
		writeDocuments(w, snap)
		return nil
	}
	inSync, stale := 0, 0
	for _, r := range st.Directors {
		if r.InSync {
			inSync++
		}
		if r.State == fleet.StateStale {
			stale++
		}
	}
	fmt.Fprintf(w, "Store revision %d, prefix %s: %d director%s, %d in sync, %d stale\n",
		st.Revision, l.Prefix, len(st.Directors), cmdutil.Plural(len(st.Directors)), inSync, stale)
	t := cmdutil.NewTable(w, "DIRECTOR", "LABELS", "DOCUMENT", "WANT", "APPLIED", "STATE", "UNHEALTHY", "LAST REPORT")
	for _, r := range st.Directors {
		t.Row(r.Name, dash(fleet.FormatLabels(r.Labels)), dash(r.Document), revision(r.WantRevision), revision(r.Revision),
			state(r), unhealthy(r.Unhealthy), age(r.LastReportSeconds))
	}
	if err := t.Render(); err != nil {
		return err
	}
	for _, r := range st.Directors {
		for _, p := range problems(r) {
			fmt.Fprintf(w, "%s: %s\n", r.Name, p)
		}
	}
	for _, k := range snap.Bad {
		fmt.Fprintf(w, "%s: unreadable (not a document key, or a value that is not a status); delete it or fix it\n", k)
	}
	return nil
}

// writeDocuments lists the documents when no director is known.
func writeDocuments(w io.Writer, snap *fleet.Snapshot) {
	for _, d := range sortedDocs(snap.Documents) {
		fmt.Fprintf(w, "%s: revision %d\n", docName(d), d.Revision)
	}
}

// state is the STATE column: the director's own, but "behind" for one
// that says in-sync about an older document than the store addresses to
// it.
func state(r fleet.DirectorRow) string {
	if r.State == fleet.StateInSync && !r.InSync {
		return "behind"
	}
	return r.State
}

// problems lists what is wrong with a director, for the lines below the
// table.
func problems(r fleet.DirectorRow) []string {
	var out []string
	if r.Problem != "" {
		out = append(out, r.Problem)
	}
	if rj := r.Rejected; rj != nil {
		out = append(out, fmt.Sprintf("refused %s revision %d: %s", rj.Document, rj.Revision, strings.ReplaceAll(rj.Error, "\n", "; ")))
	}
	if r.LastError != "" {
		out = append(out, "last error: "+r.LastError)
	}
	if sd := r.SyncDaemons; sd != nil && sd.Error != "" {
		out = append(out, fmt.Sprintf("sync daemons of revision %d: %s", sd.Revision, strings.ReplaceAll(sd.Error, "\n", "; ")))
	}
	switch {
	case r.State == fleet.StateStale && r.LastReportSeconds < 0:
		out = append(out, "registered, but no status in the store: its agent stopped or cannot reach etcd")
	case r.State == fleet.StateStale:
		out = append(out, fmt.Sprintf("no report for %s: its agent stopped or cannot reach etcd (it keeps its table meanwhile)", ago(r.LastReportSeconds)))
	case r.State == fleet.StateInSync && !r.InSync:
		out = append(out, fmt.Sprintf("applied revision %d; the store has revision %d of %s for it (not seen yet)", r.Revision, r.WantRevision, r.Document))
	}
	if len(r.Unhealthy) > 0 {
		var s []string
		for _, u := range r.Unhealthy {
			s = append(s, unhealthyText(u))
		}
		out = append(out, "unhealthy: "+strings.Join(s, "; "))
	}
	return out
}

// maxListed is the number of unhealthy servers the table names; more
// show as a count. All are listed below the table with their errors.
const maxListed = 2

func unhealthy(us []fleet.Unhealthy) string {
	if len(us) == 0 {
		return "0"
	}
	if len(us) > maxListed {
		return fmt.Sprint(len(us))
	}
	var s []string
	for _, u := range us {
		s = append(s, u.Server)
	}
	return strings.Join(s, ",")
}

func unhealthyText(u fleet.Unhealthy) string {
	s := u.Server + " of " + u.Service
	if u.Error != "" {
		s += " (" + u.Error + ")"
	}
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func revision(r int64) string {
	if r == 0 {
		return "-"
	}
	return fmt.Sprint(r)
}

// age is the LAST REPORT column.
func age(sec float64) string {
	if sec < 0 {
		return "never"
	}
	return ago(sec) + " ago"
}

// ago writes seconds as 4s, 3m12s, 2h5m, 3d4h.
func ago(sec float64) string {
	d := time.Duration(sec) * time.Second
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}
