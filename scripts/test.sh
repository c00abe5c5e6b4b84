#!/usr/bin/env bash
# The project's test command, for a developer's machine and for CI alike
# (Debian 12, root, Go in /usr/local/go):
#
#   1. installs the Debian packages the VM tests need, if any is missing;
#   2. go vet, gofmt and the unit tests on the host (VM tests skip there);
#   3. the VM tests: go run ./tools/vmrun test runs every TestVM* test as
#      a job of its own in QEMU guests with Debian's kernels, pinned in
#      internal/vm/kernels.txt (downloaded once into the cache,
#      $IPVS_VM_CACHE or ~/.cache/ipvs-vm): one guest per host CPU at once,
#      each taking the next job when done; the ipvsadm differential suite
#      and golden cases on 5.10, 6.1 and 6.12, the rest on 6.1. It prints
#      every job's result with its kernel, each guest's time against its
#      budget, and the kernel versions booted.
#
# Benchmarks (scale and speed against ipvsadm 1.31) are not part of this:
# go run ./tools/vmrun bench (see the README).
#
# Exits non-zero on the first failure.
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
# go and the VM cache both need a home directory.
export HOME="${HOME:-/root}"

# The programs are static, built without cgo (tools/pkg, vmrun); the host
# checks are too, so that the VM's test binaries and guest commands reuse
# their compiled packages instead of compiling everything again.
export CGO_ENABLED=0

started=$(date +%s)
section() {
	printf '\n==== %s (%ss)\n' "$*" "$(($(date +%s) - started))"
}

section "Debian packages"
# shellcheck source=scripts/deps.sh
source scripts/deps.sh
ipvs_deps_install

if ! command -v go >/dev/null; then
	echo "test.sh: no go command (expected in /usr/local/go/bin)" >&2
	exit 1
fi
go version

# The pinned kernels are downloaded and extracted (mostly waiting for the
# network) while the host checks run; vmrun test takes the cache's lock
# and does whatever this left undone, reporting its errors itself.
fetchlog=$(mktemp)
go run ./tools/vmrun kernels -fetch >"$fetchlog" 2>&1 &
fetchpid=$!

section "go vet ./..."
go vet ./...

section "gofmt -l ."
unformatted=$(gofmt -l .)
if [[ -n "$unformatted" ]]; then
	echo "not gofmt-formatted:" >&2
	echo "$unformatted" >&2
	exit 1
fi
echo "all formatted"

section "go test ./... (host; VM tests skip here)"
go test ./...

section "go run ./tools/vmrun test (VM tests in QEMU)"
if ! wait "$fetchpid"; then
	echo "(fetching the kernels ahead failed; vmrun test tries again)"
	cat "$fetchlog"
fi
rm -f "$fetchlog"
go run ./tools/vmrun test

section "done"
echo "test.sh: all passed in $(($(date +%s) - started))s"
