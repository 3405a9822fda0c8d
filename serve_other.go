//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package wsapi

import (
	"net"
	"os"
)

// stdinListens reports false: this system cannot tell a listening socket
// on standard input; use Launcher.FastCGIAddr.
func stdinListens(*os.File) bool { return false }

// listenUnix listens on the unix socket at path.
func listenUnix(path string) (net.Listener, error) { return net.Listen("unix", path) }
