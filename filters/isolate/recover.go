package isolate

import (
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strconv"

	"github.com/wsapi-go/wsapi/filter"
)

// Recover turns a panic in the app, or in a filter inside it, into a 500
// when the headers are not out yet, and into an aborted connection when
// they are. The zero Recover is ready to use.
//
// http.ErrAbortHandler is a deliberate abort: it is passed on untouched.
// A recovered panic is logged with its stack on the request's logger
// (filter.Exchange.Logger) and published as EventPanic.
type Recover struct {
	// Body is the body of the 500; the default is
	// "Internal Server Error\n". Nothing of the panic reaches the client.
	Body string

	// Hub receives EventPanic; nil means filter.DefaultHub.
	Hub *filter.Hub
}

var (
	_ filter.Filter = (*Recover)(nil)
	_ filter.Namer  = (*Recover)(nil)
)

// Name returns "isolate.Recover".
func (f *Recover) Name() string { return "isolate.Recover" }

// Wrap returns next with panics recovered.
func (f *Recover) Wrap(next http.Handler) http.Handler {
	body := f.Body
	if body == "" {
		body = "Internal Server Error\n"
	}
	return &recoverer{next: next, hub: hubOr(f.Hub), body: body, bodyLen: strconv.Itoa(len(body))}
}

type recoverer struct {
	next    http.Handler
	hub     *filter.Hub
	body    string
	bodyLen string
}

func (c *recoverer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x, w, r, owner := filter.Begin(w, r)
	defer owner.End()
	defer c.recover(x, w, r)
	c.next.ServeHTTP(w, r)
}

// recover is deferred directly, so recover() stops the panic.
func (c *recoverer) recover(x *filter.Exchange, w http.ResponseWriter, r *http.Request) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler {
		if x.Aborted() == "" {
			x.SetAborted("abort")
		}
		panic(p)
	}
	answered := handlePanic(c.hub, x, w, r, p, c.body, c.bodyLen)
	if !answered {
		panic(http.ErrAbortHandler)
	}
}

// handlePanic reports p and answers 500 when the headers are not out; it
// reports whether it answered. Otherwise the caller aborts the connection.
func handlePanic(hub *filter.Hub, x *filter.Exchange, w http.ResponseWriter, r *http.Request, p any, body, bodyLen string) bool {
	stack := debug.Stack()
	aborted := x.HeadersSent() || x.Hijacked()
	x.Logger().Error("isolate: the app panicked",
		"panic", fmt.Sprint(p), "aborted", aborted, "stack", string(stack))
	if hub.Enabled(EventPanic) {
		hub.Publish(EventPanic, r, PanicEvent{Value: p, Stack: stack, Aborted: aborted})
	}
	if aborted {
		x.SetAborted("panic")
		return false
	}
	writeError(w, r, http.StatusInternalServerError, body, bodyLen, "")
	return true
}

// representation lists the headers an app may have set that describe a
// body the client will not get, and are removed before an error answer.
var representation = []string{
	"Content-Length", "Content-Type", "Content-Encoding", "Content-Range",
	"Content-Disposition", "Content-Language", "Content-Location",
	"Etag", "Last-Modified", "Expires", "Trailer", "Transfer-Encoding",
}

// writeError answers code with a short plain-text body, replacing the
// headers that describe the app's body.
func writeError(w http.ResponseWriter, r *http.Request, code int, body, bodyLen, retryAfter string) {
	writeErrorTo(w, r.Method == http.MethodHead, code, body, bodyLen, retryAfter)
}

// writeErrorTo is writeError for a request whose method was noted before;
// it returns the number of body bytes written.
func writeErrorTo(w http.ResponseWriter, head bool, code int, body, bodyLen, retryAfter string) int {
	h := w.Header()
	for _, k := range representation {
		delete(h, k)
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", bodyLen)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	w.WriteHeader(code)
	if head {
		return 0
	}
	n, _ := io.WriteString(w, body)
	return n
}
