package ipvsconfig

import (
	"bytes"
	"errors"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/ipvsadmargs"
	"github.com/ipvs-tools/ipvs/internal/rulesfile"
)

// parseRules reads an ipvsadm rules file (ipvsadm -S output, optionally
// with the --set and --start-daemon lines "ipvsctl save -o rules
// --complete" adds) into a document. Each line goes through ipvsadm's own
// argument parser (package rulesfile), so the file means what ipvsadm -R
// would make of it; errors carry the file's line numbers.
func parseRules(name string, data []byte) (*Document, error) {
	f, err := rulesfile.Parse(bytes.NewReader(data), name)
	if err != nil {
		return nil, rulesError(name, err)
	}
	d := &Document{APIVersion: APIVersion}
	table := &rulesfile.File{Name: name}
	var daemons []ipvs.Daemon
	for _, r := range f.Rules {
		switch c := r.Command; c.Kind {
		case ipvsadmargs.KindAdd, ipvsadmargs.KindAddDest:
			table.Rules = append(table.Rules, r)
		case ipvsadmargs.KindSetTimeout:
			if d.Timeouts != nil {
				return nil, &Error{File: name, Line: r.Line, Msg: "--set is given twice"}
			}
			d.Timeouts = FromKernelTimeouts(c.Timeouts)
		case ipvsadmargs.KindStartDaemon:
			for _, o := range daemons {
				if o.State == c.Daemon.State {
					return nil, &Error{File: name, Line: r.Line, Msg: "a " + o.State.String() + " sync daemon is already defined"}
				}
			}
			daemons = append(daemons, c.Daemon)
		default:
			return nil, &Error{File: name, Line: r.Line,
				Msg: "only -A, -a, --set and --start-daemon lines describe a configuration, not " + c.Kind.String()}
		}
	}
	vss, err := table.Table()
	if err != nil {
		return nil, rulesError(name, err)
	}
	d.Services = FromKernel(vss, FromOptions{})
	if len(daemons) > 0 {
		d.Daemons = FromKernelDaemons(daemons)
	}
	return d, nil
}

// rulesError turns a rulesfile error into a FILE:LINE error of this
// package.
func rulesError(name string, err error) error {
	var re *rulesfile.Error
	if errors.As(err, &re) {
		return &Error{File: name, Line: re.Line, Msg: re.Msg}
	}
	return err
}
