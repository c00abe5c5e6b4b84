# shellcheck shell=bash
# Sourced by scripts/test.sh and scripts/playground.sh: installs the Debian
# packages the tests and the VM playground need, if any is missing. Needs
# root (apt-get) only when something is missing. (The guest kernels are not
# among them: vmrun fetches the pinned ones itself.)

# netbase gives /etc/services and /etc/protocols, which the guest copies.
# debian-archive-keyring lets vmrun fetch the pinned kernels of Debian 11,
# 12 and 13 (internal/vm/kernels.txt) through private package lists;
# xz-utils decompresses Debian 13's .ko.xz modules.
# groff-base and man-db render the man pages, zsh and fish check the
# completion scripts, systemd's systemd-analyze verifies the units.
# keepalived is copied into the guest (/usr/sbin/keepalived) for the
# tests and benchmarks that run it beside our health-checking agent; it
# must never run on the host, see ipvs_deps_no_daemons.
ipvs_deps_packages=(qemu-system-x86 busybox-static ipvsadm iproute2 netbase debian-archive-keyring xz-utils
	groff-base man-db zsh fish systemd keepalived)

ipvs_deps_install() {
	local p missing=()
	for p in "${ipvs_deps_packages[@]}"; do
		if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
			missing+=("$p")
		fi
	done
	if ((${#missing[@]})); then
		echo "apt-get update (missing: ${missing[*]})"
		apt-get update
		echo "installing: ${missing[*]}"
		ipvs_deps_no_daemons DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 \
			apt-get install -y --no-install-recommends "${missing[@]}"
	else
		echo "all installed: ${ipvs_deps_packages[*]}"
	fi
}

# ipvs_deps_no_daemons runs its arguments (through env) with a
# /usr/sbin/policy-rc.d that forbids every service action, so that
# installing a package with a daemon (keepalived) starts nothing: Debian's
# maintainer scripts ask invoke-rc.d and deb-systemd-invoke, which ask
# policy-rc.d. A policy-rc.d the host already has is left as it is (Debian
# container images ship one that forbids everything); ours is removed
# afterwards. RUNLEVEL=1 also keeps the sysvinit scripts of older
# packages from starting. Fails if a keepalived process runs afterwards
# that did not run before.
ipvs_deps_no_daemons() {
	local policy=/usr/sbin/policy-rc.d rc=0 before after
	before=$(pgrep -x keepalived || true)
	if [[ -e $policy ]]; then
		env "$@" || rc=$?
	else
		# A subshell, so that its traps remove our policy-rc.d even
		# when the installation is interrupted.
		(
			trap 'rm -f "$policy"' EXIT
			trap 'exit 130' INT TERM
			printf '#!/bin/sh\n# scripts/deps.sh: no service starts while it installs packages\nexit 101\n' >"$policy"
			chmod 755 "$policy"
			env "$@"
		) || rc=$?
	fi
	after=$(pgrep -x keepalived || true)
	if [[ $after != "$before" ]]; then
		echo "deps.sh: installing packages started keepalived on the host (pids: $after); stop it" >&2
		return 1
	fi
	return "$rc"
}
