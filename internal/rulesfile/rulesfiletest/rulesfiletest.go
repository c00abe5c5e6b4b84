// Package rulesfiletest writes the rules files that tests and benchmarks
// restore and parse.
package rulesfiletest

import (
	"fmt"
	"strings"
)

// Table returns, as ipvsadm -Sn prints it, a table of n TCP services
// 10.<net>.<i/256>.<i%256>:80 with scheduler wlc, each with dests
// masquerading destinations 192.168.<j>.1:8080 of weight 1. Table(2,
// 10000, 10) is the 110,000-line file of bench/vm-restore.sh.
func Table(net, n, dests int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		s := fmt.Sprintf("10.%d.%d.%d:80", net, i/256, i%256)
		fmt.Fprintf(&b, "-A -t %s -s wlc\n", s)
		for j := 0; j < dests; j++ {
			fmt.Fprintf(&b, "-a -t %s -r 192.168.%d.1:8080 -m -w 1\n", s, j)
		}
	}
	return b.String()
}
