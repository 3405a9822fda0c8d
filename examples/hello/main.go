// Command hello is WSAPI's first example in Go: a WSAPI-style app that
// streams a greeting with its PATH_INFO and SCRIPT_NAME, served behind a
// small filter stack that is mounted on a chi router at /hello.
//
// Run it from the root of the repository:
//
//	go run ./examples/hello        # then open http://127.0.0.1:8080/hello/
//
// It listens on 127.0.0.1:8080. The -addr flag changes that; without the
// flag, $PORT sets the port (PORT=9000 listens on 127.0.0.1:9000).
// SIGINT (Ctrl-C) or SIGTERM shuts it down gracefully; a second signal
// stops it at once.
//
// The same binary also runs as a CGI program (when GATEWAY_INTERFACE is
// set) and as a FastCGI responder (when its standard input is a listening
// socket, as under spawn-fcgi, or with -fastcgi 127.0.0.1:9000 or
// -fastcgi /run/hello.sock): wsapi.Launcher picks the mode.
package main

import (
	"html"
	"io"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter"
)

// hello is the app, as WSAPI's seed example writes it in Lua: it returns a
// status, headers and a body that yields its chunks one by one. Each chunk
// is written and flushed as it is yielded.
var hello = filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
	header := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	posted := ""
	if env.Method() == http.MethodPost {
		// A POST shows how many bytes its body had: the body streams in,
		// it is not held in memory.
		n, err := io.Copy(io.Discard, env.Input())
		if err != nil {
			return http.StatusBadRequest, http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, filter.Text("unreadable body\n")
		}
		posted = "<p>POST body: " + strconv.FormatInt(n, 10) + " bytes</p>"
	}
	return http.StatusOK, header, filter.TextChunks(func(yield func(string) bool) {
		// PATH_INFO and SCRIPT_NAME come from the client: escape them.
		// The && stops at the first yield that returns false (the client
		// went away).
		_ = yield("<html><body>") &&
			yield("<p>Hello Wsapi!</p>") &&
			yield("<p>PATH_INFO: "+html.EscapeString(env.PathInfo())+"</p>") &&
			yield("<p>SCRIPT_NAME: "+html.EscapeString(env.ScriptName())+"</p>") &&
			(posted == "" || yield(posted)) &&
			yield("</body></html>")
	})
})

// poweredBy is a filter: it sets the X-Powered-By header on every response,
// just before the headers go out.
type poweredBy string

// Name is the filter's name in the stack's listing.
func (p poweredBy) Name() string { return "poweredBy" }

// Wrap returns next with the filter around it.
func (p poweredBy) Wrap(next http.Handler) http.Handler {
	value := string(p)
	setHeader := func(x *filter.Exchange) { x.Header().Set("X-Powered-By", value) }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, r, owner := filter.Begin(w, r)
		defer owner.End()
		x.OnHeaders(setHeader)
		next.ServeHTTP(w, r)
	})
}

// stack is the filters between the server and the app, the outermost
// first: chi's Recoverer answers 500 when the app panics.
var stack = wsapi.New(
	filter.Func(middleware.Recoverer),
	poweredBy("wsapi-go"),
)

// newHandler returns the site: the app behind the stack at /hello, and a
// redirect from / to /hello/.
func newHandler() http.Handler {
	r := chi.NewRouter()
	r.Handle("/", http.RedirectHandler("/hello/", http.StatusFound))
	r.Mount("/hello", stack.Then(hello))
	return r
}

func main() {
	// The same binary runs natively (go run ./examples/hello), as a CGI
	// program, or as a FastCGI responder (on a socket a web server or
	// spawn-fcgi hands over as standard input, or with -fastcgi).
	l := wsapi.Launcher{Stack: stack}
	l.Main(newHandler())
}
