#!/usr/bin/env bash
# The IPVS playground, for machines whose kernel has no IPVS: boots the
# project's test VM (Debian's 6.1 kernel with IPVS, in QEMU) with our
# ipvsadm, ipvsadm-save, ipvsadm-restore and ipvsctl in /usr/local/sbin and
# Debian's ipvsadm 1.31 as /usr/sbin/ipvsadm.
#
#   scripts/playground.sh [VMRUN-FLAGS...]         an interactive shell in the VM
#   scripts/playground.sh --demo [VMRUN-FLAGS...]  a scripted tour, no input needed
#
# First it installs the Debian packages it needs (scripts/deps.sh, the
# same as scripts/test.sh; root is needed for that only when something is
# missing) and, on first use, downloads the kernel into ~/.cache/ipvs-vm.
# VMRUN-FLAGS are go run ./tools/vmrun's: -kernel 5.10|6.1|6.12, -mem MB,
# -ftp, -sip, -kvm, -v, -timeout D. Leave the shell with "poweroff -f".
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
export HOME="${HOME:-/root}"

demo=0
args=()
for a in "$@"; do
	case $a in
	--demo) demo=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
		exit 0
		;;
	*) args+=("$a") ;;
	esac
done

if ((!demo)) && ! [[ -t 0 && -t 1 ]]; then
	echo "playground.sh: the interactive shell needs a terminal; use --demo for the scripted tour" >&2
	exit 2
fi

echo "== Debian packages"
# shellcheck source=scripts/deps.sh
source scripts/deps.sh
ipvs_deps_install

if ((demo)); then
	echo "== booting the VM for the demo (about half a minute with software emulation)"
	exec go run ./tools/vmrun bench "${args[@]}" scripts/playground-demo.sh
fi

cat <<'TEXT'
== booting the VM; in it:
     ipvsadm ...                 ours (/usr/local/sbin/ipvsadm)
     /usr/sbin/ipvsadm ...       Debian's ipvsadm 1.31, the reference
     ipvsctl list -o json        the modern front end
     ipvsadm-save -n, ipvsadm-restore
   /etc/hosts names vip1 (10.0.0.1), rs1/rs2 (192.168.0.1/2), v6vip; leave with: poweroff -f
TEXT
exec go run ./tools/vmrun shell "${args[@]}"
