package peers

import "net/http"

// Writer is a small, reusable http.ResponseWriter for the benchmarks: it
// keeps the status, the number of body bytes and the first bytes of the
// body, and Reset makes it ready for the next request without allocating.
// Every variant is measured with it, so its cost is the same for all.
// It is an http.Flusher, as net/http's own writer is.
type Writer struct {
	h       http.Header
	status  int
	written int
	head    [64]byte
	nhead   int
}

// NewWriter returns an empty Writer.
func NewWriter() *Writer { return &Writer{h: make(http.Header, 8)} }

// Header returns the response header map.
func (w *Writer) Header() http.Header { return w.h }

// WriteHeader records the first status.
func (w *Writer) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

// Write counts p and keeps the first bytes of the body.
func (w *Writer) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.nhead += copy(w.head[w.nhead:], p)
	w.written += len(p)
	return len(p), nil
}

// Flush does nothing: there is no connection.
func (w *Writer) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
}

// Status returns the status written, or 200 when the handler wrote
// nothing (as net/http answers).
func (w *Writer) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Written returns the number of body bytes written.
func (w *Writer) Written() int { return w.written }

// Head returns the first bytes of the body (up to 64).
func (w *Writer) Head() string { return string(w.head[:w.nhead]) }

// Reset empties the writer for the next request, keeping its header map.
func (w *Writer) Reset() {
	clear(w.h)
	w.status, w.written, w.nhead = 0, 0, 0
}

var _ http.Flusher = (*Writer)(nil)
