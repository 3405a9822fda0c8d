package filtertest

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// Recorder is an [http.ResponseWriter] that records what a handler does
// with it: the final status, the header map as it was when the headers went
// out, the body, and the order of events (headers, writes, flushes, hijack),
// so a test can assert that a filter flushed after the first chunk.
//
// It behaves as net/http's writer does where a handler can tell: Write and
// Flush send the headers with status 200 first when WriteHeader was not
// called; informational 1xx statuses (but 101) go out before the final one;
// a WriteHeader call after the final status is ignored; WriteHeader panics
// for a status outside 100..999. Unlike a server's writer it keeps every
// body byte, even for HEAD requests or a 204, so a test sees what the
// handler tried to send; use [Lint] to judge it.
//
// A Recorder implements [http.Flusher]. [NewWriter] returns a writer into a
// Recorder with any other set of optional interfaces.
//
// The zero Recorder is ready to use. Like any ResponseWriter, it belongs to
// the goroutine serving the request: read it after the handler returned.
type Recorder struct {
	// Code is the final status: 0 until the headers are sent, then the
	// status of the first WriteHeader with a final status (200..999, or
	// 101), or 200 when the handler wrote or flushed first.
	Code int
	// Body holds the body bytes written with Write, WriteString and
	// ReadFrom.
	Body bytes.Buffer
	// Events lists what happened, in order.
	Events []Event

	header   http.Header
	sent     http.Header
	hijacked bool
	peer     net.Conn
}

// NewRecorder returns a new, empty Recorder.
func NewRecorder() *Recorder { return &Recorder{header: make(http.Header)} }

// Header returns the header map the handler changes. Changes after the
// headers were sent do not show in [Recorder.SentHeader].
func (r *Recorder) Header() http.Header {
	if r.header == nil {
		r.header = make(http.Header)
	}
	return r.header
}

// SentHeader returns a copy of the header map taken when the final status
// went out, or nil before that: what a client would have received.
func (r *Recorder) SentHeader() http.Header { return r.sent }

// Hijacked reports whether the handler hijacked the connection.
func (r *Recorder) Hijacked() bool { return r.hijacked }

// WriteHeader sends the status and the headers.
func (r *Recorder) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic("invalid WriteHeader code " + strconv.Itoa(code))
	}
	if r.hijacked || r.Code != 0 {
		return // net/http logs these and sends nothing
	}
	r.record(Event{Kind: EventHeader, N: int64(code)})
	if code >= 200 || code == http.StatusSwitchingProtocols {
		r.Code = code
		r.sent = r.Header().Clone()
	}
}

// ensureHeader sends status 200 when no final status was sent.
func (r *Recorder) ensureHeader() {
	if r.Code == 0 {
		r.WriteHeader(http.StatusOK)
	}
}

// Write appends p to Body, sending the headers first when they were not
// sent. After a hijack it returns [http.ErrHijacked].
func (r *Recorder) Write(p []byte) (int, error) {
	if r.hijacked {
		return 0, http.ErrHijacked
	}
	r.ensureHeader()
	r.record(Event{Kind: EventWrite, N: int64(len(p))})
	return r.Body.Write(p)
}

// WriteString is Write for a string.
func (r *Recorder) WriteString(s string) (int, error) {
	if r.hijacked {
		return 0, http.ErrHijacked
	}
	r.ensureHeader()
	r.record(Event{Kind: EventWrite, N: int64(len(s))})
	return r.Body.WriteString(s)
}

// Flush records a flush, sending the headers first when they were not
// sent. After a hijack it does nothing.
func (r *Recorder) Flush() {
	if r.hijacked {
		return
	}
	r.ensureHeader()
	r.record(Event{Kind: EventFlush})
}

// readFrom copies src into Body, for the writers [NewWriter] returns.
func (r *Recorder) readFrom(src io.Reader) (int64, error) {
	if r.hijacked {
		return 0, http.ErrHijacked
	}
	r.ensureHeader()
	n, err := r.Body.ReadFrom(src)
	r.record(Event{Kind: EventReadFrom, N: n})
	return n, err
}

func (r *Recorder) record(e Event) { r.Events = append(r.Events, e) }

// String lists the events, such as "header 200, write 5, flush, write 3";
// see [Event.String].
func (r *Recorder) String() string {
	var b strings.Builder
	for i, e := range r.Events {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.String())
	}
	return b.String()
}
