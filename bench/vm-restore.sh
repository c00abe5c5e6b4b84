#!/bin/sh
# Save/restore at scale, run inside the test VM:
#   go run ./tools/vmrun bench [-smp 2] bench/vm-restore.sh
# (-smp 2 gives the guest a second CPU: our listings parse
# /proc/net/ip_vs while the service dump runs, where ipvsadm has one
# thread; the Go runtime's per-CPU caches raise our peak memory.)
# (CI runs a reduced size through TestVMRestoreBench in this directory.)
#
# In one boot, for ours (/usr/local/sbin/ipvsadm) and Debian's ipvsadm 1.31
# (/usr/sbin/ipvsadm): restore a file of SERVICES x DESTS (default 10,000 x
# 10, 110,000 lines) into a flushed table; check both reach the same table;
# time -Ln and -Sn and check they print the same bytes; time 200 single
# invocations (-A of distinct services, -Ln -t of one service); time
# ipvsadm-restore of the file with one service changed (ours, and Debian's
# script, which flushes and restores everything), and ours again with
# IPVSADM_RESTORE_FAST (constant reads); print the peak memory (VmHWM) of
# -Ln. The requests a restore sends are counted by the gate's
# TestVMRestoreScriptCost, in a test build, not here. TCG emulation: only ratios within
# this boot mean anything. Exits non-zero on any mismatch.
set -eu
SERVICES=${SERVICES:-10000}
DESTS=${DESTS:-10}
SINGLE=${SINGLE:-200}
# Each full listing is timed LISTRUNS times (best counts) and its peak
# memory measured MEMRUNS times (the median counts): single runs in an
# emulated guest vary by tens of percent.
LISTRUNS=${LISTRUNS:-3}
MEMRUNS=${MEMRUNS:-5}
REF=/usr/sbin/ipvsadm
OURS=/usr/local/sbin/ipvsadm
REF_RESTORE=/usr/sbin/ipvsadm-restore
OURS_RESTORE=/usr/local/sbin/ipvsadm-restore
BENCH=$(command -v ipvsbench || echo /usr/local/sbin/ipvsbench)
W=/tmp/vmbench
mkdir -p $W
fail=0
check() { # name file1 file2
	if cmp -s "$2" "$3"; then
		echo "same: $1"
	else
		echo "FAIL: $1 differs"
		diff "$2" "$3" | head -20 || true
		fail=1
	fi
}
best() { sed -n 's/.*best \([0-9.]*\) s.*/\1/p' "$1"; }
rss() { sed -n 's/.*peak RSS \([0-9]*\) KiB.*/\1/p' "$1"; }
# Peak memory (VmHWM at exit, ru_maxrss) as busybox time reports it.
# ipvsbench's own figure has its 4.3 MB as a floor (vfork); busybox's is
# its own RSS, about 1.4 MB, and busybox 1.35 prints ru_maxrss (KiB)
# multiplied by 4 (it takes it for pages), hence the division.
peak() { # namespace command...
	ns=$1
	shift
	i=0
	while [ $i -lt $MEMRUNS ]; do
		/usr/sbin/ip-full netns exec "$ns" busybox time -f "%M" "$@" 2>&1 >/dev/null | tail -1 | awk '{ print int($1 / 4) }'
		i=$((i + 1))
	done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
ratio() { # label slow fast
	awk -v l="$1" -v s="$2" -v f="$3" 'BEGIN { if (f > 0) printf "ratio %s: %.2fx\n", l, s / f; else printf "ratio %s: n/a\n", l }'
}
t() { # namespace label file [ipvsbench time flags] -- command
	ns=$1
	label=$2
	out=$3
	shift 3
	/usr/sbin/ip-full netns exec "$ns" $BENCH time -label "$label" "$@" | tee "$out"
}

# The save file, in ipvsadm -Sn's form and order.
awk -v n="$SERVICES" -v m="$DESTS" 'BEGIN {
	for (i = 0; i < n; i++) {
		s = sprintf("10.2.%d.%d:80", int(i / 256), i % 256)
		printf "-A -t %s -s wlc\n", s
		for (j = 0; j < m; j++)
			printf "-a -t %s -r 192.168.%d.1:8080 -m -w 1\n", s, j
	}
}' >$W/rules
# The same with one service changed (scheduler and one weight). The first
# service of the file sorts first, so rules2 is still in -Sn form.
awk 'NR == 1 { sub(/-s wlc/, "-s rr") } NR == 2 { sub(/-w 1$/, "-w 5") } { print }' $W/rules >$W/rules2
echo "file: $(wc -l <$W/rules) lines ($SERVICES services x $DESTS destinations)"

# Every restore "into a flushed table" runs in a new network namespace:
# after ipvsadm -C the kernel keeps the removed destinations in a per-
# namespace trash list for minutes and walks it on every add, which would
# make any restore right after a flush quadratic (for both programs).
IP=/usr/sbin/ip-full
fresh() {
	$IP netns del "$1" 2>/dev/null || true
	$IP netns add "$1"
	$IP -n "$1" link set lo up
}
in_ns() {
	ns=$1
	shift
	$IP netns exec "$ns" "$@"
}

# Batched floor: the same table through netlinkipvs.Batch in one process.
fresh floor
in_ns floor $BENCH populate -services "$SERVICES" -dests "$DESTS" >/dev/null 2>$W/floor.err
cat $W/floor.err
floor=$(sed -n 's/.*populate: \([0-9.]*\) s.*/\1/p' $W/floor.err)
$IP netns del floor

# -R into an empty table.
fresh rref
t rref "ref -R" $W/t-ref-R -in $W/rules -- $REF -R
in_ns rref $REF -Sn >$W/ref-table
$IP netns del rref
fresh rours
t rours "ours -R" $W/t-ours-R -in $W/rules -- $OURS -R
in_ns rours $REF -Sn >$W/ours-table
check "table after -R (reference -Sn)" $W/ref-table $W/ours-table

# Listings of the restored table.
N=rours
t $N "ref -Ln" $W/t-ref-Ln -n "$LISTRUNS" -out $W/ref-Ln -- $REF -Ln
t $N "ours -Ln" $W/t-ours-Ln -n "$LISTRUNS" -out $W/ours-Ln -- $OURS -Ln
check "-Ln output" $W/ref-Ln $W/ours-Ln
refmem=$(peak $N $REF -Ln)
oursmem=$(peak $N $OURS -Ln)
floormem=$(peak $N true)
t $N "ref -Sn" $W/t-ref-Sn -n "$LISTRUNS" -out $W/ref-Sn -- $REF -Sn
t $N "ours -Sn" $W/t-ours-Sn -n "$LISTRUNS" -out $W/ours-Sn -- $OURS -Sn
check "-Sn output" $W/ref-Sn $W/ours-Sn
check "-Sn output equals the restored file" $W/rules $W/ours-Sn
t $N "ref -L --nosort -n" $W/t-ref-nosort -n "$LISTRUNS" -out $W/ref-nosort -- $REF -L --nosort -n
t $N "ours -L --nosort -n" $W/t-ours-nosort -n "$LISTRUNS" -out $W/ours-nosort -- $OURS -L --nosort -n
check "-L --nosort -n output" $W/ref-nosort $W/ours-nosort

# Single invocations.
t $N "ref -Ln -t x$SINGLE" $W/t-ref-one -n "$SINGLE" -- $REF -Ln -t 10.2.0.7:80
t $N "ours -Ln -t x$SINGLE" $W/t-ours-one -n "$SINGLE" -- $OURS -Ln -t 10.2.0.7:80
t $N "ref -A x$SINGLE" $W/t-ref-A -n "$SINGLE" -- $REF -A -t 10.9.0.1:{i}
t $N "ours -A x$SINGLE" $W/t-ours-A -n "$SINGLE" -- $OURS -A -t 10.9.0.2:{i}
for p in $(seq 1 "$SINGLE"); do echo "-D -t 10.9.0.1:$p"; echo "-D -t 10.9.0.2:$p"; done | in_ns $N $REF -R
in_ns $N $REF -Sn >$W/after-singles
check "single -A cleaned up" $W/ref-Sn $W/after-singles

# ipvsadm-restore of the file with one service changed, from the full
# table: ours (diff and apply) and Debian's script (ipvsadm -C, then -R of
# everything, which in a live namespace also meets the trash list).
t $N "ours ipvsadm-restore (1 changed)" $W/t-ours-restore -in $W/rules2 -- $OURS_RESTORE
in_ns $N $REF -Sn >$W/ours-restored
# The same change back with IPVSADM_RESTORE_FAST: constant reads too.
t $N "ours ipvsadm-restore FAST (1 changed)" $W/t-ours-restore-fast -in $W/rules -- env IPVSADM_RESTORE_FAST=1 $OURS_RESTORE
in_ns $N $REF -Sn >$W/ours-restored-fast
check "table after ipvsadm-restore FAST is the file's" $W/rules $W/ours-restored-fast
$IP netns del rours
fresh rscript
in_ns rscript $OURS -R <$W/rules
t rscript "ref ipvsadm-restore (1 changed)" $W/t-ref-restore -in $W/rules2 -- $REF_RESTORE
in_ns rscript $REF -Sn >$W/ref-restored
$IP netns del rscript
check "table after ipvsadm-restore" $W/ref-restored $W/ours-restored
check "table after ipvsadm-restore is the file's" $W/rules2 $W/ours-restored

echo
echo "== results ($SERVICES x $DESTS)"
ratio "-R ref/ours" "$(best $W/t-ref-R)" "$(best $W/t-ours-R)"
[ -n "$floor" ] && ratio "-R ours/batched floor" "$(best $W/t-ours-R)" "$floor"
ratio "-Ln ref/ours" "$(best $W/t-ref-Ln)" "$(best $W/t-ours-Ln)"
ratio "-Sn ref/ours" "$(best $W/t-ref-Sn)" "$(best $W/t-ours-Sn)"
ratio "-L --nosort -n ref/ours" "$(best $W/t-ref-nosort)" "$(best $W/t-ours-nosort)"
ratio "-Ln -t (single) ref/ours" "$(best $W/t-ref-one)" "$(best $W/t-ours-one)"
ratio "-A (single) ref/ours" "$(best $W/t-ref-A)" "$(best $W/t-ours-A)"
ratio "ipvsadm-restore (1 changed) ref/ours" "$(best $W/t-ref-restore)" "$(best $W/t-ours-restore)"
ratio "ipvsadm-restore FAST (1 changed) ref/ours" "$(best $W/t-ref-restore)" "$(best $W/t-ours-restore-fast)"
echo "peak RSS -Ln (median of $MEMRUNS): ref $refmem KiB, ours $oursmem KiB (busybox floor $floormem KiB)"
ratio "peak RSS -Ln ours/ref" "$oursmem" "$refmem"
if [ $fail -ne 0 ]; then
	echo "vm-restore: FAILED"
	exit 1
fi
echo "vm-restore: all checks passed"
