package auth_test

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wsapi-go/wsapi/filters/auth"
)

func FuzzAuthorization(f *testing.F) {
	f.Add(basicHeader("ana", anaPass))
	f.Add("Basic YW5h")
	f.Add("Basic !!!")
	f.Add("basic   YW5hOng=  ")
	f.Add("Basic " + strings.Repeat("QUFB", 400))
	f.Add("Bearer abc.def~+/==")
	f.Add("Bearer a=b")
	f.Add("Bearer \xff")
	f.Add("Basic\tYW5hOng=")
	f.Add("")
	a := auth.New(auth.NewBasic(testUsers(f)), auth.NewBearer())
	h := a.Wrap(whoami)
	f.Fuzz(func(t *testing.T, header string) {
		user, pass, isBasic, err := auth.ParseBasic(header)
		if isBasic && err == nil {
			if user == "" || len(user) > 255 || !utf8.ValidString(user) || strings.ContainsAny(user+pass, "\x00\r\n\x7f") {
				t.Errorf("ParseBasic(%q) accepted user %q, password %q", header, user, pass)
			}
			if strings.Contains(user, ":") {
				t.Errorf("ParseBasic(%q): user %q holds a colon", header, user)
			}
		}
		if isBasic && err != nil && err != auth.ErrMalformed {
			t.Errorf("ParseBasic(%q): error %v", header, err)
		}
		r := get("/", "")
		r.Header["Authorization"] = []string{header}
		rec := serve(h, r)
		switch rec.Code {
		case 200, 400, 401, 429:
		default:
			t.Errorf("%q: status %d", header, rec.Code)
		}
		if rec.Code == 200 && header != "" && !strings.HasPrefix(rec.Body.String(), "- ") &&
			!strings.HasPrefix(rec.Body.String(), "ana ") {
			t.Errorf("%q: let in as %q", header, rec.Body.String())
		}
	})
}

func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{
		"/", "/a/b?c=d#e", "//evil.example", "https://evil.example", `/\evil.example`, "/%2F%2Fevil.example",
		"/%5Cevil.example", "/%252F%252Fevil", "/\t/evil", "/a/../b", "/%2e%2e/x", "/\u3002/evil", "/a%zz",
		"/ok%20space", "///x", "/%2Fx",
	} {
		f.Add(s)
	}
	base, _ := url.Parse("https://app.example/dir/page")
	f.Fuzz(func(t *testing.T, p string) {
		if !auth.LocalPath(p) {
			return
		}
		// Every decoding of an accepted path stays on this site.
		for range 4 {
			u, err := url.Parse(p)
			if err != nil {
				t.Fatalf("LocalPath(%q) but it does not parse: %v", p, err)
			}
			if u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
				t.Fatalf("LocalPath accepted %q: scheme %q host %q", p, u.Scheme, u.Host)
			}
			if got := base.ResolveReference(u); got.Host != "app.example" || got.Scheme != "https" {
				t.Fatalf("LocalPath accepted %q, which leads to %s", p, got)
			}
			if strings.ContainsAny(p, "\\\r\n\t ") || strings.HasPrefix(p, "//") {
				t.Fatalf("LocalPath accepted %q", p)
			}
			d, err := url.PathUnescape(p)
			if err != nil || d == p {
				break
			}
			p = d
		}
	})
}

func TestLocalPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/":                             true,
		"/me":                           true,
		"/a/b?c=d&e=%2F#top":            true,
		"/a/b?c=d#top":                  true,
		"/caf%C3%A9":                    true,
		"":                              false,
		"me":                            false,
		"//evil.example":                false,
		"///evil.example":               false,
		"https://evil.example":          false,
		"http:evil.example":             false,
		`/\evil.example`:                false,
		"/%2F%2Fevil.example":           false,
		"/%2f/evil.example":             false,
		"/%5Cevil.example":              false,
		"/%5cevil.example":              false,
		"%2F%2Fevil.example":            false,
		"/%252F%252Fevil":               false,
		"/%25252F%25252Fevil":           false,
		"/\t/evil.example":              false,
		"/%09/evil.example":             false,
		"/ /evil":                       false,
		"/a/../b":                       false,
		"/%2e%2e/b":                     false,
		"/\uff0f\uff0fevil":             false,
		"/a%zz":                         false,
		"/\xff":                         false,
		"/" + strings.Repeat("a", 2048): false,
	} {
		if got := auth.LocalPath(p); got != want {
			t.Errorf("LocalPath(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestPrefersHTML(t *testing.T) {
	for accept, want := range map[string]bool{
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8": true,
		"text/html":                             true,
		"application/json":                      false,
		"*/*":                                   false,
		"":                                      false,
		"application/json, text/html;q=0.5":     false,
		"text/html;q=0, application/json;q=0.1": false,
		"text/html;q=0.9, application/json;q=0.8": true,
		"TEXT/HTML;Q=1": true,
		"text/html;q=x": true,
	} {
		if got := auth.PrefersHTML(accept); got != want {
			t.Errorf("prefersHTML(%q) = %v, want %v", accept, got, want)
		}
	}
}
