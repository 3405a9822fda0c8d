package auth

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// maxReturnPath caps the length of a return path.
const maxReturnPath = 2048

// LocalPath reports whether p is safe to send a browser to after login: a
// path on this site, never another host. It must start with one "/" and
// hold no backslash, no control character or space, no "." or ".."
// segment, and valid UTF-8; and the same must hold after percent-decoding
// it, again and again (so "/%2F%2Fevil.example" and "/%5Cevil.example",
// which some browsers and proxies decode, are refused like
// "//evil.example" and "/\evil.example"). A query and a fragment may
// follow the path. Absolute URLs ("https://evil.example") are refused.
func LocalPath(p string) bool {
	if len(p) > maxReturnPath {
		return false
	}
	for range 4 {
		if !localOnce(p) {
			return false
		}
		if strings.IndexByte(p, '%') < 0 {
			return true
		}
		d, err := url.PathUnescape(p)
		if err != nil {
			return false
		}
		if d == p {
			return true
		}
		p = d
	}
	return false // encoded more than four times: no honest link is
}

// localOnce checks p without decoding it.
func localOnce(p string) bool {
	if len(p) == 0 || p[0] != '/' || len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return false
	}
	if !utf8.ValidString(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c <= ' ' || c == 0x7f || c == '\\' {
			return false
		}
	}
	// Dot segments, in the path part only.
	path := p
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	for seg := range strings.SplitSeq(path[1:], "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	// Unicode that browsers fold into "/" or "\" or treat as blank.
	for _, r := range p {
		if r >= 0x80 && (r == '\u2215' || r == '\u2044' || r == '\uff0f' || r == '\uff3c' || r == '\u3002' || r == '\ufe68' ||
			r == '\u00a0' || r == '\u2028' || r == '\u2029' || r == '\ufeff' || (r >= '\u2000' && r <= '\u200f')) {
			return false
		}
	}
	return true
}

// prefersHTML reports whether an Accept header value prefers text/html (or
// XHTML) to every other type it names specifically: a browser navigating.
// Wildcards do not count, so "*/*" (fetch, curl) is an API client.
func prefersHTML(accept string) bool {
	html, other := -1, -1
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, _ := strings.Cut(part, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
		q := qValue(params)
		switch {
		case mt == "text/html" || mt == "application/xhtml+xml":
			html = max(html, q)
		case mt == "" || strings.HasSuffix(mt, "/*"):
		default:
			other = max(other, q)
		}
	}
	return html > 0 && html >= other
}

// qValue returns the q parameter of a media range's parameters in
// thousandths, 1000 when absent or malformed.
func qValue(params string) int {
	for p := range strings.SplitSeq(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		v = strings.TrimSpace(v)
		if v == "" || len(v) > 5 || (v[0] != '0' && v[0] != '1') {
			return 1000
		}
		n, scale := int(v[0]-'0')*1000, 100
		if len(v) > 1 {
			if v[1] != '.' {
				return 1000
			}
			for _, c := range v[2:] {
				if c < '0' || c > '9' {
					return 1000
				}
				n += int(c-'0') * scale
				scale /= 10
			}
		}
		return min(n, 1000)
	}
	return 1000
}
