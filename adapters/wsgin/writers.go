package wsgin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"

	"github.com/gin-gonic/gin"
)

// base is the writer the filters wrap. It writes through gin's writer (gw),
// so that gin's bookkeeping sees the status and the bytes, and its
// generated variants (writers_gen.go) have exactly the optional interfaces
// of under, the writer below gin's (see abilities).
type base struct {
	gw    gin.ResponseWriter
	under http.ResponseWriter
}

// init readies b for gin's writer gw. under is the first writer below gw,
// through Unwrap, that is not a gin.ResponseWriter: the server's writer
// below gin's own, also when gin middleware wrapped gin's writer in one
// with Unwrap; or the filter's writer below the gin writer of an outer
// adapter. When a gin.ResponseWriter on the way has no Unwrap, nothing
// below it can be seen, and under is that writer.
func (b *base) init(gw gin.ResponseWriter) {
	b.gw, b.under = gw, gw
	for g := gw; ; {
		u, ok := g.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w := u.Unwrap()
		if w == nil {
			return
		}
		b.under = w
		if g, ok = w.(gin.ResponseWriter); !ok {
			return
		}
	}
}

// abilities returns the optional interfaces b's writer has: those of
// under, but io.ReaderFrom only when the bytes would not skip a gin
// middleware's writer (readFrom sends them to under, below gin's writer,
// unless gw has ReadFrom itself).
func (b *base) abilities() int {
	bits := abilities(b.under)
	if bits&canReadFrom != 0 {
		if _, ok := b.gw.(io.ReaderFrom); !ok {
			if _, wrapped := unwrap(b.gw).(gin.ResponseWriter); wrapped {
				bits &^= canReadFrom
			}
		}
	}
	return bits
}

// unwrap returns the writer w's Unwrap returns, or nil.
func unwrap(w http.ResponseWriter) http.ResponseWriter {
	if u, ok := w.(interface{ Unwrap() http.ResponseWriter }); ok {
		return u.Unwrap()
	}
	return nil
}

// ginWriter returns the last gin.ResponseWriter reached from gw through
// Unwrap: gin's own writer, below the writers gin middleware wrapped it in
// (when they have Unwrap), which is what Engine.HandleContext resets
// c.Writer to.
func ginWriter(gw gin.ResponseWriter) gin.ResponseWriter {
	for {
		g, ok := unwrap(gw).(gin.ResponseWriter)
		if !ok {
			return gw
		}
		gw = g
	}
}

// same reports whether a and b are the same gin writer. Only pointers are
// compared (gin's own writer is one): == on two values of one incomparable
// type would panic.
func same(a, b gin.ResponseWriter) bool {
	t := reflect.TypeOf(a)
	return t == reflect.TypeOf(b) && t.Kind() == reflect.Pointer && a == b
}

// Header returns gin's header map.
func (b *base) Header() http.Header { return b.gw.Header() }

// WriteHeader sends the status now: gin's own WriteHeader only records it.
// An informational status (1xx but 101) goes straight below gin's writer,
// which would otherwise take it for the final one.
func (b *base) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		b.under.WriteHeader(code)
		return
	}
	b.gw.WriteHeader(code)
	b.gw.WriteHeaderNow()
}

// Write writes through gin's writer.
func (b *base) Write(p []byte) (int, error) { return b.gw.Write(p) }

// WriteString writes through gin's writer.
func (b *base) WriteString(s string) (int, error) { return b.gw.WriteString(s) }

// Unwrap returns the writer below gin's, for http.ResponseController.
func (b *base) Unwrap() http.ResponseWriter { return b.under }

func (b *base) flush() { b.gw.Flush() }

func (b *base) hijack() (net.Conn, *bufio.ReadWriter, error) { return b.gw.Hijack() }

// readFrom keeps sendfile: gin's writer has no ReadFrom, so the bytes go
// below it after the headers went out through it (and are missing from
// its Size).
func (b *base) readFrom(src io.Reader) (int64, error) {
	if rf, ok := b.gw.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	b.gw.WriteHeaderNow()
	return b.under.(io.ReaderFrom).ReadFrom(src)
}

func (b *base) push(target string, opts *http.PushOptions) error {
	return b.under.(http.Pusher).Push(target, opts)
}

// front is the gin.ResponseWriter gin's handlers get: gin's writer
// semantics on the writer the filter handed on (w).
type front struct {
	w      http.ResponseWriter
	ctx    context.Context
	status int
	size   int // -1 until the headers are out
}

const noWritten = -1

var (
	errHijackAfterBody = errors.New("wsgin: hijack after the response body was written")
	errNoHijack        = fmt.Errorf("wsgin: the server's writer cannot hijack the connection: %w", http.ErrNotSupported)
)

// init readies f for the filter's writer w, with the status gin's writer
// had (200, or the status gin or a middleware set before the adapter).
func (f *front) init(w http.ResponseWriter, ctx context.Context, status int) {
	*f = front{w: w, ctx: ctx, status: status, size: noWritten}
}

// Header returns the header map of the filter's writer.
func (f *front) Header() http.Header { return f.w.Header() }

// WriteHeader records the status, which goes out with the first byte,
// a Flush or WriteHeaderNow, as in gin. An informational status (1xx but
// 101) goes out at once.
func (f *front) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		if !f.Written() {
			f.w.WriteHeader(code)
		}
		return
	}
	if code > 0 && f.status != code {
		if f.Written() {
			if gin.IsDebugging() {
				fmt.Fprintf(gin.DefaultWriter, "[GIN-debug] [WARNING] Headers were already written. Wanted to override status code %d with %d\n", f.status, code)
			}
			return
		}
		f.status = code
	}
}

// WriteHeaderNow sends the recorded status and the headers, once.
func (f *front) WriteHeaderNow() {
	if !f.Written() {
		f.size = 0
		f.w.WriteHeader(f.status)
	}
}

// Write sends the headers when they are not out, then p.
func (f *front) Write(p []byte) (int, error) {
	f.WriteHeaderNow()
	n, err := f.w.Write(p)
	f.size += n
	return n, err
}

// WriteString sends the headers when they are not out, then s.
func (f *front) WriteString(s string) (int, error) {
	f.WriteHeaderNow()
	n, err := io.WriteString(f.w, s)
	f.size += n
	return n, err
}

// Status returns the status recorded or sent.
func (f *front) Status() int { return f.status }

// Size returns the body bytes written, -1 before the headers are out.
func (f *front) Size() int { return f.size }

// Written reports whether the headers are out.
func (f *front) Written() bool { return f.size != noWritten }

// Flush sends the headers when they are not out and flushes, when the
// filter's writer can.
func (f *front) Flush() {
	f.WriteHeaderNow()
	if fl, ok := f.w.(http.Flusher); ok {
		fl.Flush()
	}
}

// Hijack takes over the connection, as gin allows it: before any body byte
// was written.
func (f *front) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if f.size > 0 {
		return nil, nil, errHijackAfterBody
	}
	hj, ok := f.w.(http.Hijacker)
	if !ok {
		return nil, nil, errNoHijack
	}
	if f.size < 0 {
		f.size = 0
	}
	return hj.Hijack()
}

// CloseNotify returns a channel that receives true when the request's
// context is done (the client went away, or the request ended), as gin's
// Stream expects.
//
// Deprecated: use the request's context, as http.CloseNotifier says.
func (f *front) CloseNotify() <-chan bool {
	ch := make(chan bool, 1)
	context.AfterFunc(f.ctx, func() { ch <- true })
	return ch
}

// Pusher returns the filter's writer as an http.Pusher, or nil.
func (f *front) Pusher() http.Pusher {
	p, _ := f.w.(http.Pusher)
	return p
}

// Unwrap returns the filter's writer, for http.ResponseController.
func (f *front) Unwrap() http.ResponseWriter { return f.w }

func (f *front) readFrom(src io.Reader) (int64, error) {
	f.WriteHeaderNow()
	n, err := f.w.(io.ReaderFrom).ReadFrom(src)
	f.size += int(n)
	return n, err
}

func (f *front) push(target string, opts *http.PushOptions) error {
	return f.w.(http.Pusher).Push(target, opts)
}

// abilities returns the bit set of optional interfaces w implements.
func abilities(w http.ResponseWriter) int {
	var bits int
	if _, ok := w.(http.Flusher); ok {
		bits |= canFlush
	}
	if _, ok := w.(http.Hijacker); ok {
		bits |= canHijack
	}
	if _, ok := w.(io.ReaderFrom); ok {
		bits |= canReadFrom
	}
	if _, ok := w.(http.Pusher); ok {
		bits |= canPush
	}
	return bits
}

const (
	canFlush = 1 << iota
	canHijack
	canReadFrom
	canPush
)
