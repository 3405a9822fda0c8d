// Package filter is the contract every filter and app of wsapi meets. It
// uses the standard library only.
//
// WSAPI, like Rack and WSGI, splits web software into three roles: the
// application, the filters (middleware), and the server. A filter is an
// application to the server below it and a server to the application above
// it. In Go, net/http already plays the server/application contract
// ([http.Handler]), so here an [App] is an http.Handler, and a [Filter] is a
// value with one method, Wrap(next http.Handler) http.Handler, whose method
// value drops into any Go router's middleware chain.
//
// # The exchange
//
// Filters share one [Exchange] per request. The first filter that needs
// response state attaches it with [Begin]; every later filter finds it and
// reuses it. It holds the only ResponseWriter wrapper of a stack, so a stack
// of N filters costs one pooled record and one r.WithContext, not N of each.
// A filter is written like this:
//
//	func (f *Timer) Wrap(next http.Handler) http.Handler {
//		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//			x, w, r, owner := filter.Begin(w, r)
//			defer owner.End()
//			x.OnHeaders(setServerTiming) // just before the headers go out
//			next.ServeHTTP(w, r)
//		})
//	}
//
// The wrapper keeps exactly the optional interfaces of the writer it wraps
// ([http.Flusher], [http.Hijacker], [io.ReaderFrom], [http.Pusher]) and has
// Unwrap, so server-sent events, WebSockets, sendfile and
// [http.ResponseController] work through any stack.
//
// Ordering rules: before-headers hooks run in the order they were
// registered (outer filters first); finish hooks run in reverse (inner
// filters first, the outermost last), when the filter that attached the
// exchange returns, also when the app panicked.
//
// # WSAPI-style apps
//
// [Env] is WSAPI's view of a request: the RFC 3875 metavariables
// (REQUEST_METHOD, SCRIPT_NAME, PATH_INFO, QUERY_STRING, HTTP_* ...),
// computed lazily. An [AppFunc] takes an Env and returns a status, headers
// and a [Body], which may be an iterator of chunks: Go's yield is WSAPI's
// coroutine.yield. SCRIPT_NAME is the app's mount point ([MountPoint]): set
// by a launcher or a mux, or implied by the router pattern that matched, so
// an AppFunc mounted with chi's r.Mount("/api", app) sees SCRIPT_NAME "/api"
// and PATH_INFO "/users/7" for "/api/users/7".
//
// # Needs
//
// A filter that relies on another (auth's session login needs a session
// filter outside it) says so by implementing [Needer]; the filter that
// offers the service implements [Provider]. A wsapi.Stack checks needs once,
// when it is built, and panics with a message that says what to add where.
//
// # Events
//
// A [Hub] carries namespaced events, such as "auth:login:failed", to
// subscribers of the topic or of any namespace above it. Filters publish on
// [DefaultHub] unless given another.
package filter
