package filter_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
)

// Flags of the fuzz targets: how the request is built.
const (
	envFuzzExchange  = 1 << iota // attach an exchange and set the mount point on it
	envFuzzRawPath               // the path is escaped: Path is its decoding, RawPath the path
	envFuzzNoURL                 // the request has no URL at all
	envFuzzTLS                   // the request came over TLS
	envFuzzAddHeader             // add the header with Header.Add (canonical name), not by hand
)

var envHTTPName = regexp.MustCompile(`^HTTP_[A-Z0-9_]+$`)

// envCGINames are the names an Env may yield that are not HTTP_*.
var envCGINames = map[string]bool{
	"REQUEST_METHOD": true, "SCRIPT_NAME": true, "PATH_INFO": true, "QUERY_STRING": true,
	"SERVER_NAME": true, "SERVER_PORT": true, "SERVER_PROTOCOL": true, "SERVER_SOFTWARE": true,
	"GATEWAY_INTERFACE": true, "HTTPS": true, "REQUEST_URI": true, "REMOTE_ADDR": true,
	"REMOTE_PORT": true, "REMOTE_USER": true, "CONTENT_TYPE": true, "CONTENT_LENGTH": true,
}

// envAlwaysSet are the names every Env has, maybe empty.
var envAlwaysSet = []string{
	"REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "SERVER_NAME",
	"SERVER_PORT", "SERVER_PROTOCOL", "GATEWAY_INTERFACE", "SERVER_SOFTWARE", "HTTPS",
}

// envFuzzURL builds the URL of a fuzzed request from path and flags.
func envFuzzURL(path, rawQuery string, flags uint8) *url.URL {
	if flags&envFuzzNoURL != 0 {
		return nil
	}
	u := &url.URL{Path: path, RawQuery: rawQuery}
	if flags&envFuzzRawPath != 0 {
		if p, err := url.PathUnescape(path); err == nil {
			u.Path, u.RawPath = p, path
		}
	}
	return u
}

// envWantPath is the path SCRIPT_NAME + PATH_INFO must add up to.
func envWantPath(r *http.Request) string {
	if r.URL == nil {
		return ""
	}
	p := r.URL.Path
	if p != "" && p[0] != '/' {
		p = "/" + p
	}
	return p
}

// envHeaderCollision reports whether two keys of h name the same HTTP_*
// variable (possible only in a header map filled by hand).
func envHeaderCollision(h http.Header) bool {
	seen := map[string]bool{}
	for k := range h {
		u := strings.ToUpper(k)
		if seen[u] {
			return true
		}
		seen[u] = true
	}
	return false
}

// envNewEnv calls filter.NewEnv, turning a panic into a test failure that
// shows the request.
func envNewEnv(t *testing.T, r *http.Request) *filter.Env {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("NewEnv panicked: %v\nrequest: method %q URL %#v pattern %q host %q",
				p, r.Method, r.URL, r.Pattern, r.Host)
		}
	}()
	return filter.NewEnv(r)
}

// envCheckInvariants checks what holds for every Env, however odd the
// request. explicit is the mount point set on the exchange ("" for none).
func envCheckInvariants(t *testing.T, r *http.Request, env *filter.Env, explicit string) {
	t.Helper()
	script, info := env.ScriptName(), env.PathInfo()
	if script != "" && (script[0] != '/' || script == "/") {
		t.Errorf("SCRIPT_NAME = %q: want \"\" or a path that starts with / and is not /", script)
	}
	if info != "" && info[0] != '/' {
		t.Errorf("PATH_INFO = %q: want \"\" or a path that starts with /", info)
	}
	if want := envWantPath(r); script+info != want {
		t.Errorf("SCRIPT_NAME + PATH_INFO = %q + %q, want the request path %q", script, info, want)
	}
	if mp := filter.MountPoint(r); mp != script {
		t.Errorf("MountPoint = %q but SCRIPT_NAME = %q", mp, script)
	}
	if clean := filter.CleanMountPoint(explicit); clean != "" {
		path := envWantPath(r)
		if strings.HasPrefix(path, clean) && (len(path) == len(clean) || path[len(clean)] == '/') &&
			len(script) < len(clean) {
			t.Errorf("SCRIPT_NAME = %q is shallower than the matching explicit mount point %q", script, clean)
		}
	}

	for _, c := range []struct{ name, want string }{
		{"SCRIPT_NAME", script},
		{"PATH_INFO", info},
		{"REQUEST_METHOD", env.Method()},
		{"QUERY_STRING", env.QueryString()},
	} {
		if v, ok := env.Lookup(c.name); !ok || v != c.want {
			t.Errorf("Lookup(%s) = %q, %v; want %q, true", c.name, v, ok, c.want)
		}
	}
	wantQuery := ""
	if r.URL != nil {
		wantQuery = r.URL.RawQuery
	}
	if q := env.QueryString(); q != wantQuery {
		t.Errorf("QUERY_STRING = %q, want %q", q, wantQuery)
	}
	if r.Method != "" && env.Method() != r.Method {
		t.Errorf("REQUEST_METHOD = %q, want %q", env.Method(), r.Method)
	}
	for _, name := range []string{"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH", "HTTP_PROXY"} {
		if v, ok := env.Lookup(name); ok {
			t.Errorf("Lookup(%s) = %q; want it absent", name, v)
		}
	}

	seen := map[string]string{}
	dup := ""
	for k, v := range env.All() {
		if _, ok := seen[k]; ok {
			dup = k
			continue
		}
		seen[k] = v
		if !envCGINames[k] && !envHTTPName.MatchString(k) {
			t.Errorf("All yields the name %q", k)
		}
		if k == "HTTP_CONTENT_TYPE" || k == "HTTP_CONTENT_LENGTH" || k == "HTTP_PROXY" {
			t.Errorf("All yields %s", k)
		}
	}
	if dup != "" {
		if envHeaderCollision(r.Header) {
			t.Skipf("BUG: All yields %s twice for header keys that differ only in case", dup)
		}
		t.Errorf("All yields %s twice", dup)
	}
	for k, v := range seen {
		if got, ok := env.Lookup(k); !ok || got != v {
			t.Errorf("All yields %s=%q but Lookup says %q, %v", k, v, got, ok)
		}
	}
	for _, name := range envAlwaysSet {
		if _, ok := seen[name]; !ok {
			t.Errorf("All does not yield %s", name)
		}
	}
	if m := env.Map(); len(m) != len(seen) {
		t.Errorf("Map has %d variables, All yields %d", len(m), len(seen))
	}
}

// envFuzzRequest builds a request by hand, without a parser, so that any
// bytes can reach NewEnv.
func envFuzzRequest(method, path, rawQuery, hname, hval, host string, flags uint8) *http.Request {
	r := &http.Request{
		Method:     method,
		URL:        envFuzzURL(path, rawQuery, flags),
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Host:       host,
		RemoteAddr: "[2001:db8::1]:4711",
		Header: http.Header{
			"Accept":          {"*/*"},
			"Cookie":          {"a=1", "b=2"},
			"Content-Type":    {"text/plain"},
			"Content-Length":  {"3"},
			"X-Forwarded-For": {"203.0.113.1"},
			"Proxy":           {"http://proxy.example"},
		},
		ContentLength: 3,
	}
	if flags&envFuzzAddHeader != 0 {
		r.Header.Add(hname, hval)
	} else {
		r.Header[hname] = append(r.Header[hname], hval)
	}
	if flags&envFuzzTLS != 0 {
		r.TLS = &tls.ConnectionState{HandshakeComplete: true}
	}
	return r
}

// envFuzzSeed is one seed of FuzzEnv.
type envFuzzSeed struct {
	method, path, rawQuery, hname, hval, host, mount string
	flags                                            uint8
}

func envFuzzSeeds() []envFuzzSeed {
	long := strings.Repeat("/a", 32*1024) // a 64 KB path
	return []envFuzzSeed{
		{"GET", "/api/users/7", "a=1&b=2", "Accept-Language", "fr", "example.com", "/api", envFuzzExchange},
		{"POST", "/api", "", "X-Request-Id", "r1", "[::1]:8080", "/api/", envFuzzExchange | envFuzzTLS},
		{"GET", "/css-config", "", "X_Forwarded_For", "1.2.3.4", "example.com", "/css", envFuzzExchange},
		{"", "", "", "", "", "", "", 0},
		{"OPTIONS", "*", "", "Host", "evil.example", "", "", 0},
		{"GET", "/api/a%2Fb/c", "x=%00", "content-type", "text/html", "h", "/api/a%2Fb", envFuzzExchange | envFuzzRawPath},
		{"GET", "//a/../b", "", "proxy", "http://evil", "", "//a", envFuzzExchange},
		{"G\x00T", "/\xff\xfe/%00", "\xff", "X-\xff", "\x00\r\n", "\xff:99", "/\xff", envFuzzExchange},
		{"GET", "/a%00b/%zz", "", "Cookie", "c=3", "host:port", "/a%00b", envFuzzExchange | envFuzzRawPath},
		{"GET", "relative/path", "q", "X-A", "v", "[::1", "relative", envFuzzExchange},
		{"GET", long, "", "X-Long", strings.Repeat("v", 1024), "example.com", "/a/a/a", envFuzzExchange},
		{"GET", "/x", "", "Content-Length", "999", "", "", envFuzzAddHeader | envFuzzNoURL},
		{"GET", "/", "", "", "", "example.com:443", "/", envFuzzExchange | envFuzzTLS},
	}
}

// FuzzEnv builds requests by hand from fuzzed parts, without a parser, and
// checks the invariants every Env keeps.
func FuzzEnv(f *testing.F) {
	for _, s := range envFuzzSeeds() {
		f.Add(s.method, s.path, s.rawQuery, s.hname, s.hval, s.host, s.mount, s.flags)
	}
	f.Fuzz(func(t *testing.T, method, path, rawQuery, hname, hval, host, mount string, flags uint8) {
		r := envFuzzRequest(method, path, rawQuery, hname, hval, host, flags)
		explicit := ""
		if flags&envFuzzExchange != 0 {
			x, _, r2, owner := filter.Begin(httptest.NewRecorder(), r)
			defer owner.End()
			x.SetMountPoint(mount)
			x.SetUser(hval)
			r = r2
			explicit = mount
			if got := x.MountPoint(); got != filter.CleanMountPoint(mount) {
				t.Errorf("after SetMountPoint(%q), MountPoint() = %q", mount, got)
			}
		}
		env := envNewEnv(t, r)
		envCheckInvariants(t, r, env, explicit)
	})
}

// FuzzMountPattern fuzzes the mount point that router patterns imply:
// random r.Pattern and r.PathValue("*") over random paths.
func FuzzMountPattern(f *testing.F) {
	long := strings.Repeat("/seg", 16*1024) // a 64 KB path
	seeds := []struct {
		path, pattern, star, mount string
		flags                      uint8
	}{
		{"/api/users/7", "/api/*", "users/7", "", 0},
		{"/api", "/api", "", "", 0},
		{"/api/", "/api", "", "", 0},
		{"/deep/v1/z", "/deep/v1/*", "z", "/deep", envFuzzExchange},
		{"/f/a/b", "GET /f/{rest...}", "", "", 0},
		{"/f/a/b", "GET example.com/f/{rest...}", "", "", 0},
		{"/api/x", "/api/", "", "/api/x/y", envFuzzExchange},
		{"/users/7", "/users/{id}", "", "", 0},
		{"/api/a%2Fb/c", "/api/*", "a%2Fb/c", "", envFuzzRawPath},
		{"/api/a%2Fb/c", "/api/{x}/*", "c", "", envFuzzRawPath},
		{"/a", "/a/b/c/*", "", "", 0},
		{"/a%2", "/{x}/*", "", "", envFuzzRawPath},
		{"*", "/*", "*", "", 0},
		{"", "/...}", "", "", 0},
		{"/x", "{/", "", "", 0},
		{"/x", "/{", "", "", 0},
		{"/users/7", "/api/", "", "", 0}, // the pattern no longer describes the path
		{long, "/seg/seg/*", "", "/seg", envFuzzExchange},
		{"/\xff/\x00", "/\xff/*", "\x00", "/\xff", envFuzzExchange},
	}
	for _, s := range seeds {
		f.Add(s.path, s.pattern, s.star, s.mount, s.flags)
	}
	f.Fuzz(func(t *testing.T, path, pattern, star, mount string, flags uint8) {
		r := envFuzzRequest(http.MethodGet, path, "", "X-A", "1", "example.com", flags&^envFuzzNoURL)
		r.Pattern = pattern
		r.SetPathValue("*", star)
		if flags&envFuzzNoURL != 0 {
			r.URL = nil
			if pattern != "" {
				if p := mountCatch(func() { filter.NewEnv(r) }); p != nil {
					t.Skipf("BUG: NewEnv panics without URL under the pattern %q: %v", pattern, p)
				}
			}
		}
		explicit := ""
		if flags&envFuzzExchange != 0 {
			x, _, r2, owner := filter.Begin(httptest.NewRecorder(), r)
			defer owner.End()
			x.SetMountPoint(mount)
			r = r2
			explicit = mount
		}
		env := envNewEnv(t, r)
		envCheckInvariants(t, r, env, explicit)
		if again := filter.NewEnv(r); again.ScriptName() != env.ScriptName() {
			t.Errorf("SCRIPT_NAME changed between two Envs of one request: %q, %q",
				env.ScriptName(), again.ScriptName())
		}
	})
}
