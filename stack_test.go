package wsapi_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
)

// tag is a filter that records its name on the way in and out.
type tag struct {
	name string
	log  *[]string
}

func (f tag) Name() string { return f.name }
func (f tag) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*f.log = append(*f.log, ">"+f.name)
		next.ServeHTTP(w, r)
		*f.log = append(*f.log, "<"+f.name)
	})
}

// service is a filter that provides and needs services.
type service struct {
	name     string
	provides []string
	needs    []filter.Need
}

func (f service) Name() string                        { return f.name }
func (f service) Wrap(next http.Handler) http.Handler { return next }
func (f service) Provides() []string                  { return f.provides }
func (f service) Needs() []filter.Need                { return f.needs }

var (
	sessionFilter = service{name: "session", provides: []string{"session"}}
	authFilter    = service{name: "auth", needs: []filter.Need{{Service: "session", Hint: "session.New(store) from filters/session"}}}
)

// serve runs one GET request through h under filtertest.Lint.
func serve(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	filtertest.NewLint(t).Wrap(h).ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
	return rec
}

func TestTheFirstFilterIsTheOutermost(t *testing.T) {
	var log []string
	s := wsapi.New(tag{"a", &log}, tag{"b", &log}).Append(tag{"c", &log})
	h := s.ThenFunc(func(w http.ResponseWriter, r *http.Request) { log = append(log, "app") })
	serve(t, h, "/")
	if got := strings.Join(log, " "); got != ">a >b >c app <c <b <a" {
		t.Errorf("order: %s", got)
	}
}

func TestAppendNeverChangesAnotherStack(t *testing.T) {
	var log []string
	base := wsapi.New(tag{"a", &log}, tag{"b", &log})
	// Grow base's capacity as far as append would, then branch twice.
	one := base.Append(tag{"one", &log})
	two := base.Append(tag{"two", &log})
	if got := one.String(); got != "a > b > one" {
		t.Errorf("one = %s", got)
	}
	if got := two.String(); got != "a > b > two" {
		t.Errorf("two = %s", got)
	}
	if got := base.String(); got != "a > b" {
		t.Errorf("base = %s", got)
	}
	fs := one.Filters()
	fs[0] = tag{"changed", &log}
	if one.Names()[0] != "a" {
		t.Error("Filters must return a copy")
	}
	logged := base.WithLogger(slog.Default())
	a := logged.Append(tag{"x", &log})
	b := logged.Append(tag{"y", &log})
	if a.String() != "a > b > x" || b.String() != "a > b > y" {
		t.Errorf("stacks branched from WithLogger alias: %s, %s", a, b)
	}
}

func TestStacksNestAndListFlat(t *testing.T) {
	var log []string
	inner := wsapi.New(tag{"b", &log}, tag{"c", &log})
	outer := wsapi.New(tag{"a", &log}, inner, &inner, tag{"d", &log})
	if got := outer.String(); got != "a > b > c > b > c > d" {
		t.Errorf("String = %s", got)
	}
	if outer.Len() != 6 {
		t.Errorf("Len = %d", outer.Len())
	}
	if got := inner.Name(); got != "stack(b, c)" {
		t.Errorf("Name = %s", got)
	}
	if got := (wsapi.Stack{}).String(); got != "(empty stack)" {
		t.Errorf("empty String = %s", got)
	}
	serve(t, outer.ThenFunc(func(http.ResponseWriter, *http.Request) {}), "/")
	if got := strings.Join(log, ""); got != ">a>b>c>b>c>d<d<c<b<c<b<a" {
		t.Errorf("order: %s", got)
	}
}

func TestAnEmptyStackReturnsTheApp(t *testing.T) {
	app := http.NotFoundHandler()
	if h := (wsapi.Stack{}).Then(app); h == nil || serve(t, h, "/").Code != 404 {
		t.Error("an empty stack must serve the app itself")
	}
}

func TestNamesOfAdaptedMiddleware(t *testing.T) {
	s := wsapi.New(filter.Func(middleware.Logger), filter.Named("recover", middleware.Recoverer), sessionFilter)
	if got := strings.Join(s.Names(), ","); got != "middleware.Logger,recover,session" {
		t.Errorf("Names = %s", got)
	}
}

func TestNeedsAreCheckedAtBuildTime(t *testing.T) {
	app := http.NotFoundHandler()
	tests := []struct {
		name    string
		stack   wsapi.Stack
		problem string // "" means it builds
	}{
		{"a need met by a filter outside is fine", wsapi.New(sessionFilter, authFilter), ""},
		{"a need met inside a nested stack's outer filters is fine", wsapi.New(sessionFilter, wsapi.New(authFilter)), ""},
		{"a missing provider says what to add",
			wsapi.New(authFilter),
			"wsapi: auth (number 1 in the stack) needs session outside it, and no filter provides it: add session.New(store) from filters/session before auth"},
		{"a provider after the filter says to move it",
			wsapi.New(authFilter, sessionFilter),
			"wsapi: auth (number 1 in the stack) needs session outside it, but session comes after it: move session before auth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.stack.Check()
			if tt.problem == "" {
				if err != nil {
					t.Fatalf("Check = %v", err)
				}
				if tt.stack.Then(app) == nil {
					t.Fatal("Then returned nil")
				}
				return
			}
			if err == nil || err.Error() != tt.problem {
				t.Fatalf("Check = %v\nwant %s", err, tt.problem)
			}
			defer func() {
				if p := recover(); p != tt.problem {
					t.Errorf("Then panicked with %v", p)
				}
			}()
			tt.stack.Then(app)
		})
	}
	if needs := wsapi.New(authFilter).Needs(); len(needs) != 1 || needs[0].Service != "session" {
		t.Errorf("unmet needs of a stack: %v", needs)
	}
	if provides := wsapi.New(sessionFilter, authFilter).Provides(); len(provides) != 1 || provides[0] != "session" {
		t.Errorf("Provides = %v", provides)
	}
}

func TestBuildMistakesPanicWithAClearMessage(t *testing.T) {
	var nilStack *wsapi.Stack
	tests := []struct {
		name  string
		build func()
		want  string
	}{
		{"Then(nil)", func() { wsapi.New().Then(nil) }, "wsapi: Stack.Then(nil)"},
		{"ThenFunc(nil)", func() { wsapi.New().ThenFunc(nil) }, "wsapi: Stack.Then(nil)"},
		{"a nil filter", func() { wsapi.New(sessionFilter, nil) }, "wsapi: filter 2 of 2 given to New or Append is nil"},
		{"a nil *Stack", func() { wsapi.New(nilStack) }, "wsapi: filter 1 of 1 given to New or Append is a nil *Stack"},
		{"a filter whose Wrap returns nil", func() {
			wsapi.New(filter.Named("broken", func(http.Handler) http.Handler { return nil })).Then(http.NotFoundHandler())
		}, "wsapi: filter broken (number 1 in the stack) returned a nil handler from Wrap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				p, _ := recover().(string)
				if !strings.HasPrefix(p, tt.want) {
					t.Errorf("panic %q, want it to start with %q", p, tt.want)
				}
			}()
			tt.build()
		})
	}
}

// where is a WSAPI-style app that reports its SCRIPT_NAME and PATH_INFO.
var where = filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
	return 200, http.Header{"Content-Type": {"text/plain"}}, filter.TextChunks(func(yield func(string) bool) {
		_ = yield(env.ScriptName()) && yield("|") && yield(env.PathInfo())
	})
})

// exchanger attaches the exchange, as most filters do.
var exchanger = filter.Named("exchanger", func(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, r, owner := filter.Begin(w, r)
		defer owner.End()
		x.OnHeaders(func(x *filter.Exchange) { x.Header().Set("X-Stack", "yes") })
		next.ServeHTTP(w, r)
	})
})

func TestAStackMountsOnChi(t *testing.T) {
	stack := wsapi.New(exchanger, filter.Func(middleware.Recoverer))
	r := chi.NewRouter()
	r.Mount("/api", stack.Then(where))
	r.With(stack.Wrap).Get("/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, chi.URLParam(r, "id")+","+r.PathValue("id"))
	})
	sub := chi.NewRouter()
	sub.Use(stack.Wrap)
	sub.Mount("/v1", where)
	r.Mount("/deep", sub)
	srv := httptest.NewServer(filtertest.NewLint(t).Wrap(r))
	defer srv.Close()

	tests := []struct{ path, want string }{
		{"/api/users/7", "/api|/users/7"},
		{"/api", "/api|"},
		{"/api/", "/api|/"},
		{"/deep/v1/z", "/deep/v1|/z"},
		{"/users/42", "42,42"},
	}
	for _, tt := range tests {
		res, err := http.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(body) != tt.want || res.Header.Get("X-Stack") != "yes" {
			t.Errorf("%s: got %q (X-Stack %q), want %q", tt.path, body, res.Header.Get("X-Stack"), tt.want)
		}
	}
}

func TestWithLoggerTakesTheAppsErrorStream(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, nil))
	app := filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
		io.WriteString(env.Errors(), "disk full\nretrying\n")
		return 200, nil, filter.Text("ok")
	})
	h := wsapi.New(exchanger).WithLogger(l).Then(app)
	if rec := serve(t, h, "/x"); rec.Body.String() != "ok" {
		t.Fatalf("body %q", rec.Body.String())
	}
	out := buf.String()
	if strings.Count(out, "level=ERROR") != 2 || !strings.Contains(out, `msg="disk full"`) || !strings.Contains(out, "msg=retrying") {
		t.Errorf("log:\n%s", out)
	}
}
