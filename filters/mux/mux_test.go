package mux_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/mux"
)

// seen is what a reporting app saw.
type seen struct {
	App    string `json:"app"`
	Script string `json:"script"`
	Info   string `json:"info"`
	Path   string `json:"path"`
	Raw    string `json:"raw"`
	Query  string `json:"query"`
}

// reporter is a WSAPI-style app that answers what it saw, as JSON.
func reporter(name string) http.Handler {
	return filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
		r := env.Request()
		b, _ := json.Marshal(seen{
			App: name, Script: env.ScriptName(), Info: env.PathInfo(),
			Path: r.URL.Path, Raw: r.URL.RawPath, Query: env.QueryString(),
		})
		return http.StatusOK, http.Header{"Content-Type": {"application/json"}}, filter.Bytes(b)
	})
}

// serve sends req through h, checked by Lint, and returns the recorder.
func serve(t *testing.T, h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	filtertest.NewLint(t).Wrap(h).ServeHTTP(w, req)
	return w
}

// report serves req and decodes the reporting app's answer; app is "" when
// no reporter answered.
func report(t *testing.T, h http.Handler, req *http.Request) (seen, int) {
	t.Helper()
	w := serve(t, h, req)
	var s seen
	if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil {
			t.Fatalf("%s: bad report %q: %v", req.URL, w.Body, err)
		}
	}
	return s, w.Code
}

func request(host, target string) *http.Request {
	r := filtertest.Get(target)
	if host != "" {
		r.Host = host
	}
	return r
}

func TestDispatch(t *testing.T) {
	m := mux.New()
	m.Mount("/", reporter("root"))
	m.Mount("/css", reporter("css"))
	m.Mount("/api", reporter("api"))
	m.Mount("/api/v2/", reporter("v2"))
	m.Mount("/a b", reporter("space"))
	m.Mount("/100%", reporter("percent"))
	m.Mount("api.example.com/", reporter("host"))
	m.Mount("api.example.com/static", reporter("host-static"))
	m.Mount("example.com:8080/", reporter("port"))
	m.Mount("*.example.com/", reporter("wild"))
	m.Mount("*.eu.example.com/", reporter("wild-eu"))
	m.Mount("[::1]/v6", reporter("v6"))
	m.Mount("*.example.org:8443/", reporter("wild-port"))

	tests := []struct {
		name, host, target string
		app, script, info  string
		path               string // the path the app saw, when not the target's
	}{
		{"root", "", "/", "root", "", "/", ""},
		{"an unmounted path goes to the root", "", "/about", "root", "", "/about", ""},
		{"a prefix", "", "/css/site.css", "css", "/css", "/site.css", ""},
		{"the prefix itself", "", "/css", "css", "/css", "", ""},
		{"the prefix with a slash", "", "/css/", "css", "/css", "/", ""},
		{"a segment boundary only", "", "/css-config", "root", "", "/css-config", ""},
		{"the longest prefix", "", "/api/v2/users/7", "v2", "/api/v2", "/users/7", ""},
		{"a shorter prefix", "", "/api/v1/users", "api", "/api", "/v1/users", ""},
		{"a near miss", "", "/api/v22", "api", "/api", "/v22", ""},
		{"a space", "", "/a%20b/x", "space", "/a b", "/x", ""},
		{"a percent sign", "", "/100%25/x", "percent", "/100%", "/x", ""},
		{"an exact host first", "api.example.com", "/css/x", "host", "", "/css/x", ""},
		{"the host's longest prefix", "api.example.com", "/static/x", "host-static", "/static", "/x", ""},
		{"a host in upper case", "API.Example.COM", "/static/x", "host-static", "/static", "/x", ""},
		{"a host with a final dot", "api.example.com.", "/x", "host", "", "/x", ""},
		{"a host with any port", "api.example.com:9000", "/x", "host", "", "/x", ""},
		{"a host with its port", "example.com:8080", "/x", "port", "", "/x", ""},
		{"a host with another port", "example.com:8081", "/x", "root", "", "/x", ""},
		{"a wildcard", "shop.example.com", "/x", "wild", "", "/x", ""},
		{"the most specific wildcard", "a.eu.example.com", "/x", "wild-eu", "", "/x", ""},
		{"a deep wildcard", "a.b.c.example.com", "/x", "wild", "", "/x", ""},
		{"not the wildcard's apex", "example.com", "/x", "root", "", "/x", ""},
		{"not a lookalike", "badexample.com", "/x", "root", "", "/x", ""},
		{"an IPv6 host", "[::1]:8080", "/v6/x", "v6", "/v6", "/x", ""},
		{"a wildcard with its port", "a.example.org:8443", "/x", "wild-port", "", "/x", ""},
		{"a wildcard with another port", "a.example.org:80", "/x", "root", "", "/x", ""},
		{"a host with odd characters", "a/b?c#d@e", "/css/x", "css", "/css", "/x", ""},
		{"a dot segment", "", "/css/./site.css", "css", "/css", "/site.css", "/css/site.css"},
		{"a double slash", "", "//css//site.css", "css", "/css", "/site.css", "/css/site.css"},
		{"dot-dot into another mount", "", "/css/../api/x", "api", "/api", "/x", "/api/x"},
		{"dot-dot above the root", "", "/../../css/x", "css", "/css", "/x", "/css/x"},
		{"encoded dots", "", "/css/%2e%2e/api/x", "api", "/api", "/x", "/api/x"},
		{"a trailing dot-dot", "", "/api/v2/..", "api", "/api", "/", "/api/"},
		{"an encoded slash is not a separator", "", "/api%2Fv2/x", "root", "", "/api/v2/x", ""},
		{"an encoded slash inside a mount", "", "/api/v2/a%2Fb", "v2", "/api/v2", "/a/b", ""},
		{"a NUL byte", "", "/css/%00", "css", "/css", "/\x00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, code := report(t, m, request(tt.host, tt.target))
			if code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			if s.App != tt.app || s.Script != tt.script || s.Info != tt.info {
				t.Errorf("got app %q SCRIPT_NAME %q PATH_INFO %q, want %q %q %q", s.App, s.Script, s.Info, tt.app, tt.script, tt.info)
			}
			want := tt.path
			if want == "" {
				want = request("", tt.target).URL.Path
			}
			if s.Path != want {
				t.Errorf("app saw path %q, want %q", s.Path, want)
			}
		})
	}
}

func TestEncodedSlash(t *testing.T) {
	m := &mux.Mux{EncodedSlash: true}
	m.Mount("/api/v2", reporter("v2"))
	m.Mount("/", reporter("root"))
	s, _ := report(t, m, request("", "/api%2Fv2/x"))
	if s.App != "v2" || s.Script != "/api/v2" || s.Info != "/x" || s.Raw != "" {
		t.Errorf("EncodedSlash: got %+v", s)
	}
}

func TestMiss(t *testing.T) {
	m := mux.New()
	m.Mount("/api", reporter("api"))
	w := serve(t, m, request("", "/other"))
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "404") {
		t.Errorf("a miss: %d %q", w.Code, w.Body)
	}
	m2 := &mux.Mux{Fallback: reporter("fallback")}
	m2.Mount("/api", reporter("api"))
	if s, _ := report(t, m2, request("", "/other")); s.App != "fallback" {
		t.Errorf("a miss went to %q, want the fallback", s.App)
	}
	// Requests with no path to match.
	for _, target := range []string{"*"} {
		r := filtertest.NewRequest(http.MethodOptions, target, nil)
		if w := serve(t, m2, r); w.Code != http.StatusOK {
			t.Errorf("OPTIONS %s: %d", target, w.Code)
		}
	}
	// An empty mux.
	if w := serve(t, mux.New(), request("", "/")); w.Code != http.StatusNotFound {
		t.Errorf("an empty mux: %d", w.Code)
	}
}

func TestAsFilter(t *testing.T) {
	m := mux.New()
	m.Mount("/api", reporter("api"))
	h := filtertest.Check(t, m, reporter("inner"))
	if s, _ := report(t, h, request("", "/api/x")); s.App != "api" || s.Script != "/api" {
		t.Errorf("a match: %+v", s)
	}
	if s, _ := report(t, h, request("", "/x")); s.App != "inner" || s.Script != "" || s.Info != "/x" {
		t.Errorf("a miss: %+v", s)
	}
	// In a stack, after another filter attached the exchange.
	st := wsapi.New(filter.Named("begin", func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, w, r, owner := filter.Begin(w, r)
			defer owner.End()
			next.ServeHTTP(w, r)
		})
	}), m)
	if got := st.String(); !strings.Contains(got, "mux") {
		t.Errorf("stack listing %q lacks the mux", got)
	}
	h = st.Then(reporter("inner"))
	if s, _ := report(t, h, request("", "/api/x")); s.App != "api" || s.Script != "/api" {
		t.Errorf("in a stack: %+v", s)
	}
}

func TestNested(t *testing.T) {
	inner := mux.New()
	inner.Mount("/v2", reporter("v2"))
	inner.Mount("/", reporter("inner-root"))
	outer := mux.New()
	outer.Mount("/api", inner)
	s, _ := report(t, outer, request("", "/api/v2/users"))
	if s.App != "v2" || s.Script != "/api/v2" || s.Info != "/users" {
		t.Errorf("nested: %+v", s)
	}
	s, _ = report(t, outer, request("", "/api/x"))
	if s.App != "inner-root" || s.Script != "/api" || s.Info != "/x" {
		t.Errorf("nested root: %+v", s)
	}
	// A dot-dot cannot climb out of the inner mux's mount: the outer mux
	// cleans the path first, and "/v2/x" is not under "/api".
	outer2 := mux.New()
	outer2.Mount("/api", inner)
	outer2.Mount("/", reporter("outer-root"))
	if s, _ := report(t, outer2, request("", "/api/../v2/x")); s.App != "outer-root" || s.Path != "/v2/x" {
		t.Errorf("dot-dot out of /api: %+v", s)
	}
}

func TestOwnRequest(t *testing.T) {
	var outer, app *http.Request
	m := mux.New()
	m.MountFunc("/blog", func(w http.ResponseWriter, r *http.Request) { app = r })
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		outer = r
		r.Pattern = "/{path...}"
		m.ServeHTTP(w, r)
	})
	serve(t, h, request("", "/blog/post"))
	if app == nil || app == outer {
		t.Fatal("the app did not get a request of its own")
	}
	if outer.Pattern != "/{path...}" {
		t.Errorf("the caller's request changed: Pattern %q", outer.Pattern)
	}
	// Nothing is restored afterwards: the app's request still tells its
	// mount point after the mux returned.
	if mp := filter.MountPoint(app); mp != "/blog" {
		t.Errorf("after the call, the app's mount point is %q", mp)
	}
}

func TestStreamingAfterDispatch(t *testing.T) {
	m := mux.New()
	m.Mount("/s", filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
		return http.StatusOK, http.Header{"Content-Type": {"text/plain"}}, filter.TextChunks(func(yield func(string) bool) {
			for i := 0; i < 3; i++ {
				if !yield(env.ScriptName() + env.PathInfo() + "\n") {
					return
				}
			}
		})
	}))
	srv := httptest.NewServer(m)
	defer srv.Close()
	res, err := http.Get(srv.URL + "/s/x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "/s/x\n/s/x\n/s/x\n" {
		t.Errorf("streamed %q", b)
	}
}

func TestMountErrors(t *testing.T) {
	ok := reporter("x")
	tests := []struct{ name, pattern, want string }{
		{"no slash", "api", "must start with"},
		{"an unclean path", "/a/../b", "not clean"},
		{"a double slash", "/a//b", "not clean"},
		{"a bad host", "*/x", "bad host"},
		{"a host with a slash-free junk", "a@b/x", "bad host"},
		{"a double wildcard", "*.*.example.com/", "bad host"},
		{"a bad port", "example.com:http/", "bad host"},
		{"an empty wildcard", "*./", "bad host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				v := recover()
				if v == nil || !strings.Contains(v.(string), tt.want) || !strings.HasPrefix(v.(string), "mux: ") {
					t.Errorf("Mount(%q) panicked with %v, want %q", tt.pattern, v, tt.want)
				}
			}()
			mux.New().Mount(tt.pattern, ok)
		})
	}
	t.Run("twice", func(t *testing.T) {
		m := mux.New()
		m.Mount("/api", ok)
		defer func() {
			if v := recover(); v == nil || !strings.Contains(v.(string), "twice") {
				t.Errorf("mounting twice: %v", v)
			}
		}()
		m.Mount("/api/", ok)
	})
	t.Run("twice by host", func(t *testing.T) {
		m := mux.New()
		m.Mount("Example.com./x", ok)
		defer func() {
			if v := recover(); v == nil || !strings.Contains(v.(string), "twice") {
				t.Errorf("mounting a host twice: %v", v)
			}
		}()
		m.Mount("example.com/x/", ok)
	})
	t.Run("nil", func(t *testing.T) {
		defer func() {
			if v := recover(); v == nil || !strings.Contains(v.(string), "nil app") {
				t.Errorf("a nil app: %v", v)
			}
		}()
		mux.New().Mount("/", nil)
	})
}

func TestMounts(t *testing.T) {
	m := mux.New()
	m.Mount("/", reporter("a"))
	m.Mount("/api/", reporter("b"))
	m.Mount("Example.com/x", reporter("c"))
	got := strings.Join(m.Mounts(), " ")
	if got != "/ /api example.com/x" {
		t.Errorf("Mounts() = %q", got)
	}
	if m.Name() != "mux" {
		t.Errorf("Name() = %q", m.Name())
	}
}

func TestMountWhileServing(t *testing.T) {
	m := mux.New()
	m.Mount("/", reporter("root"))
	srv := httptest.NewServer(m)
	defer srv.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 50; i++ {
			res, err := http.Get(srv.URL + "/late/x")
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
		}
	}()
	m.Mount("/late", reporter("late"))
	<-done
	if s, _ := report(t, m, request("", "/late/x")); s.App != "late" {
		t.Errorf("a mount added while serving: %+v", s)
	}
}

func TestRedirectSlash(t *testing.T) {
	m := &mux.Mux{RedirectSlash: true}
	m.Mount("/app", reporter("app"))
	m.Mount("/a b", reporter("space"))
	m.Mount("/", reporter("root"))
	tests := []struct {
		method, target string
		code           int
		location       string
	}{
		{http.MethodGet, "/app", http.StatusMovedPermanently, "/app/"},
		{http.MethodHead, "/app?x=1", http.StatusMovedPermanently, "/app/?x=1"},
		{http.MethodPost, "/app?a=b&c", http.StatusPermanentRedirect, "/app/?a=b&c"},
		{http.MethodGet, "/app/", http.StatusOK, ""},
		{http.MethodGet, "/", http.StatusOK, ""},
		{http.MethodGet, "//app", http.StatusMovedPermanently, "/app/"},
		{http.MethodGet, "/a%20b", http.StatusMovedPermanently, "/a%20b/"},
	}
	for _, tt := range tests {
		w := serve(t, m, filtertest.NewRequest(tt.method, tt.target, nil))
		if w.Code != tt.code || w.Header().Get("Location") != tt.location {
			t.Errorf("%s %s: %d %q, want %d %q", tt.method, tt.target, w.Code, w.Header().Get("Location"), tt.code, tt.location)
		}
	}
	// Under a base, the redirect keeps it.
	outer := mux.New()
	outer.Mount("/site", m)
	if w := serve(t, outer, request("", "/site/app?q")); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/site/app/?q" {
		t.Errorf("under a base: %d %q", w.Code, w.Header().Get("Location"))
	}
}

func TestLongPaths(t *testing.T) {
	m := mux.New()
	m.Mount("/a", reporter("a"))
	m.Mount("/", reporter("root"))
	for _, target := range []string{
		"/a/" + strings.Repeat("x/", 32*1024),
		"/a/" + strings.Repeat("../", 20000) + "a/x",
		"/a/" + strings.Repeat("%2e%2e/", 9000) + "a/x",
		"/" + strings.Repeat("/", 64*1024) + "a/x",
		"/a/" + strings.Repeat("b%2F", 16*1024),
	} {
		s, code := report(t, m, filtertest.Get(target))
		if code != http.StatusOK || s.App != "a" || s.Script+s.Info != s.Path {
			t.Errorf("a %d-byte path: %d %q %q %q", len(target), code, s.App, s.Script, s.Info)
		}
	}
}
