// Package bench holds the benchmark scripts that run inside the test VM
// (go run ./tools/vmrun bench bench/SCRIPT). TestVMRestoreBench runs
// vm-restore.sh at a reduced size in CI, so that its equality checks run
// on every change.
package bench

import _ "embed"

// RestoreScript is vm-restore.sh.
//
//go:embed vm-restore.sh
var RestoreScript string
