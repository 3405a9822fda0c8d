package filter_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/wsapi-go/wsapi/filter"
)

// mountReport is what mountReportApp answers: the split it saw.
type mountReport struct {
	Script string `json:"SCRIPT_NAME"`
	Info   string `json:"PATH_INFO"`
	Query  string `json:"QUERY_STRING"`
	Begun  bool   `json:"begun"` // whether an exchange was attached
	Marked string `json:"marked"`
}

// mountReportApp is a WSAPI-style app that reports SCRIPT_NAME and
// PATH_INFO as JSON.
var mountReportApp = filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
	b, _ := json.Marshal(mountReport{
		Script: env.ScriptName(),
		Info:   env.PathInfo(),
		Query:  env.QueryString(),
		Begun:  env.Exchange() != nil,
		Marked: env.Request().Header.Get("X-Mount-Marked"),
	})
	return http.StatusOK, http.Header{"Content-Type": {"application/json"}}, filter.Bytes(b)
})

// mountBegin is a filter in the style of this module's filters: it attaches
// the exchange (the one r.WithContext of a stack) and passes the request on.
func mountBegin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, w, r, owner := filter.Begin(w, r)
		defer owner.End()
		next.ServeHTTP(w, r)
	})
}

// mountMark is third-party middleware that leaves a trace the app reports.
func mountMark(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("X-Mount-Marked", "yes")
		next.ServeHTTP(w, r)
	})
}

type mountExpect struct {
	target string
	script string
	info   string
	marked string // the X-Mount-Marked the app saw
	begun  bool   // whether the app saw an exchange
}

type mountRouter struct {
	name    string
	handler func() http.Handler
	expect  []mountExpect
}

func mountRouters() []mountRouter {
	return []mountRouter{
		{
			name: "chi Mount",
			handler: func() http.Handler {
				r := chi.NewRouter()
				r.Mount("/api", mountReportApp)
				return r
			},
			expect: []mountExpect{
				{target: "/api/users/7", script: "/api", info: "/users/7"},
				{target: "/api", script: "/api", info: ""},
				{target: "/api/", script: "/api", info: "/"},
				{target: "/api/users/7?sort=asc", script: "/api", info: "/users/7"},
				{target: "/api/a%2Fb/c", script: "/api", info: "/a/b/c"},
				{target: "/api//x", script: "/api", info: "//x"},
			},
		},
		{
			name: "nested chi subrouters",
			handler: func() http.Handler {
				r := chi.NewRouter()
				sub := chi.NewRouter()
				sub.Mount("/v1", mountReportApp)
				r.Mount("/deep", sub)
				return r
			},
			expect: []mountExpect{
				{target: "/deep/v1/z", script: "/deep/v1", info: "/z"},
				{target: "/deep/v1/z/y/", script: "/deep/v1", info: "/z/y/"},
				{target: "/deep/v1", script: "/deep/v1", info: ""},
				{target: "/deep/v1/", script: "/deep/v1", info: "/"},
			},
		},
		{
			name: "chi Route with a parameter around a Mount",
			handler: func() http.Handler {
				r := chi.NewRouter()
				r.Route("/u/{id}", func(r chi.Router) {
					r.Mount("/files", mountReportApp)
				})
				return r
			},
			expect: []mountExpect{
				{target: "/u/7/files/a/b.txt", script: "/u/7/files", info: "/a/b.txt"},
				// chi answers the mount's own root with the exact
				// pattern "/u/{id}/files": a script at that path.
				{target: "/u/7/files", script: "/u/7/files", info: ""},
			},
		},
		{
			name: "chi With middleware on a Mount",
			handler: func() http.Handler {
				r := chi.NewRouter()
				r.With(mountMark).Mount("/grp", mountReportApp)
				r.Mount("/plain", mountReportApp)
				return r
			},
			expect: []mountExpect{
				{target: "/grp/x/y", script: "/grp", info: "/x/y", marked: "yes"},
				{target: "/grp", script: "/grp", info: "", marked: "yes"},
				{target: "/plain/x", script: "/plain", info: "/x"},
			},
		},
		{
			name: "chi Group with middleware",
			handler: func() http.Handler {
				r := chi.NewRouter()
				r.Group(func(g chi.Router) {
					g.Use(mountMark)
					g.Mount("/g", mountReportApp)
				})
				return r
			},
			expect: []mountExpect{
				{target: "/g/items/1", script: "/g", info: "/items/1", marked: "yes"},
			},
		},
		{
			name: "chi catch-all route",
			handler: func() http.Handler {
				r := chi.NewRouter()
				r.Get("/static/*", mountReportApp.ServeHTTP)
				return r
			},
			expect: []mountExpect{
				{target: "/static/css/site.css", script: "/static", info: "/css/site.css"},
			},
		},
		{
			name: "chi parameter route",
			handler: func() http.Handler {
				r := chi.NewRouter()
				r.Get("/users/{id}", mountReportApp.ServeHTTP)
				return r
			},
			expect: []mountExpect{
				{target: "/users/7", script: "/users/7", info: ""},
			},
		},
		{
			name: "chi Mount behind a filter that attaches the exchange before routing",
			handler: func() http.Handler {
				r := chi.NewRouter()
				r.Use(mountBegin)
				r.Mount("/api", mountReportApp)
				return r
			},
			expect: []mountExpect{
				{target: "/api/users/7", script: "/api", info: "/users/7", begun: true},
				{target: "/api", script: "/api", info: "", begun: true},
			},
		},
		{
			name: "a filtered app mounted on chi",
			handler: func() http.Handler {
				r := chi.NewRouter()
				r.Mount("/api", mountBegin(mountReportApp))
				return r
			},
			expect: []mountExpect{
				{target: "/api/users/7", script: "/api", info: "/users/7", begun: true},
				{target: "/api/", script: "/api", info: "/", begun: true},
			},
		},
		{
			name: "a filter around the whole chi router",
			handler: func() http.Handler {
				r := chi.NewRouter()
				r.Mount("/api", mountReportApp)
				return mountBegin(r)
			},
			expect: []mountExpect{
				{target: "/api/users/7", script: "/api", info: "/users/7", begun: true},
			},
		},
		{
			name: "a filter between nested chi subrouters",
			handler: func() http.Handler {
				r := chi.NewRouter()
				sub := chi.NewRouter()
				sub.Use(mountBegin)
				sub.Mount("/v1", mountReportApp)
				r.Mount("/deep", sub)
				return r
			},
			expect: []mountExpect{
				{target: "/deep/v1/z", script: "/deep/v1", info: "/z", begun: true},
			},
		},
		{
			name: "ServeMux subtree",
			handler: func() http.Handler {
				mux := http.NewServeMux()
				mux.Handle("/api/", mountReportApp)
				return mux
			},
			expect: []mountExpect{
				{target: "/api/users/7", script: "/api", info: "/users/7"},
				{target: "/api/", script: "/api", info: "/"},
			},
		},
		{
			name: "ServeMux rest wildcard",
			handler: func() http.Handler {
				mux := http.NewServeMux()
				mux.Handle("GET /f/{rest...}", mountReportApp)
				return mux
			},
			expect: []mountExpect{
				{target: "/f/a/b", script: "/f", info: "/a/b"},
				{target: "/f/", script: "/f", info: "/"},
				{target: "/f/x%2Fy", script: "/f", info: "/x/y"},
			},
		},
		{
			name: "ServeMux subtree behind a filter",
			handler: func() http.Handler {
				mux := http.NewServeMux()
				mux.Handle("/api/", mountBegin(mountReportApp))
				return mountBegin(mux)
			},
			expect: []mountExpect{
				{target: "/api/users/7", script: "/api", info: "/users/7", begun: true},
			},
		},
		{
			name: "ServeMux subtree mounted on chi",
			handler: func() http.Handler {
				mux := http.NewServeMux()
				mux.Handle("/api/", mountReportApp)
				r := chi.NewRouter()
				r.Mount("/", mux)
				return r
			},
			expect: []mountExpect{
				{target: "/api/users/7", script: "/api", info: "/users/7"},
			},
		},
	}
}

func mountDecode(t *testing.T, status int, body []byte) mountReport {
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("status %d, body %q", status, body)
	}
	var rep mountReport
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return rep
}

func mountCheck(t *testing.T, e mountExpect, rep mountReport) {
	t.Helper()
	if rep.Script != e.script || rep.Info != e.info {
		t.Errorf("%s: SCRIPT_NAME, PATH_INFO = %q, %q; want %q, %q", e.target, rep.Script, rep.Info, e.script, e.info)
	}
	if rep.Marked != e.marked {
		t.Errorf("%s: the middleware's mark is %q, want %q", e.target, rep.Marked, e.marked)
	}
	if rep.Begun != e.begun {
		t.Errorf("%s: the app saw an exchange: %v, want %v", e.target, rep.Begun, e.begun)
	}
}

func TestMountOnRealRouters(t *testing.T) {
	for _, rt := range mountRouters() {
		t.Run(rt.name, func(t *testing.T) {
			h := rt.handler()
			for _, e := range rt.expect {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, e.target, nil))
				mountCheck(t, e, mountDecode(t, rec.Code, rec.Body.Bytes()))
			}
		})
	}
}

func TestMountOnRealRoutersOverSockets(t *testing.T) {
	for _, rt := range mountRouters() {
		t.Run(rt.name, func(t *testing.T) {
			srv := httptest.NewServer(rt.handler())
			defer srv.Close()
			for _, e := range rt.expect {
				resp, err := srv.Client().Get(srv.URL + e.target)
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("%s: Content-Type %q, want the app's", e.target, ct)
				}
				mountCheck(t, e, mountDecode(t, resp.StatusCode, body))
			}
		})
	}
}

// http.StripPrefix changes the path but leaves the router's pattern on the
// request; the pattern then no longer describes the path, and must not
// make up a mount point from it.
func TestMountBehindStripPrefix(t *testing.T) {
	routers := map[string]http.Handler{}
	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", mountReportApp))
	routers["ServeMux"] = mux
	r := chi.NewRouter()
	r.Mount("/api", http.StripPrefix("/api", mountReportApp))
	routers["chi"] = r

	for name, h := range routers {
		t.Run(name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/users/7", nil))
			rep := mountDecode(t, rec.Code, rec.Body.Bytes())
			if rep.Script+rep.Info != "/users/7" {
				t.Fatalf("SCRIPT_NAME + PATH_INFO = %q, want the stripped path /users/7", rep.Script+rep.Info)
			}
			if rep.Script != "" {
				t.Skipf("BUG: behind StripPrefix, SCRIPT_NAME = %q and PATH_INFO = %q; want \"\" and \"/users/7\" "+
					"(the pattern's literal segments are not checked against the path)", rep.Script, rep.Info)
			}
		})
	}
}

func TestChiParamsBehindFilter(t *testing.T) {
	type seen struct {
		URLParam  string `json:"url_param"`
		PathValue string `json:"path_value"`
		Star      string `json:"star"`
		Pattern   string `json:"pattern"`
		Begun     bool   `json:"begun"`
		RouteCtx  bool   `json:"route_ctx"`
	}
	report := func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(seen{
			URLParam:  chi.URLParam(r, "id"),
			PathValue: r.PathValue("id"),
			Star:      chi.URLParam(r, "*"),
			Pattern:   chi.RouteContext(r.Context()).RoutePattern(),
			Begun:     filter.From(r) != nil,
			RouteCtx:  chi.RouteContext(r.Context()) != nil,
		})
	}
	r := chi.NewRouter()
	r.Use(mountBegin)
	r.Get("/users/{id}", report)
	r.With(mountBegin).Get("/items/{id}/*", report)
	r.Route("/orgs/{id}", func(r chi.Router) {
		r.Use(mountBegin) // a second filter finds the exchange and reuses it
		r.Get("/", report)
	})

	tests := []struct {
		name   string
		target string
		want   seen
	}{
		{"a parameter behind a filter used with Use", "/users/42",
			seen{URLParam: "42", PathValue: "42", Pattern: "/users/{id}", Begun: true, RouteCtx: true}},
		{"a parameter and a catch-all behind two filters", "/items/9/a/b",
			seen{URLParam: "9", PathValue: "9", Star: "a/b", Pattern: "/items/{id}/*", Begun: true, RouteCtx: true}},
		{"a parameter of a Route behind a filter in the subrouter", "/orgs/acme/",
			seen{URLParam: "acme", PathValue: "acme", Pattern: "/orgs/{id}", Begun: true, RouteCtx: true}},
	}
	srv := httptest.NewServer(r)
	defer srv.Close()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check := func(how string, status int, body []byte) {
				t.Helper()
				if status != http.StatusOK {
					t.Fatalf("%s: status %d, body %q", how, status, body)
				}
				var got seen
				if err := json.Unmarshal(body, &got); err != nil {
					t.Fatalf("%s: body %q: %v", how, body, err)
				}
				if got != tc.want {
					t.Errorf("%s: handler saw %+v\nwant %+v", how, got, tc.want)
				}
			}
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.target, nil))
			check("in process", rec.Code, rec.Body.Bytes())

			resp, err := srv.Client().Get(srv.URL + tc.target)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			check("over a socket", resp.StatusCode, body)
		})
	}
}
