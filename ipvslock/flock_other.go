//go:build !unix

package ipvslock

import "os"

func tryLock(f *os.File) (bool, error) { return false, errUnsupported }

func unlock(f *os.File) error { return errUnsupported }
