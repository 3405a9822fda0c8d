//go:build linux || darwin || freebsd || netbsd || openbsd

package fcgi

import (
	"errors"
	"net"
	"syscall"
)

// idleAlive reports whether an idle connection may carry another request:
// the responder has neither closed it nor sent anything on it since its
// last answer (a peek that does not wait finds nothing to read).
func idleAlive(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	alive := false
	var b [1]byte
	cerr := rc.Control(func(fd uintptr) {
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		alive = errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK)
	})
	return cerr == nil && alive
}
