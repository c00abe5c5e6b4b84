package ipvsmetrics

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// WriteText writes ms in the Prometheus text exposition format (0.0.4),
// as node_exporter's textfile collector reads it: for each family that
// has series, its HELP and TYPE lines, then one line per series, the
// value an exact integer. Families without series are left out.
func WriteText(w io.Writer, ms []Metrics) error {
	bw := bufio.NewWriter(w)
	for _, m := range ms {
		if len(m.Samples) == 0 {
			continue
		}
		bw.WriteString("# HELP " + m.Name + " " + helpEscaper.Replace(m.Help) + "\n")
		bw.WriteString("# TYPE " + m.Name + " " + m.Type + "\n")
		for _, s := range m.Samples {
			bw.WriteString(m.Name)
			if len(m.Labels) > 0 {
				bw.WriteByte('{')
				for i, name := range m.Labels {
					if i > 0 {
						bw.WriteByte(',')
					}
					bw.WriteString(name + `="` + labelEscaper.Replace(s.Labels[i]) + `"`)
				}
				bw.WriteByte('}')
			}
			bw.WriteString(" " + strconv.FormatUint(s.Value, 10) + "\n")
		}
	}
	return bw.Flush()
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
)
