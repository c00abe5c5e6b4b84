// Package netns resolves network namespace names and runs code inside a
// network namespace without leaking it to other goroutines.
//
// A namespace is given either as a name, meaning /run/netns/NAME (the
// convention of "ip netns"), or as a path to an nsfs file such as
// /proc/1234/ns/net.
//
// Linux keeps the network namespace per thread. Do runs a function on a
// dedicated, locked OS thread that is switched into the namespace and back;
// the calling goroutine's thread never changes namespace, and a thread that
// cannot be switched back is destroyed rather than reused. Files whose
// namespace is fixed when they are opened (sockets, /proc/thread-self/net/*,
// /proc/sys/net/*) can be opened inside Do, or with OpenFile, and then used
// from any goroutine.
package netns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Dir is where "ip netns add" mounts named namespaces.
const Dir = "/run/netns"

// Path returns the file of the namespace nameOrPath: a value containing a
// slash is a path and is returned unchanged, anything else is a name under
// Dir.
func Path(nameOrPath string) string {
	if strings.Contains(nameOrPath, "/") {
		return nameOrPath
	}
	return filepath.Join(Dir, nameOrPath)
}

// PIDPath returns the namespace file of process pid, /proc/PID/ns/net.
func PIDPath(pid int) string {
	return fmt.Sprintf("/proc/%d/ns/net", pid)
}

// OpenFile opens the file name with the thread in the network namespace
// nameOrPath (the current one if empty), as os.OpenFile does. Files that
// take their namespace from the opener, such as /proc/thread-self/net/* and
// /proc/sys/net/*, then stay bound to that namespace and can be read and
// written from any goroutine.
func OpenFile(nameOrPath, name string, flag int, perm os.FileMode) (*os.File, error) {
	var f *os.File
	err := Do(nameOrPath, func() error {
		var err error
		f, err = os.OpenFile(name, flag, perm)
		return err
	})
	if err != nil {
		if f != nil {
			f.Close()
		}
		return nil, err
	}
	return f, nil
}

// List returns the names of the namespaces in Dir ("ip netns list"),
// sorted. A missing Dir is an empty list.
func List() ([]string, error) {
	return list(Dir)
}

func list(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, nil
}
