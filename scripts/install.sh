#!/usr/bin/env bash
# Builds and installs ipvs-tools: ipvsadm (with ipvsadm-save and
# ipvsadm-restore as links to it), ipvsctl, the man pages, the bash, zsh
# and fish completions, the systemd units with their helper, the license
# and the default settings. tools/pkg builds the .deb and .rpm from this
# script's manifest and staging.
#
#   scripts/install.sh [VAR=value...]            build and install
#   scripts/install.sh --uninstall [VAR=value...] remove what install puts
#   scripts/install.sh --list [VAR=value...]     print what install puts
#   scripts/install.sh --check [VAR=value...]    name the files install or
#                                                uninstall would take from
#                                                an installed package
#   scripts/install.sh --force [VAR=value...]    install (or uninstall) even
#                                                over a package's files
#
# Variables (from the environment or as arguments, like make):
#
#   DESTDIR         staging root, prepended to every path (default empty)
#   PREFIX          /usr/local
#   SBINDIR         $PREFIX/sbin
#   LIBEXECDIR      $PREFIX/libexec (the units' helper goes in ipvs-tools/)
#   DATADIR         $PREFIX/share
#   MANDIR          $DATADIR/man
#   BASHCOMPDIR     $DATADIR/bash-completion/completions
#   ZSHCOMPDIR      $DATADIR/zsh/vendor-completions with PREFIX=/usr,
#                   else $DATADIR/zsh/site-functions
#   FISHCOMPDIR     $DATADIR/fish/vendor_completions.d
#   SYSTEMDUNITDIR  /usr/lib/systemd/system with PREFIX=/usr,
#                   else $PREFIX/lib/systemd/system
#   SYSCONFDIR      /etc (default/ipvsadm and ipvsadm.rules; never
#                   overwritten when they exist)
#   BINARIES        a directory with prebuilt ipvsadm (and ipvsctl): no build
#   GO              the go command (default: go, or /usr/local/go/bin/go)
#   VERSION         ipvsctl's version (default: git describe, else "dev")
#   FORCE           1: as --force
#
# Without DESTDIR, install and uninstall first ask dpkg-query (and rpm,
# where it exists) whether a package owns any of the paths they would
# write or remove (a distribution's ipvsadm owns /usr/sbin/ipvsadm, as
# /sbin/ipvsadm); if one does they name the files and stop, having changed
# nothing. With DESTDIR (staging) nothing is checked.
#
# Packagers: DESTDIR=/tmp/stage PREFIX=/usr scripts/install.sh
set -euo pipefail

mode=install
for arg in "$@"; do
	case $arg in
	--uninstall) mode=uninstall ;;
	--list) mode=list ;;
	--check) mode=check ;;
	--force) FORCE=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
		exit 0
		;;
	[A-Z]*=*)
		name=${arg%%=*}
		case $name in
		DESTDIR | PREFIX | SBINDIR | LIBEXECDIR | DATADIR | MANDIR | BASHCOMPDIR | ZSHCOMPDIR | FISHCOMPDIR | \
			SYSTEMDUNITDIR | SYSCONFDIR | BINARIES | GO | VERSION | FORCE)
			export "$arg" ;;
		*)
			echo "install.sh: unknown variable $name" >&2
			exit 2
			;;
		esac
		;;
	*)
		echo "install.sh: unknown argument $arg (see --help)" >&2
		exit 2
		;;
	esac
done

root=$(cd "$(dirname "$0")/.." && pwd)

DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
PREFIX=${PREFIX%/}
SBINDIR=${SBINDIR:-$PREFIX/sbin}
LIBEXECDIR=${LIBEXECDIR:-$PREFIX/libexec}
DATADIR=${DATADIR:-$PREFIX/share}
MANDIR=${MANDIR:-$DATADIR/man}
BASHCOMPDIR=${BASHCOMPDIR:-$DATADIR/bash-completion/completions}
if [[ $PREFIX == /usr ]]; then
	ZSHCOMPDIR=${ZSHCOMPDIR:-$DATADIR/zsh/vendor-completions}
	SYSTEMDUNITDIR=${SYSTEMDUNITDIR:-/usr/lib/systemd/system}
else
	ZSHCOMPDIR=${ZSHCOMPDIR:-$DATADIR/zsh/site-functions}
	SYSTEMDUNITDIR=${SYSTEMDUNITDIR:-$PREFIX/lib/systemd/system}
fi
FISHCOMPDIR=${FISHCOMPDIR:-$DATADIR/fish/vendor_completions.d}
SYSCONFDIR=${SYSCONFDIR:-/etc}
SYSCONFDIR=${SYSCONFDIR%/}
helperdir=$LIBEXECDIR/ipvs-tools

for v in PREFIX SBINDIR LIBEXECDIR DATADIR MANDIR BASHCOMPDIR ZSHCOMPDIR FISHCOMPDIR SYSTEMDUNITDIR SYSCONFDIR; do
	if [[ ${!v} != /* ]]; then
		echo "install.sh: $v=${!v} is not an absolute path" >&2
		exit 2
	fi
done

# The programs: ./cmd/ipvsadm always, ./cmd/ipvsctl once it exists.
programs=(ipvsadm)
[[ -d $root/cmd/ipvsctl ]] && programs+=(ipvsctl)

# The manifest: one line per installed path, "kind path [source|target]":
#   file MODE PATH SOURCE   a file, copied (units and helper edited)
#   link PATH TARGET        a symbolic link
#   conf PATH SOURCE        a file installed only if absent, never removed
manifest() {
	local p f
	for p in "${programs[@]}"; do
		echo "file 0755 $SBINDIR/$p bin:$p"
	done
	echo "link $SBINDIR/ipvsadm-save ipvsadm"
	echo "link $SBINDIR/ipvsadm-restore ipvsadm"
	for f in "$root"/man/*.8 "$root"/man/*/*.8; do
		[[ -e $f ]] || continue
		echo "file 0644 $MANDIR/man8/${f##*/} ${f#"$root"/}"
	done
	echo "file 0644 $BASHCOMPDIR/ipvsadm completions/ipvsadm.bash"
	echo "link $BASHCOMPDIR/ipvsadm-save ipvsadm"
	echo "link $BASHCOMPDIR/ipvsadm-restore ipvsadm"
	echo "file 0644 $ZSHCOMPDIR/_ipvsadm completions/_ipvsadm"
	echo "file 0644 $FISHCOMPDIR/ipvsadm.fish completions/ipvsadm.fish"
	echo "link $FISHCOMPDIR/ipvsadm-save.fish ipvsadm.fish"
	echo "link $FISHCOMPDIR/ipvsadm-restore.fish ipvsadm.fish"
	# ipvsctl's completions, generated by cobra, once they are checked in.
	[[ -e $root/completions/ipvsctl.bash ]] && echo "file 0644 $BASHCOMPDIR/ipvsctl completions/ipvsctl.bash"
	[[ -e $root/completions/_ipvsctl ]] && echo "file 0644 $ZSHCOMPDIR/_ipvsctl completions/_ipvsctl"
	[[ -e $root/completions/ipvsctl.fish ]] && echo "file 0644 $FISHCOMPDIR/ipvsctl.fish completions/ipvsctl.fish"
	echo "file 0644 $SYSTEMDUNITDIR/ipvsadm.service dist/ipvsadm.service"
	echo "file 0644 $SYSTEMDUNITDIR/ipvsadm-sync.service dist/ipvsadm-sync.service"
	echo "file 0644 $SYSTEMDUNITDIR/ipvsctl-agent.service dist/ipvsctl-agent.service"
	echo "file 0644 $SYSTEMDUNITDIR/ipvsctl-fleet-agent.service dist/ipvsctl-fleet-agent.service"
	echo "file 0755 $helperdir/ipvsadm-service dist/ipvsadm-service"
	echo "file 0644 $DATADIR/doc/ipvs-tools/LICENSE LICENSE"
	echo "conf $SYSCONFDIR/default/ipvsadm dist/default.ipvsadm"
	echo "conf $SYSCONFDIR/ipvsadm.rules dist/ipvsadm.rules"
}

if [[ $mode == list ]]; then
	manifest
	exit 0
fi

# aliases PATH: the names a package database may know PATH by: PATH, PATH
# with its directory's symbolic links resolved, and with merged /usr (/sbin
# a link to usr/sbin) the name without /usr that packages still ship.
aliases() {
	local p=$1 dir base canon top
	dir=$(dirname "$p") base=${p##*/}
	canon=$(realpath -m "$dir" 2>/dev/null || echo "$dir")/$base
	echo "$p"
	[[ $canon != "$p" ]] && echo "$canon"
	for top in /bin /sbin /lib /lib32 /lib64 /libx32; do
		if [[ $canon == /usr$top/* && -L $top && $(realpath -m "$top") == "/usr$top" ]]; then
			echo "$top${canon#/usr"$top"}"
		fi
	done
	return 0
}

# owned: "PATH<tab>PACKAGES<tab>NAME" for each path install or uninstall
# writes (files and links; settings are never overwritten) that a package
# owns under NAME, one of the path's aliases.
owned() {
	local kind a b _ p q line pkgs
	local -a names=() of=()
	while read -r kind a b _; do
		case $kind in
		file) p=$b ;;
		link) p=$a ;;
		*) continue ;;
		esac
		while read -r q; do
			names+=("$q")
			of+=("$p")
		done < <(aliases "$p")
	done < <(manifest)
	((${#names[@]})) || return 0
	declare -A owner=()
	if command -v dpkg-query >/dev/null; then
		# "pkg1, pkg2: /path" per owned path; diversions are not owners.
		while IFS= read -r line; do
			[[ $line == diversion* || $line != *": /"* ]] && continue
			owner[${line#*: }]=${line%%: *}
		done < <(dpkg-query -S "${names[@]}" 2>/dev/null || true)
	fi
	# rpm, unless its database is empty (as on Debian with rpm installed).
	if command -v rpm >/dev/null && [[ -n $(rpm -qa --qf 'x\n' 2>/dev/null | head -n1) ]]; then
		for q in "${names[@]}"; do
			[[ -n ${owner[$q]:-} ]] && continue
			if pkgs=$(rpm -qf --qf '%{NAME}\n' "$q" 2>/dev/null); then
				owner[$q]=$(echo "$pkgs" | sort -u | paste -sd, - | sed 's/,/, /g')
			fi
		done
	fi
	declare -A seen=()
	local i
	for i in "${!names[@]}"; do
		q=${names[$i]} p=${of[$i]}
		if [[ -n ${owner[$q]:-} && -z ${seen[$p]:-} ]]; then
			seen[$p]=1
			printf '%s\t%s\t%s\n' "$p" "${owner[$q]}" "$q"
		fi
	done
}

# describe: owned's lines for people.
describe() {
	local p pkgs q
	while IFS=$'\t' read -r p pkgs q; do
		if [[ $q == "$p" ]]; then
			echo "  $p (package $pkgs)"
		else
			echo "  $p (package $pkgs, listed as $q)"
		fi
	done
}

# refuse_owned VERB: stop before VERB touches a package's files, unless
# FORCE=1, DESTDIR is set, or no package owns any.
refuse_owned() {
	local verb=$1 found what pkgs
	[[ -z $DESTDIR ]] || return 0
	found=$(owned)
	[[ -n $found ]] || return 0
	if [[ ${FORCE:-} == 1 ]]; then
		echo "install.sh: $verb over files of installed packages (FORCE):" >&2
		echo "$found" | describe >&2
		return 0
	fi
	what=overwrite
	[[ $verb == uninstall ]] && what=remove
	pkgs=$(echo "$found" | cut -f2 | tr -d ' ' | tr , '\n' | sort -u | paste -sd' ' -)
	{
		echo "install.sh: these files belong to installed packages; $verb would $what them:"
		echo "$found" | describe
		echo "Nothing was changed. Remove the package first (apt-get remove $pkgs, or dnf remove),"
		echo "or install elsewhere (PREFIX=/usr/local, the default), or run again with"
		echo "--force (FORCE=1) to $what them anyway; the package manager will not know."
	} >&2
	exit 1
}

if [[ $mode == check ]]; then
	found=$(owned)
	if [[ -n $found ]]; then
		echo "these files belong to installed packages; install.sh would overwrite them:"
		echo "$found" | describe
		exit 1
	fi
	echo "no package owns any file install.sh would write"
	exit 0
fi

if [[ $mode == uninstall ]]; then
	refuse_owned uninstall
	manifest | while read -r kind a b _; do
		case $kind in
		file) rm -f "$DESTDIR$b" && echo "removed $DESTDIR$b" ;;
		link) rm -f "$DESTDIR$a" && echo "removed $DESTDIR$a" ;;
		conf) [[ -e $DESTDIR$a ]] && echo "kept    $DESTDIR$a (settings)" ;;
		esac
	done
	rmdir "$DESTDIR$helperdir" "$DESTDIR$DATADIR/doc/ipvs-tools" 2>/dev/null || true
	exit 0
fi

refuse_owned install

# Build (statically, no cgo) unless BINARIES has them.
bindir=${BINARIES:-}
if [[ -z $bindir ]]; then
	GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
	if [[ -z ${VERSION:-} ]]; then
		VERSION=$(git -C "$root" describe --tags --always --dirty 2>/dev/null || echo dev)
	fi
	bindir=$(mktemp -d)
	trap 'rm -rf "$bindir"' EXIT
	for p in "${programs[@]}"; do
		echo "building ./cmd/$p"
		(cd "$root" && CGO_ENABLED=0 "$GO" build -trimpath -ldflags "-s -w -X main.version=$VERSION" -o "$bindir/$p" "./cmd/$p")
	done
fi
for p in "${programs[@]}"; do
	if [[ ! -x $bindir/$p ]]; then
		echo "install.sh: no executable $bindir/$p" >&2
		exit 1
	fi
done

# edit SOURCE: the file with the built-in paths replaced by the chosen ones.
edit() {
	sed -e "s|/usr/libexec/ipvs-tools/|$helperdir/|g" \
		-e "s|IPVSADM_SBIN:-/usr/sbin}|IPVSADM_SBIN:-$SBINDIR}|" \
		-e "s|/usr/sbin/ipvsctl |$SBINDIR/ipvsctl |g" \
		-e "s|/etc/ipvs/|$SYSCONFDIR/ipvs/|g" \
		-e "s|/etc/default/ipvsadm|$SYSCONFDIR/default/ipvsadm|g" \
		-e "s|/etc/ipvsadm.rules|$SYSCONFDIR/ipvsadm.rules|g" "$1"
}

manifest | while read -r kind a b c; do
	case $kind in
	file)
		perm=$a dst=$DESTDIR$b src=$c
		install -d -m 0755 "$(dirname "$dst")"
		case $src in
		bin:*) install -m "$perm" "$bindir/${src#bin:}" "$dst" ;;
		dist/*)
			edit "$root/$src" >"$dst.tmp"
			chmod "$perm" "$dst.tmp"
			mv -f "$dst.tmp" "$dst"
			;;
		*) install -m "$perm" "$root/$src" "$dst" ;;
		esac
		echo "installed $dst"
		;;
	link)
		dst=$DESTDIR$a
		install -d -m 0755 "$(dirname "$dst")"
		ln -sfn "$b" "$dst"
		echo "linked    $dst -> $b"
		;;
	conf)
		dst=$DESTDIR$a
		if [[ -e $dst ]]; then
			echo "kept      $dst (exists)"
		else
			install -d -m 0755 "$(dirname "$dst")"
			edit "$root/$b" >"$dst.tmp"
			chmod 0644 "$dst.tmp"
			mv -f "$dst.tmp" "$dst"
			echo "installed $dst"
		fi
		;;
	esac
done

# systemd reads units only from its own directories.
case $SYSTEMDUNITDIR in
/usr/lib/systemd/system | /lib/systemd/system | /etc/systemd/system | /usr/local/lib/systemd/system) unitdir_live=1 ;;
*) unitdir_live=0 ;;
esac
if [[ -z $DESTDIR && $unitdir_live == 1 ]] && command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
	systemctl daemon-reload || true
	echo "enable with: systemctl enable ipvsadm.service (and ipvsadm-sync.service)"
fi
