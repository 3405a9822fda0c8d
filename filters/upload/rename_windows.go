package upload

import (
	"errors"
	"syscall"
)

// crossDevice reports whether a rename failed because the two paths are on
// different volumes (ERROR_NOT_SAME_DEVICE).
func crossDevice(err error) bool {
	return errors.Is(err, syscall.Errno(17)) || errors.Is(err, syscall.EXDEV)
}
