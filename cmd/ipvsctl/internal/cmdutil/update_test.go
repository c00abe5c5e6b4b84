package cmdutil_test

// testutil defines -update; an external test imports it because testutil
// itself imports cmdutil (through factory).
import _ "github.com/ipvs-tools/ipvs/cmd/ipvsctl/internal/testutil"
