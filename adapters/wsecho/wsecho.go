// Package wsecho runs filters of package filter, and whole wsapi stacks, as
// middleware of the echo framework (github.com/labstack/echo/v4).
//
// # Use
//
//	logs := logging.New(os.Stderr)
//	sessions := session.New(store)
//	a := auth.New(auth.NewSession(nil))
//
//	e := echo.New()
//	e.Use(wsecho.Stack(wsapi.New(logs, sessions, a)))
//	e.POST("/login", echo.WrapHandler(a.LoginHandler()))
//	e.GET("/me", me, wsecho.Middleware(auth.Require()))
//
// and in a handler, the filters' services work on the request as in any
// other framework: session.GetInt(c.Request(), "n"),
// auth.IdentityOf(c.Request()), zerolog.Ctx(c.Request().Context()).
//
// # Why not echo.WrapMiddleware
//
// A filter's Wrap method value is a func(http.Handler) http.Handler, which
// echo.WrapMiddleware accepts, but two things go wrong there. A filter
// hands the next handler a new request and a new writer, and echo's
// context must carry both to the rest of the chain (WrapMiddleware does
// that with a new echo.Response per request). More seriously, an error a
// handler returns comes out of WrapMiddleware after the filter has
// returned, so echo's HTTPErrorHandler writes the error page after the
// request's exchange has ended: the logging filter has already logged the
// wrong status, a session's cookie is not set, and the page's writes go to
// a finished writer, so the client gets an empty 200.
//
// Middleware answers the error inside the filter instead: it calls
// c.Error(err) there, so the error page passes through every filter like
// any other answer, and it returns nil to echo, as echo's Recover
// middleware does with the errors it handles. Echo middleware that must see
// the error itself goes inside (after) the adapter.
//
// # What the adapter does for each request
//
//   - It attaches the request's exchange (filter.Begin) before the filter
//     runs, or finds the one an outer filter attached, and keeps the echo
//     context and the next handler on it; so the filter's own filter.Begin
//     reuses it, and the adapter adds no request copy of its own.
//   - The next handler runs with c.Request() set to the request the filter
//     handed on (its context carries the filters' values) and with
//     c.Response().Writer set to the filter's writer, which has exactly the
//     optional interfaces (http.Flusher, http.Hijacker, io.ReaderFrom,
//     http.Pusher) of the writer echo had; c.Response().Flush and Hijack
//     reach the connection through the filters.
//   - When the filter returns, c.Request() and c.Response().Writer are put
//     back, and c.Response()'s Committed, Status and Size are set from the
//     exchange, so that echo middleware outside the adapter sees the answer
//     the client got, also when a filter answered itself (a 401 of the auth
//     filter, the 500 of a recovered panic, a 503 of a session store).
//
// Inside the adapter, c.Response().Status tells the status the handler
// set. A filter's before-headers hook that changes it
// (Exchange.SetStatus) does so on the way out: echo middleware after the
// adapter still sees the handler's status; middleware before it, and the
// access line, see the status the client got.
//
// Filter.Wrap is called once, when Middleware is called, never per
// request. A filter that calls its app twice (which the filter contract
// forbids) does not run echo's chain twice: the second call does nothing.
//
// # Order
//
// Echo middleware listed before the adapter (e.Use order) runs outside the
// filter, and middleware after it, and the handlers, run inside. Put the
// logging filter first, so that its access line sees the final status, and
// echo's own Recover (if any) before the adapter; better, put an
// isolate.Recover filter in the stack, inside logging, so that a panic is
// logged as the 500 the client gets.
//
// A filter that runs its app on another goroutine and may return before
// it, such as http.TimeoutHandler, must not be used through the adapter:
// echo reuses its context for the next request as soon as the adapter
// returns. isolate.Deadline puts a deadline on a request without that.
//
// Several adapters may follow each other (one per filter, or a stack at the
// root and a rule per route); they share the request's exchange. A Stack
// checks its filters' needs when it is built, which separate adapters
// cannot: prefer one Stack for the filters that depend on each other
// (auth needs a session filter outside it).
package wsecho

import (
	"log/slog"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter"
)

// Middleware returns f as echo middleware: the rest of echo's chain runs as
// the app f wraps. It calls f.Wrap once, now; it panics when f is nil or its
// Wrap returns nil.
func Middleware(f filter.Filter) echo.MiddlewareFunc {
	if f == nil {
		panic("wsecho: Middleware(nil): pass a filter, such as logging.New(os.Stderr)")
	}
	h := f.Wrap(http.HandlerFunc(serveNext))
	if h == nil {
		panic("wsecho: filter " + filter.NameOf(f) + " returned a nil handler from Wrap")
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			serve(h, c, next)
			return nil
		}
	}
}

// Stack returns the filters of s as one echo middleware. Like s.Then, it
// checks the filters' needs first and panics, saying what to add where,
// when one is not met.
func Stack(s wsapi.Stack) echo.MiddlewareFunc { return Middleware(s) }

// call is what the adapter leaves on the exchange for serveNext: the echo
// context and the handler to call.
type call struct {
	c      echo.Context
	next   echo.HandlerFunc
	called bool // serveNext ran
}

var (
	callKey = filter.NewKey[*call]("wsecho.call")
	calls   = sync.Pool{New: func() any { return new(call) }}
)

// serve runs h, the filter around serveNext, for the echo context c.
func serve(h http.Handler, c echo.Context, next echo.HandlerFunc) {
	res, req := c.Response(), c.Request()
	w0 := res.Writer
	x, w, r, owner := filter.Begin(w0, req)
	defer owner.End()

	k := calls.Get().(*call)
	k.c, k.next = c, next
	prev, hadPrev := callKey.Get(x)
	callKey.Set(x, k)
	defer func() {
		// Put back what echo's context held: middleware inside may have
		// replaced the Response itself (echo.WrapMiddleware does).
		c.SetResponse(res)
		res.Writer = w0
		c.SetRequest(req)
		if hadPrev {
			callKey.Set(x, prev)
		} else {
			callKey.Delete(x)
		}
		*k = call{}
		calls.Put(k)
		// What went out through the filters is what echo's middleware
		// outside should see.
		if x.Hijacked() {
			res.Committed = true
		} else if x.HeadersSent() {
			res.Committed = true
			res.Status = x.Status()
			res.Size = x.Written()
		}
	}()

	h.ServeHTTP(w, r)

	// An empty answer goes out now, through the filters, as the exchange's
	// End would send it, so that c.Response() tells the truth afterwards.
	// When an outer filter attached the exchange, it decides.
	if r != req && !x.HeadersSent() && !x.Hijacked() {
		w.WriteHeader(http.StatusOK)
	}
}

// serveNext is the app every filter wraps: it runs the rest of echo's chain
// with the request and the writer the filter handed on, and answers an
// error there, inside the filter.
func serveNext(w http.ResponseWriter, r *http.Request) {
	k, ok := callKey.Get(filter.From(r))
	if !ok {
		// A filter handed on a request without the exchange the adapter
		// attached (it replaced the request's context with an unrelated
		// one): the echo context cannot be found.
		slog.Default().Error("wsecho: the filter handed on a request whose context does not derive from the one it was given; the echo handler cannot run",
			"method", r.Method, "path", r.URL.Path)
		http.Error(w, "500 internal server error", http.StatusInternalServerError)
		return
	}
	if k.called {
		// A filter that calls its app twice: echo's chain ran already.
		return
	}
	k.called = true
	c := k.c
	c.Response().Writer = w
	c.SetRequest(r)
	if err := k.next(c); err != nil {
		c.Error(err)
	}
}
