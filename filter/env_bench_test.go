package filter_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
)

var (
	envSinkString string
	envSinkEnv    *filter.Env
	envSinkMap    map[string]string
)

// envBenchRequest is a typical API request: a few headers, a query, a
// mount point set on its exchange.
func envBenchRequest(tb testing.TB) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api/users/7?fields=name,email&limit=10", nil)
	r.Header.Set("Accept", "application/json")
	r.Header.Set("Accept-Encoding", "gzip, br")
	r.Header.Set("User-Agent", "bench/1.0")
	r.Header.Set("X-Request-Id", "7f3c2a")
	r.Header["Cookie"] = []string{"session=abc", "theme=dark"}
	x, _, r, owner := filter.Begin(httptest.NewRecorder(), r)
	tb.Cleanup(owner.End)
	x.SetMountPoint("/api")
	return r
}

// envChiRequest is the request as chi's r.Mount("/api", app) hands it on.
func envChiRequest() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api/users/7?fields=name", nil)
	r.Header.Set("Accept", "application/json")
	r.Pattern = "/api/*"
	r.SetPathValue("*", "users/7")
	return r
}

func BenchmarkEnvRead(b *testing.B) {
	r := envBenchRequest(b)
	env := filter.NewEnv(r)
	reads := []struct {
		name string
		read func() string
	}{
		{"ScriptName", env.ScriptName},
		{"PathInfo", env.PathInfo},
		{"Method", env.Method},
		{"QueryString", env.QueryString},
		{"Get/SCRIPT_NAME", func() string { return env.Get("SCRIPT_NAME") }},
		{"Get/PATH_INFO", func() string { return env.Get("PATH_INFO") }},
		{"Get/REQUEST_METHOD", func() string { return env.Get("REQUEST_METHOD") }},
		{"Get/QUERY_STRING", func() string { return env.Get("QUERY_STRING") }},
		{"Get/HTTP_ACCEPT", func() string { return env.Get("HTTP_ACCEPT") }},
		{"Get/HTTP_COOKIE", func() string { return env.Get("HTTP_COOKIE") }},
		{"Get/SERVER_PORT", func() string { return env.Get("SERVER_PORT") }},
		// The pass-through: the field read from the request itself.
		{"peer/r.URL.RawQuery", func() string { return r.URL.RawQuery }},
	}
	for _, rd := range reads {
		b.Run(rd.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				envSinkString = rd.read()
			}
		})
	}
}

func BenchmarkNewEnv(b *testing.B) {
	b.Run("exchange-mount", func(b *testing.B) {
		r := envBenchRequest(b)
		b.ReportAllocs()
		for b.Loop() {
			envSinkEnv = filter.NewEnv(r)
		}
	})
	b.Run("no-exchange", func(b *testing.B) {
		r := httptest.NewRequest(http.MethodGet, "/api/users/7", nil)
		b.ReportAllocs()
		for b.Loop() {
			envSinkEnv = filter.NewEnv(r)
		}
	})
	b.Run("chi-pattern", func(b *testing.B) {
		r := envChiRequest()
		b.ReportAllocs()
		for b.Loop() {
			envSinkEnv = filter.NewEnv(r)
		}
	})
	b.Run("chi-pattern-encoded-slash", func(b *testing.B) {
		r := envChiRequest()
		r.URL.Path, r.URL.RawPath = "/api/a/b/c", "/api/a%2Fb/c"
		b.ReportAllocs()
		for b.Loop() {
			envSinkEnv = filter.NewEnv(r)
		}
	})
	b.Run("servemux-rest", func(b *testing.B) {
		r := httptest.NewRequest(http.MethodGet, "/f/a/b", nil)
		r.Pattern = "GET /f/{rest...}"
		b.ReportAllocs()
		for b.Loop() {
			envSinkEnv = filter.NewEnv(r)
		}
	})
}

func BenchmarkEnvMap(b *testing.B) {
	r := envBenchRequest(b)
	b.Run("Map", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			envSinkMap = filter.NewEnv(r).Map()
		}
	})
	b.Run("All", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for k := range filter.NewEnv(r).All() {
				envSinkString = k
			}
		}
	})
	// The standard library builds a CGI environment only inside
	// net/http/cgi's Handler, with no public function; the peer is the same
	// variables put in a map by hand.
	b.Run("peer/map-by-hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			envSinkMap = envMapByHand(r, "/api")
		}
	})
}

// envMapByHand builds the variables Env.Map yields the direct way, as a
// handler without this package would.
func envMapByHand(r *http.Request, mount string) map[string]string {
	m := make(map[string]string, 16+len(r.Header))
	m["REQUEST_METHOD"] = r.Method
	m["SCRIPT_NAME"] = mount
	m["PATH_INFO"] = strings.TrimPrefix(r.URL.Path, mount)
	m["QUERY_STRING"] = r.URL.RawQuery
	host, port := r.Host, "80"
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		host, port = host[:i], host[i+1:]
	}
	m["SERVER_NAME"] = host
	m["SERVER_PORT"] = port
	m["SERVER_PROTOCOL"] = r.Proto
	m["SERVER_SOFTWARE"] = "wsapi-go"
	m["GATEWAY_INTERFACE"] = "CGI/1.1"
	m["HTTPS"] = "off"
	m["REQUEST_URI"] = r.RequestURI
	if i := strings.LastIndexByte(r.RemoteAddr, ':'); i >= 0 {
		m["REMOTE_ADDR"] = strings.Trim(r.RemoteAddr[:i], "[]")
		m["REMOTE_PORT"] = r.RemoteAddr[i+1:]
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		m["CONTENT_TYPE"] = ct
	}
	if r.ContentLength > 0 {
		m["CONTENT_LENGTH"] = strconv.FormatInt(r.ContentLength, 10)
	}
	m["HTTP_HOST"] = r.Host
	for k, vv := range r.Header {
		if k == "Content-Type" || k == "Content-Length" || k == "Proxy" || strings.Contains(k, "_") {
			continue
		}
		sep := ", "
		if k == "Cookie" {
			sep = "; "
		}
		m["HTTP_"+strings.ToUpper(strings.ReplaceAll(k, "-", "_"))] = strings.Join(vv, sep)
	}
	return m
}

func TestEnvMapByHandMatchesMap(t *testing.T) {
	// The benchmark's peer must do the same job.
	r := envBenchRequest(t)
	got, want := envMapByHand(r, "/api"), filter.NewEnv(r).Map()
	if !mapsEqualEnv(got, want) {
		t.Errorf("the hand-built map\n%v\ndiffers from Map()\n%v", got, want)
	}
}

func TestEnvReadsDoNotAllocate(t *testing.T) {
	for name, r := range map[string]*http.Request{
		"with an exchange and a mount point": envBenchRequest(t),
		"under a chi pattern":                envChiRequest(),
	} {
		env := filter.NewEnv(r)
		reads := map[string]func() string{
			"ScriptName":          env.ScriptName,
			"PathInfo":            env.PathInfo,
			"Method":              env.Method,
			"QueryString":         env.QueryString,
			"Get(SCRIPT_NAME)":    func() string { return env.Get("SCRIPT_NAME") },
			"Get(PATH_INFO)":      func() string { return env.Get("PATH_INFO") },
			"Get(REQUEST_METHOD)": func() string { return env.Get("REQUEST_METHOD") },
			"Get(QUERY_STRING)":   func() string { return env.Get("QUERY_STRING") },
		}
		for what, read := range reads {
			if read() == "" && what != "Get(QUERY_STRING)" && what != "QueryString" {
				t.Errorf("%s: %s is empty; the test request should set it", name, what)
			}
			if n := testing.AllocsPerRun(100, func() { envSinkString = read() }); n != 0 {
				t.Errorf("%s: %s allocates %v times, want 0", name, what, n)
			}
		}
	}
}
