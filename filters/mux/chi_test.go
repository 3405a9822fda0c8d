package mux_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/mux"
)

// chiSeen is what an app under chi saw.
type chiSeen struct {
	Script, Info, Tenant, Rest, Pattern, RoutePattern string
}

func chiReporter() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env := filter.NewEnv(r)
		_ = json.NewEncoder(w).Encode(chiSeen{
			Script: env.ScriptName(), Info: env.PathInfo(),
			Tenant: chi.URLParam(r, "tenant"), Rest: r.PathValue("rest"),
			Pattern: r.Pattern, RoutePattern: chi.RouteContext(r.Context()).RoutePattern(),
		})
	})
}

func getJSON(t *testing.T, srv *httptest.Server, path string, v any) int {
	t.Helper()
	res, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusOK {
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	return res.StatusCode
}

// TestOnChi runs a mux and stacks on a real chi router, served over
// loopback.
func TestOnChi(t *testing.T) {
	lint := filtertest.NewLint(t)
	stack := wsapi.New(filter.Named("begin", func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, w, r, owner := filter.Begin(w, r)
			defer owner.End()
			next.ServeHTTP(w, r)
		})
	}))

	m := mux.New()
	m.Mount("/v2", chiReporter())
	m.Mount("/", stack.Then(chiReporter()))

	r := chi.NewRouter()
	r.Mount("/api", m)
	r.Route("/t/{tenant}", func(r chi.Router) {
		r.Mount("/files", m) // a mux in a chi subrouter, under a URL parameter
	})
	srv := httptest.NewServer(lint.Wrap(r))
	defer srv.Close()

	tests := []struct {
		path         string
		script, info string
		tenant       string
	}{
		{"/api/v2/users/7", "/api/v2", "/users/7", ""},
		{"/api/other", "/api", "/other", ""},
		{"/api", "/api", "", ""},
		{"/t/acme/files/v2/a.txt", "/t/acme/files/v2", "/a.txt", "acme"},
		{"/t/acme/files/b.txt", "/t/acme/files", "/b.txt", "acme"},
	}
	for _, tt := range tests {
		var s chiSeen
		if code := getJSON(t, srv, tt.path, &s); code != http.StatusOK {
			t.Errorf("%s: status %d", tt.path, code)
			continue
		}
		if s.Script != tt.script || s.Info != tt.info || s.Tenant != tt.tenant {
			t.Errorf("%s: SCRIPT_NAME %q PATH_INFO %q tenant %q, want %q %q %q", tt.path, s.Script, s.Info, s.Tenant, tt.script, tt.info, tt.tenant)
		}
	}
}

// TestChiRouterInMux mounts chi routers on a mux, with and without a chi
// router outside: they route on the path below their mount, as under chi's
// own Mount.
func TestChiRouterInMux(t *testing.T) {
	users := chi.NewRouter()
	users.Get("/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		env := filter.NewEnv(r)
		_ = json.NewEncoder(w).Encode(map[string]string{
			"id": chi.URLParam(r, "id"), "script": env.ScriptName(), "info": env.PathInfo(),
			"pattern": chi.RouteContext(r.Context()).RoutePattern(),
		})
	})
	m := mux.New()
	m.Mount("/v2", users)

	outer := chi.NewRouter()
	outer.Mount("/api", m)

	for _, tc := range []struct {
		name    string
		h       http.Handler
		path    string
		pattern string
		script  string
	}{
		{"a mux alone", m, "/v2/users/7", "/v2/users/{id}", "/v2/users/7"},
		{"a mux under chi", outer, "/api/v2/users/7", "/api/v2/users/{id}", "/api/v2/users/7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(filtertest.NewLint(t).Wrap(tc.h))
			defer srv.Close()
			var got map[string]string
			if code := getJSON(t, srv, tc.path, &got); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			// A chi route is an exact route: a CGI script at its whole path.
			if got["id"] != "7" || got["pattern"] != tc.pattern || got["script"] != tc.script {
				t.Errorf("got %v", got)
			}
		})
	}
}

// TestOnServeMux runs a mux under Go's ServeMux patterns: r.PathValue
// still works in the mounted app.
func TestOnServeMux(t *testing.T) {
	m := mux.New()
	m.Mount("/v2", chiReporterNoChi())
	sm := http.NewServeMux()
	sm.Handle("/files/{rest...}", m)
	sm.Handle("GET /exact/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.PathValue("id")))
	}))
	srv := httptest.NewServer(filtertest.NewLint(t).Wrap(sm))
	defer srv.Close()
	var s chiSeen
	if code := getJSON(t, srv, "/files/v2/a/b", &s); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if s.Script != "/files/v2" || s.Info != "/a/b" || s.Rest != "v2/a/b" {
		t.Errorf("under ServeMux: %+v", s)
	}
	if code := getJSON(t, srv, "/files/v3", &s); code != http.StatusNotFound {
		t.Errorf("a miss under ServeMux: %d", code)
	}
}

func chiReporterNoChi() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env := filter.NewEnv(r)
		_ = json.NewEncoder(w).Encode(chiSeen{Script: env.ScriptName(), Info: env.PathInfo(), Rest: r.PathValue("rest"), Pattern: r.Pattern})
	})
}

// A chi router mounted on a mux outside any chi router gets a route
// context whose Routes is that router, as chi's own ServeHTTP sets it:
// chi middleware that matches on it (GetHead) works.
func TestChiRouterInMuxHasItsRoutes(t *testing.T) {
	r := chi.NewRouter()
	r.Use(middleware.GetHead)
	r.Get("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Page", "yes")
		_, _ = w.Write([]byte("page"))
	})
	m := mux.New()
	m.Mount("/app", r)
	for _, h := range []http.Handler{m, wsapi.New().Then(m)} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/app/page", nil))
		if rec.Code != http.StatusOK || rec.Header().Get("X-Page") != "yes" {
			t.Errorf("HEAD through GetHead: %d %v", rec.Code, rec.Header())
		}
	}
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/app/page", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "page" {
		t.Errorf("GET: %d %q", rec.Code, rec.Body)
	}
}
