#!/bin/sh
# The scripted tour of scripts/playground.sh --demo. It runs inside the
# test VM (busybox sh), where /usr/sbin/ipvsadm is Debian's ipvsadm 1.31
# and /usr/local/sbin holds ours. Every comparison must hold: the exit
# status is the number of differences found (0: all the same).

ref=/usr/sbin/ipvsadm
ours=/usr/local/sbin/ipvsadm
ctl=/usr/local/sbin/ipvsctl
diffs=0

# Both programs run as "ipvsadm" (their messages name argv[0]).
mkdir -p /tmp/ref /tmp/ours
ln -sf "$ref" /tmp/ref/ipvsadm
ln -sf "$ours" /tmp/ours/ipvsadm

step() { printf '\n=== %s\n' "$*"; }

# same ARGS...: the same command with both, on the same table (it must not
# change the table); prints ours, then whether the output (stdout and
# stderr together) and the exit status match Debian's.
same() {
	(PATH=/tmp/ref; exec ipvsadm "$@") >/tmp/ref.out 2>&1
	r=$?
	(PATH=/tmp/ours; exec ipvsadm "$@") >/tmp/ours.out 2>&1
	o=$?
	printf '$ ipvsadm %s\n' "$*"
	cat /tmp/ours.out
	if [ "$r" = "$o" ] && cmp -s /tmp/ref.out /tmp/ours.out; then
		echo "    -> the same bytes and exit status ($o) as Debian's ipvsadm"
	else
		echo "    -> DIFFERENT from Debian's ipvsadm (exit $r), which printed:"
		cat /tmp/ref.out
		diffs=$((diffs + 1))
	fi
}

# show CMD...: run and print a command.
show() {
	printf '$ %s\n' "$*"
	"$@"
	rc=$?
	[ $rc = 0 ] || echo "    (exit status $rc)"
	return $rc
}

step "Two ipvsadm programs"
printf 'Debian: '
$ref -v
printf 'ours:   '
$ours -v
echo "ours is one static Go program, without libnl or libpopt:"
ls -l "$ours" "$ours-save" "$ours-restore"

step "A table built with Debian's ipvsadm, listed by both"
rules='-A -t 10.0.0.1:80 -s wrr
-a -t 10.0.0.1:80 -r 192.168.0.1:8080 -m -w 1
-a -t 10.0.0.1:80 -r 192.168.0.2:8080 -m -w 2
-A -t 10.0.0.1:443 -s sh -b sh-port -p 600 -M 255.255.255.0
-a -t 10.0.0.1:443 -r 192.168.0.1:443 -g -w 1
-a -t 10.0.0.1:443 -r 192.168.0.2:443 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
-A -u 10.0.0.2:53 -s rr -o
-a -u 10.0.0.2:53 -r 192.168.0.1:53 -m
-A -t [2001:db8::1]:80 -s mh -b mh-fallback
-a -t [2001:db8::1]:80 -r [2001:db8::10]:80 -m -x 100 -y 50
-A -f 7 -s lc -p'
echo "$rules" | $ref -R
same -L -n
same -L
same -S -n
same -L -n --thresholds
same -L -n --tun-info
same -L --timeout
same -L -t 10.0.0.1:443 -n
$ref -S -n >/tmp/saved.rules

step "Errors, word for word"
same -A -t 10.0.0.1
same -A -t 10.0.0.1:81 -s rr -b sh-port
same -a -t 10.0.0.1:80 -r 192.168.0.3 -w 2147483648
same -L -c --stats
same -a -t 10.0.0.1:80 -r 192.168.0.3 --tun-type gue
same -E -t 10.0.0.9:80
same --start-daemon slave
same -n

step "The same table built by ours, read back by Debian's"
$ref -C
echo "$rules" | $ours -R
$ref -S -n >/tmp/again.rules
if cmp -s /tmp/saved.rules /tmp/again.rules; then
	echo "Debian's ipvsadm -Sn prints the same $(wc -l </tmp/again.rules) lines after ours restored the rules"
else
	echo "DIFFERENT:"
	diff /tmp/saved.rules /tmp/again.rules
	diffs=$((diffs + 1))
fi

step "ipvsadm-save and ipvsadm-restore"
if "$ours-save" -n >/tmp/mine.rules 2>/dev/null && head -n 1 /tmp/mine.rules | grep -q '^-A '; then
	printf '$ %s -n\n' "$ours-save"
	cat /tmp/mine.rules
	echo "Give rs2 weight 5 and remove the UDP service, then restore:"
	sed -e 's/-r 192.168.0.2:8080 -m -w 2/-r 192.168.0.2:8080 -m -w 5/' -e '/10.0.0.2:53/d' /tmp/mine.rules >/tmp/edited.rules
	show "$ours-restore" </tmp/edited.rules
	show "$ours" -L -n
	echo "Only the difference was applied; the table was never flushed on the way."
else
	echo "(this build's ipvsadm has no ipvsadm-save personality yet)"
fi

if [ -x "$ctl" ]; then
	step "ipvsctl: machine-readable listings (here only the UDP services)"
	show "$ctl" list -o json --scope proto=udp

	step "ipvsctl: declarative changes"
	cat >/tmp/desired.yaml <<'EOF'
apiVersion: ipvsctl/v1
services:
  - protocol: tcp
    address: 10.0.0.1
    port: 80
    scheduler: wrr
    destinations:
      - {address: 192.168.0.1, port: 8080, forward: masq, weight: 1}
      - {address: 192.168.0.2, port: 8080, forward: masq, weight: 3}
      - {address: 192.168.0.3, port: 8080, forward: masq, weight: 1}
EOF
	cat /tmp/desired.yaml
	echo "diff exits 2 when the live table differs:"
	show "$ctl" diff -f /tmp/desired.yaml
	show "$ctl" apply -v -f /tmp/desired.yaml || diffs=$((diffs + 1))
	echo "and 0 once it matches:"
	show "$ctl" diff -f /tmp/desired.yaml || diffs=$((diffs + 1))
	show "$ctl" list --numeric
	echo "apply leaves services the document does not list alone (--prune removes them);"
	echo "Debian's ipvsadm sees the result:"
	show "$ref" -L -n -t 10.0.0.1:80
fi

step "Done"
if [ "$diffs" = 0 ]; then
	echo "every comparison matched"
else
	echo "$diffs comparison(s) differed"
fi
exit "$diffs"
