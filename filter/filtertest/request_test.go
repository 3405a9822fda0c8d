package filtertest_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
)

func TestNewRequest(t *testing.T) {
	tests := []struct {
		name               string
		r                  *http.Request
		method, host, path string
		query              string
		contentLength      int64
		lengthHeader       string
		tls                bool
	}{
		{
			name:   "an empty method means GET and a bare path gets example.com",
			r:      filtertest.NewRequest("", "/a/b", nil),
			method: "GET", host: "example.com", path: "/a/b",
		},
		{
			name:   "an absolute URL gives its host and an https one a TLS state",
			r:      filtertest.NewRequest("PUT", "https://api.test:8443/x?y=1", nil),
			method: "PUT", host: "api.test:8443", path: "/x", query: "y=1", tls: true,
		},
		{
			name:   "a body of known length sets ContentLength and the header",
			r:      filtertest.NewRequest("POST", "/upload", strings.NewReader("hello")),
			method: "POST", host: "example.com", path: "/upload",
			contentLength: 5, lengthHeader: "5",
		},
		{
			name:   "a body of unknown length leaves the header out",
			r:      filtertest.NewRequest("POST", "/stream", io.MultiReader(strings.NewReader("x"))),
			method: "POST", host: "example.com", path: "/stream", contentLength: -1,
		},
		{
			name:   "Get keeps the query of its target",
			r:      filtertest.Get("/search?q=go&page=2"),
			method: "GET", host: "example.com", path: "/search", query: "q=go&page=2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r
			if r.Method != tt.method || r.Host != tt.host || r.URL.Path != tt.path || r.URL.RawQuery != tt.query {
				t.Errorf("got %s %s %s ? %s, want %s %s %s ? %s",
					r.Method, r.Host, r.URL.Path, r.URL.RawQuery, tt.method, tt.host, tt.path, tt.query)
			}
			if r.RemoteAddr != "192.0.2.1:1234" {
				t.Errorf("RemoteAddr = %q", r.RemoteAddr)
			}
			if r.ContentLength != tt.contentLength {
				t.Errorf("ContentLength = %d, want %d", r.ContentLength, tt.contentLength)
			}
			if got := r.Header.Get("Content-Length"); got != tt.lengthHeader {
				t.Errorf("Content-Length header = %q, want %q", got, tt.lengthHeader)
			}
			if (r.TLS != nil) != tt.tls {
				t.Errorf("TLS = %v, want %v", r.TLS != nil, tt.tls)
			}
			if r.Proto != "HTTP/1.1" {
				t.Errorf("Proto = %q", r.Proto)
			}
		})
	}
}

func TestNewRequestPanicsOnABadTarget(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewRequest with a target containing a space did not panic")
		}
	}()
	filtertest.NewRequest("GET", "/a b", nil)
}

func TestPostFormSendsASortedURLEncodedBody(t *testing.T) {
	r := filtertest.PostForm("/login", url.Values{"user": {"ana"}, "pass": {"s3cret&x"}, "a": {"1", "2"}})
	if got := r.Header.Get("Content-Type"); got != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", got)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	const want = "a=1&a=2&pass=s3cret%26x&user=ana"
	if string(body) != want {
		t.Errorf("body = %q, want %q", body, want)
	}
	if r.ContentLength != int64(len(want)) || r.Header.Get("Content-Length") != "32" {
		t.Errorf("ContentLength = %d, header %q; want %d", r.ContentLength, r.Header.Get("Content-Length"), len(want))
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	if r.PostForm.Get("pass") != "s3cret&x" || len(r.PostForm["a"]) != 2 {
		t.Errorf("parsed form = %v", r.PostForm)
	}
}

func TestMockRequestsMakeTheCGIEnvironment(t *testing.T) {
	r := filtertest.PostForm("/app/login?next=%2F", url.Values{"u": {"ana"}})
	r.Header.Set("X-Trace", "abc")
	env := filter.NewEnv(r)
	want := map[string]string{
		"REQUEST_METHOD": "POST",
		"PATH_INFO":      "/app/login",
		"QUERY_STRING":   "next=%2F",
		"SERVER_NAME":    "example.com",
		"SERVER_PORT":    "80",
		"REMOTE_ADDR":    "192.0.2.1",
		"CONTENT_TYPE":   "application/x-www-form-urlencoded",
		"CONTENT_LENGTH": "5",
		"HTTP_X_TRACE":   "abc",
	}
	for k, v := range want {
		if got := env.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if _, ok := env.Lookup("HTTP_CONTENT_LENGTH"); ok {
		t.Error("HTTP_CONTENT_LENGTH is set")
	}
}
