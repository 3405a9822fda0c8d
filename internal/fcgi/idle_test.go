package fcgi

import (
	"net"
	"testing"
	"time"
)

func TestIdleAliveSeesAClosedOrDirtyConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, tt := range []struct {
		name  string
		peer  func(c net.Conn)
		alive bool
	}{
		{"an open, quiet connection", func(c net.Conn) {}, true},
		{"closed by the peer", func(c net.Conn) { c.Close() }, false},
		{"a stray record from the peer", func(c net.Conn) { _, _ = c.Write(AppendEnd(nil, TypeStdout, 1)) }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			peer, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			if !idleAlive(nc) {
				t.Fatal("a fresh connection is not alive")
			}
			tt.peer(peer)
			if tt.alive {
				if !idleAlive(nc) {
					t.Error("not alive")
				}
				return
			}
			// What the peer did reaches this end soon, but not at once.
			for i := 0; idleAlive(nc); i++ {
				if i == 1000 {
					t.Fatal("still alive")
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
