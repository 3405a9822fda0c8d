package filtertest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// errLate is what the writer returns, instead of passing a write on, after
// the handler returned.
var errLate = errors.New("filtertest: use of the writer after the handler returned")

// lintWriter checks one response on its way to the server's writer w. It
// has all four abilities; composeUnwrap shows the ones w has.
type lintWriter struct {
	l  *Lint
	r  *http.Request // as the server gave it
	w  http.ResponseWriter
	ab Abilities // of w

	done     atomic.Bool  // the handler returned
	appCalls atomic.Int32 // calls of the app, counted by the probe

	mu           sync.Mutex // guards the rest, and serializes calls on w
	status       int        // the final status sent, 0 before
	sent         http.Header
	length       string // Content-Length sent with the headers
	hasLength    bool
	written      int64
	hijacked     bool
	bodyReported bool
}

var _ unwrapWriter = (*lintWriter)(nil)

// Header returns the server writer's header map.
func (s *lintWriter) Header() http.Header { return s.w.Header() }

// Unwrap returns the server's writer, for http.ResponseController.
func (s *lintWriter) Unwrap() http.ResponseWriter { return s.w }

// WriteHeader checks the status and passes it on.
func (s *lintWriter) WriteHeader(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.late("WriteHeader(" + strconv.Itoa(code) + ")"):
		return
	case s.hijacked:
		s.l.report(s.r, "WriteHeader(%d) after Hijack", code)
	case code < 100 || code > 999:
		s.l.report(s.r, "invalid status %d: want 100..999", code)
	case s.status != 0 && code < 200 && code != http.StatusSwitchingProtocols:
		s.l.report(s.r, "informational status %d after the final status %d", code, s.status)
	case s.status != 0:
		s.l.report(s.r, "superfluous WriteHeader(%d): the final status %d was already sent", code, s.status)
		s.checkHeader()
	case code >= 200 || code == http.StatusSwitchingProtocols:
		s.w.WriteHeader(code)
		s.sendHeader(code)
		return
	}
	s.w.WriteHeader(code) // as without Lint: net/http logs or panics
}

// sendHeader notes that the headers went out with code. It runs after the
// server's writer sent them, which may add to the map (httptest's
// recorder adds a sniffed Content-Type).
func (s *lintWriter) sendHeader(code int) {
	s.status = code
	h := s.w.Header()
	s.sent = h.Clone()
	if s.sent == nil {
		s.sent = make(http.Header)
	}
	s.length, s.hasLength = "", false
	if vv := h["Content-Length"]; len(vv) > 0 {
		s.length, s.hasLength = vv[0], true
	}
}

// Write checks and passes on a body write.
func (s *lintWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.late("Write") {
		return 0, errLate
	}
	if s.hijacked {
		s.l.report(s.r, "Write after Hijack")
		return s.w.Write(p)
	}
	implicit := s.status == 0
	if !implicit {
		s.checkHeader()
	}
	n, err := s.w.Write(p)
	if implicit {
		s.sendHeader(http.StatusOK)
	}
	s.wrote(int64(len(p)))
	return n, err
}

// ReadFrom checks and passes on a body write from src.
func (s *lintWriter) ReadFrom(src io.Reader) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.late("ReadFrom") {
		return 0, errLate
	}
	if s.hijacked {
		s.l.report(s.r, "ReadFrom after Hijack")
		return s.w.(io.ReaderFrom).ReadFrom(src)
	}
	implicit := s.status == 0
	if !implicit {
		s.checkHeader()
	}
	n, err := s.w.(io.ReaderFrom).ReadFrom(src)
	if implicit {
		s.sendHeader(http.StatusOK)
	}
	s.wrote(n)
	return n, err
}

// Flush checks and passes on a flush.
func (s *lintWriter) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.late("Flush") {
		return
	}
	if s.hijacked {
		s.l.report(s.r, "Flush after Hijack")
		s.w.(http.Flusher).Flush()
		return
	}
	implicit := s.status == 0
	if !implicit {
		s.checkHeader()
	}
	s.w.(http.Flusher).Flush()
	if implicit {
		s.sendHeader(http.StatusOK)
	}
}

// Hijack passes on a hijack and notes it.
func (s *lintWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.late("Hijack") {
		return nil, nil, errLate
	}
	c, brw, err := s.w.(http.Hijacker).Hijack()
	if err == nil {
		s.hijacked = true
	}
	return c, brw, err
}

// Push passes on a push.
func (s *lintWriter) Push(target string, opts *http.PushOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.late("Push") {
		return errLate
	}
	return s.w.(http.Pusher).Push(target, opts)
}

// late reports what as a problem when the handler already returned.
func (s *lintWriter) late(what string) bool {
	if !s.done.Load() {
		return false
	}
	s.l.report(s.r, "%s after the handler returned", what)
	return true
}

// wrote counts n body bytes and checks that the response may have a body.
func (s *lintWriter) wrote(n int64) {
	s.written += n
	if n == 0 || s.bodyReported {
		return
	}
	if s.r.Method == http.MethodHead {
		s.bodyReported = true
		s.l.report(s.r, "body written for a HEAD request")
	} else if !bodyAllowed(s.status) {
		s.bodyReported = true
		s.l.report(s.r, "body written with status %d, which has none", s.status)
	}
}

// bodyAllowed reports whether a response with status code has a body.
func bodyAllowed(code int) bool {
	return code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified
}

// checkHeader reports header changes since the headers were sent, and
// takes the current map as the new reference, so each change is reported
// once.
func (s *lintWriter) checkHeader() {
	now := s.w.Header()
	if changed := headerChanges(s.sent, now); len(changed) > 0 {
		s.l.report(s.r, "header changed after the headers were sent: %s", strings.Join(changed, ", "))
		s.sent = now.Clone()
	}
}

// headerChanges returns the sorted keys that differ between the sent map
// and now, leaving out trailers.
func headerChanges(sent, now http.Header) []string {
	trailer := map[string]bool{}
	for _, v := range sent["Trailer"] {
		for name := range strings.SplitSeq(v, ",") {
			trailer[http.CanonicalHeaderKey(strings.TrimSpace(name))] = true
		}
	}
	var changed []string
	differs := func(k string, a, b []string) {
		if !slices.Equal(a, b) && !trailer[k] && !strings.HasPrefix(k, http.TrailerPrefix) {
			changed = append(changed, k)
		}
	}
	for k, v := range now {
		differs(k, sent[k], v)
	}
	for k, v := range sent {
		if _, ok := now[k]; !ok {
			differs(k, v, nil)
		}
	}
	slices.Sort(changed)
	return changed
}

// finish runs the end-of-request checks when the handler returned.
func (s *lintWriter) finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done.Store(true)
	if n := s.appCalls.Load(); n > 1 {
		s.l.report(s.r, "the filter called the app %d times; at most once is allowed", n)
	}
	if s.hijacked {
		return
	}
	if s.status == 0 {
		// The server sends status 200 and no body now.
		s.sendHeader(http.StatusOK)
	} else {
		s.checkHeader()
	}
	if !s.hasLength || s.r.Method == http.MethodHead || !bodyAllowed(s.status) {
		return
	}
	n, err := strconv.ParseInt(s.length, 10, 64)
	if err != nil || n < 0 {
		s.l.report(s.r, "invalid Content-Length %q", s.length)
	} else if n != s.written {
		s.l.report(s.r, "Content-Length is %d but %d body bytes were written", n, s.written)
	}
}
