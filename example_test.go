package wsapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter"
)

// poweredBy is a filter that adds a header just before the headers go out.
var poweredBy = filter.Named("powered-by", func(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, r, owner := filter.Begin(w, r)
		defer owner.End()
		x.OnHeaders(func(x *filter.Exchange) { x.Header().Set("X-Powered-By", "wsapi-go") })
		next.ServeHTTP(w, r)
	})
})

// A stack mounted on chi: the WSAPI-style app sees its mount point as
// SCRIPT_NAME and the rest of the path as PATH_INFO.
func Example() {
	stack := wsapi.New(filter.Func(middleware.Recoverer), poweredBy)
	app := filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
		return 200, http.Header{"Content-Type": {"text/plain"}}, filter.TextChunks(func(yield func(string) bool) {
			_ = yield("SCRIPT_NAME="+env.ScriptName()+"\n") && yield("PATH_INFO="+env.PathInfo()+"\n")
		})
	})

	r := chi.NewRouter()
	r.Mount("/api", stack.Then(app))

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/api/users/7", nil))
	fmt.Println(stack)
	fmt.Println(rec.Header().Get("X-Powered-By"))
	fmt.Print(rec.Body.String())
	// Output:
	// middleware.Recoverer > powered-by
	// wsapi-go
	// SCRIPT_NAME=/api
	// PATH_INFO=/users/7
}

// New(a, b).Then(h) serves as a.Wrap(b.Wrap(h)): the first filter is the
// outermost.
func ExampleStack_Then() {
	say := func(name string) filter.Filter {
		return filter.Named(name, func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Println("in", name)
				next.ServeHTTP(w, r)
				fmt.Println("out", name)
			})
		})
	}
	h := wsapi.New(say("a"), say("b")).ThenFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("app")
	})
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	// Output:
	// in a
	// in b
	// app
	// out b
	// out a
}

// Append returns a new stack and leaves the one it is called on alone, so
// one base stack can serve several routes.
func ExampleStack_Append() {
	base := wsapi.New(filter.Func(middleware.RequestID), filter.Func(middleware.Recoverer))
	api := base.Append(filter.Func(middleware.NoCache))
	pages := base.Append(poweredBy)
	fmt.Println(base)
	fmt.Println(api)
	fmt.Println(pages)
	// Output:
	// middleware.RequestID > middleware.Recoverer
	// middleware.RequestID > middleware.Recoverer > middleware.NoCache
	// middleware.RequestID > middleware.Recoverer > powered-by
}

// sessions and login stand in for filters that provide and need a service.
type sessions struct{}

func (sessions) Wrap(next http.Handler) http.Handler { return next }
func (sessions) Name() string                        { return "session" }
func (sessions) Provides() []string                  { return []string{"session"} }

type login struct{}

func (login) Wrap(next http.Handler) http.Handler { return next }
func (login) Name() string                        { return "auth" }
func (login) Needs() []filter.Need {
	return []filter.Need{{Service: "session", Hint: "a session filter (filters/session)"}}
}

// A stack checks, when it is built, that every filter finds the services it
// needs outside it.
func ExampleStack_Check() {
	fmt.Println(wsapi.New(login{}).Check())
	fmt.Println(wsapi.New(login{}, sessions{}).Check())
	fmt.Println(wsapi.New(sessions{}, login{}).Check())
	// Output:
	// wsapi: auth (number 1 in the stack) needs session outside it, and no filter provides it: add a session filter (filters/session) before auth
	// wsapi: auth (number 1 in the stack) needs session outside it, but session comes after it: move session before auth
	// <nil>
}
