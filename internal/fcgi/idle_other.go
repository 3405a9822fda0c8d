//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package fcgi

import "net"

// idleAlive reports true: this system has no cheap check that an idle
// connection is still open.
func idleAlive(net.Conn) bool { return true }
