// Package bench holds the benchmark scripts that run inside the test VM
// and the Go benchmarks that run them at full size:
//
//	go run ./tools/vmrun bench ./bench                 both scripts, full size
//	go run ./tools/vmrun bench bench/vm-restore.sh     one script, as it is
//
// TestVMRestoreBench runs vm-restore.sh at a reduced size in the gate
// (scripts/test.sh), so that its equality checks run on every change.
package bench

import _ "embed"

// RestoreScript is vm-restore.sh.
//
//go:embed vm-restore.sh
var RestoreScript string

// FoundationScript is vm-foundation.sh.
//
//go:embed vm-foundation.sh
var FoundationScript string
