package filter

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

// A Gate sits between a filter and an app and decides whether the app's
// response reaches the client. Until the app sends its status, the gate
// holds the status and headers back (never the body: nothing is buffered);
// then a decide function sees them and lets the response through or drops
// it. A dropped response is discarded: the app's writes succeed and go
// nowhere, and the filter may answer in its place. Drop also closes the
// gate from outside, at any time before the headers went through (a
// deadline that passed).
//
// A mux uses a gate to let a mounted app pass a request on (a 404 with
// "X-Cascade: pass"); a deadline filter uses one to answer 503 and drop what
// the app writes later. The writer of a gate (Writer) has exactly the
// optional interfaces of the writer it wraps, and Unwrap. A Gate is safe for
// use by the app's goroutine and one other (the one that calls Drop); once
// the response went through, writes go straight to the wrapped writer and
// Drop returns at once.
type Gate struct {
	mu       sync.Mutex
	state    atomic.Uint32
	hijacked atomic.Bool
	w        http.ResponseWriter
	header   http.Header
	decide   func(code int, h http.Header) bool
	writer   http.ResponseWriter
}

// ErrDropped is returned by a gate's writer for Hijack and Push after the
// gate dropped the response: the connection is no longer the app's.
var ErrDropped = errors.New("filter: the response was dropped")

const (
	gateOpen    = iota // nothing sent yet
	gatePassed         // the headers went through; final
	gateDropped        // the response is dropped; final
)

// NewGate returns a gate in front of w. decide is called once, with the
// final status (1xx informational statuses pass straight through) and the
// headers the app set; it returns true to let the response through. A nil
// decide lets every response through, so only Drop closes the gate. The app
// starts with a copy of w's headers, and the response that goes through
// has exactly the app's headers; until then, w's own headers are not
// touched.
func NewGate(w http.ResponseWriter, decide func(code int, h http.Header) bool) *Gate {
	g := &Gate{w: w, header: w.Header().Clone(), decide: decide}
	if g.header == nil {
		g.header = make(http.Header)
	}
	g.writer = gateWriter(g, w)
	return g
}

// Writer returns the writer to hand to the app.
func (g *Gate) Writer() http.ResponseWriter { return g.writer }

// Drop closes the gate: from now on the app's response is discarded. It
// reports whether it did so, false when the headers had gone through
// already (and the response cannot be taken back). After a successful Drop
// the caller owns the writer the gate wraps and may send its own answer.
func (g *Gate) Drop() bool {
	switch g.state.Load() {
	case gatePassed:
		return false
	case gateDropped:
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state.Load() == gateOpen {
		g.state.Store(gateDropped)
	}
	return g.state.Load() == gateDropped
}

// Passed reports whether the app's headers went through.
func (g *Gate) Passed() bool { return g.state.Load() == gatePassed }

// Hijacked reports whether the app took the connection over (Hijack),
// which lets the response through without a status to decide on.
func (g *Gate) Hijacked() bool { return g.hijacked.Load() }

// Finish ends the app's turn, after it returned: an app that sent nothing
// is taken to have answered 200 with no body, as net/http would, and that
// answer is decided like any other. Trailers the app set on the header map
// it held before the headers went out are carried over. Finish reports
// whether the response went through.
func (g *Gate) Finish() bool {
	s := g.settle()
	if s == gatePassed {
		g.mu.Lock()
		g.copyTrailers()
		g.mu.Unlock()
	}
	return s == gatePassed
}

// settle decides on 200 when the gate is still open, and returns the state.
func (g *Gate) settle() uint32 {
	if s := g.state.Load(); s != gateOpen {
		return s
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state.Load() == gateOpen {
		g.commit(http.StatusOK)
	}
	return g.state.Load()
}

// commit decides on code and, when the response passes, sends the headers.
// g.mu is held.
func (g *Gate) commit(code int) {
	if g.decide != nil && !g.decide(code, g.header) {
		g.state.Store(gateDropped)
		return
	}
	setHeader(g.w.Header(), g.header)
	g.w.WriteHeader(code)
	g.state.Store(gatePassed)
}

// setHeader makes dst equal to src.
func setHeader(dst, src http.Header) {
	for k := range dst {
		if _, ok := src[k]; !ok {
			delete(dst, k)
		}
	}
	for k, v := range src {
		dst[k] = v
	}
}

// copyTrailers copies the trailers set on the app's header map after the
// headers went out. g.mu is held.
func (g *Gate) copyTrailers() {
	dst := g.w.Header()
	for k, v := range g.header {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			dst[k] = v
		}
	}
	for _, list := range g.header["Trailer"] {
		for _, k := range strings.Split(list, ",") {
			k = http.CanonicalHeaderKey(strings.TrimSpace(k))
			if v, ok := g.header[k]; ok && k != "" {
				dst[k] = v
			}
		}
	}
}

// gateW is the base of the writers a gate hands out: the methods every
// http.ResponseWriter has, plus WriteString, FlushError and Unwrap. The
// optional interfaces are added by the generated types in writers_gen.go.
type gateW struct{ g *Gate }

// Header returns the headers of the app's response.
func (w gateW) Header() http.Header {
	if w.g.state.Load() == gatePassed {
		return w.g.w.Header() // trailers, and the writer's own view
	}
	return w.g.header
}

// WriteHeader sends the status to decide. Informational 1xx statuses (but
// 101) pass through with the headers set so far, unless the gate dropped
// the response.
func (w gateW) WriteHeader(code int) {
	g := w.g
	if g.state.Load() == gatePassed {
		g.w.WriteHeader(code) // net/http reports a superfluous call
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state.Load() != gateOpen {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		// Send the app's headers with the 1xx, then put back w's own: the
		// final answer may still be dropped.
		saved := g.w.Header().Clone()
		setHeader(g.w.Header(), g.header)
		g.w.WriteHeader(code)
		setHeader(g.w.Header(), saved)
		return
	}
	g.commit(code)
}

// Write writes to the response when it went through and discards p when it
// was dropped; a first write decides on 200.
func (w gateW) Write(p []byte) (int, error) {
	if w.g.settle() == gateDropped {
		return len(p), nil
	}
	return w.g.w.Write(p)
}

// WriteString is Write for a string.
func (w gateW) WriteString(s string) (int, error) {
	if w.g.settle() == gateDropped {
		return len(s), nil
	}
	return io.WriteString(w.g.w, s)
}

// FlushError flushes the response through http.ResponseController,
// deciding on 200 first when nothing was sent; a dropped response flushes
// nothing. Over a writer that cannot flush it returns
// http.ErrNotSupported and decides nothing.
func (w gateW) FlushError() error {
	g := w.g
	if !flushable(g.w) {
		return http.ErrNotSupported
	}
	if g.settle() == gateDropped {
		return nil
	}
	return http.NewResponseController(g.w).Flush()
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w gateW) Unwrap() http.ResponseWriter { return w.g.w }

func (g *Gate) flush() { _ = gateW{g}.FlushError() }

func (g *Gate) readFrom(src io.Reader) (int64, error) {
	if g.settle() == gateDropped {
		return io.Copy(io.Discard, src)
	}
	return g.w.(io.ReaderFrom).ReadFrom(src)
}

// hijack hands the connection to the app: a gate that was open lets the
// response through, since the app now answers on the connection itself.
func (g *Gate) hijack() (net.Conn, *bufio.ReadWriter, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state.Load() == gateDropped {
		return nil, nil, ErrDropped
	}
	conn, brw, err := g.w.(http.Hijacker).Hijack()
	if err == nil {
		g.hijacked.Store(true)
		g.state.Store(gatePassed)
	}
	return conn, brw, err
}

func (g *Gate) push(target string, opts *http.PushOptions) error {
	if g.state.Load() == gateDropped {
		return ErrDropped
	}
	return g.w.(http.Pusher).Push(target, opts)
}

// flushable reports whether http.ResponseController can flush w.
func flushable(w http.ResponseWriter) bool {
	for {
		switch t := w.(type) {
		case interface{ FlushError() error }, http.Flusher:
			return true
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return false
		}
	}
}
