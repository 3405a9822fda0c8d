// Package wsgin runs filters of package filter, and whole wsapi stacks, as
// middleware of the gin framework (github.com/gin-gonic/gin).
//
// # Use
//
//	logs := logging.New(os.Stderr)
//	sessions := session.New(store)
//	a := auth.New(auth.NewSession(nil))
//
//	r := gin.New()
//	r.Use(wsgin.Stack(wsapi.New(logs, sessions, a)))
//	r.POST("/login", gin.WrapH(a.LoginHandler()))
//	r.GET("/me", wsgin.Middleware(auth.Require()), me)
//
// and in a handler, the filters' services work on the request as in any
// other framework: session.GetInt(c.Request, "n"), auth.IdentityOf(c.Request),
// zerolog.Ctx(c.Request.Context()).
//
// # What the adapter does for each request
//
// A filter hands the next handler a new request and a new writer; gin's
// context must carry both to the rest of the chain, and gin's own
// bookkeeping (the status its Logger prints, the header it writes when a
// handler wrote nothing) must see what went out through the filters.
//
//   - The adapter attaches the request's exchange (filter.Begin) before the
//     filter runs, or finds the one an outer filter attached, and keeps the
//     gin context on it; so the filter's own filter.Begin reuses it, and
//     the adapter adds no request copy of its own.
//   - The filter writes through gin's writer (c.Writer as it was), so that
//     c.Writer.Status, Size and Written tell what the client got, also when
//     a filter answered itself (a 401 of the auth filter, the 500 of a
//     recovered panic). The writer the filter wraps has exactly the
//     optional interfaces (http.Flusher, http.Hijacker, io.ReaderFrom,
//     http.Pusher) of the writer below gin's, which the adapter finds
//     through Unwrap, also below the writers that gin middleware before
//     the adapter wrapped gin's in, when they have Unwrap (io.ReaderFrom
//     then only when such a writer has ReadFrom itself, so that no byte
//     skips it). A gin.ResponseWriter without Unwrap hides the writers
//     below it: the filter's writer then has the interfaces of that one,
//     which has Flush and Hijack as gin.ResponseWriter requires, whether
//     or not the server's writer can flush or hijack (as gin's own
//     c.Writer has them; its Hijack panics on an HTTP/2 writer).
//   - The rest of gin's chain (c.Next) runs with c.Request set to the
//     request the filter handed on, whose context carries the filters'
//     values, and with c.Writer set to a gin.ResponseWriter on the filter's
//     writer. It keeps gin's rules: WriteHeader (c.Status) only records the
//     status, which goes out with the first byte, a Flush, or
//     WriteHeaderNow; Hijack is refused once body bytes were written.
//     Like gin's own writer it always has Flush and Hijack, as
//     gin.ResponseWriter requires: when the filter's writer cannot flush,
//     Flush only sends the headers, and when it cannot hijack, Hijack
//     returns an error that wraps http.ErrNotSupported. It also has
//     io.ReaderFrom and http.Pusher when the filter's writer has them.
//     An informational status (1xx but 101) goes out at once, as in
//     net/http.
//   - When the chain returns, the status a handler set without writing
//     (c.Status(404), c.AbortWithStatus(401)) goes out through the filter,
//     before the filter returns; then c.Writer and c.Request are put back.
//     A request no route matched gets gin's default answer ("404 page not
//     found", "405 method not allowed") through the filter too.
//   - When the filter does not call the rest of the chain (it answered
//     itself), or a panic inside was recovered by a filter, the adapter
//     calls c.Abort, so that the handlers after it do not run.
//
// Inside the adapter, c.Writer.Status tells the status the handlers set.
// A filter's before-headers hook that changes it (Exchange.SetStatus)
// does so on the way out: gin middleware after the adapter still sees the
// handlers' status; middleware before it, and the access line, see the
// status the client got.
//
// Filter.Wrap is called once, when Middleware is called, never per
// request, and the filters of one adapter run once per request, also when
// gin's chain reaches the adapter again (it is listed twice, or
// Engine.HandleContext runs it again).
//
// One count differs from gin's own: bytes a handler sends with io.Copy
// through the server's io.ReaderFrom (sendfile) reach the connection below
// gin's writer, which has no ReadFrom, so c.Writer.Size outside the adapter
// leaves them out; inside it, and in the filters' exchange, they count.
//
// # Order
//
// Gin middleware listed before the adapter (r.Use order) runs outside the
// filter, and middleware after it, and the handlers, run inside. Put the
// logging filter first, so that its access line sees the final status, and
// gin's Logger and Recovery (if any) before the adapter; better, put an
// isolate.Recover filter in the stack, inside logging, so that a panic is
// logged as the 500 the client gets.
//
// A filter that runs its app on another goroutine and may return before
// it, such as http.TimeoutHandler, must not be used through the adapter:
// gin reuses its context for the next request as soon as the adapter
// returns. isolate.Deadline puts a deadline on a request without that.
//
// Several adapters may follow each other (one per filter, or a stack at
// the root and a rule per route); they share the request's exchange.
// A Stack checks its filters' needs when it is built, which separate
// adapters cannot: prefer one Stack for the filters that depend on each
// other (auth needs a session filter outside it).
//
// # Redirects
//
// Engine.HandleContext, gin's internal redirect (change c.Request.URL.Path,
// then call r.HandleContext(c) in a handler), runs the chain of another
// route on the same context, with c.Writer reset to gin's own writer,
// below the filters. An adapter on that route (on the engine, with
// r.Use) finds the adapters already running for the request: it puts back
// the writer the handlers had, so that the answer goes through the
// filters, and runs its filters unless they are running already. When no
// adapter runs on the route reached, its answer goes out below the
// filters: they cannot add headers to it (a session's cookie) or change
// it, but the exchange records the status and the bytes the client got,
// so the access line is right. The same holds when gin middleware before
// the outermost adapter wrapped c.Writer in a writer without Unwrap: the
// adapter cannot tell gin's writer then.
//
// Gin's own redirects, RedirectTrailingSlash (on by default) and
// RedirectFixedPath, answer before any middleware runs: no filter sees
// them, and the logging filter logs no line for them (gin's Logger does
// not either). With them off, such a request gets gin's 404 through the
// filters.
package wsgin

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter"
)

//go:generate go run gen_writers.go

// Middleware returns f as gin middleware: the rest of gin's chain runs as
// the app f wraps. It calls f.Wrap once, now; it panics when f is nil or
// its Wrap returns nil.
func Middleware(f filter.Filter) gin.HandlerFunc {
	if f == nil {
		panic("wsgin: Middleware(nil): pass a filter, such as logging.New(os.Stderr)")
	}
	h := f.Wrap(next)
	if h == nil {
		panic("wsgin: filter " + filter.NameOf(f) + " returned a nil handler from Wrap")
	}
	return (&adapter{h}).serve
}

// Stack returns the filters of s as one gin middleware. Like s.Then, it
// checks the filters' needs first and panics, saying what to add where,
// when one is not met.
func Stack(s wsapi.Stack) gin.HandlerFunc { return Middleware(s) }

// next is the app every filter wraps.
var next http.Handler = http.HandlerFunc(serveNext)

// adapter is one gin middleware that Middleware returned.
type adapter struct {
	h http.Handler // the filter around serveNext
}

// call is one request through one adapter: what the adapter leaves on the
// exchange for serveNext, and the two writers it makes. It is allocated
// per request, not pooled: its writers are handed to code that might keep
// them.
type call struct {
	c      *gin.Context
	a      *adapter
	up     *call // the call of the adapter this one is nested in, for c, or nil
	base   base  // the writer the filter wraps
	front  front // the writer gin's handlers get
	status int32 // gin's status when the adapter began
	owns   bool  // the adapter attached the exchange: its gin writer is below the filters
	called bool  // serveNext ran
	done   bool  // the rest of gin's chain returned
}

// outer returns the call of the outermost adapter running for k's gin
// context.
func (k *call) outer() *call {
	for k.up != nil {
		k = k.up
	}
	return k
}

var callKey = filter.NewKey[*call]("wsgin.call")

// serve runs the adapter's filter around serveNext for the gin context c.
func (a *adapter) serve(c *gin.Context) {
	gw, req := c.Writer, c.Request
	k := &call{c: c, a: a, status: int32(gw.Status())}
	h := a.h
	if prev, ok := callKey.Get(filter.From(req)); ok && prev.c == c && prev.called && !prev.done {
		// An adapter is running gin's chain for c: this one is nested in
		// it, and shares its exchange.
		k.up = prev
		if same(gw, ginWriter(k.outer().base.gw)) {
			// c.Writer is gin's own writer again, below the filters
			// (Engine.HandleContext resets it): the handlers write
			// through the filters all the same, through the writer the
			// handlers had.
			gw = prev.front.writer()
		}
		for p := prev; p != nil; p = p.up {
			if p.a == a {
				// This adapter's filters are running for the request
				// already (gin's chain reached it again through
				// Engine.HandleContext, or it is listed twice): they
				// do not run twice; the chain goes on.
				h = next
				break
			}
		}
	}
	k.base.init(gw)
	x, w, r, owner := filter.Begin(k.base.writer(), req)
	defer owner.End()
	k.owns = r != req

	prev, hadPrev := callKey.Get(x)
	callKey.Set(x, k)
	defer func() {
		c.Writer, c.Request = gw, req
		if hadPrev {
			callKey.Set(x, prev)
		} else {
			callKey.Delete(x)
		}
		if !k.done {
			// The filter answered without the chain, or a panic in it was
			// recovered: the handlers after the adapter must not run.
			c.Abort()
		}
	}()
	h.ServeHTTP(w, r)
}

// serveNext is the app every filter wraps: it runs the rest of gin's chain
// with the request and the writer the filter handed on.
func serveNext(w http.ResponseWriter, r *http.Request) {
	x := filter.From(r)
	k, ok := callKey.Get(x)
	if !ok {
		// A filter handed on a request without the exchange the adapter
		// attached (it replaced the request's context with an unrelated
		// one): the gin context cannot be found.
		slog.Default().Error("wsgin: the filter handed on a request whose context does not derive from the one it was given; the gin handlers cannot run",
			"method", r.Method, "path", r.URL.Path)
		http.Error(w, "500 internal server error", http.StatusInternalServerError)
		return
	}
	if k.called {
		// A filter that calls its app twice: gin's chain ran already.
		return
	}
	k.called = true
	c, f := k.c, &k.front
	f.init(w, r.Context(), int(k.status))
	c.Writer = f.writer()
	c.Request = r
	c.Next()
	if o := k.outer(); !f.Written() && o.owns && o.base.gw.Written() {
		// A response went out below the filters, through gin's writer:
		// a route reached with Engine.HandleContext that has no adapter
		// wrote to it. The exchange records what the client got, and
		// nothing more is sent.
		x.MarkSent(o.base.gw.Status(), int64(max(o.base.gw.Size(), 0)))
		f.size = 0
	}
	if !f.Written() && f.status == int(k.status) && c.FullPath() == "" {
		// No route matched: gin's engine answers with a default body
		// after the chain, which must go through the filter too.
		if body := defaultBodies[f.status]; body != "" {
			f.Header()["Content-Type"] = []string{"text/plain"}
			f.WriteString(body)
		}
	}
	// A status set without a body (c.Status(404)) goes out now, through
	// the filter, as gin's engine would send it after the chain.
	f.WriteHeaderNow()
	k.done = true
}

// defaultBodies are the bodies gin's engine sends when no route matched
// and no handler wrote (serveError in gin.go).
var defaultBodies = map[int]string{
	http.StatusNotFound:         "404 page not found",
	http.StatusMethodNotAllowed: "405 method not allowed",
}
