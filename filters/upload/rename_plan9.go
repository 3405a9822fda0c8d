package upload

import (
	"errors"
	"os"
)

// crossDevice reports whether a rename failed because it would move the
// file to another directory, which Plan 9 cannot do.
func crossDevice(err error) bool { return errors.Is(err, os.ErrInvalid) }
