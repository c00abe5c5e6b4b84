package ipvsadmargs

import "github.com/ipvs-tools/ipvs"

// commandsVOptions is ipvsadm's table of legal command/option combinations
// (commands_v_options), one row per command in Kind order, one column per
// option in Opt order:
//
//	'+' compulsory, 'x' illegal, '1' exclusive (at most one '1' option),
//	' ' optional.
//
// Columns: -n -c svc -s -p -M -r fwd -w -x -y mcast-ifn timeout daemon
// stats rate thresholds persistent-conn nosort syncid exact ops pe -b
// mcast-group mcast-port mcast-ttl sync-maxlen tun-info tun-type tun-port
// tun-nocsum tun-csum tun-remcsum.
var commandsVOptions = [numberOfCommands]string{
	KindAdd - 1:         "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx",
	KindEdit - 1:        "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx",
	KindDelete - 1:      "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	KindFlush - 1:       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	KindList - 1:        " 11xxxxxxxxx11       xxxxxxx xxxxx",
	KindAddDest - 1:     "xx+xxx+    xxxxxxxxxxxxxxxxxx     ",
	KindDeleteDest - 1:  "xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx",
	KindEditDest - 1:    "xx+xxx+    xxxxxxxxxxxxxxxxxx     ",
	KindSetTimeout - 1:  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	KindStartDaemon - 1: "xxxxxxxxxxx xxxxxxx xxxx    xxxxxx",
	KindStopDaemon - 1:  "xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx",
	KindRestore - 1:     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	KindSave - 1:        " xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	KindZero - 1:        "xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
}

// tunNames are the names of the tunnel types, by ipvs.TunnelType.
var tunNames = [3]string{"ipip", "gue", "gre"}

// tunOpts are the columns of tunnelTypesVOptions.
var tunOpts = [4]Opt{OptTunPort, OptTunNoCsum, OptTunCsum, OptTunRemCsum}

// tunnelTypesVOptions is ipvsadm's tunnel_types_v_options: per tunnel
// type, columns tun-port, tun-nocsum, tun-csum, tun-remcsum.
var tunnelTypesVOptions = [3]string{
	ipvs.TunnelIPIP: "xxxx",
	ipvs.TunnelGUE:  "+111",
	ipvs.TunnelGRE:  "x11x",
}

// genericOptCheck is ipvsadm's generic_opt_check: the first violation in
// column order is the error.
func genericOptCheck(kind Kind, options Options) *Error {
	row := commandsVOptions[kind-KindAdd]
	name := cmdNames[kind-KindAdd]
	count := 0
	var last Opt
	for j := Opt(0); j < numberOfOpts; j++ {
		cell := row[j]
		if !options.Has(j) {
			if cell == '+' {
				return failf("You need to supply the '%s' option for the '%s' command", optNames[j], name)
			}
			continue
		}
		if cell == 'x' {
			return failf("Illegal '%s' option with the '%s' command", optNames[j], name)
		}
		if cell == '1' {
			count++
			if count == 1 {
				last = j
				continue
			}
			return failf("The option '%s' conflicts with the '%s' option in the '%s' command", optNames[j], optNames[last], name)
		}
	}
	return nil
}

// tunnelOptCheck is ipvsadm's tunnel_opt_check for tunnel type tunType.
func tunnelOptCheck(tunType int, options Options) *Error {
	if tunType < 0 || tunType >= len(tunnelTypesVOptions) {
		return nil
	}
	row := tunnelTypesVOptions[tunType]
	count := 0
	var last Opt
	for j, k := range tunOpts {
		cell := row[j]
		if !options.Has(k) {
			if cell == '+' {
				return failf("You need to supply the '%s' option for the '%s' tunnel type", optNames[k], tunNames[tunType])
			}
			continue
		}
		if cell == 'x' {
			return failf("Illegal '%s' option with the '%s' tunnel type", optNames[k], tunNames[tunType])
		}
		if cell == '1' {
			count++
			if count == 1 {
				last = k
				continue
			}
			return failf("The option '%s' conflicts with the '%s' option in the '%s' tunnel type", optNames[k], optNames[last], tunNames[tunType])
		}
	}
	return nil
}
