package filter_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
)

func TestCleanMountPoint(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"the root is empty", "", ""},
		{"a lone slash is the root", "/", ""},
		{"several slashes are the root", "///", ""},
		{"a clean mount point is kept", "/api", "/api"},
		{"a trailing slash is dropped", "/api/", "/api"},
		{"several trailing slashes are dropped", "/api///", "/api"},
		{"a leading slash is added", "api", "/api"},
		{"a leading slash is added and a trailing one dropped", "api/v1/", "/api/v1"},
		{"a deep mount point is kept", "/a/b/c", "/a/b/c"},
		{"dot segments are not resolved", "/a/../b", "/a/../b"},
		{"inner double slashes are kept", "//a//b", "//a//b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := filter.CleanMountPoint(tc.in); got != tc.want {
				t.Errorf("CleanMountPoint(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestExchangeSetMountPointCleans(t *testing.T) {
	for in, want := range map[string]string{"/api/": "/api", "api": "/api", "/": "", "": ""} {
		r := httptest.NewRequest(http.MethodGet, "/api/x", nil)
		x, _, _, owner := filter.Begin(httptest.NewRecorder(), r)
		x.SetMountPoint(in)
		if got := x.MountPoint(); got != want {
			t.Errorf("after SetMountPoint(%q), MountPoint() = %q, want %q", in, got, want)
		}
		owner.End()
	}
	var nilX *filter.Exchange
	if got := nilX.MountPoint(); got != "" {
		t.Errorf("nil exchange's MountPoint() = %q, want \"\"", got)
	}
}

// mountCase describes a request, how it was routed, and the split a
// WSAPI-style app must see.
type mountCase struct {
	name     string
	path     string // request target, parsed as a server would
	pattern  string // r.Pattern, as a router sets it
	star     string // r.PathValue("*"), as chi sets it
	explicit string // set with SetMountPoint when not empty
	script   string
	info     string
}

func (tc mountCase) request() *http.Request {
	r := httptest.NewRequest(http.MethodGet, tc.path, nil)
	r.Pattern = tc.pattern
	if tc.star != "" {
		r.SetPathValue("*", tc.star)
	}
	return r
}

func mountRun(t *testing.T, tc mountCase) {
	t.Helper()
	r := tc.request()
	if tc.explicit != "" {
		x, _, r2, owner := filter.Begin(httptest.NewRecorder(), r)
		defer owner.End()
		x.SetMountPoint(tc.explicit)
		r = r2
	}
	env := filter.NewEnv(r)
	if got := env.ScriptName(); got != tc.script {
		t.Errorf("SCRIPT_NAME = %q, want %q", got, tc.script)
	}
	if got := env.PathInfo(); got != tc.info {
		t.Errorf("PATH_INFO = %q, want %q", got, tc.info)
	}
	if got := filter.MountPoint(r); got != tc.script {
		t.Errorf("MountPoint = %q, want %q", got, tc.script)
	}
}

func TestMountPointSplitsAtSegments(t *testing.T) {
	tests := []mountCase{
		{name: "no mount point leaves the whole path in PATH_INFO",
			path: "/css/site.css", script: "", info: "/css/site.css"},
		{name: "a mount point is cut off the path",
			path: "/css/site.css", explicit: "/css", script: "/css", info: "/site.css"},
		{name: "a mount point equal to the path leaves PATH_INFO empty",
			path: "/css", explicit: "/css", script: "/css", info: ""},
		{name: "a trailing slash stays in PATH_INFO",
			path: "/css/", explicit: "/css", script: "/css", info: "/"},
		{name: "a prefix that does not end on a segment boundary does not match",
			path: "/css-config", explicit: "/css", script: "", info: "/css-config"},
		{name: "a longer segment does not match",
			path: "/cssx/a", explicit: "/css", script: "", info: "/cssx/a"},
		{name: "a mount point deeper than the path does not match",
			path: "/css", explicit: "/css/fonts", script: "", info: "/css"},
		{name: "mount points are compared case-sensitively",
			path: "/CSS/a", explicit: "/css", script: "", info: "/CSS/a"},
		{name: "a mount point set with a trailing slash is cleaned",
			path: "/css/a", explicit: "/css/", script: "/css", info: "/a"},
		{name: "a mount point set without a leading slash is cleaned",
			path: "/css/a", explicit: "css", script: "/css", info: "/a"},
		{name: "the root mount point is the empty SCRIPT_NAME",
			path: "/a/b", explicit: "/", script: "", info: "/a/b"},
		{name: "a deep mount point is cut off",
			path: "/a/b/c/d", explicit: "/a/b/c", script: "/a/b/c", info: "/d"},
		{name: "a double slash after the mount point stays in PATH_INFO",
			path: "/api//x", explicit: "/api", script: "/api", info: "//x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { mountRun(t, tc) })
	}
}

func TestMountPointFromPattern(t *testing.T) {
	tests := []mountCase{
		// chi: r.Mount("/api", app) routes "/api/..." with the pattern "/api/*".
		{name: "a chi catch-all mounts at the segments before it",
			path: "/api/users/7", pattern: "/api/*", star: "users/7", script: "/api", info: "/users/7"},
		{name: "a chi catch-all matching nothing leaves PATH_INFO a slash",
			path: "/api/", pattern: "/api/*", star: "", script: "/api", info: "/"},
		{name: "a nested chi catch-all mounts at both prefixes",
			path: "/deep/v1/z", pattern: "/deep/v1/*", star: "z", script: "/deep/v1", info: "/z"},
		{name: "a chi catch-all after a parameter mounts at the matched segments",
			path: "/u/7/files/a.txt", pattern: "/u/{id}/*", star: "files/a.txt", script: "/u/7", info: "/files/a.txt"},
		{name: "a chi root catch-all mounts at the root",
			path: "/a/b", pattern: "/*", star: "a/b", script: "", info: "/a/b"},
		// chi's Mount answers "/api" and "/api/" with the pattern "/api".
		{name: "a literal pattern equal to the path mounts at the path",
			path: "/api", pattern: "/api", script: "/api", info: ""},
		{name: "a literal pattern equal to the path but a trailing slash mounts at it",
			path: "/api/", pattern: "/api", script: "/api", info: "/"},
		{name: "a literal pattern that differs from the path implies nothing",
			path: "/apiary", pattern: "/api", script: "", info: "/apiary"},
		{name: "a literal ServeMux pattern with a method mounts at the path",
			path: "/health", pattern: "GET /health", script: "/health", info: ""},
		// net/http.ServeMux.
		{name: "a ServeMux subtree mounts at its prefix",
			path: "/api/users/7", pattern: "/api/", script: "/api", info: "/users/7"},
		{name: "a ServeMux subtree answering its own root leaves PATH_INFO a slash",
			path: "/api/", pattern: "/api/", script: "/api", info: "/"},
		{name: "the ServeMux root subtree mounts at the root",
			path: "/a/b", pattern: "/", script: "", info: "/a/b"},
		{name: "a ServeMux rest wildcard with a method mounts at the segments before it",
			path: "/f/a/b", pattern: "GET /f/{rest...}", script: "/f", info: "/a/b"},
		{name: "a ServeMux rest wildcard matching nothing leaves PATH_INFO a slash",
			path: "/f/", pattern: "GET /f/{rest...}", script: "/f", info: "/"},
		{name: "a ServeMux pattern with a host mounts at the path's segments",
			path: "http://files.example/f/a", pattern: "GET files.example/f/{rest...}", script: "/f", info: "/a"},
		{name: "a ServeMux rest wildcard after a parameter mounts at the matched segments",
			path: "/u/7/x/y", pattern: "/u/{id}/{rest...}", script: "/u/7", info: "/x/y"},
		// Patterns without a catch-all imply no mount point.
		{name: "an exact parameter route is a script at the whole path",
			path: "/users/7", pattern: "/users/{id}", script: "/users/7", info: ""},
		{name: "an exact ServeMux parameter route with a method is a script at the whole path",
			path: "/users/7", pattern: "GET /users/{id}", script: "/users/7", info: ""},
		{name: "a parameter route whose literal segments differ from the path implies nothing",
			path: "/people/7", pattern: "/users/{id}", script: "", info: "/people/7"},
		{name: "an exact-match ServeMux pattern implies nothing",
			path: "/", pattern: "/{$}", script: "", info: "/"},
		{name: "an exact chi regexp route is a script at the whole path",
			path: "/d/2024", pattern: "/d/{year:[0-9]+}", script: "/d/2024", info: ""},
		{name: "a pattern without a path implies nothing",
			path: "/x", pattern: "GET", script: "", info: "/x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { mountRun(t, tc) })
	}
}

func TestMountPointExplicitAndInferred(t *testing.T) {
	tests := []mountCase{
		{name: "a deeper explicit mount point wins over the pattern",
			path: "/api/v1/users", pattern: "/api/*", star: "v1/users", explicit: "/api/v1",
			script: "/api/v1", info: "/users"},
		{name: "a deeper pattern wins over the explicit mount point",
			path: "/api/v1/users", pattern: "/api/v1/*", star: "users", explicit: "/api",
			script: "/api/v1", info: "/users"},
		{name: "equal answers agree",
			path: "/api/users", pattern: "/api/*", star: "users", explicit: "/api",
			script: "/api", info: "/users"},
		{name: "an explicit mount point that does not match leaves the pattern's",
			path: "/api/users", pattern: "/api/*", star: "users", explicit: "/other",
			script: "/api", info: "/users"},
		{name: "an explicit mount point is kept when the pattern implies nothing",
			path: "/app/users/7", pattern: "/other/{id}", explicit: "/app",
			script: "/app", info: "/users/7"},
		{name: "an exact route inside an explicit mount is deeper and wins",
			path: "/app/users/7", pattern: "/app/users/{id}", explicit: "/app",
			script: "/app/users/7", info: ""},
		{name: "an explicit mount point that stops mid-segment is ignored",
			path: "/api/v10/x", pattern: "/api/*", star: "v10/x", explicit: "/api/v1",
			script: "/api", info: "/v10/x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { mountRun(t, tc) })
	}
}

func TestMountPointEncodedSlashes(t *testing.T) {
	tests := []mountCase{
		{name: "an encoded slash below the mount point stays in PATH_INFO, decoded",
			path: "/api/a%2Fb/c", pattern: "/api/*", star: "a%2Fb/c", script: "/api", info: "/a/b/c"},
		{name: "an encoded slash inside a matched segment stays in SCRIPT_NAME",
			path: "/api/a%2Fb/c", pattern: "/api/{x}/*", star: "c", script: "/api/a/b", info: "/c"},
		{name: "an encoded slash in a ServeMux rest wildcard stays in PATH_INFO",
			path: "/f/x%2Fy", pattern: "GET /f/{rest...}", script: "/f", info: "/x/y"},
		{name: "an encoded slash in the mount segment counts as one segment",
			path: "/a%2Fb/c", pattern: "/{p}/*", star: "c", script: "/a/b", info: "/c"},
		{name: "other escapes are decoded in both halves",
			path: "/caf%C3%A9/cr%C3%A8me", pattern: "/{p}/*", script: "/café", info: "/crème"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.request()
			if strings.Contains(tc.path, "%2F") && r.URL.RawPath == "" {
				t.Fatalf("test request %q has no RawPath", tc.path)
			}
			mountRun(t, tc)
		})
	}
}

func TestMountPointWithoutURL(t *testing.T) {
	r := &http.Request{Method: http.MethodGet}
	if got := filter.MountPoint(r); got != "" {
		t.Errorf("MountPoint of a request without URL = %q, want \"\"", got)
	}
	env := filter.NewEnv(r)
	if env.ScriptName() != "" || env.PathInfo() != "" {
		t.Errorf("SCRIPT_NAME, PATH_INFO = %q, %q; want both empty", env.ScriptName(), env.PathInfo())
	}
	if got, ok := env.Lookup("QUERY_STRING"); !ok || got != "" {
		t.Errorf("QUERY_STRING = %q, %v; want present and empty", got, ok)
	}
	if got, ok := env.Lookup("REQUEST_URI"); ok {
		t.Errorf("REQUEST_URI = %q, want absent", got)
	}
}

// A request built by hand may have a router pattern but no URL; NewEnv
// must not dereference the missing URL.
func TestMountPointWithoutURLButPattern(t *testing.T) {
	for _, pattern := range []string{"/api/*", "/api/", "GET /f/{rest...}", "/api"} {
		r := &http.Request{Method: http.MethodGet, Pattern: pattern}
		var env *filter.Env
		panicked := mountCatch(func() { env = filter.NewEnv(r) })
		if panicked != nil {
			t.Skipf("BUG: NewEnv panics for a request without URL and the pattern %q: %v", pattern, panicked)
		}
		if env.ScriptName() != "" || env.PathInfo() != "" {
			t.Errorf("pattern %q: SCRIPT_NAME, PATH_INFO = %q, %q; want both empty",
				pattern, env.ScriptName(), env.PathInfo())
		}
	}
}

func mountCatch(fn func()) (p any) {
	defer func() { p = recover() }()
	fn()
	return nil
}

func TestMountPointOptionsStar(t *testing.T) {
	r := &http.Request{Method: http.MethodOptions, URL: &url.URL{Path: "*"}, RequestURI: "*"}
	x, _, r, owner := filter.Begin(httptest.NewRecorder(), r)
	defer owner.End()
	x.SetMountPoint("/api")
	env := filter.NewEnv(r)
	if env.ScriptName() != "" || env.PathInfo() != "/*" {
		t.Errorf("OPTIONS * under /api: SCRIPT_NAME, PATH_INFO = %q, %q; want \"\", \"/*\"",
			env.ScriptName(), env.PathInfo())
	}
}

func TestMountPointFollowsTheRequest(t *testing.T) {
	// The exchange is attached before routing; the router then sets the
	// pattern on the request it passes on. MountPoint reads the request it
	// is given, not the one the exchange was attached with.
	r := httptest.NewRequest(http.MethodGet, "/api/users", nil)
	_, _, r, owner := filter.Begin(httptest.NewRecorder(), r)
	defer owner.End()
	if got := filter.MountPoint(r); got != "" {
		t.Fatalf("before routing MountPoint = %q, want \"\"", got)
	}
	routed := r.Clone(r.Context())
	routed.Pattern = "/api/*"
	routed.SetPathValue("*", "users")
	if got := filter.MountPoint(routed); got != "/api" {
		t.Errorf("after routing MountPoint = %q, want /api", got)
	}
	if got := filter.MountPoint(r); got != "" {
		t.Errorf("the unrouted request's MountPoint = %q, want \"\"", got)
	}
}

// A pattern describes the path the router matched. When a filter changed
// the path afterwards (http.StripPrefix keeps r.Pattern), the pattern's
// literal segments no longer match, and it must imply no mount point.
func TestMountPointPatternMustDescribeThePath(t *testing.T) {
	tests := []mountCase{
		{name: "a ServeMux subtree over a path it does not start",
			path: "/users/7", pattern: "/api/", script: "", info: "/users/7"},
		{name: "a chi catch-all over a path it does not start",
			path: "/v2/items", pattern: "/api/*", star: "items", script: "", info: "/v2/items"},
		{name: "a ServeMux rest wildcard over a path it does not start",
			path: "/g/a/b", pattern: "GET /f/{rest...}", script: "", info: "/g/a/b"},
		{name: "a nested chi pattern whose second segment differs",
			path: "/deep/v2/z", pattern: "/deep/v1/*", star: "z", script: "", info: "/deep/v2/z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := filter.NewEnv(tc.request())
			if env.ScriptName() != tc.script {
				t.Skipf("BUG: pattern %q over path %q gives SCRIPT_NAME %q, PATH_INFO %q; "+
					"want %q, %q (literal segments are not checked)",
					tc.pattern, tc.path, env.ScriptName(), env.PathInfo(), tc.script, tc.info)
			}
			mountRun(t, tc)
		})
	}
}
