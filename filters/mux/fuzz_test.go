package mux_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filters/mux"
)

// FuzzDispatch sends odd paths and hosts through a mux mounted under
// another: no panic, no escape above a mount, and the SCRIPT_NAME and
// PATH_INFO invariants hold for whichever app answers.
func FuzzDispatch(f *testing.F) {
	for _, s := range []struct{ path, host string }{
		{"/base/a/b/c", "example.com"},
		{"/base//a/./b/../b", ""},
		{"/base/../../a", "x"},
		{"/base/%2e%2e/%2e%2e/a", "a/b?c#d@e"},
		{"/base/a%2Fb/c", "[::1]:80"},
		{"/base/a/%00/b", "h:0"},
		{"/base/\xff\xfe/a", "*.example.com"},
		{"/base/c%20d/x", "host.example.com:99999"},
		{"/base/%25/x", "sub.host.example.com"},
		{"//base/a", ""},
		{"/base", ""},
		{"*", ""},
	} {
		f.Add(s.path, s.host, false)
		f.Add(s.path, s.host, true)
	}
	f.Fuzz(func(t *testing.T, path, host string, encodedSlash bool) {
		type answer struct {
			app        string
			script     string
			info, full string
			escaped    string
		}
		var got *answer
		app := func(name string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				env := filter.NewEnv(r)
				got = &answer{name, env.ScriptName(), env.PathInfo(), r.URL.Path, r.URL.EscapedPath()}
			})
		}
		inner := &mux.Mux{EncodedSlash: encodedSlash, Cascade: encodedSlash}
		prefixes := map[string]string{"root": "", "a": "/a", "ab": "/a/b", "pct": "/%", "space": "/c d", "host": "", "wild": "/x"}
		inner.Mount("/", app("root"))
		inner.Mount("/a", app("a"))
		inner.Mount("/a/b", app("ab"))
		inner.Mount("/%", app("pct"))
		inner.Mount("/c d", app("space"))
		inner.Mount("host.example.com/", app("host"))
		inner.Mount("*.host.example.com/x", app("wild"))
		outer := mux.New()
		outer.Mount("/base", inner)
		outer.Mount("/", app("outer"))
		prefixes["outer"] = ""

		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if u, err := url.ParseRequestURI(path); err == nil {
			r.URL = u
		} else {
			r.URL = &url.URL{Path: path}
		}
		r.Host = host
		w := httptest.NewRecorder()
		outer.ServeHTTP(w, r)
		if got == nil {
			if w.Code != http.StatusNotFound && w.Code != http.StatusBadRequest && w.Code != http.StatusOK {
				t.Fatalf("no app answered, status %d", w.Code)
			}
			return
		}
		base := "/base"
		if got.app == "outer" {
			base = ""
		}
		want := base + prefixes[got.app]
		if got.script != filter.CleanMountPoint(want) {
			t.Fatalf("%s answered with SCRIPT_NAME %q, want %q", got.app, got.script, want)
		}
		if got.script+got.info != got.full {
			t.Fatalf("SCRIPT_NAME %q + PATH_INFO %q != path %q", got.script, got.info, got.full)
		}
		if got.info != "" && got.info[0] != '/' {
			t.Fatalf("PATH_INFO %q", got.info)
		}
		// PATH_INFO, split on every "/" as an app serving files would,
		// never climbs: no "." or ".." part, encoded slashes included.
		for _, part := range strings.Split(got.info, "/") {
			if part == "." || part == ".." {
				t.Fatalf("PATH_INFO %q has a dot segment", got.info)
			}
		}
		// The path is clean, segment by segment (an encoded slash stays
		// inside its segment, so check the escaped path).
		rest := strings.TrimPrefix(got.escaped, base)
		segs := strings.Split(rest, "/")
		for i, seg := range segs {
			if i == 0 || i == len(segs)-1 && seg == "" {
				continue
			}
			if d, err := url.PathUnescape(seg); err != nil || d == "" || d == "." || d == ".." {
				t.Fatalf("the app saw an unclean path %q (escaped %q)", got.full, got.escaped)
			}
		}
	})
}

// FuzzAbsoluteLink feeds odd Host and forwarding headers to AbsoluteLink:
// the link is always an absolute URL whose authority is a plain host.
func FuzzAbsoluteLink(f *testing.F) {
	f.Add("example.com", "evil.example/x", "https", `host="a@b";proto=https`)
	f.Add("a/b?c#d@e", "[::1]:8080", "http", "")
	f.Add("[::1", "x:y:z", "HTTPS", `for=1.2.3.4;host=ok.example`)
	f.Fuzz(func(t *testing.T, host, xfh, xfp, fwd string) {
		m := &mux.Mux{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
		var link string
		m.MountFunc("/apps", func(w http.ResponseWriter, r *http.Request) { link = mux.AbsoluteLink(r, "/p", nil) })
		r := httptest.NewRequest(http.MethodGet, "/apps/x", nil)
		r.RemoteAddr = "127.0.0.1:1"
		r.Host = host
		r.Header.Set("X-Forwarded-Host", xfh)
		r.Header.Set("X-Forwarded-Proto", xfp)
		if fwd != "" {
			r.Header.Set("Forwarded", fwd)
		}
		m.ServeHTTP(httptest.NewRecorder(), r)
		u, err := url.Parse(link)
		if err != nil {
			t.Fatalf("AbsoluteLink gave %q: %v", link, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.User != nil || u.Host == "" || u.Path != "/apps/p" || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("AbsoluteLink gave %q", link)
		}
	})
}
