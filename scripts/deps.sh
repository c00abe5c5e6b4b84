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
ipvs_deps_packages=(qemu-system-x86 busybox-static ipvsadm iproute2 netbase debian-archive-keyring xz-utils
	groff-base man-db zsh fish systemd)

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
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
	else
		echo "all installed: ${ipvs_deps_packages[*]}"
	fi
}
