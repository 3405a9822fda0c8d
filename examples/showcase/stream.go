package main

import (
	"html"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filters/auth"
)

// The headers by which the server tells the stream app, which may run in a
// worker process without the auth filter, who is logged in. The server
// removes whatever a client sent under these names.
const (
	streamUserHeader  = "X-Showcase-User"
	streamAdminHeader = "X-Showcase-Admin"
)

// Limits of the stream's query parameters.
const (
	defaultChunks = 10
	maxChunks     = 100
	defaultDelay  = 300 * time.Millisecond
	maxDelay      = time.Second
)

// withStreamUser is the filter in front of the stream app: it passes the
// logged-in user's name (and whether it is an admin) in request headers,
// so the app can greet the user in a worker process too.
func withStreamUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del(streamUserHeader)
		r.Header.Del(streamAdminHeader)
		if id := auth.IdentityOf(r); id != nil {
			r.Header.Set(streamUserHeader, id.Name)
			if id.HasRole("admin") {
				r.Header.Set(streamAdminHeader, "1")
			}
		}
		next.ServeHTTP(w, r)
	})
}

// newStreamApp returns the /stream page, a WSAPI-style app: it returns a
// status, headers and a body that yields the page chunk by chunk; each
// chunk is written and flushed as it is yielded, as WSAPI's
// coroutine.yield did. The query sets the number of chunks (n, 1 to 100)
// and the pause between them in milliseconds (ms, 0 to 1000).
//
// where says which process serves it, for the page to tell.
func newStreamApp(p *pages, where string) filter.AppFunc {
	return func(env *filter.Env) (int, http.Header, filter.Body) {
		text := http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
		switch env.Method() {
		case http.MethodGet, http.MethodHead:
		default:
			text.Set("Allow", "GET, HEAD")
			return http.StatusMethodNotAllowed, text, filter.Text("405 Method Not Allowed: GET only\n")
		}
		if pi := env.PathInfo(); pi != "" && pi != "/" {
			return http.StatusNotFound, text, filter.Text("404 page not found\n")
		}
		r := env.Request()
		q := r.URL.Query()
		n := intParam(q.Get("n"), defaultChunks, 1, maxChunks)
		delay := time.Duration(intParam(q.Get("ms"), int(defaultDelay/time.Millisecond), 0, int(maxDelay/time.Millisecond))) * time.Millisecond
		v := view{Title: "Stream", User: r.Header.Get(streamUserHeader), Admin: r.Header.Get(streamAdminHeader) == "1"}

		h := http.Header{}
		pageHeaders(h)
		h.Set("X-Accel-Buffering", "no") // a proxy in front must not hold the chunks back
		intro := `<section class="card"><h1>A streamed page</h1>` +
			`<p>This page is a WSAPI-style app (<code>filter.AppFunc</code>): its body is an iterator, and each chunk is flushed as it is yielded. ` +
			`It is served by process <strong id="stream-pid">` + strconv.Itoa(os.Getpid()) + `</strong> (` + html.EscapeString(where) + `), ` +
			`with SCRIPT_NAME ` + shown(env.ScriptName()) + ` and PATH_INFO ` + shown(env.PathInfo()) + `.</p>` +
			`<ol id="chunks">` + "\n"
		ctx, draining := r.Context(), wsapi.Draining(r) // nil (never ready) in a worker
		return http.StatusOK, h, filter.TextChunks(func(yield func(string) bool) {
			if !yield(p.part("head", v) + intro) {
				return
			}
			for i := 1; i <= n; i++ {
				if i > 1 && delay > 0 {
					t := time.NewTimer(delay)
					select {
					case <-ctx.Done():
						t.Stop()
						return
					case <-draining: // the server shuts down: end the page now
						t.Stop()
						_ = yield(`</ol><p id="stream-done" class="flash error">The server is shutting down: the stream ends here.</p></section>` + "\n" + p.part("foot", v))
						return
					case <-t.C:
					}
				}
				chunk := `<li class="chunk">chunk ` + strconv.Itoa(i) + ` of ` + strconv.Itoa(n) +
					`, sent at ` + time.Now().Format("15:04:05.000") + "</li>\n"
				if !yield(chunk) {
					return // the client went away
				}
			}
			_ = yield(`</ol><p id="stream-done" class="flash ok">All ` + strconv.Itoa(n) + ` chunks sent.</p></section>` + "\n" + p.part("foot", v))
		})
	}
}

// shown is s as HTML code, or the word "empty" when s is empty, to show
// on a page.
func shown(s string) string {
	if s == "" {
		return "empty"
	}
	return "<code>" + html.EscapeString(s) + "</code>"
}

// intParam reads a whole number from s, def when s is empty or not a
// number, held within lo and hi.
func intParam(s string, def, lo, hi int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return min(max(n, lo), hi)
}
