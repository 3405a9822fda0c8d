package upload

import (
	"errors"
	"io"
	"net/http"
	"sync/atomic"
)

// bodyReader reads a request body under a byte limit, with or without a
// Content-Length: more than max bytes is a limit error, fewer bytes than
// the Content-Length promised is malformed input. It counts progress.
type bodyReader struct {
	r        io.Reader
	n        int64
	max      int64
	declared int64 // the Content-Length, or -1
	limit    string
	prog     *progressEntry
	stop     *atomic.Bool // set when the request is over
	err      error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.stop != nil && b.stop.Load() {
		b.err = &Error{Status: http.StatusServiceUnavailable, Reason: "the request finished before its form was read"}
		return 0, b.err
	}
	want := b.max - b.n + 1 // one more than allowed shows the crossing
	if b.declared >= 0 {
		if left := b.declared - b.n; left < want {
			if left <= 0 {
				return 0, io.EOF
			}
			want = left
		}
	}
	if int64(len(p)) > want {
		p = p[:want]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.prog != nil && n > 0 {
		b.prog.received.Add(int64(n))
	}
	if b.n > b.max {
		b.err = limitError(b.limit, b.max, "the request body is too large")
		return n - int(b.n-b.max), b.err
	}
	if err != nil {
		b.err = bodyError(err, b.declared >= 0 && b.n < b.declared)
		return n, b.err
	}
	return n, nil
}

// bodyError turns an error from reading a body into the one the form
// reports: io.EOF stays (the parser decides whether it came too early),
// unless the body promised more bytes.
func bodyError(err error, short bool) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return &Error{Status: http.StatusRequestEntityTooLarge, Limit: "http.MaxBytesReader", Max: mb.Limit, Reason: "the request body is too large", Err: err}
	}
	if err == io.EOF {
		if short {
			return malformed("the request body is shorter than its Content-Length")
		}
		return io.EOF
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return &Error{Status: http.StatusBadRequest, Reason: "the request body ended early", Err: err}
	}
	return &Error{Status: http.StatusBadRequest, Reason: "reading the request body failed", Err: err}
}

// asError turns what reading returned into an *Error; io.EOF means the
// body ended where more was due.
func asError(err error, reason string) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return malformed(reason)
	}
	return &Error{Status: http.StatusBadRequest, Reason: "reading the request body failed", Err: err}
}
