package completions_test

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ipvs-tools/ipvs/internal/ipvsadmargs"
)

// This file derives ipvsadm's command/option matrix from ipvsadmargs.Parse
// alone, by asking it about every combination, so that the completion
// scripts are checked against the grammar the program really implements
// rather than against a copy of its table.

// sample is a valid value for each option bit that takes one: the
// derivation must only ever hit matrix errors, never value errors.
var sample = map[string]string{
	"service-address": "10.0.0.1:80",
	"scheduler":       "rr",
	"persistent":      "60",
	"netmask":         "255.255.255.0",
	"real-server":     "10.0.0.2:80",
	"weight":          "1",
	"u-threshold":     "1",
	"l-threshold":     "1",
	"mcast-interface": "eth0",
	"syncid":          "1",
	"pe":              "sip",
	"sched-flags":     "flag-1",
	"mcast-group":     "224.0.0.81",
	"mcast-port":      "8848",
	"mcast-ttl":       "1",
	"sync-maxlen":     "100",
	"tun-type":        "ipip",
	"tun-port":        "1",
}

// commandArgs are the arguments a command itself needs.
var commandArgs = map[string][]string{
	"set":          {"1", "2", "3"},
	"start-daemon": {"master"},
	"stop-daemon":  {"master"},
}

// optionBits returns ipvsadm's option bit names, in column order.
func optionBits() []string {
	var bits []string
	for o := ipvsadmargs.Opt(0); o.String() != "?"; o++ {
		bits = append(bits, o.String())
	}
	return bits
}

// commandNames returns the matrix rows' command names, in row order.
func commandNames() []string {
	var names []string
	for k := ipvsadmargs.KindAdd; k <= ipvsadmargs.KindZero; k++ {
		names = append(names, k.String())
	}
	return names
}

func parseMsg(argv ...string) string {
	_, err := ipvsadmargs.Parse(append([]string{"ipvsadm"}, argv...), ipvsadmargs.Env{})
	if err == nil {
		return ""
	}
	var e *ipvsadmargs.Error
	if errors.As(err, &e) {
		return strings.TrimRight(e.Msg, "\n")
	}
	return err.Error()
}

// bitArgs returns the arguments that give option bit with the spelling
// opt (its sample value appended when it takes one).
func bitArgs(opt, bit string) []string {
	if v, ok := sample[bit]; ok {
		return []string{opt, v}
	}
	return []string{opt}
}

// cell is one matrix entry: '+' required, 'x' illegal, '1' exclusive,
// ' ' optional (ipvsadm's own notation).
type matrix map[string]map[string]byte

// deriveMatrix asks Parse about every command and option. cmdSpelling
// and bitSpelling give one way to type each command and option bit.
func deriveMatrix(t *testing.T, cmdSpelling, bitSpelling map[string]string) matrix {
	t.Helper()
	m := matrix{}
	bits := optionBits()
	for _, cmd := range commandNames() {
		row := map[string]byte{}
		m[cmd] = row
		base := append([]string{cmdSpelling[cmd]}, commandArgs[cmd]...)
		// Required options, one "You need to supply" at a time.
		need := regexp.MustCompile(`^You need to supply the '([a-z-]+)' option for the '` + cmd + `' command$`)
		for range bits {
			mm := need.FindStringSubmatch(parseMsg(base...))
			if mm == nil {
				break
			}
			row[mm[1]] = '+'
			base = append(base, bitArgs(bitSpelling[mm[1]], mm[1])...)
		}
		var legal []string
		for _, b := range bits {
			if row[b] == '+' {
				continue
			}
			msg := parseMsg(append(append([]string{}, base...), bitArgs(bitSpelling[b], b)...)...)
			if msg == fmt.Sprintf("Illegal '%s' option with the '%s' command", b, cmd) {
				row[b] = 'x'
				continue
			}
			if strings.Contains(msg, "Illegal") || strings.Contains(msg, "You need") {
				t.Fatalf("%s with %s: unexpected matrix error %q", cmd, b, msg)
			}
			row[b] = ' '
			legal = append(legal, b)
		}
		for i, b1 := range legal {
			for _, b2 := range legal[i+1:] {
				argv := append(append([]string{}, base...), bitArgs(bitSpelling[b1], b1)...)
				argv = append(argv, bitArgs(bitSpelling[b2], b2)...)
				if parseMsg(argv...) == fmt.Sprintf("The option '%s' conflicts with the '%s' option in the '%s' command", b2, b1, cmd) {
					row[b1], row[b2] = '1', '1'
				}
			}
		}
	}
	return m
}

// rowString renders a matrix row in the completion scripts' notation:
// the legal options in column order, "+" before required ones and "1"
// before exclusive ones.
func rowString(row map[string]byte) string {
	var out []string
	for _, b := range optionBits() {
		switch row[b] {
		case '+', '1':
			out = append(out, string(row[b])+b)
		case ' ':
			out = append(out, b)
		}
	}
	return strings.Join(out, " ")
}

func sortedKeys[V any](m map[string]V) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
