package filter

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

//go:generate go run gen_writers.go

// The methods every wrapped writer has. The optional abilities (Flush,
// Hijack, ReadFrom, Push) are added by the generated types in
// writers_gen.go, one type per combination, so a wrapped writer has
// exactly the abilities of the writer it wraps.

// Header returns the response header map.
func (h *handle) Header() http.Header { return h.w.Header() }

// Write writes the body, sending the headers first when they are not out.
func (h *handle) Write(p []byte) (int, error) {
	if x := h.x.Load(); x != nil {
		return x.write(p)
	}
	return 0, ErrFinished
}

// WriteString writes s without converting it to a byte slice when the
// underlying writer can do the same.
func (h *handle) WriteString(s string) (int, error) {
	if x := h.x.Load(); x != nil {
		return x.writeString(s)
	}
	return 0, ErrFinished
}

// WriteHeader sends the status line and headers, running the before-headers
// hooks first. 1xx informational codes (but 101) pass straight through.
func (h *handle) WriteHeader(code int) {
	if x := h.x.Load(); x != nil {
		x.writeHeader(code)
	}
}

// FlushError flushes through http.ResponseController, so a controller's
// Flush runs the before-headers hooks too; it returns
// http.ErrNotSupported when nothing below can flush.
func (h *handle) FlushError() error {
	if x := h.x.Load(); x != nil {
		return x.flushError()
	}
	return ErrFinished
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (h *handle) Unwrap() http.ResponseWriter { return h.w }

func (h *handle) flush() {
	if x := h.x.Load(); x != nil {
		x.flush()
	}
}

func (h *handle) readFrom(src io.Reader) (int64, error) {
	if x := h.x.Load(); x != nil {
		return x.readFrom(src)
	}
	return 0, ErrFinished
}

func (h *handle) hijack() (net.Conn, *bufio.ReadWriter, error) {
	if x := h.x.Load(); x != nil {
		return x.hijack()
	}
	return nil, nil, ErrFinished
}

func (h *handle) push(target string, opts *http.PushOptions) error {
	return h.w.(http.Pusher).Push(target, opts)
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
