package fcgi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	ifcgi "github.com/wsapi-go/wsapi/internal/fcgi"
)

// FuzzParseParams: any bytes decode without a panic, and every pair lies
// inside the input.
func FuzzParseParams(f *testing.F) {
	f.Add(ifcgi.AppendParams(nil, "SCRIPT_NAME", "/app"))
	f.Add([]byte{0x80, 0, 0, 1, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		total := 0
		err := ifcgi.ParseParams(b, func(n, v []byte) bool {
			total += len(n) + len(v)
			return true
		})
		if total > len(b) {
			t.Fatalf("pairs of %d bytes from %d", total, len(b))
		}
		if err != nil && !errors.Is(err, ifcgi.ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
	})
}

// FuzzClientResponse: whatever a responder sends back, the client returns
// an answer or an error, and never panics or hangs.
func FuzzClientResponse(f *testing.F) {
	rec := func(typ byte, c string) string {
		return string([]byte{1, typ, 0, 1, byte(len(c) >> 8), byte(len(c)), 0, 0}) + c
	}
	end := rec(3, "\x00\x00\x00\x00\x00\x00\x00\x00")
	f.Add([]byte(rec(6, "Status: 404\r\nX: y\r\n\r\nbody") + rec(6, "") + end))
	f.Add([]byte(rec(7, "oops\n") + rec(6, "\r\n") + end))
	f.Add([]byte(rec(6, "Status: 2")))
	f.Add([]byte{1, 6, 0, 1, 0xff, 0xff, 0xff, 0})
	f.Fuzz(func(t *testing.T, answer []byte) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Skip(err)
		}
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			var h [8]byte
			for { // read the request, up to the empty stdin record
				if _, err := io.ReadFull(c, h[:]); err != nil {
					return
				}
				n := int(h[4])<<8 | int(h[5]) + int(h[6])
				if _, err := io.CopyN(io.Discard, c, int64(n)); err != nil {
					return
				}
				if h[1] == ifcgi.TypeStdin && n == 0 {
					break
				}
			}
			_, _ = c.Write(answer)
		}()
		c := &ifcgi.Client{Network: "tcp", Address: ln.Addr().String(), ResponseTimeout: 2 * time.Second, MaxHeaderBytes: 4096}
		defer c.Close()
		resp, err := c.Do(context.Background(), &ifcgi.Request{Params: ifcgi.AppendParams(nil, "REQUEST_METHOD", "GET")})
		if err != nil {
			return
		}
		if resp.Status < 100 || resp.Status > 999 {
			t.Fatalf("status %d", resp.Status)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	})
}

// FuzzTap: whatever a web server sends, a Tap passes it through; it adds
// bytes only for a params stream holding the tapped name.
func FuzzTap(f *testing.F) {
	params := ifcgi.AppendParams(nil, "SCRIPT_NAME", "/app")
	var stream []byte
	stream = ifcgi.AppendBeginRequest(stream, 1, ifcgi.RoleResponder, ifcgi.FlagKeepConn)
	stream = ifcgi.AppendRecord(stream, ifcgi.TypeParams, 1, params)
	stream = ifcgi.AppendEnd(stream, ifcgi.TypeParams, 1)
	stream = ifcgi.AppendEnd(stream, ifcgi.TypeStdin, 1)
	f.Add(stream)
	f.Add([]byte{1, 4, 0, 1, 0, 3, 5, 0, 0x80, 1})
	f.Add([]byte{9, 9, 9})
	f.Fuzz(func(t *testing.T, in []byte) {
		a, b := net.Pipe()
		go func() {
			_, _ = a.Write(in)
			a.Close()
		}()
		out, err := io.ReadAll(ifcgi.Tap(b, "x.", "SCRIPT_NAME"))
		b.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, in) && !bytes.Contains(in, []byte("SCRIPT_NAME")) {
			t.Fatalf("tap changed a stream without the name:\n in %q\nout %q", in, out)
		}
		if len(out) < len(in) {
			t.Fatalf("tap dropped bytes: %d in, %d out", len(in), len(out))
		}
	})
}
