// Command goldens writes golden files printed by a VM test run in -update
// mode back into the source tree. The VM tests print one line per file:
//
//	@@@GOLDEN <path relative to the package> <sha256 prefix> <base64 content>
//
// Usage (from the module root):
//
//	go run ./tools/vmrun test -v -testarg -update -run TestVMGolden ./cmd/ipvsadm | go run ./tools/goldens -dir cmd/ipvsadm
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	dir := flag.String("dir", "cmd/ipvsadm", "package directory the paths are relative to")
	flag.Parse()
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n, bad := 0, 0
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		i := strings.Index(line, "@@@GOLDEN ")
		if i < 0 {
			continue
		}
		f := strings.Fields(line[i:])
		if len(f) != 4 {
			fmt.Fprintf(os.Stderr, "goldens: malformed line %q\n", line)
			bad++
			continue
		}
		rel, sum, enc := f[1], f[2], f[3]
		content, err := base64.StdEncoding.DecodeString(enc)
		h := sha256.Sum256(content)
		if err != nil || hex.EncodeToString(h[:8]) != sum {
			fmt.Fprintf(os.Stderr, "goldens: %s: corrupted on the console\n", rel)
			bad++
			continue
		}
		if filepath.IsAbs(rel) || strings.Contains(rel, "..") {
			fmt.Fprintf(os.Stderr, "goldens: refusing path %s\n", rel)
			bad++
			continue
		}
		path := filepath.Join(*dir, rel)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, content) {
			n++
			continue
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "goldens: %v\n", err)
			bad++
			continue
		}
		fmt.Printf("wrote %s\n", path)
		n++
	}
	fmt.Printf("goldens: %d files, %d problems\n", n, bad)
	if bad > 0 || n == 0 {
		os.Exit(1)
	}
}
