// Package apply implements the declarative commands: ipvsctl diff, apply
// and restore.
package apply

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/cmdutil"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
)

// LoadDesired reads and validates a document: FILE or "-" for standard
// input, in format (empty: detect). Every validation problem is reported
// (on errOut, one "FILE:LINE: message" per line) before failing with a
// count and outcome, what did not happen ("nothing was applied").
func LoadDesired(file, format string, stdin io.Reader, errOut io.Writer, scope *ipvsconfig.Scope, outcome string) (*ipvsconfig.Desired, error) {
	want, _, err := LoadDocument(file, format, stdin, errOut, scope, outcome)
	return want, err
}

// LoadDocument is LoadDesired that also returns the document's bytes as
// read (ipvsctl fleet stores them as they are).
func LoadDocument(file, format string, stdin io.Reader, errOut io.Writer, scope *ipvsconfig.Scope, outcome string) (*ipvsconfig.Desired, []byte, error) {
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
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once, below
		}
		return nil, nil, fmt.Errorf("read %s: %w", name, err)
	}
	want, err := ParseDesired(name, data, format, scope)
	if err == nil {
		return want, data, nil
	}
	var list ipvsconfig.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Fprintln(errOut, e.Error())
		}
		return nil, nil, &cmdutil.ExitError{Code: 1, Err: fmt.Errorf("%s: %d error%s; %s", name, len(list), cmdutil.Plural(len(list)), outcome)}
	}
	var one *ipvsconfig.Error
	if errors.As(err, &one) {
		fmt.Fprintln(errOut, one.Error())
		return nil, nil, &cmdutil.ExitError{Code: 1, Err: fmt.Errorf("%s: 1 error; %s", name, outcome)}
	}
	return nil, nil, err
}

// ParseDesired validates a document read from somewhere else than a file
// (the agent on etcd): its errors are an ipvsconfig.ErrorList or
// *ipvsconfig.Error naming name and the line, services outside scope
// among them.
func ParseDesired(name string, data []byte, format string, scope *ipvsconfig.Scope) (*ipvsconfig.Desired, error) {
	doc, err := ipvsconfig.Parse(name, data, ipvsconfig.Format(format))
	if err != nil {
		return nil, err
	}
	want, err := doc.Desired()
	if err == nil {
		err = checkScope(doc, want, scope)
	}
	if err != nil {
		return nil, err
	}
	return want, nil
}

// checkScope refuses services outside the scope, each at its line. A
// document without errors has want.Services[i] from services[i].
func checkScope(doc *ipvsconfig.Document, want *ipvsconfig.Desired, scope *ipvsconfig.Scope) error {
	if scope.IsZero() {
		return nil
	}
	var list ipvsconfig.ErrorList
	for i, vs := range want.Services {
		if k := vs.Service.Key(); !scope.Match(k) {
			p := ipvsconfig.Path{"services", i}
			file, line := doc.Position(p)
			list = append(list, &ipvsconfig.Error{File: file, Line: line, Path: p,
				Msg: fmt.Sprintf("service %s is outside the scope %s (see ipvsctl help scope)", ipvsconfig.FormatServiceKey(k), scope)})
		}
	}
	if len(list) > 0 {
		return list
	}
	return nil
}
