package main

import "path/filepath"

// Names the program answers to besides ipvsadm.
const (
	saveName    = "ipvsadm-save"
	restoreName = "ipvsadm-restore"
)

// multicall runs the ipvsadm-save and ipvsadm-restore personalities; ok is
// false for any other program name.
func (a *app) multicall(argv []string) (code int, ok bool) {
	if len(argv) == 0 {
		return 0, false
	}
	switch filepath.Base(argv[0]) {
	case saveName:
		return a.saveScript(argv), true
	case restoreName:
		// The script ignores its arguments.
		return a.restoreScript(), true
	}
	return 0, false
}

// saveScript is the ipvsadm-save script: -n selects numeric output, any
// other argument starting with '-' prints the usage (naming the program
// as `basename $0` does) and exits 1, other arguments are ignored; then it
// runs "ipvsadm -S [-n]" and exits with its status.
func (a *app) saveScript(argv []string) int {
	numeric := false
	for _, arg := range argv[1:] {
		switch {
		case arg == "-n":
			numeric = true
		case len(arg) > 0 && arg[0] == '-':
			a.out.Flush()
			a.errorf(filepath.Base(argv[0]) + ": Script to save the IPVS table to stdout.\n" +
				"   With the -n option, prints out the table in numeric format.\n")
			return 1
		}
	}
	args := []string{"ipvsadm", "-S"}
	if numeric {
		args = append(args, "-n")
	}
	return a.main(args)
}
