// Command pkg builds the Debian and RPM packages of ipvs-tools with
// github.com/goreleaser/nfpm/v2, from what scripts/install.sh installs:
// the one list of installed paths is install.sh's manifest (--list), and
// the files are those install.sh stages with DESTDIR and PREFIX=/usr.
//
// Usage (from anywhere in the module):
//
//	go run ./tools/pkg [-version V] [-o DIR] [-arch GOARCH] [-binaries DIR]
//
// It builds ./cmd/ipvsadm and ./cmd/ipvsctl statically (CGO_ENABLED=0,
// -trimpath, -ldflags "-s -w -X main.version=V"), unless -binaries names
// a directory that already has them; stages them with install.sh
// PREFIX=/usr into a temporary directory; and writes
// DIR/ipvs-tools_V_ARCH.deb and DIR/ipvs-tools-V.RPMARCH.rpm (-o, default
// "out"; ARCH amd64 or arm64, RPMARCH x86_64 or aarch64).
//
// The packages are named ipvs-tools, provide and conflict with ipvsadm,
// depend on nothing (the programs are static) and run no maintainer
// scripts. The rpm also obsoletes ipvsadm (rpm's replace). The deb does
// not declare Replaces: with it, "dpkg -i" on a merged /usr removes
// Debian's ipvsadm after unpacking ours, and the removal of its
// /sbin/ipvsadm deletes our /usr/sbin/ipvsadm, the same file. Without
// it, apt removes ipvsadm first and dpkg -i refuses, naming the
// conflict. Manifest lines become package entries as follows: file lines are files with their mode,
// link lines symbolic links, and conf lines (/etc/default/ipvsadm,
// /etc/ipvsadm.rules) configuration files that an upgrade never
// overwrites once edited (deb conffiles, rpm %config(noreplace)).
//
// The version is -version when given (a leading "v" dropped). Otherwise
// it comes from "git describe --tags --always --dirty":
//
//	v1.2.3                      1.2.3
//	v1.2.3-rc1                  1.2.3~rc1    (sorts before 1.2.3)
//	v1.2.3-4-gdeadbeef          1.2.3+4.gdeadbeef
//	deadbeef (no tag)           0.0~git20261203.deadbeef (the commit's UTC date)
//	any of these with -dirty    .dirty appended (+dirty after a bare tag)
//
// A version must start with a digit and hold only letters, digits and
// ".+~", which both dpkg and rpm accept and order the same way; the rpm
// release is 1. Files in the packages carry the commit's time (or now,
// without git).
package main
