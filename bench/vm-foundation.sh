#!/bin/sh
# Foundation benchmark, run inside the test VM:
#   go run ./tools/vmrun bench bench/vm-foundation.sh
# Lists 10,000 services x 10 destinations through the netlinkipvs library
# (tools/ipvsbench list: one service dump plus one destination dump per
# service on one socket) and with Debian's ipvsadm 1.31 (-Ln), in the same
# boot, and prints the times and their ratio. TCG emulation: only the ratio
# means anything.
set -eu
REF=/usr/sbin/ipvsadm
BENCH=$(command -v ipvsbench || echo /usr/local/sbin/ipvsbench)

$REF -C
$BENCH populate -services 10000 -dests 10
$BENCH time -label "library list" -- $BENCH list | tee /tmp/lib.txt
$BENCH time -label "ipvsadm -Ln" -- $REF -Ln | tee /tmp/ref.txt
lib=$(sed -n 's/.*best \([0-9.]*\) s.*/\1/p' /tmp/lib.txt)
ref=$(sed -n 's/.*best \([0-9.]*\) s.*/\1/p' /tmp/ref.txt)
awk -v l="$lib" -v r="$ref" 'BEGIN { printf "ratio ipvsadm/library: %.1fx\n", r / l }'
$REF -C
