package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/agent"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/factory"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/fleet"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/iostreams"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/printers"
	"github.com/spf13/cobra"
)

// StatusOutput is /status and ipvsctl agent status -o json: kind
// AgentStatus.
type StatusOutput struct {
	printers.TypeMeta `json:",inline" yaml:",inline"`
	agent.Status      `json:",inline" yaml:",inline"`
	// Fleet is the director's report to etcd (agent --etcd only).
	Fleet *fleet.DirectorStatus `json:"fleet,omitempty" yaml:"fleet,omitempty"`
}

var _ = printers.Register[StatusOutput]("AgentStatus")

// StatusOptions of ipvsctl agent status.
type StatusOptions struct {
	IO      *iostreams.IOStreams
	Listen  string
	Output  printers.Format
	Timeout time.Duration
	// Get fetches a URL (tests replace it).
	Get func(ctx context.Context, url string) (*http.Response, error)
}

// NewCmdStatus returns agent status.
func NewCmdStatus(f *factory.Factory, runF func(*StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{IO: f.IOStreams, Timeout: 5 * time.Second}
	cmd := &cobra.Command{
		Use:   "status --listen ADDR",
		Short: "Print a running agent's status: every checked server's health, last result and error",
		Long: `Ask the agent listening on ADDR (its --listen) for /status and print it:
the document and generation it applied, its counters, and every checked
server's health, weight in the table, last result and error.`,
		Example: `  ipvsctl agent status --listen 127.0.0.1:9444
  ipvsctl agent status --listen 127.0.0.1:9444 -o json | jq '.servers[] | select(.health != "up")'`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if opts.Listen == "" {
				return cmdutil.FlagErrorf("give the agent's address with --listen ADDR (the agent's own --listen)")
			}
			return cmdutil.Run(opts, runF, RunStatus)
		},
	}
	printers.AddFlags(cmd, &opts.Output, printers.Table, printers.JSON, printers.YAML)
	cmd.Flags().StringVar(&opts.Listen, "listen", "", "the agent's `ADDR` (host:port, as given to its --listen)")
	return cmd
}

// RunStatus fetches and prints the status.
func RunStatus(o *StatusOptions) error {
	get := o.Get
	if get == nil {
		get = func(ctx context.Context, url string) (*http.Response, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return nil, err
			}
			return http.DefaultClient.Do(req)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	defer cancel()
	addr := "http://" + o.Listen + "/status"
	resp, err := get(ctx, addr)
	if err != nil {
		return fmt.Errorf("no agent answers on %s: %v (is ipvsctl agent running with --listen %s?)", o.Listen, unwrapURL(err), o.Listen)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s answered %s: %s", addr, resp.Status, strings.TrimSpace(string(b)))
	}
	var st StatusOutput
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return fmt.Errorf("%s: not an agent status: %v", addr, err)
	}
	if st.Kind != "AgentStatus" {
		return fmt.Errorf("%s: not an agent status (kind %q)", addr, st.Kind)
	}
	return o.Output.Print(o.IO.Out, &st, func(w io.Writer) error {
		if st.Fleet != nil {
			writeFleet(w, st.Fleet)
		}
		return writeStatus(w, &st.Status)
	})
}

// writeFleet prints the director's place in the fleet.
func writeFleet(w io.Writer, f *fleet.DirectorStatus) {
	fmt.Fprintf(w, "Fleet member %s", f.Name)
	if len(f.Labels) > 0 {
		fmt.Fprintf(w, " (%s)", fleet.FormatLabels(f.Labels))
	}
	fmt.Fprintf(w, ": %s", f.State)
	if f.Document != "" {
		fmt.Fprintf(w, ", %s revision %d", f.Document, f.Revision)
	}
	if f.WantRevision != 0 && (f.WantRevision != f.Revision || f.WantDocument != f.Document) {
		fmt.Fprintf(w, " (wants %s revision %d)", f.WantDocument, f.WantRevision)
	}
	fmt.Fprintf(w, ", last report %s\n", f.ReportedAt.Format(time.RFC3339))
	if f.Rejected != nil {
		fmt.Fprintf(w, "Refused %s revision %d:\n  %s\n", f.Rejected.Document, f.Rejected.Revision,
			strings.ReplaceAll(f.Rejected.Error, "\n", "\n  "))
	}
	if f.Problem != "" {
		fmt.Fprintf(w, "Problem: %s\n", f.Problem)
	}
	if f.LastOutage != nil {
		fmt.Fprintf(w, "etcd lost %d time%s, last for %.1fs until %s\n", f.Reconnects, cmdutil.Plural(f.Reconnects),
			f.LastOutage.Seconds, f.LastOutage.To.Format(time.RFC3339))
	}
}

// writeStatus prints the status for people.
func writeStatus(w io.Writer, s *agent.Status) error {
	down := 0
	for _, sv := range s.Servers {
		if sv.Health == "down" {
			down++
		}
	}
	fmt.Fprintf(w, "Document %s, generation %d, applied %s\n", s.Document, s.Generation, s.LoadedAt.Format(time.RFC3339))
	fmt.Fprintf(w, "%s, %s, %d down; %s, %s sent, %d drift change%s repaired in %s\n",
		count(s.Services, "service"), count(s.Probes, "probe"), down, count(s.Flips, "flip"), count(s.Requests, "request"),
		s.DriftRepaired, cmdutil.Plural(s.DriftRepaired), count(s.DriftChecks, "check"))
	if s.LastError != "" {
		fmt.Fprintf(w, "Last error: %s\n", s.LastError)
	}
	if len(s.Servers) == 0 {
		fmt.Fprintln(w, "No checked servers.")
		return nil
	}
	t := cmdutil.NewTable(w, "SERVICE", "SERVER", "CHECK", "HEALTH", "WEIGHT", "LAST", "ERROR")
	for _, sv := range s.Servers {
		weight := "-"
		if sv.InTable {
			weight = fmt.Sprint(sv.Weight)
		}
		last := "-"
		if sv.LastProbe != nil {
			last = fmt.Sprintf("%s %.0fms", map[bool]string{true: "ok", false: "fail"}[sv.LastOK], sv.LatencySeconds*1000)
		}
		check := sv.Check
		if sv.Target != "" && sv.Target != sv.Server {
			check += " " + sv.Target
		}
		t.Row(sv.Service, sv.Server, check, sv.Health, weight, last, sv.LastError)
	}
	return t.Render()
}

// unwrapURL drops Go's `Get "http://...":` and `dial tcp ...:` prefixes:
// the message names the address already.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		err = oe.Err
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		err = se.Err
	}
	return err
}

// count writes n and the noun, plural when n is not 1.
func count(n int, noun string) string { return fmt.Sprintf("%d %s%s", n, noun, cmdutil.Plural(n)) }
