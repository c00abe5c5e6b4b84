package root

import (
	"fmt"
	"strings"
)

// ipvsadmCommand is one of ipvsadm's commands and what does its work in
// ipvsctl.
type ipvsadmCommand struct {
	short byte   // 'A'; 0 for commands that have only a long form
	long  string // "add-service"
	does  string // "ipvsctl service add SERVICE"
}

// ipvsadmCommands are ipvsadm's commands (its -h, which cobra answers
// too, aside). docs/ipvsctl.md lists the same pairs.
var ipvsadmCommands = []ipvsadmCommand{
	{'A', "add-service", "ipvsctl service add SERVICE"},
	{'E', "edit-service", "ipvsctl service edit SERVICE"},
	{'D', "delete-service", "ipvsctl service delete SERVICE"},
	{'C', "clear", "ipvsctl flush"},
	{'R', "restore", "ipvsctl restore -f FILE"},
	{'S', "save", "ipvsctl save -o rules"},
	{'a', "add-server", "ipvsctl dest add SERVICE ADDR[:PORT]"},
	{'e', "edit-server", "ipvsctl dest edit SERVICE ADDR[:PORT]"},
	{'d', "delete-server", "ipvsctl dest delete SERVICE ADDR[:PORT]"},
	{'L', "list", "ipvsctl list"},
	{'l', "list", "ipvsctl list"},
	{'Z', "zero", "ipvsctl zero"},
	{0, "set", "ipvsctl timeout set TCP TCPFIN UDP"},
	{0, "start-daemon", "ipvsctl sync start master|backup --interface IFACE"},
	{0, "stop-daemon", "ipvsctl sync stop master|backup|all"},
}

// ipvsadmHint answers pflag's error for an option ipvsctl does not know
// that is one of ipvsadm's commands ("unknown shorthand flag: 'L' in
// -Ln", "unknown flag: --add-service"): it names the ipvsctl command that
// does the same, and ipvsadm. It returns "" for any other error.
func ipvsadmHint(err error) string {
	msg := err.Error()
	var (
		c      *ipvsadmCommand
		typed  string // the argument as given: "-Ln", "--add-service"
		bundle string // the letters of a bundle after the command's: "n"
	)
	if rest, ok := strings.CutPrefix(msg, "unknown shorthand flag: '"); ok {
		letter, arg, ok := strings.Cut(rest, "' in ")
		if !ok || len(letter) != 1 {
			return ""
		}
		for i := range ipvsadmCommands {
			if ipvsadmCommands[i].short == letter[0] {
				c = &ipvsadmCommands[i]
			}
		}
		typed = arg
		if i := strings.IndexByte(arg, letter[0]); i >= 0 {
			bundle = arg[i+1:]
		}
	} else if rest, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		for i := range ipvsadmCommands {
			if ipvsadmCommands[i].long == rest {
				c = &ipvsadmCommands[i]
				break
			}
		}
		typed = "--" + rest
	}
	if c == nil {
		return ""
	}
	does := c.does
	if c.long == "list" {
		// ipvsadm -Lc lists connections; -n, with either, is ipvsctl's -n.
		if strings.Contains(bundle, "c") {
			does = "ipvsctl conn list"
		}
		if strings.Contains(bundle, "n") {
			does += " -n"
		}
	}
	name, what := "-"+string(c.short), "ipvsadm's --"+c.long
	if strings.HasPrefix(typed, "--") {
		name, what = typed, "ipvsadm's"
		if c.short != 0 {
			what += " -" + string(c.short)
		}
	} else if typed != name {
		name += " (in " + typed + ")"
	}
	return fmt.Sprintf("%s is %s, not an ipvsctl option: '%s' does it, or type ipvsadm instead of ipvsctl", name, what, does)
}
