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
package main

import (
	"context"
	"errors"
	"flag"
	"html"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

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
	return http.StatusOK, header, filter.TextChunks(func(yield func(string) bool) {
		// PATH_INFO and SCRIPT_NAME come from the client: escape them.
		// The && stops at the first yield that returns false (the client
		// went away).
		_ = yield("<html><body>") &&
			yield("<p>Hello Wsapi!</p>") &&
			yield("<p>PATH_INFO: "+html.EscapeString(env.PathInfo())+"</p>") &&
			yield("<p>SCRIPT_NAME: "+html.EscapeString(env.ScriptName())+"</p>") &&
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

// listenAddr returns the address to listen on: flagAddr when it is set,
// else 127.0.0.1 with the port in $PORT, else 127.0.0.1:8080.
func listenAddr(flagAddr string, getenv func(string) string) string {
	if flagAddr != "" {
		return flagAddr
	}
	if port := getenv("PORT"); port != "" {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return "127.0.0.1:8080"
}

// serve serves the site on ln until ctx is done, then shuts down
// gracefully: it stops accepting and lets requests in flight finish, for
// up to 10 seconds.
func serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           newHandler(),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func main() {
	addr := flag.String("addr", "", "`address` to listen on (default 127.0.0.1:8080, or 127.0.0.1:$PORT when PORT is set)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal, restore the default handling, so that a
	// second one stops the program at once.
	context.AfterFunc(ctx, stop)

	ln, err := net.Listen("tcp", listenAddr(*addr, os.Getenv))
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("hello: listening on http://%s/hello/", ln.Addr())
	log.Printf("hello: stack %s", stack)
	if err := serve(ctx, ln); err != nil {
		log.Fatal(err)
	}
	log.Print("hello: stopped")
}
