//go:build linux || darwin || freebsd || netbsd || openbsd

package wsapi

import (
	"errors"
	"net"
	"os"
	"syscall"
	"time"
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

// listenUnix listens on the unix socket at path. A socket file left there
// by a responder that is gone (nothing accepts connections on it) is
// removed first; a live one makes it fail.
func listenUnix(path string) (net.Listener, error) {
	ln, err := net.Listen("unix", path)
	if err == nil || !errors.Is(err, syscall.EADDRINUSE) {
		return ln, err
	}
	if fi, serr := os.Lstat(path); serr != nil || fi.Mode().Type() != os.ModeSocket {
		return nil, err
	}
	c, derr := net.DialTimeout("unix", path, time.Second)
	if derr == nil {
		c.Close()
		return nil, err
	}
	if !errors.Is(derr, syscall.ECONNREFUSED) {
		return nil, err
	}
	if rerr := os.Remove(path); rerr != nil {
		return nil, err
	}
	return net.Listen("unix", path)
}
