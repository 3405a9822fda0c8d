package mux_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/go-chi/chi/v5"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filters/mux"
)

// get sends a GET for target to h and returns the body.
func get(h http.Handler, host, target string) string {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	if host != "" {
		r.Host = host
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	b, _ := io.ReadAll(w.Result().Body)
	return string(b)
}

// env is a WSAPI-style app that shows its name, SCRIPT_NAME and PATH_INFO.
func env(name string) http.Handler {
	return filter.AppFunc(func(e *filter.Env) (int, http.Header, filter.Body) {
		return http.StatusOK, nil, filter.Text(fmt.Sprintf("%s: SCRIPT_NAME=%q PATH_INFO=%q\n", name, e.ScriptName(), e.PathInfo()))
	})
}

func Example() {
	m := mux.New()
	m.Mount("/", env("site"))
	m.Mount("/blog", env("blog"))
	m.Mount("/blog/admin", env("admin"))
	m.Mount("api.example.com/", env("api"))

	fmt.Print(get(m, "", "/blog/posts/7"))
	fmt.Print(get(m, "", "/blog/admin/"))
	fmt.Print(get(m, "", "/blog-archive"))
	fmt.Print(get(m, "", "/blog/../about"))
	fmt.Print(get(m, "api.example.com", "/blog/x"))
	// Output:
	// blog: SCRIPT_NAME="/blog" PATH_INFO="/posts/7"
	// admin: SCRIPT_NAME="/blog/admin" PATH_INFO="/"
	// site: SCRIPT_NAME="" PATH_INFO="/blog-archive"
	// site: SCRIPT_NAME="" PATH_INFO="/about"
	// api: SCRIPT_NAME="" PATH_INFO="/blog/x"
}

// A mux mounted on chi composes with chi's mount point.
func Example_chi() {
	m := mux.New()
	m.Mount("/v2", env("v2"))

	r := chi.NewRouter()
	r.Mount("/api", m)

	fmt.Print(get(r, "", "/api/v2/users/7"))
	// Output:
	// v2: SCRIPT_NAME="/api/v2" PATH_INFO="/users/7"
}

// As a filter, a mux sends what it does not mount to the next handler.
func ExampleMux_Wrap() {
	m := mux.New()
	m.Mount("/admin", env("admin"))
	h := m.Wrap(env("app"))

	fmt.Print(get(h, "", "/admin/users"))
	fmt.Print(get(h, "", "/home"))
	// Output:
	// admin: SCRIPT_NAME="/admin" PATH_INFO="/users"
	// app: SCRIPT_NAME="" PATH_INFO="/home"
}

func ExampleForward() {
	m := mux.New()
	m.Mount("/new", env("new"))
	m.MountFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		if err := mux.Forward(w, r, "/new"+filter.PathInfo(r)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	fmt.Print(get(m, "", "/old/page"))
	// Output:
	// new: SCRIPT_NAME="/new" PATH_INFO="/page"
}

func ExamplePass() {
	m := &mux.Mux{Cascade: true}
	m.Mount("/", env("site"))
	m.MountFunc("/files", func(w http.ResponseWriter, r *http.Request) {
		if filter.PathInfo(r) != "/known.txt" {
			mux.Pass(w) // let the next candidate try
			return
		}
		fmt.Fprintln(w, "files: known.txt")
	})
	fmt.Print(get(m, "", "/files/known.txt"))
	fmt.Print(get(m, "", "/files/other.txt"))
	// Output:
	// files: known.txt
	// site: SCRIPT_NAME="" PATH_INFO="/files/other.txt"
}

func ExampleLink() {
	m := mux.New()
	m.MountFunc("/blog", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, mux.Link(r, "/posts", nil))
		fmt.Fprintln(w, mux.Link(r, "/search", map[string][]string{"q": {"go & lua"}}))
		fmt.Fprintln(w, mux.AbsoluteLink(r, "/feed.xml", nil))
		fmt.Fprintln(w, "/blog/search?"+mux.Query("q", "wsapi", "page", "2"))
	})
	fmt.Print(get(m, "example.com", "/blog/anything"))
	// Output:
	// /blog/posts
	// /blog/search?q=go+%26+lua
	// http://example.com/blog/feed.xml
	// /blog/search?q=wsapi&page=2
}
