//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package wsapi

import "os"

// stdinListens reports false: this system cannot tell a listening socket
// on standard input; use Launcher.FastCGIAddr.
func stdinListens(*os.File) bool { return false }
