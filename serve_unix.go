//go:build linux || darwin || freebsd || netbsd || openbsd

package wsapi

import (
	"os"
	"syscall"
)

// stdinListens reports whether f is a listening socket, as the standard
// input of a FastCGI responder that a web server or spawn-fcgi started is.
func stdinListens(f *os.File) bool {
	if f == nil {
		return false
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	listens := false
	_ = rc.Control(func(fd uintptr) {
		v, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ACCEPTCONN)
		listens = err == nil && v == 1
	})
	return listens
}
