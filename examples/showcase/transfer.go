package main

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/wsapi-go/wsapi/filters/isolate"
)

// The time limits of a request, in brief. The launcher's ReadHeaderTimeout
// bounds the headers. frontDoor then sets the body's read deadline: a
// request other than an upload has smallBodyTimeout to send a body of at
// most maxSmallBody, read in full before the request may take a slot of the
// bulkhead; an upload's deadline moves ioIdleTimeout ahead each time bytes
// arrive (up to a ceiling from its size). The isolate Deadline bounds the
// app's time, except for uploads, downloads and /stream: those may take as
// long as they need while they make progress, and a per-write deadline
// (ioIdleTimeout) cuts a client that stops reading. A download carries its
// Content-Length and a stream is chunked, so a response cut short is an
// error for the client, never a short 200 that looks whole.

// isUpload reports whether r is an upload: its body is a file, read by the
// app as it arrives.
func isUpload(r *http.Request) bool {
	return r.Method == http.MethodPost && (r.URL.Path == "/files" || r.URL.Path == "/api/files")
}

// isTransfer reports whether r may take long while it makes progress: an
// upload, a download or the stream.
func isTransfer(r *http.Request) bool {
	if isUpload(r) {
		return true
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.URL.Path
	return p == "/stream" || strings.HasPrefix(p, "/stream/") ||
		strings.HasPrefix(p, "/files/") || strings.HasPrefix(p, "/api/files/")
}

// hasBody reports whether r comes with a body to read.
func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody) || len(r.TransferEncoding) > 0
}

// frontDoor is the filter before the bulkhead. It answers /healthz itself
// (a load balancer sees the process alive even when every slot is taken),
// and bounds how long a client may take to send its body:
//
//   - a request without a body: no read deadline while the app runs (the
//     launcher's ReadTimeout would otherwise end a long download's or
//     stream's context through the server's background read);
//   - an upload: the deadline moves ioIdleTimeout ahead as the body
//     arrives (see progressBody);
//   - any other body (a login form, a delete): read here in full, at most
//     maxSmallBody within smallBodyTimeout, so a client that trickles it
//     is answered 408 and never holds a slot of the bulkhead.
func (s *server) frontDoor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			healthz(w, r)
			return
		}
		rc := http.NewResponseController(w)
		switch {
		case isUpload(r):
			idle := s.cfg.dur(s.cfg.ioIdleTimeout, ioIdleTimeout)
			now := time.Now()
			ceiling := max(time.Hour, time.Duration(s.maxBody/minUploadRate)*time.Second)
			_ = rc.SetReadDeadline(now.Add(idle)) // ErrNotSupported under CGI and FastCGI: their server bounds it
			r.Body = &progressBody{ReadCloser: r.Body, rc: rc, idle: idle, limit: now.Add(ceiling)}
		case !hasBody(r):
			_ = rc.SetReadDeadline(time.Time{})
		default:
			_ = rc.SetReadDeadline(time.Now().Add(s.cfg.dur(s.cfg.smallBodyTimeout, smallBodyTimeout)))
			b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSmallBody))
			if err != nil {
				w.Header().Set("Connection", "close")
				var tooLarge *http.MaxBytesError
				switch {
				case errors.As(err, &tooLarge):
					s.fail(w, r, http.StatusRequestEntityTooLarge, "The request body is too large for this address.")
				case errors.Is(err, os.ErrDeadlineExceeded):
					s.fail(w, r, http.StatusRequestTimeout, "The request body came too slowly.")
				default:
					s.fail(w, r, http.StatusBadRequest, "The request body could not be read.")
				}
				return
			}
			_ = rc.SetReadDeadline(time.Time{})
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		next.ServeHTTP(w, r)
	})
}

// progressBody is an upload's body: each read that brings bytes moves the
// connection's read deadline idle ahead (at most once a second, and never
// past limit), so an upload may take as long as it needs while its bytes
// keep coming; one that stalls for idle fails. At the end of the body the
// deadline is lifted.
type progressBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	idle  time.Duration
	limit time.Time // the upload's ceiling
	next  time.Time // the next time the deadline may move
}

// Read reads from the body and moves the deadline.
func (b *progressBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF:
		_ = b.rc.SetReadDeadline(time.Time{})
	case n > 0:
		if now := time.Now(); !now.Before(b.next) {
			d := now.Add(b.idle)
			if d.After(b.limit) {
				d = b.limit
			}
			_ = b.rc.SetReadDeadline(d)
			b.next = now.Add(time.Second)
		}
	}
	return n, err
}

// deadlineExceptTransfers applies d to every request but the transfers
// (isTransfer): an upload, a download or a stream gets a write deadline
// that moves ioIdleTimeout ahead at each write instead (progressWriter),
// so it is cut only when it stops moving.
func (s *server) deadlineExceptTransfers(d *isolate.Deadline) func(http.Handler) http.Handler {
	idle := s.cfg.dur(s.cfg.ioIdleTimeout, ioIdleTimeout)
	return func(next http.Handler) http.Handler {
		limited := d.Wrap(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !isTransfer(r) {
				limited.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(&progressWriter{ResponseWriter: w, rc: http.NewResponseController(w), idle: idle}, r)
		})
	}
}

// progressWriter moves the connection's write deadline idle ahead before
// each write (at most once a second): a client that reads keeps its
// download, one that stops reading for idle is cut.
type progressWriter struct {
	http.ResponseWriter
	rc   *http.ResponseController
	idle time.Duration
	next time.Time
}

// Write moves the deadline and writes.
func (p *progressWriter) Write(b []byte) (int, error) {
	if now := time.Now(); !now.Before(p.next) {
		_ = p.rc.SetWriteDeadline(now.Add(p.idle))
		p.next = now.Add(time.Second)
	}
	return p.ResponseWriter.Write(b)
}

// Flush sends what is buffered (a stream's chunk).
func (p *progressWriter) Flush() { _ = p.rc.Flush() }

// Unwrap returns the writer below, for http.ResponseController.
func (p *progressWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }
