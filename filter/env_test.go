package filter_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
)

// envCase is one row of the metavariable tables: a request, an optional
// change to its exchange, the variables it must have and those it must not.
type envCase struct {
	name   string
	req    func() *http.Request
	setup  func(x *filter.Exchange) // when set, an exchange is attached first
	want   map[string]string
	absent []string
}

// envGet returns a GET request for target built by httptest.NewRequest
// (Host example.com, RemoteAddr 192.0.2.1:1234, HTTP/1.1).
func envGet(target string) *http.Request {
	return httptest.NewRequest(http.MethodGet, target, nil)
}

// envWith returns a request built by mk, changed by change.
func envWith(mk func() *http.Request, change func(r *http.Request)) func() *http.Request {
	return func() *http.Request {
		r := mk()
		change(r)
		return r
	}
}

func envGetter(target string) func() *http.Request {
	return func() *http.Request { return envGet(target) }
}

// envRun checks one envCase: every wanted variable through Lookup, Get,
// All and Map; every absent one through the same four; and that All and
// Lookup agree on everything All yields.
func envRun(t *testing.T, tc envCase) {
	t.Helper()
	r := tc.req()
	if tc.setup != nil {
		x, _, r2, owner := filter.Begin(httptest.NewRecorder(), r)
		defer owner.End()
		tc.setup(x)
		r = r2
	}
	env := filter.NewEnv(r)
	all := map[string]string{}
	for k, v := range env.All() {
		if _, dup := all[k]; dup {
			t.Errorf("All yields %s twice", k)
		}
		all[k] = v
		if got, ok := env.Lookup(k); !ok || got != v {
			t.Errorf("All yields %s=%q, but Lookup(%q) = %q, %v", k, v, k, got, ok)
		}
	}
	m := env.Map()
	if !mapsEqualEnv(all, m) {
		t.Errorf("Map() = %v, want what All yields: %v", m, all)
	}
	for k, want := range tc.want {
		got, ok := env.Lookup(k)
		if !ok || got != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q, true", k, got, ok, want)
		}
		if got := env.Get(k); got != want {
			t.Errorf("Get(%q) = %q, want %q", k, got, want)
		}
		if got, ok := m[k]; !ok || got != want {
			t.Errorf("Map()[%q] = %q, %v; want %q, true", k, got, ok, want)
		}
	}
	for _, k := range tc.absent {
		if got, ok := env.Lookup(k); ok {
			t.Errorf("Lookup(%q) = %q, true; want it absent", k, got)
		}
		if got := env.Get(k); got != "" {
			t.Errorf("Get(%q) = %q, want \"\"", k, got)
		}
		if got, ok := m[k]; ok {
			t.Errorf("Map() has %s=%q; want it absent", k, got)
		}
	}
}

func mapsEqualEnv(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestEnvRequestVariables(t *testing.T) {
	tests := []envCase{
		{
			name: "REQUEST_METHOD is the request's method",
			req: func() *http.Request {
				return httptest.NewRequest(http.MethodPost, "/", strings.NewReader("x"))
			},
			want: map[string]string{"REQUEST_METHOD": "POST"},
		},
		{
			name: "an empty method reads as GET",
			req:  envWith(envGetter("/"), func(r *http.Request) { r.Method = "" }),
			want: map[string]string{"REQUEST_METHOD": "GET"},
		},
		{
			name: "an extension method is passed as it is",
			req: func() *http.Request {
				return httptest.NewRequest("PROPFIND", "/dav/", nil)
			},
			want: map[string]string{"REQUEST_METHOD": "PROPFIND"},
		},
		{
			name: "without a mount point SCRIPT_NAME is empty and PATH_INFO is the whole path",
			req:  envGetter("/users/7"),
			want: map[string]string{"SCRIPT_NAME": "", "PATH_INFO": "/users/7"},
		},
		{
			name: "a mount point set on the exchange becomes SCRIPT_NAME",
			req:  envGetter("/api/users/7"),
			setup: func(x *filter.Exchange) {
				x.SetMountPoint("/api")
			},
			want: map[string]string{"SCRIPT_NAME": "/api", "PATH_INFO": "/users/7"},
		},
		{
			name: "PATH_INFO is decoded",
			req:  envGetter("/a%20b/%C3%A9"),
			want: map[string]string{"PATH_INFO": "/a b/é", "REQUEST_URI": "/a%20b/%C3%A9"},
		},
		{
			name: "OPTIONS * has PATH_INFO /*",
			req: func() *http.Request {
				r := httptest.NewRequest(http.MethodOptions, "/", nil)
				r.URL = &url.URL{Path: "*"}
				r.RequestURI = "*"
				return r
			},
			want: map[string]string{"SCRIPT_NAME": "", "PATH_INFO": "/*", "REQUEST_URI": "*"},
		},
		{
			name: "QUERY_STRING is the raw query without the question mark",
			req:  envGetter("/search?q=a%20b&lang=fr&q=c"),
			want: map[string]string{"QUERY_STRING": "q=a%20b&lang=fr&q=c"},
		},
		{
			name: "QUERY_STRING is present and empty without a query",
			req:  envGetter("/search"),
			want: map[string]string{"QUERY_STRING": ""},
		},
		{
			name: "QUERY_STRING is present and empty with a bare question mark",
			req:  envGetter("/search?"),
			want: map[string]string{"QUERY_STRING": ""},
		},
		{
			name: "REQUEST_URI is the request target as received",
			req:  envGetter("/a/b?c=d"),
			want: map[string]string{"REQUEST_URI": "/a/b?c=d"},
		},
		{
			name: "REQUEST_URI is rebuilt from the URL for a request built by hand",
			req:  envWith(envGetter("/a/b?c=d"), func(r *http.Request) { r.RequestURI = "" }),
			want: map[string]string{"REQUEST_URI": "/a/b?c=d"},
		},
		{
			name: "GATEWAY_INTERFACE and SERVER_SOFTWARE are always set",
			req:  envGetter("/"),
			want: map[string]string{"GATEWAY_INTERFACE": "CGI/1.1", "SERVER_SOFTWARE": "wsapi-go"},
		},
		{
			name: "SERVER_PROTOCOL is the request's protocol",
			req: envWith(envGetter("/"), func(r *http.Request) {
				r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
			}),
			want: map[string]string{"SERVER_PROTOCOL": "HTTP/2.0"},
		},
		{
			name: "SERVER_PROTOCOL is HTTP/1.1 when the request has none",
			req:  envWith(envGetter("/"), func(r *http.Request) { r.Proto = "" }),
			want: map[string]string{"SERVER_PROTOCOL": "HTTP/1.1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { envRun(t, tc) })
	}
}

func TestEnvServerVariables(t *testing.T) {
	withHost := func(host string) func() *http.Request {
		return envWith(envGetter("/"), func(r *http.Request) { r.Host = host })
	}
	tests := []envCase{
		{
			name: "SERVER_NAME and SERVER_PORT come from the Host",
			req:  withHost("example.com:8080"),
			want: map[string]string{"SERVER_NAME": "example.com", "SERVER_PORT": "8080", "HTTP_HOST": "example.com:8080"},
		},
		{
			name: "an IPv6 host keeps its brackets in SERVER_NAME",
			req:  withHost("[::1]:8080"),
			want: map[string]string{"SERVER_NAME": "[::1]", "SERVER_PORT": "8080", "HTTP_HOST": "[::1]:8080"},
		},
		{
			name: "an IPv6 host without a port keeps its brackets and gets port 80",
			req:  withHost("[2001:db8::1]"),
			want: map[string]string{"SERVER_NAME": "[2001:db8::1]", "SERVER_PORT": "80"},
		},
		{
			name: "a host without a port gets port 80",
			req:  withHost("example.com"),
			want: map[string]string{"SERVER_NAME": "example.com", "SERVER_PORT": "80", "HTTPS": "off"},
		},
		{
			name: "a host without a port gets port 443 over TLS",
			req: func() *http.Request {
				return httptest.NewRequest(http.MethodGet, "https://secure.example/", nil)
			},
			want: map[string]string{"SERVER_NAME": "secure.example", "SERVER_PORT": "443", "HTTPS": "on"},
		},
		{
			name: "an explicit port wins over the TLS default",
			req: func() *http.Request {
				return httptest.NewRequest(http.MethodGet, "https://secure.example:8443/", nil)
			},
			want: map[string]string{"SERVER_NAME": "secure.example", "SERVER_PORT": "8443", "HTTPS": "on"},
		},
		{
			name: "HTTPS is on whenever the request came over TLS",
			req: envWith(envGetter("/"), func(r *http.Request) {
				r.TLS = &tls.ConnectionState{HandshakeComplete: true}
			}),
			want: map[string]string{"HTTPS": "on", "SERVER_PORT": "443"},
		},
		{
			name: "a port that is not a number is not split off",
			req:  withHost("example.com:http"),
			want: map[string]string{"SERVER_NAME": "example.com:http", "SERVER_PORT": "80"},
		},
		{
			name: "a bare IPv6 address without brackets is kept whole",
			req:  withHost("::1"),
			want: map[string]string{"SERVER_NAME": "::1", "SERVER_PORT": "80"},
		},
		{
			name: "without a Host the server comes from the URL",
			req: envWith(envGetter("/"), func(r *http.Request) {
				r.Host = ""
				r.URL.Host = "url.example:81"
			}),
			want:   map[string]string{"SERVER_NAME": "url.example", "SERVER_PORT": "81"},
			absent: []string{"HTTP_HOST"},
		},
		{
			name: "without any host the server is the local address",
			req: func() *http.Request {
				r := envGet("/")
				r.Host = ""
				ctx := context.WithValue(r.Context(), http.LocalAddrContextKey,
					&net.TCPAddr{IP: net.IPv6loopback, Port: 9000})
				return r.WithContext(ctx)
			},
			want:   map[string]string{"SERVER_NAME": "[::1]", "SERVER_PORT": "9000"},
			absent: []string{"HTTP_HOST"},
		},
		{
			name:   "without any host SERVER_NAME is present and empty",
			req:    withHost(""),
			want:   map[string]string{"SERVER_NAME": "", "SERVER_PORT": "80"},
			absent: []string{"HTTP_HOST"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { envRun(t, tc) })
	}
}

func TestEnvRemoteVariables(t *testing.T) {
	withRemote := func(addr string) func() *http.Request {
		return envWith(envGetter("/"), func(r *http.Request) { r.RemoteAddr = addr })
	}
	tests := []envCase{
		{
			name: "REMOTE_ADDR and REMOTE_PORT split an IPv4 address",
			req:  withRemote("192.0.2.1:1234"),
			want: map[string]string{"REMOTE_ADDR": "192.0.2.1", "REMOTE_PORT": "1234"},
		},
		{
			name: "REMOTE_ADDR has no brackets for an IPv6 address",
			req:  withRemote("[2001:db8::7]:5555"),
			want: map[string]string{"REMOTE_ADDR": "2001:db8::7", "REMOTE_PORT": "5555"},
		},
		{
			name:   "an address without a port is REMOTE_ADDR as it is",
			req:    withRemote("@"),
			want:   map[string]string{"REMOTE_ADDR": "@"},
			absent: []string{"REMOTE_PORT"},
		},
		{
			name:   "no remote address leaves both out",
			req:    withRemote(""),
			absent: []string{"REMOTE_ADDR", "REMOTE_PORT"},
		},
		{
			name:   "REMOTE_USER is absent without an exchange",
			req:    envGetter("/"),
			absent: []string{"REMOTE_USER"},
		},
		{
			name:   "REMOTE_USER is absent when no filter set a user",
			req:    envGetter("/"),
			setup:  func(x *filter.Exchange) {},
			absent: []string{"REMOTE_USER"},
		},
		{
			name:  "REMOTE_USER is the user set on the exchange",
			req:   envGetter("/"),
			setup: func(x *filter.Exchange) { x.SetUser("alice") },
			want:  map[string]string{"REMOTE_USER": "alice"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { envRun(t, tc) })
	}
}

func TestEnvContentVariables(t *testing.T) {
	post := func(body string, header http.Header) func() *http.Request {
		return func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/upload", strings.NewReader(body))
			for k, vv := range header {
				r.Header[k] = vv
			}
			return r
		}
	}
	tests := []envCase{
		{
			name: "CONTENT_TYPE and CONTENT_LENGTH describe the body",
			req:  post("a=1&b=2", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}),
			want: map[string]string{
				"CONTENT_TYPE":   "application/x-www-form-urlencoded",
				"CONTENT_LENGTH": "7",
			},
			absent: []string{"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"},
		},
		{
			name:   "CONTENT_TYPE is absent without a Content-Type header",
			req:    post("x", nil),
			want:   map[string]string{"CONTENT_LENGTH": "1"},
			absent: []string{"CONTENT_TYPE", "HTTP_CONTENT_TYPE"},
		},
		{
			name:   "CONTENT_LENGTH is absent for an empty body",
			req:    post("", nil),
			absent: []string{"CONTENT_LENGTH", "HTTP_CONTENT_LENGTH"},
		},
		{
			name: "CONTENT_LENGTH is absent for a body of unknown length",
			req: envWith(post("streamed", nil), func(r *http.Request) {
				r.ContentLength = -1
			}),
			absent: []string{"CONTENT_LENGTH", "HTTP_CONTENT_LENGTH"},
		},
		{
			name: "a Content-Length header never shows as HTTP_CONTENT_LENGTH",
			req: envWith(post("abc", nil), func(r *http.Request) {
				r.Header.Set("Content-Length", "3")
			}),
			want:   map[string]string{"CONTENT_LENGTH": "3"},
			absent: []string{"HTTP_CONTENT_LENGTH"},
		},
		{
			name: "CONTENT_LENGTH is the request's length, not a header a client forged",
			req: envWith(post("abc", nil), func(r *http.Request) {
				r.Header.Set("Content-Length", "999")
			}),
			want:   map[string]string{"CONTENT_LENGTH": "3"},
			absent: []string{"HTTP_CONTENT_LENGTH"},
		},
		{
			name: "CONTENT_TYPE and CONTENT_LENGTH are not HTTP_* even in lower case",
			req: envWith(post("abc", nil), func(r *http.Request) {
				r.Header["content-type"] = []string{"text/plain"}
				r.Header["content-length"] = []string{"3"}
			}),
			absent: []string{"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { envRun(t, tc) })
	}
}

func TestEnvHeaderVariables(t *testing.T) {
	withHeader := func(h http.Header) func() *http.Request {
		return func() *http.Request {
			r := envGet("/")
			for k, vv := range h {
				r.Header[k] = vv
			}
			return r
		}
	}
	tests := []envCase{
		{
			name: "HTTP_HOST is the request's Host",
			req:  envGetter("http://www.example.org:8000/"),
			want: map[string]string{"HTTP_HOST": "www.example.org:8000"},
		},
		{
			name: "a Host entry in the header map does not replace the request's Host",
			req:  withHeader(http.Header{"Host": {"evil.example"}}),
			want: map[string]string{"HTTP_HOST": "example.com", "SERVER_NAME": "example.com"},
		},
		{
			name: "a header becomes HTTP_ with dashes turned into underscores",
			req:  withHeader(http.Header{"Accept-Language": {"fr-CH, fr;q=0.9"}}),
			want: map[string]string{"HTTP_ACCEPT_LANGUAGE": "fr-CH, fr;q=0.9"},
		},
		{
			name: "a header spelled in lower case is upper-cased",
			req:  withHeader(http.Header{"x-request-id": {"r1"}}),
			want: map[string]string{"HTTP_X_REQUEST_ID": "r1"},
		},
		{
			name: "a header with digits keeps them",
			req:  withHeader(http.Header{"X-B3-Traceid": {"abc"}}),
			want: map[string]string{"HTTP_X_B3_TRACEID": "abc"},
		},
		{
			name: "several values are joined with a comma",
			req:  withHeader(http.Header{"Accept": {"text/html", "application/json"}}),
			want: map[string]string{"HTTP_ACCEPT": "text/html, application/json"},
		},
		{
			name: "several Cookie lines are joined with a semicolon",
			req:  withHeader(http.Header{"Cookie": {"a=1", "b=2; c=3"}}),
			want: map[string]string{"HTTP_COOKIE": "a=1; b=2; c=3"},
		},
		{
			name: "an empty value is present and empty",
			req:  withHeader(http.Header{"X-Empty": {""}}),
			want: map[string]string{"HTTP_X_EMPTY": ""},
		},
		{
			name:   "a header without values is absent",
			req:    withHeader(http.Header{"X-None": {}}),
			absent: []string{"HTTP_X_NONE"},
		},
		{
			name:   "a header with an underscore cannot pass for one with a dash",
			req:    withHeader(http.Header{"X_Forwarded_For": {"203.0.113.9"}}),
			absent: []string{"HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_FOR_"},
		},
		{
			name: "with both spellings only the one with dashes shows",
			req: withHeader(http.Header{
				"X-Forwarded-For": {"198.51.100.1"},
				"X_Forwarded_For": {"203.0.113.9"},
			}),
			want: map[string]string{"HTTP_X_FORWARDED_FOR": "198.51.100.1"},
		},
		{
			name:   "Proxy is left out (httpoxy)",
			req:    withHeader(http.Header{"Proxy": {"http://attacker.example:3128"}}),
			absent: []string{"HTTP_PROXY"},
		},
		{
			name:   "Proxy is left out in any case",
			req:    withHeader(http.Header{"proxy": {"http://attacker.example:3128"}}),
			absent: []string{"HTTP_PROXY"},
		},
		{
			name: "headers with spaces, dots or non-ASCII names are left out",
			req: withHeader(http.Header{
				"X Space": {"1"},
				"X.Dot":   {"2"},
				"X-Ünï":   {"3"},
			}),
			absent: []string{"HTTP_X SPACE", "HTTP_X_SPACE", "HTTP_X.DOT", "HTTP_X_DOT", "HTTP_X_ÜNÏ"},
		},
		{
			name:   "an empty header name is left out",
			req:    withHeader(http.Header{"": {"x"}}),
			absent: []string{"HTTP_"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { envRun(t, tc) })
	}
}

// Header maps filled by hand (not by net/http's parser, which
// canonicalizes names) may hold one header under two spellings.
func TestEnvHeaderSpelledTwoWays(t *testing.T) {
	r := envGet("/")
	r.Header["Cookie"] = []string{"a=1"}
	r.Header["cookie"] = []string{"b=2"}
	env := filter.NewEnv(r)
	var names []string
	for k := range env.All() {
		names = append(names, k)
	}
	if n := envCount(names, "HTTP_COOKIE"); n != 1 {
		t.Skip("BUG: All yields HTTP_COOKIE", n, "times for the header keys \"Cookie\" and \"cookie\"; want once, joined")
	}
	if got := env.Get("HTTP_COOKIE"); got != "a=1; b=2" && got != "b=2; a=1" {
		t.Errorf("HTTP_COOKIE = %q, want both cookies joined", got)
	}
}

func envCount(names []string, name string) int {
	n := 0
	for _, k := range names {
		if k == name {
			n++
		}
	}
	return n
}

func TestEnvAllOrder(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "http://example.com:8080/app/x?y=1", strings.NewReader("body"))
	r.Header.Set("Content-Type", "text/plain")
	r.Header.Set("X-Zeta", "z")
	r.Header.Set("Accept", "*/*")
	r.Header.Set("X-Alpha", "a")
	x, _, r, owner := filter.Begin(httptest.NewRecorder(), r)
	defer owner.End()
	x.SetMountPoint("/app")
	x.SetUser("bob")
	env := filter.NewEnv(r)

	var names []string
	for k := range env.All() {
		names = append(names, k)
	}
	want := []string{
		"REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING",
		"SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SOFTWARE",
		"GATEWAY_INTERFACE", "HTTPS", "REQUEST_URI", "REMOTE_ADDR", "REMOTE_PORT",
		"REMOTE_USER", "CONTENT_TYPE", "CONTENT_LENGTH",
		"HTTP_ACCEPT", "HTTP_HOST", "HTTP_X_ALPHA", "HTTP_X_ZETA",
	}
	if !slices.Equal(names, want) {
		t.Errorf("All yields\n%q\nwant\n%q", names, want)
	}

	wantMap := map[string]string{
		"REQUEST_METHOD": "POST", "SCRIPT_NAME": "/app", "PATH_INFO": "/x", "QUERY_STRING": "y=1",
		"SERVER_NAME": "example.com", "SERVER_PORT": "8080", "SERVER_PROTOCOL": "HTTP/1.1",
		"SERVER_SOFTWARE": "wsapi-go", "GATEWAY_INTERFACE": "CGI/1.1", "HTTPS": "off",
		"REQUEST_URI": "http://example.com:8080/app/x?y=1", "REMOTE_ADDR": "192.0.2.1", "REMOTE_PORT": "1234",
		"REMOTE_USER": "bob", "CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": "4",
		"HTTP_ACCEPT": "*/*", "HTTP_HOST": "example.com:8080", "HTTP_X_ALPHA": "a", "HTTP_X_ZETA": "z",
	}
	if got := env.Map(); !mapsEqualEnv(got, wantMap) {
		t.Errorf("Map() = %v\nwant %v", got, wantMap)
	}
}

func TestEnvAllStopsWhenAsked(t *testing.T) {
	r := envGet("/")
	r.Header.Set("X-A", "1")
	r.Header.Set("X-B", "2")
	env := filter.NewEnv(r)
	total := 0
	for range env.All() {
		total++
	}
	// 13 CGI variables, then HTTP_HOST, HTTP_X_A and HTTP_X_B.
	if total != 16 {
		t.Fatalf("All yields %d variables, want 16", total)
	}
	for _, stop := range []int{1, 13, 14, 15} {
		n := 0
		for range env.All() {
			n++
			if n == stop {
				break
			}
		}
		if n != stop {
			t.Errorf("breaking after %d variables saw %d", stop, n)
		}
	}
}

func TestEnvMapIsNewEachTime(t *testing.T) {
	env := filter.NewEnv(envGet("/"))
	m := env.Map()
	m["PATH_INFO"] = "/changed"
	if got := env.Map()["PATH_INFO"]; got != "/" {
		t.Errorf("after changing one map, Map()[PATH_INFO] = %q, want /", got)
	}
	if got := env.PathInfo(); got != "/" {
		t.Errorf("after changing the map, PathInfo() = %q, want /", got)
	}
}

func TestEnvLookupUnknownNames(t *testing.T) {
	r := envGet("/")
	r.Header.Set("X-Known", "1")
	env := filter.NewEnv(r)
	for _, name := range []string{
		"", "NOT_A_VARIABLE", "HTTP_", "HTTP_NOT_SENT", "http_x_known", "HTTP_x_known",
		"HTTP_X-KNOWN", "X_KNOWN", "request_method", "HTTP_X_KNOWN_", "HTTP_X_KNOW",
		"AUTH_TYPE", "PATH_TRANSLATED",
	} {
		if v, ok := env.Lookup(name); ok || v != "" {
			t.Errorf("Lookup(%q) = %q, %v; want \"\", false", name, v, ok)
		}
	}
	if v, ok := env.Lookup("HTTP_X_KNOWN"); !ok || v != "1" {
		t.Errorf("Lookup(HTTP_X_KNOWN) = %q, %v; want \"1\", true", v, ok)
	}
}

func TestEnvAccessorsMatchLookup(t *testing.T) {
	r := httptest.NewRequest(http.MethodDelete, "/api/items/3?force=1", nil)
	x, _, r, owner := filter.Begin(httptest.NewRecorder(), r)
	defer owner.End()
	x.SetMountPoint("/api")
	env := filter.NewEnv(r)
	checks := []struct {
		name string
		got  string
		want string
	}{
		{"REQUEST_METHOD", env.Method(), "DELETE"},
		{"SCRIPT_NAME", env.ScriptName(), "/api"},
		{"PATH_INFO", env.PathInfo(), "/items/3"},
		{"QUERY_STRING", env.QueryString(), "force=1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("accessor for %s = %q, want %q", c.name, c.got, c.want)
		}
		if v := env.Get(c.name); v != c.got {
			t.Errorf("Get(%s) = %q, accessor says %q", c.name, v, c.got)
		}
	}
	if env.Request() != r {
		t.Error("Request() is not the request the Env was made of")
	}
	if env.Exchange() != x {
		t.Error("Exchange() is not the request's exchange")
	}
	if filter.NewEnv(envGet("/")).Exchange() != nil {
		t.Error("Exchange() is not nil for a request without one")
	}
}

func TestEnvInput(t *testing.T) {
	t.Run("the body of the request", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("hello body"))
		b, err := io.ReadAll(filter.NewEnv(r).Input())
		if err != nil || string(b) != "hello body" {
			t.Errorf("Input() read %q, %v; want \"hello body\", nil", b, err)
		}
	})
	t.Run("an empty reader when the request has no body", func(t *testing.T) {
		r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/"}}
		in := filter.NewEnv(r).Input()
		if in == nil {
			t.Fatal("Input() is nil")
		}
		if in != http.NoBody {
			t.Errorf("Input() = %T, want http.NoBody", in)
		}
		n, err := in.Read(make([]byte, 8))
		if n != 0 || err != io.EOF {
			t.Errorf("Read = %d, %v; want 0, EOF", n, err)
		}
	})
}

// envLogRecords returns the JSON records in buf, failing on a line that is
// not one.
func envLogRecords(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for line := range strings.Lines(buf.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q is not one JSON record: %v", line, err)
		}
		recs = append(recs, rec)
	}
	return recs
}

// envErrorsEnv returns an Env whose exchange logs JSON into buf.
func envErrorsEnv(t *testing.T, buf *bytes.Buffer) (*filter.Env, *filter.Exchange) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPut, "/cgi/app?x=1", nil)
	x, _, r, owner := filter.Begin(httptest.NewRecorder(), r)
	t.Cleanup(owner.End)
	x.SetLogger(slog.New(slog.NewJSONHandler(buf, nil)))
	return filter.NewEnv(r), x
}

func TestEnvErrorsLogsEachLine(t *testing.T) {
	var buf bytes.Buffer
	env, _ := envErrorsEnv(t, &buf)
	msg := "first problem\nsecond problem\n"
	n, err := io.WriteString(env.Errors(), msg)
	if n != len(msg) || err != nil {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(msg))
	}
	recs := envLogRecords(t, &buf)
	if len(recs) != 2 {
		t.Fatalf("a write of two lines made %d records, want 2:\n%s", len(recs), buf.String())
	}
	for i, want := range []string{"first problem", "second problem"} {
		rec := recs[i]
		if rec["msg"] != want || rec["level"] != "ERROR" || rec["source"] != "wsapi.errors" ||
			rec["method"] != "PUT" || rec["path"] != "/cgi/app" {
			t.Errorf("record %d = %v; want msg %q at ERROR with source, method and path", i, rec, want)
		}
	}
}

func TestEnvErrorsLines(t *testing.T) {
	tests := []struct {
		name  string
		write []string
		want  []string
	}{
		{"a line without a newline is one record", []string{"no newline"}, []string{"no newline"}},
		{"a line ending in CRLF loses it", []string{"dos line\r\n"}, []string{"dos line"}},
		{"empty lines make no record", []string{"\n\n\r\n"}, nil},
		{"each write stands on its own", []string{"one\n", "two\nthree"}, []string{"one", "two", "three"}},
		{"a carriage return inside a line stays in it", []string{"a\rb\n"}, []string{"a\rb"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			env, _ := envErrorsEnv(t, &buf)
			for _, s := range tc.write {
				if n, err := io.WriteString(env.Errors(), s); n != len(s) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", s, n, err)
				}
			}
			var got []string
			for _, rec := range envLogRecords(t, &buf) {
				got = append(got, rec["msg"].(string))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("records %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEnvErrorsCannotForgeRecords(t *testing.T) {
	var buf bytes.Buffer
	env, _ := envErrorsEnv(t, &buf)
	forged := `{"time":"2000-01-01T00:00:00Z","level":"INFO","msg":"forged","user":"admin"}`
	payload := "oops\r" + forged + "\x1b[2K\x00\u2028tail\n" + forged + "\n"
	io.WriteString(env.Errors(), payload)

	out := buf.String()
	if strings.ContainsAny(out, "\r\x1b\x00") || strings.Contains(out, "\u2028") {
		t.Errorf("log output holds raw control characters: %q", out)
	}
	recs := envLogRecords(t, &buf)
	if len(recs) != 2 {
		t.Fatalf("got %d records, want 2 (one per line written):\n%s", len(recs), out)
	}
	for i, rec := range recs {
		if rec["level"] != "ERROR" || rec["source"] != "wsapi.errors" || rec["msg"] == "forged" {
			t.Errorf("record %d = %v; want an ERROR record from wsapi.errors", i, rec)
		}
	}
	if want := "oops\r" + forged + "\x1b[2K\x00\u2028tail"; recs[0]["msg"] != want {
		t.Errorf("first record's msg = %q, want the line as written, %q", recs[0]["msg"], want)
	}
	if recs[1]["msg"] != forged {
		t.Errorf("second record's msg = %q, want the forged JSON as text", recs[1]["msg"])
	}
}

func TestEnvErrorsRedirected(t *testing.T) {
	var logBuf, errBuf bytes.Buffer
	env, x := envErrorsEnv(t, &logBuf)
	x.SetErrorWriter(&errBuf)
	io.WriteString(env.Errors(), "to the writer\nverbatim")
	if got := errBuf.String(); got != "to the writer\nverbatim" {
		t.Errorf("error writer got %q, want the bytes as written", got)
	}
	if logBuf.Len() != 0 {
		t.Errorf("the logger got %q, want nothing", logBuf.String())
	}
	if env.Errors() != io.Writer(&errBuf) {
		t.Error("Errors() is not the writer set with SetErrorWriter")
	}

	// nil restores the default for an Env made afterwards.
	x.SetErrorWriter(nil)
	io.WriteString(filter.NewEnv(env.Request()).Errors(), "logged again\n")
	recs := envLogRecords(t, &logBuf)
	if len(recs) != 1 || recs[0]["msg"] != "logged again" {
		t.Errorf("after SetErrorWriter(nil), records %v; want one \"logged again\"", recs)
	}
}

func TestEnvErrorsIsStable(t *testing.T) {
	var buf bytes.Buffer
	env, _ := envErrorsEnv(t, &buf)
	if env.Errors() != env.Errors() {
		t.Error("Errors() returns a different writer on each call")
	}
}

// Not parallel: it swaps slog's default logger.
func TestEnvErrorsWithoutExchangeUseDefaultLogger(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	defer slog.SetDefault(old)

	env := filter.NewEnv(httptest.NewRequest(http.MethodGet, "/plain", nil))
	io.WriteString(env.Errors(), "to the default logger\n")
	var found bool
	for _, rec := range envLogRecords(t, &buf) {
		if rec["source"] == "wsapi.errors" {
			found = rec["msg"] == "to the default logger" && rec["path"] == "/plain" && rec["level"] == "ERROR"
		}
	}
	if !found {
		t.Errorf("the default logger did not get the line:\n%s", buf.String())
	}
}
