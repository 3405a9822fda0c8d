package mux_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/mux"
)

// An encoded slash beside a dot segment would let PATH_INFO climb above
// the mount once an app splits it on "/": refused.
func TestEncodedDotSegments(t *testing.T) {
	m := mux.New()
	m.Mount("/static", reporter("static"))
	for _, target := range []string{
		"/static/..%2F..%2Fetc/passwd",
		"/static/%2E%2E%2Fsecret",
		"/static/a%2F.%2Fb",
		"/static/x%2F..",
	} {
		if w := serve(t, m, filtertest.Get(target)); w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %q, want 400", target, w.Code, w.Body)
		}
	}
	// An encoded slash alone is fine, inside its segment.
	if s, code := report(t, m, filtertest.Get("/static/a%2Fb")); code != http.StatusOK || s.Info != "/a/b" {
		t.Errorf("a plain encoded slash: %d %+v", code, s)
	}
}

// A candidate that passes leaves nothing behind: no before-headers hook,
// no annotation, no request change, no chi routing state.
func TestCascadeTakesBackAPass(t *testing.T) {
	m := &mux.Mux{Cascade: true}
	m.MountFunc("/a", func(w http.ResponseWriter, r *http.Request) {
		x := filter.From(r)
		x.SetUser("a-user")
		x.OnHeaders(func(x *filter.Exchange) { x.Header().Add("Set-Cookie", "a=1; Path=/a") })
		r.Header.Set("X-Changed", "yes")
		mux.Pass(w)
	})
	var user, changed, pattern string
	m.MountFunc("/", func(w http.ResponseWriter, r *http.Request) {
		user, changed, pattern = filter.From(r).User(), r.Header.Get("X-Changed"), r.Pattern
		fmt.Fprint(w, "root")
	})
	w := serve(t, m, filtertest.Get("/a/x"))
	if w.Body.String() != "root" || w.Header().Get("Set-Cookie") != "" {
		t.Errorf("answer %q with headers %v", w.Body, w.Header())
	}
	if user != "" || changed != "" || pattern != "/{path...}" {
		t.Errorf("the next candidate saw user %q, header %q, pattern %q", user, changed, pattern)
	}

	// The miss handler sees the request as the mux found it.
	var missPattern string
	m2 := &mux.Mux{Cascade: true, Fallback: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		missPattern = r.Pattern
		fmt.Fprint(w, filter.PathInfo(r))
	})}
	m2.MountFunc("/a", func(w http.ResponseWriter, r *http.Request) { mux.Pass(w) })
	if w := serve(t, m2, filtertest.Get("/a/x")); w.Body.String() != "/a/x" || missPattern != "" {
		t.Errorf("the fallback saw PATH_INFO %q, pattern %q", w.Body, missPattern)
	}
}

func TestCascadeUnderChi(t *testing.T) {
	m := &mux.Mux{Cascade: true}
	sub := chi.NewRouter()
	sub.Get("/{id}", func(w http.ResponseWriter, r *http.Request) { mux.Pass(w) })
	m.Mount("/blog", sub)
	r := chi.NewRouter()
	r.Use(m.Wrap)
	r.Get("/blog/{slug}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "chi %s id=%q", chi.URLParam(r, "slug"), chi.URLParam(r, "id"))
	})
	srv := httptest.NewServer(filtertest.NewLint(t).Wrap(r))
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL + "/blog/feed")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	_, _ = fmt.Fprint(&b, readAll(t, res))
	if got := b.String(); got != `chi feed id=""` {
		t.Errorf("after the blog passed, chi answered %q", got)
	}
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	var sb strings.Builder
	buf := make([]byte, 512)
	for {
		n, err := res.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return sb.String()
		}
	}
}

// Forward after a nested mux passed goes to the outer mux.
func TestForwardAfterNestedPass(t *testing.T) {
	inner := &mux.Mux{Cascade: true, Fallback: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { mux.Pass(w) })}
	inner.MountFunc("/", func(w http.ResponseWriter, r *http.Request) { mux.Pass(w) })
	inner.MountFunc("/login", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "inner login") })
	outer := &mux.Mux{Cascade: true}
	outer.Mount("/shop", inner)
	outer.MountFunc("/login", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "outer login") })
	outer.MountFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if err := mux.Forward(w, r, "/login"); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	if w := serve(t, outer, filtertest.Get("/shop/x")); w.Body.String() != "outer login" {
		t.Errorf("forward went to %q", w.Body)
	}
}

// A chi router behind a stack's filters, on a mux outside any chi router,
// routes on the path below its mount.
func TestChiRouterInStack(t *testing.T) {
	blog := chi.NewRouter()
	blog.Get("/posts/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s %s", chi.URLParam(r, "id"), mux.Link(r, "/posts/8", nil), mux.StaticLink(r, "/css/site.css"))
	})
	st := wsapi.New(filter.Named("begin", func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, w, r, owner := filter.Begin(w, r)
			defer owner.End()
			next.ServeHTTP(w, r)
		})
	}))
	m := mux.New()
	m.Mount("/apps/blog", st.Then(blog))
	if w := serve(t, m, filtertest.Get("/apps/blog/posts/7")); w.Body.String() != "7 /apps/blog/posts/8 /apps/css/site.css" {
		t.Errorf("got %d %q", w.Code, w.Body)
	}
}

func TestWildcardEmptyLabels(t *testing.T) {
	m := mux.New()
	m.Mount("*.example.com/", reporter("wild"))
	m.Mount("/", reporter("root"))
	for _, host := range []string{".example.com", "a..example.com", "..example.com"} {
		if s, _ := report(t, m, request(host, "/")); s.App != "root" {
			t.Errorf("host %q went to %q", host, s.App)
		}
	}
}

// Settings made after Wrap, before the first request, count.
func TestSettingsAfterWrap(t *testing.T) {
	m := mux.New()
	m.MountFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		if err := mux.Forward(w, r, "/loop"); err != nil {
			http.Error(w, err.Error(), http.StatusLoopDetected)
		}
	})
	h := m.Wrap(http.NotFoundHandler())
	var events int
	hub := new(filter.Hub)
	hub.Subscribe("mux", func(filter.Event) { events++ })
	m.MaxForwards = 2
	m.Hub = hub
	if w := serve(t, h, filtertest.Get("/loop")); w.Code != http.StatusLoopDetected || events != 1 {
		t.Errorf("got %d after %d events", w.Code, events)
	}
}
