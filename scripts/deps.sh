# shellcheck shell=bash
# Sourced by scripts/test.sh and scripts/playground.sh: installs the Debian
# packages the tests and the VM playground need, if any is missing, and
# makes sure the package lists know the kernel package vmrun downloads.
# Needs root (apt-get) only when something is missing.

# netbase gives /etc/services and /etc/protocols, which the guest copies.
# groff-base and man-db render the man pages, zsh and fish check the
# completion scripts, systemd's systemd-analyze verifies the units.
ipvs_deps_packages=(qemu-system-x86 busybox-static ipvsadm iproute2 netbase groff-base man-db zsh fish systemd)

ipvs_deps_install() {
	local p missing=()
	for p in "${ipvs_deps_packages[@]}"; do
		if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
			missing+=("$p")
		fi
	done
	# vmrun asks apt-cache which kernel package is current, so the package
	# lists must know linux-image-amd64 too.
	if ((${#missing[@]})) || ! apt-cache show linux-image-amd64 >/dev/null 2>&1; then
		echo "apt-get update (missing: ${missing[*]:-none}; or no package lists)"
		apt-get update
	fi
	if ((${#missing[@]})); then
		echo "installing: ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
	else
		echo "all installed: ${ipvs_deps_packages[*]}"
	fi
}
