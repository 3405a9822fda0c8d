package filter

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
)

// A Gate sits between a filter and an app and decides whether the app's
// response reaches the client. Until the app sends its status, the gate
// holds the status and headers back; then a decide function sees them and
// lets the response through or drops it. A dropped response is discarded:
// the app's writes succeed and go nowhere, and the filter may answer in its
// place. Drop also closes the gate from outside, at any time before the
// headers went through (a deadline that passed).
//
// A mux uses a gate to let a mounted app pass a request on (a 404 with
// "X-Cascade: pass"); a deadline filter uses one to answer 503 and drop what
// the app writes later. The writer of a gate (Writer) has exactly the
// optional interfaces of the writer it wraps, and Unwrap. A Gate is safe for
// use by the app's goroutine and one other (the one that calls Drop).
type Gate struct {
	mu     sync.Mutex
	w      http.ResponseWriter
	header http.Header
	decide func(code int, h http.Header) bool
	state  uint8
	writer http.ResponseWriter
}

// ErrDropped is returned by a gate's Hijack after the gate dropped the
// response: the connection is no longer the app's to take.
var ErrDropped = errors.New("filter: the response was dropped")

const (
	gateOpen    = iota // nothing sent yet
	gatePassed         // the headers went through
	gateDropped        // the response is dropped
)

// NewGate returns a gate in front of w. decide is called once, with the
// final status (1xx informational statuses pass straight through) and the
// headers the app set; it returns true to let the response through. A nil
// decide lets every response through, so only Drop closes the gate. The app
// starts with a copy of w's headers, and the response that goes through
// has exactly the app's headers.
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
	g.mu.Lock()
	defer g.mu.Unlock()
	switch g.state {
	case gateOpen:
		g.state = gateDropped
		return true
	case gateDropped:
		return true
	}
	return false
}

// Passed reports whether the app's headers went through.
func (g *Gate) Passed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.state == gatePassed
}

// Finish ends the app's turn, after it returned: an app that sent nothing
// is taken to have answered 200 with no body, as net/http would, and that
// answer is decided like any other. It reports whether the response went
// through.
func (g *Gate) Finish() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state == gateOpen {
		g.commit(http.StatusOK)
	}
	return g.state == gatePassed
}

// commit decides on code and, when the response passes, sends the headers.
// g.mu is held.
func (g *Gate) commit(code int) {
	if g.decide != nil && !g.decide(code, g.header) {
		g.state = gateDropped
		return
	}
	g.state = gatePassed
	g.copyHeader()
	g.w.WriteHeader(code)
}

// copyHeader makes w's headers equal to the app's.
func (g *Gate) copyHeader() {
	h := g.w.Header()
	for k := range h {
		if _, ok := g.header[k]; !ok {
			delete(h, k)
		}
	}
	for k, v := range g.header {
		h[k] = v
	}
}

// Header returns the headers of the app's response.
func (g *Gate) Header() http.Header {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state == gatePassed {
		return g.w.Header() // trailers, and the writer's own view
	}
	return g.header
}

// WriteHeader sends the status to decide. Informational 1xx statuses (but
// 101) pass through with the headers set so far, unless the gate dropped
// the response.
func (g *Gate) WriteHeader(code int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch g.state {
	case gateOpen:
		if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
			g.copyHeader()
			g.w.WriteHeader(code)
			return
		}
		g.commit(code)
	case gatePassed:
		g.w.WriteHeader(code) // net/http reports a superfluous call
	}
}

// Write writes to the response when it went through and discards p when it
// was dropped; a first write decides on 200.
func (g *Gate) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state == gateOpen {
		g.commit(http.StatusOK)
	}
	if g.state == gateDropped {
		return len(p), nil
	}
	return g.w.Write(p)
}

// WriteString is Write for a string.
func (g *Gate) WriteString(s string) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state == gateOpen {
		g.commit(http.StatusOK)
	}
	if g.state == gateDropped {
		return len(s), nil
	}
	return io.WriteString(g.w, s)
}

// FlushError flushes the response through http.ResponseController, deciding
// on 200 first when nothing was sent; a dropped response flushes nothing.
func (g *Gate) FlushError() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state == gateOpen {
		g.commit(http.StatusOK)
	}
	if g.state == gateDropped {
		return nil
	}
	return http.NewResponseController(g.w).Flush()
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (g *Gate) Unwrap() http.ResponseWriter { return g.w }

func (g *Gate) flush() { _ = g.FlushError() }

func (g *Gate) readFrom(src io.Reader) (int64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state == gateOpen {
		g.commit(http.StatusOK)
	}
	if g.state == gateDropped {
		return io.Copy(io.Discard, src)
	}
	return g.w.(io.ReaderFrom).ReadFrom(src)
}

// hijack hands the connection to the app: a gate that was open lets the
// response through, since the app now answers on the connection itself.
func (g *Gate) hijack() (net.Conn, *bufio.ReadWriter, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state == gateDropped {
		return nil, nil, ErrDropped
	}
	if g.state == gateOpen {
		g.state = gatePassed
		g.copyHeader()
	}
	return g.w.(http.Hijacker).Hijack()
}

func (g *Gate) push(target string, opts *http.PushOptions) error {
	return g.w.(http.Pusher).Push(target, opts)
}
