//go:build !unix

package main

import "os"

// privateDir creates dir when it is not there. Ownership is checked on
// Unix only.
func privateDir(dir string) error { return os.MkdirAll(dir, 0o700) }
