package filter

import (
	"errors"
	"io"
	"iter"
	"net/http"
	"slices"
	"strconv"
)

// AppFunc is a WSAPI-style application: a function of the request's [Env]
// that returns a status, headers and a body, as a Lua WSAPI app returns
// them. AppFunc is an [http.Handler], so it runs behind any filter, on any
// router, under any launcher:
//
//	hello := filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
//		return 200, http.Header{"Content-Type": {"text/plain"}}, filter.Chunks(func(yield func([]byte) bool) {
//			yield([]byte("Hello from "))
//			yield([]byte(env.PathInfo()))
//		})
//	})
//
// How the answer is sent:
//
//   - The returned headers are added to the response; each replaces a
//     header a filter set before, except Set-Cookie, whose values are
//     added. A header with several values goes out as repeated lines.
//   - Without a Content-Type header the response is
//     "text/html; charset=utf-8", WSAPI's default.
//   - A body of known length ([Bytes], [Text]) is sent with Content-Length.
//   - A streamed body ([Chunks], [TextChunks]) is written and flushed chunk
//     by chunk, as WSAPI's coroutine body is; when the client goes away
//     the iterator is stopped (yield returns false).
//   - For HEAD, and for statuses that have no body (1xx, 204, 304), the
//     body is not iterated.
//   - A status outside 100..999, or a 1xx other than 101, is a bug in the
//     app: it is logged, and the client gets 500.
//
// A panic in the function or in the iterator is not recovered here; an
// isolate filter (or net/http) handles it.
type AppFunc func(env *Env) (status int, header http.Header, body Body)

// Body is the body of an [AppFunc]'s answer. The zero Body is empty.
type Body struct {
	chunks iter.Seq[[]byte]
	texts  iter.Seq[string]
	b      []byte
	s      string
	kind   uint8
}

const (
	bodyEmpty = iota
	bodyBytes
	bodyText
	bodyChunks
	bodyTextChunks
)

// Chunks returns a streamed body: each chunk the iterator yields is written
// and flushed. Go's yield is WSAPI's coroutine.yield.
func Chunks(seq iter.Seq[[]byte]) Body { return Body{chunks: seq, kind: bodyChunks} }

// TextChunks is [Chunks] for an iterator of strings.
func TextChunks(seq iter.Seq[string]) Body { return Body{texts: seq, kind: bodyTextChunks} }

// Bytes returns a body of known length, sent with Content-Length.
func Bytes(b []byte) Body { return Body{b: b, kind: bodyBytes} }

// Text returns a body of known length, sent with Content-Length.
func Text(s string) Body { return Body{s: s, kind: bodyText} }

// Len returns the length of a body of known length, and false for a
// streamed one.
func (b Body) Len() (int, bool) {
	switch b.kind {
	case bodyBytes:
		return len(b.b), true
	case bodyText:
		return len(b.s), true
	case bodyEmpty:
		return 0, true
	}
	return 0, false
}

// ServeHTTP runs the app and sends its answer.
func (f AppFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	env := NewEnv(r)
	status, header, body := f(env)
	if status < 100 || status > 999 || (status < 200 && status != http.StatusSwitchingProtocols) {
		env.x.Logger().Error("filter: WSAPI app returned an invalid status",
			"status", status, "method", r.Method, "path", requestPath(r))
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	dst := w.Header()
	for k, vv := range header {
		k = http.CanonicalHeaderKey(k)
		if k == "Set-Cookie" {
			dst[k] = append(dst[k], vv...)
			continue
		}
		// Clip, so that a filter appending to this header later cannot
		// write into the app's slice.
		dst[k] = slices.Clip(vv)
	}
	if _, ok := dst["Content-Type"]; !ok {
		dst.Set("Content-Type", "text/html; charset=utf-8")
	}
	bodyAllowed := r.Method != http.MethodHead && status >= 200 &&
		status != http.StatusNoContent && status != http.StatusNotModified
	if n, ok := body.Len(); ok {
		if status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified {
			dst.Set("Content-Length", strconv.Itoa(n))
		}
		w.WriteHeader(status)
		if !bodyAllowed {
			return
		}
		switch body.kind {
		case bodyBytes:
			w.Write(body.b)
		case bodyText:
			io.WriteString(w, body.s)
		}
		return
	}
	w.WriteHeader(status)
	if !bodyAllowed {
		return
	}
	// The Env, allocated anyway, carries the writer, so the yield function
	// is one method value rather than a closure and its moved state.
	env.w = w
	switch body.kind {
	case bodyChunks:
		body.chunks(env.yieldBytes)
	case bodyTextChunks:
		body.texts(env.yieldText)
	}
	env.w = nil
}

// yieldBytes writes and flushes one chunk of a streamed body; it returns
// false, stopping the iterator, when the client has gone.
func (e *Env) yieldBytes(chunk []byte) bool {
	if e.w == nil {
		return false // called after the body finished
	}
	if len(chunk) == 0 {
		return true
	}
	if _, err := e.w.Write(chunk); err != nil {
		return false
	}
	return flushChunk(e.w) == nil
}

// yieldText is yieldBytes for a string chunk.
func (e *Env) yieldText(chunk string) bool {
	if e.w == nil {
		return false
	}
	if chunk == "" {
		return true
	}
	if _, err := io.WriteString(e.w, chunk); err != nil {
		return false
	}
	return flushChunk(e.w) == nil
}

// flushChunk flushes w when it can; a writer that cannot flush is not an
// error, a broken connection is.
func flushChunk(w http.ResponseWriter) error {
	switch f := w.(type) {
	case interface{ FlushError() error }:
		if err := f.FlushError(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
	case http.Flusher:
		f.Flush()
	}
	return nil
}
