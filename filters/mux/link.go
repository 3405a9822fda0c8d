package mux

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/internal/trust"
)

// Link returns a link to path inside the app that serves r (WSAPI's
// request:link): the app's mount point, then path, escaped, then the
// query, if any. Under a mux that mounted a blog at "/blog",
// Link(r, "/posts/7", nil) is "/blog/posts/7", also from inside a chi route
// of the blog's router. path is a decoded path ("/files/a b.txt"); a path
// without a leading "/" gets one.
//
// The mount point is the deeper of the one the innermost mux gave the app
// and filter.PrefixMountPoint(r): a prefix mount, never the whole path of
// an exact route.
func Link(r *http.Request, path string, query url.Values) string {
	return link(appMount(r), path, query)
}

// appMount returns the mount point of the app serving r.
func appMount(r *http.Request) string {
	mp := filter.PrefixMountPoint(r)
	if pc, ok := mountKey.Get(filter.From(r)); ok && len(pc.mp) > len(mp) && r.URL != nil && strings.HasPrefix(r.URL.Path, pc.mp) &&
		(len(r.URL.Path) == len(pc.mp) || r.URL.Path[len(pc.mp)] == '/') {
		return pc.mp
	}
	return mp
}

// StaticLink returns a link to a static file beside the app that serves r
// (WSAPI's request:static_link): relative to the directory of the mount
// point, as files sit beside a CGI script. For an app mounted at
// "/apps/blog", StaticLink(r, "/css/site.css") is "/apps/css/site.css".
func StaticLink(r *http.Request, path string) string {
	mp := appMount(r)
	if i := strings.LastIndexByte(mp, '/'); i >= 0 {
		mp = mp[:i]
	}
	return link(mp, path, nil)
}

// AbsoluteLink returns Link as an absolute URL (WSAPI's
// request:absolute_link), with the scheme and host of the request: "https"
// when it came over TLS, and the Host header. Behind a proxy listed in the
// TrustedProxies of the mux that dispatched r, the header named by its
// ProxyHeader names them instead (the value the proxy appended: the last
// one); from any other peer those headers are ignored. A host that is not a
// valid host[:port] is never used.
func AbsoluteLink(r *http.Request, path string, query url.Values) string {
	scheme, host := origin(r)
	return scheme + "://" + host + Link(r, path, query)
}

// Query encodes key/value pairs as a query string, in the order given
// (url.Values.Encode sorts them): Query("q", "go mux", "page", "2") is
// "q=go+mux&page=2". A key without a value gets an empty one.
func Query(pairs ...string) string {
	var b strings.Builder
	for i := 0; i < len(pairs); i += 2 {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(pairs[i]))
		b.WriteByte('=')
		if i+1 < len(pairs) {
			b.WriteString(url.QueryEscape(pairs[i+1]))
		}
	}
	return b.String()
}

func link(mp, path string, query url.Values) string {
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	u := url.URL{Path: mp + path}
	s := u.EscapedPath()
	if strings.HasPrefix(s, "//") {
		s = "/%2F" + s[2:] // never a scheme-relative URL
	}
	if len(query) > 0 {
		s += "?" + query.Encode()
	}
	return s
}

// origin returns the scheme and host of the URL a client used for r.
func origin(r *http.Request) (scheme, host string) {
	scheme, host = "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if host == "" && r.URL != nil {
		host = r.URL.Host
	}
	if d, ok := dispatchKey.Get(filter.From(r)); ok && trusted(d.rt.m.proxies, r) {
		fscheme, fhost := forwarded(r.Header, d.rt.m.ProxyHeader)
		if fscheme == "http" || fscheme == "https" {
			scheme = fscheme
		}
		if fhost != "" && validHost(fhost) {
			host = fhost
		}
	}
	if !validHost(host) {
		host = "localhost"
	}
	return scheme, strings.ToLower(host)
}

func trusted(p *trust.Proxies, r *http.Request) bool {
	return !p.Empty() && p.Trusts(trust.Peer(r.RemoteAddr))
}

// forwarded returns the proto and host that the trusted proxy in front
// reported in the one header it sets: the last element of the Forwarded
// header (RFC 7239), or the last values of X-Forwarded-Proto and
// X-Forwarded-Host. Earlier elements and values came from further away,
// where a client can write them.
func forwarded(h http.Header, which string) (proto, host string) {
	if strings.EqualFold(which, "Forwarded") {
		elem := last(h.Values("Forwarded"))
		for _, pair := range strings.Split(elem, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok {
				continue
			}
			v = strings.Trim(v, `"`)
			switch strings.ToLower(k) {
			case "proto":
				proto = strings.ToLower(v)
			case "host":
				host = v
			}
		}
		return proto, host
	}
	return strings.ToLower(last(h.Values("X-Forwarded-Proto"))), last(h.Values("X-Forwarded-Host"))
}

// last returns the last comma-separated element of the last line.
func last(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	l := lines[len(lines)-1]
	if i := strings.LastIndexByte(l, ','); i >= 0 {
		l = l[i+1:]
	}
	return strings.TrimSpace(l)
}

// validHost reports whether h is a host name or an IP literal, with an
// optional port: letters, digits, "-", ".", "_", and a bracketed IPv6
// address; nothing that could end the authority ("/", "?", "#", "@", "\").
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	name, port := h, ""
	if h[0] == '[' {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return false
		}
		// An IPv6 literal, and nothing else: not "[]", not a zone.
		for _, c := range h[1:end] {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.') {
				return false
			}
		}
		if a, err := netip.ParseAddr(h[1:end]); err != nil || !a.Is6() {
			return false
		}
		name, port = "", h[end+1:]
		if port != "" && port[0] != ':' {
			return false
		}
	} else if i := strings.LastIndexByte(h, ':'); i >= 0 {
		name, port = h[:i], h[i:]
	}
	if port != "" {
		if len(port) < 2 || len(port) > 6 {
			return false
		}
		for _, c := range port[1:] {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return h[0] == '[' || name != ""
}
