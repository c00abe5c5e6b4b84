package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ipvs-tools/ipvs/ipvslock"
)

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
		// The script ignores its arguments; ours takes -w (see
		// restoreWait) and ignores the others.
		return a.restoreScript(restoreWait(argv[1:])), true
	}
	return 0, false
}

// restoreWait reads ipvsadm-restore's only option, how long to wait for
// another writer of the table (ipvslock): -w or --wait alone waits until
// it is done; -w SECONDS, -wSECONDS, --wait SECONDS or --wait=SECONDS at
// most that long; the default is ipvslock.DefaultWait. Other arguments
// are ignored, as the script ignores them all.
func restoreWait(args []string) time.Duration {
	wait := ipvslock.DefaultWait
	seconds := func(s string) (time.Duration, bool) {
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || n < 0 || n > 1e6 {
			return 0, false
		}
		return time.Duration(n * float64(time.Second)), true
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		var v string
		switch {
		case a == "-w" || a == "--wait":
			wait = ipvslock.Forever
			if i+1 < len(args) {
				if d, ok := seconds(args[i+1]); ok {
					wait = d
					i++
				}
			}
			continue
		case strings.HasPrefix(a, "--wait="):
			v = a[len("--wait="):]
		case strings.HasPrefix(a, "-w"):
			v = a[2:]
		default:
			continue
		}
		if d, ok := seconds(v); ok {
			wait = d
		}
	}
	return wait
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
