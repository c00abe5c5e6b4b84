package ipvsproc

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// This file formats connections the way the reference "ipvsadm -Lcn"
// (1.31, print_conn) prints them, so tests can compare the parser with the
// reference program's reading of the same file.

// lcnAddrPort formats an address the way ipvsadm -n does: dotted IPv4,
// compressed IPv6 in brackets, decimal port.
func lcnAddrPort(ap netip.AddrPort) string {
	return fmt.Sprintf("%s:%d", lcnAddr(ap.Addr()), ap.Port())
}

func lcnAddr(a netip.Addr) string {
	if a.Is4() {
		return a.String()
	}
	return "[" + a.String() + "]"
}

// lcnRow is one row of "ipvsadm -Lcn"; withExpiry false leaves out the
// expiry column (which changes between two reads).
func lcnRow(c *Conn, withExpiry bool) string {
	exp := fmt.Sprintf("%02d:%02d", c.Expires/60, c.Expires%60)
	if !withExpiry {
		exp = "-"
	}
	return fmt.Sprintf("%-3s %-6s %-11s %-18s %-18s %s", c.Protocol, exp, c.State,
		lcnAddrPort(c.Client), lcnAddrPort(c.Virtual), lcnAddrPort(c.Dest))
}

// lcnRowsFromOutput returns the rows of an "ipvsadm -Lcn" output without
// its two title lines; withExpiry false replaces the expiry column with
// "-" (and re-pads the row as lcnRow does).
func lcnRowsFromOutput(out string, withExpiry bool) ([]string, error) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) < 2 || lines[0] != "IPVS connection entries" ||
		!strings.HasPrefix(lines[1], "pro expire state") {
		return nil, fmt.Errorf("not an ipvsadm -Lcn output:\n%s", out)
	}
	var rows []string
	for _, l := range lines[2:] {
		if withExpiry {
			rows = append(rows, l)
			continue
		}
		f := strings.Fields(l)
		if len(f) != 6 {
			return nil, fmt.Errorf("ipvsadm -Lcn row %q: want 6 fields", l)
		}
		rows = append(rows, fmt.Sprintf("%-3s %-6s %-11s %-18s %-18s %s", f[0], "-", f[2], f[3], f[4], f[5]))
	}
	return rows, nil
}

// sortedRows formats conns with lcnRow and sorts the result.
func sortedRows(conns []Conn, withExpiry bool) []string {
	rows := make([]string, len(conns))
	for i := range conns {
		rows[i] = lcnRow(&conns[i], withExpiry)
	}
	sort.Strings(rows)
	return rows
}

// diffRows describes the difference of two sorted row lists (at most a few
// lines of each side), or "" if they are equal.
func diffRows(got, want []string) string {
	gs := map[string]int{}
	for _, r := range got {
		gs[r]++
	}
	ws := map[string]int{}
	for _, r := range want {
		ws[r]++
	}
	var b strings.Builder
	n := 0
	for _, r := range want {
		if gs[r] == 0 && n < 10 {
			fmt.Fprintf(&b, "  missing: %s\n", r)
			n++
		}
	}
	n = 0
	for _, r := range got {
		if ws[r] == 0 && n < 10 {
			fmt.Fprintf(&b, "  extra:   %s\n", r)
			n++
		}
	}
	if b.Len() == 0 && len(got) != len(want) {
		fmt.Fprintf(&b, "  %d rows, want %d (duplicates differ)\n", len(got), len(want))
	}
	return b.String()
}
