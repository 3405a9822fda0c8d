package filter_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/wsapi-go/wsapi/filter"
)

// The seed example of Lua's WSAPI, in Go: a body yielded chunk by chunk.
func ExampleAppFunc() {
	hello := filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
		return 200, http.Header{"Content-Type": {"text/html"}}, filter.TextChunks(func(yield func(string) bool) {
			_ = yield("<html><body>") &&
				yield("<p>Hello Wsapi!</p>") &&
				yield("<p>PATH_INFO: "+env.PathInfo()+"</p>") &&
				yield("</body></html>")
		})
	})
	rec := httptest.NewRecorder()
	hello.ServeHTTP(rec, httptest.NewRequest("GET", "/world", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), rec.Flushed)
	fmt.Println(rec.Body.String())
	// Output:
	// 200 text/html true
	// <html><body><p>Hello Wsapi!</p><p>PATH_INFO: /world</p></body></html>
}

// A filter that attaches the exchange, adds a header just before the
// headers go out, and reports the status and size when the response is
// finished.
func ExampleBegin() {
	report := func(x *filter.Exchange) {
		fmt.Println("finished:", x.Status(), x.Written(), "bytes")
	}
	timing := filter.Func(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			x, w, r, owner := filter.Begin(w, r)
			defer owner.End()
			x.OnHeaders(func(x *filter.Exchange) { x.Header().Set("X-Request-Id", x.RequestID()) })
			x.OnFinish(report)
			x.SetRequestID("req-42")
			next.ServeHTTP(w, r)
		})
	})
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, "made it")
	})
	rec := httptest.NewRecorder()
	timing.Wrap(app).ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	fmt.Println(rec.Code, rec.Header().Get("X-Request-Id"))
	// Output:
	// finished: 201 7 bytes
	// 201 req-42
}

// The metavariables of RFC 3875, as a WSAPI app sees them.
func ExampleEnv() {
	r := httptest.NewRequest("POST", "http://example.com:8080/app/items?sort=name", strings.NewReader("a=1"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("User-Agent", "demo")
	r.Pattern = "/app/" // as net/http's ServeMux sets it for a subtree
	env := filter.NewEnv(r)
	for _, name := range []string{"REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING",
		"SERVER_NAME", "SERVER_PORT", "CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_USER_AGENT"} {
		fmt.Printf("%s=%s\n", name, env.Get(name))
	}
	// Output:
	// REQUEST_METHOD=POST
	// SCRIPT_NAME=/app
	// PATH_INFO=/items
	// QUERY_STRING=sort=name
	// SERVER_NAME=example.com
	// SERVER_PORT=8080
	// CONTENT_TYPE=application/x-www-form-urlencoded
	// CONTENT_LENGTH=3
	// HTTP_USER_AGENT=demo
}

// Subscribers of a namespace receive the events of every topic below it.
func ExampleHub() {
	var hub filter.Hub
	cancel := hub.Subscribe("auth", func(ev filter.Event) { fmt.Println("auth saw", ev.Topic, ev.Data) })
	defer cancel()
	hub.Subscribe("auth:login:failed", func(ev filter.Event) { fmt.Println("failures saw", ev.Topic) })
	hub.Publish("auth:login:failed", nil, "alice")
	hub.Publish("auth:login", nil, "bob")
	hub.Publish("session:renewed", nil, nil) // nobody listens
	fmt.Println(hub.Enabled("auth:logout"), hub.Enabled("isolate:panic"))
	// Output:
	// failures saw auth:login:failed
	// auth saw auth:login:failed alice
	// auth saw auth:login bob
	// true false
}
