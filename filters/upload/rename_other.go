//go:build !windows && !plan9

package upload

import (
	"errors"
	"syscall"
)

// crossDevice reports whether a rename failed because the two paths are on
// different file systems.
func crossDevice(err error) bool { return errors.Is(err, syscall.EXDEV) }
