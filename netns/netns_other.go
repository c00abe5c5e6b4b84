//go:build !linux

package netns

import (
	"errors"
	"fmt"
)

// errNoNamespaces is what every namespace operation returns off Linux.
var errNoNamespaces = fmt.Errorf("network namespaces: %w (they are Linux's)", errors.ErrUnsupported)

// Open fails: network namespaces are Linux's.
func Open(nameOrPath string) (int, error) { return -1, errNoNamespaces }

// Do runs fn directly for an empty nameOrPath and fails otherwise: network
// namespaces are Linux's.
func Do(nameOrPath string, fn func() error) error {
	if nameOrPath == "" {
		return fn()
	}
	return errNoNamespaces
}

// ID fails: network namespaces are Linux's.
func ID(nameOrPath string) (uint64, error) { return 0, errNoNamespaces }

// Scratch fails: network namespaces are Linux's.
func Scratch(fn func(path string) error) error { return errNoNamespaces }

// LoopbackUp fails: network namespaces are Linux's.
func LoopbackUp(nameOrPath string) error { return errNoNamespaces }

// Sockets opens sockets in a network namespace: Linux's.
type Sockets struct{}

// NewSockets fails: network namespaces are Linux's.
func NewSockets(nameOrPath string) (*Sockets, error) { return nil, errNoNamespaces }

// Socket fails: network namespaces are Linux's.
func (s *Sockets) Socket(domain, typ, proto int) (int, error) { return -1, errNoNamespaces }

// Close does nothing.
func (s *Sockets) Close() {}
