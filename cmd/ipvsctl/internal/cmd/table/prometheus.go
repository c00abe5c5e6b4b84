package table

import (
	"io"
	"os"
	"path/filepath"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/ipvsmetrics"
)

// WritePrometheus writes the counters of every service and destination in
// the Prometheus text exposition format, for node_exporter's textfile
// collector, under the naming names (ipvsmetrics.IPVSCtl: ipvs_service_*
// and ipvs_destination_*; ipvsmetrics.NodeExporter: node_ipvs_*, the
// totals summed over the services).
func WritePrometheus(w io.Writer, names ipvsmetrics.Names, vss []ipvs.VirtualServer) error {
	return ipvsmetrics.WriteText(w, ipvsmetrics.Table(names, vss, nil))
}

// WriteFileAtomic writes data to path through a temporary file in the
// same directory and a rename, so a reader (node_exporter) never sees a
// partial file.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
