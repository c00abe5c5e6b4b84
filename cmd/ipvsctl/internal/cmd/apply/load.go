// Package apply implements the declarative commands: ipvsctl diff, apply
// and restore.
package apply

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
)

// loadDesired reads and validates a document: FILE or "-" for standard
// input, in format (empty: detect). Every validation problem is reported
// (on errOut, one "FILE:LINE: message" per line) before failing.
func loadDesired(file, format string, stdin io.Reader, errOut io.Writer) (*ipvsconfig.Desired, error) {
	var data []byte
	var err error
	name := file
	if file == "-" {
		name = "<stdin>"
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	doc, err := ipvsconfig.Parse(name, data, ipvsconfig.Format(format))
	if err == nil {
		var want *ipvsconfig.Desired
		if want, err = doc.Desired(); err == nil {
			return want, nil
		}
	}
	var list ipvsconfig.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Fprintln(errOut, e.Error())
		}
		return nil, &cmdutil.ExitError{Code: 1, Err: fmt.Errorf("%s: %d error%s; nothing was applied", name, len(list), plural(len(list)))}
	}
	var one *ipvsconfig.Error
	if errors.As(err, &one) {
		fmt.Fprintln(errOut, one.Error())
		return nil, &cmdutil.ExitError{Code: 1, Err: fmt.Errorf("%s: 1 error; nothing was applied", name)}
	}
	return nil, err
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
