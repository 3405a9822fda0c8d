package mux_test

import (
	"crypto/tls"
	"net/http"
	"net/netip"
	"net/url"
	"testing"

	"github.com/wsapi-go/wsapi/filters/mux"
)

// links mounts an app at /apps/blog that answers its links.
func links(m *mux.Mux) (got *[4]string) {
	got = new([4]string)
	m.MountFunc("/apps/blog", func(w http.ResponseWriter, r *http.Request) {
		got[0] = mux.Link(r, "/posts/a b", url.Values{"page": {"2"}, "q": {"x&y"}})
		got[1] = mux.StaticLink(r, "/css/site.css")
		got[2] = mux.AbsoluteLink(r, "/feed", nil)
		got[3] = mux.Link(r, "edit", nil)
	})
	return got
}

func TestLinks(t *testing.T) {
	m := mux.New()
	got := links(m)
	serve(t, m, request("Example.com:8080", "/apps/blog/posts/1"))
	want := [4]string{
		"/apps/blog/posts/a%20b?page=2&q=x%26y",
		"/apps/css/site.css",
		"http://example.com:8080/apps/blog/feed",
		"/apps/blog/edit",
	}
	if *got != want {
		t.Errorf("links:\n got %q\nwant %q", *got, want)
	}
}

func TestAbsoluteLinkProxies(t *testing.T) {
	proxy := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name    string
		header  string // ProxyHeader
		proxies []netip.Prefix
		peer    string
		tls     bool
		host    string
		headers map[string]string
		want    string
	}{
		{"plain", "", nil, "192.0.2.1:1", false, "a.example", nil, "http://a.example/apps/blog/feed"},
		{"TLS", "", nil, "192.0.2.1:1", true, "a.example", nil, "https://a.example/apps/blog/feed"},
		{"an untrusted peer's headers", "", nil, "10.0.0.1:1", false, "a.example",
			map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}, "http://a.example/apps/blog/feed"},
		{"a trusted proxy's X-Forwarded", "", proxy, "10.0.0.1:1", false, "internal:8080",
			map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "www.example"}, "https://www.example/apps/blog/feed"},
		{"a trusted proxy's Forwarded", "Forwarded", proxy, "10.0.0.1:1", false, "internal",
			map[string]string{"Forwarded": `host=evil.example, for=192.0.2.1;proto=https;host="www.example:8443"`}, "https://www.example:8443/apps/blog/feed"},
		{"Forwarded when X-Forwarded is believed", "", proxy, "10.0.0.1:1", false, "internal",
			map[string]string{"Forwarded": `host=evil.example`}, "http://internal/apps/blog/feed"},
		{"X-Forwarded when Forwarded is believed", "Forwarded", proxy, "10.0.0.1:1", false, "internal",
			map[string]string{"X-Forwarded-Host": "evil.example"}, "http://internal/apps/blog/feed"},
		{"the value the proxy appended", "", proxy, "10.0.0.1:1", false, "internal",
			map[string]string{"X-Forwarded-Host": "evil.example, www.example", "X-Forwarded-Proto": "http, https"}, "https://www.example/apps/blog/feed"},
		{"a forwarded host with a path", "", proxy, "10.0.0.1:1", false, "internal",
			map[string]string{"X-Forwarded-Host": "evil.example/x"}, "http://internal/apps/blog/feed"},
		{"a forwarded host with userinfo", "", proxy, "10.0.0.1:1", false, "internal",
			map[string]string{"X-Forwarded-Host": "a@evil.example"}, "http://internal/apps/blog/feed"},
		{"an odd proto", "", proxy, "10.0.0.1:1", false, "internal",
			map[string]string{"X-Forwarded-Proto": "javascript"}, "http://internal/apps/blog/feed"},
		{"a bad Host header", "", nil, "192.0.2.1:1", false, "a/b@c", nil, "http://localhost/apps/blog/feed"},
		{"an IPv6 host", "", nil, "192.0.2.1:1", false, "[::1]:8080", nil, "http://[::1]:8080/apps/blog/feed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &mux.Mux{TrustedProxies: tt.proxies, ProxyHeader: tt.header}
			got := links(m)
			r := request(tt.host, "/apps/blog/")
			r.RemoteAddr = tt.peer
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			serve(t, m, r)
			if got[2] != tt.want {
				t.Errorf("AbsoluteLink = %q, want %q", got[2], tt.want)
			}
		})
	}
}

func TestLinkEdges(t *testing.T) {
	m := mux.New()
	var l1, l2 string
	m.MountFunc("/", func(w http.ResponseWriter, r *http.Request) {
		l1 = mux.Link(r, "//evil.example", nil)
		l2 = mux.StaticLink(r, "x.css")
	})
	serve(t, m, request("", "/"))
	if l1 != "/%2Fevil.example" {
		t.Errorf("a link that would be scheme-relative: %q", l1)
	}
	if l2 != "/x.css" {
		t.Errorf("a static link at the root: %q", l2)
	}
}

func TestQuery(t *testing.T) {
	tests := []struct {
		pairs []string
		want  string
	}{
		{nil, ""},
		{[]string{"q", "go mux", "page", "2"}, "q=go+mux&page=2"},
		{[]string{"z", "1", "a", "&=?"}, "z=1&a=%26%3D%3F"},
		{[]string{"lonely"}, "lonely="},
	}
	for _, tt := range tests {
		if got := mux.Query(tt.pairs...); got != tt.want {
			t.Errorf("Query(%q) = %q, want %q", tt.pairs, got, tt.want)
		}
	}
}
