package mux

import (
	"net/url"
	"strings"
)

// A route is a request path as the mux matches it: the part below the mux's
// own mount point (its base), cleaned, in three forms that stay aligned
// segment by segment.
type route struct {
	// key is what the table is searched with: "/" and each segment, with
	// "%" written "%25" and a "/" inside a segment (an encoded %2F) written
	// "%2F", so that every "/" in key separates segments.
	key string

	// segs holds the decoded and escaped segments of the path when it had
	// to be rebuilt (the slow path); nil when key is the path itself.
	dec, esc []string
	trailing bool // the cleaned path ends with "/" after its last segment

	// path and raw are the cleaned request path (from the root, base
	// included) for URL.Path and URL.RawPath; changed says they differ
	// from the request's.
	path, raw string
	changed   bool

	// escBase is the mux's mount point as the escaped path spells it,
	// when raw is set.
	escBase string
}

// needsSlowPath reports whether p, a decoded path below the base, must be
// rebuilt before matching: it has a "%" (which keys escape), or it is not
// clean ("//", "/./", "/../", or a final "/." or "/..").
func needsSlowPath(p string) bool {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '%':
			return true
		case '/':
			rest := p[i+1:]
			switch {
			case rest == "":
			case rest[0] == '/':
				return true
			case rest[0] == '.':
				if rest == "." || rest == ".." || strings.HasPrefix(rest, "./") || strings.HasPrefix(rest, "../") {
					return true
				}
			}
		}
	}
	return false
}

// keySegment writes seg as a key segment: "%" as "%25" and "/" as "%2F".
func keySegment(b *strings.Builder, seg string) {
	for i := 0; i < len(seg); i++ {
		switch c := seg[i]; c {
		case '%':
			b.WriteString("%25")
		case '/':
			b.WriteString("%2F")
		default:
			b.WriteByte(c)
		}
	}
}

// keyOf returns the key form of a literal mount prefix (a clean path whose
// segments hold no encoded slashes).
func keyOf(prefix string) string {
	if !strings.Contains(prefix, "%") {
		return prefix
	}
	var b strings.Builder
	keySegment(&b, prefix)
	return strings.ReplaceAll(b.String(), "%2F", "/")
}

// slowRoute builds the route of a request whose path below base is not
// already a clean key. escaped is the request's escaped path (its RawPath
// or EscapedPath) when encoded slashes stay inside their segment, or "" to
// split the decoded path on every "/". base is the decoded mount point of
// the mux. It returns false when the path cannot be split consistently with
// base (a base that does not end on a segment boundary of the escaped path),
// or an escape in it is invalid.
func slowRoute(decoded, escaped, base string) (route, bool) {
	var rt route
	src, fromEscaped := decoded, escaped != ""
	if fromEscaped {
		src = escaped
	}
	if src == "" || src[0] != '/' {
		return rt, false
	}
	// Split into segments; an empty last segment is a trailing slash.
	parts := strings.Split(src[1:], "/")
	dec := make([]string, len(parts))
	for i, p := range parts {
		if fromEscaped {
			d, err := url.PathUnescape(p)
			if err != nil || hasDotPart(d) {
				return rt, false
			}
			dec[i] = d
		} else {
			dec[i] = p
		}
	}
	// Skip the base's segments.
	nb, n := 0, 0
	for n < len(base) && nb < len(dec) {
		n += 1 + len(dec[nb])
		nb++
	}
	if n != len(base) {
		return rt, false
	}
	escBase := ""
	if fromEscaped {
		escBase = joinSegments(parts[:nb], false)
	}
	// Clean the rest: drop "." and empty segments, let ".." remove the
	// segment before it but never go above the base.
	rel, relEsc := dec[nb:], parts[nb:]
	rt.trailing = len(rel) > 0 && (rel[len(rel)-1] == "" || rel[len(rel)-1] == "." || rel[len(rel)-1] == "..")
	outDec := make([]string, 0, len(rel))
	outEsc := make([]string, 0, len(rel))
	for i, s := range rel {
		switch s {
		case "", ".":
		case "..":
			if len(outDec) > 0 {
				outDec = outDec[:len(outDec)-1]
				outEsc = outEsc[:len(outEsc)-1]
			}
		default:
			outDec = append(outDec, s)
			outEsc = append(outEsc, relEsc[i])
		}
	}
	rt.dec, rt.esc = outDec, outEsc
	if len(outDec) == 0 && len(rel) > 0 {
		rt.trailing = true // everything below the base resolved away: "base/"
	}
	var k strings.Builder
	for _, s := range outDec {
		k.WriteByte('/')
		keySegment(&k, s)
	}
	if rt.trailing {
		k.WriteByte('/')
	}
	rt.key = k.String()
	rt.path = base + joinSegments(outDec, rt.trailing)
	if fromEscaped {
		rt.raw = escBase + joinSegments(outEsc, rt.trailing)
		rt.escBase = escBase
	}
	return rt, true
}

// joinSegments joins segs as a path: "/a/b", with a final "/" when trailing
// (and "/" alone for no segments and trailing).
func joinSegments(segs []string, trailing bool) string {
	n := 0
	for _, s := range segs {
		n += 1 + len(s)
	}
	if trailing {
		n++
	}
	var b strings.Builder
	b.Grow(n)
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(s)
	}
	if trailing {
		b.WriteByte('/')
	}
	return b.String()
}

// mountOf returns the decoded and escaped mount points, from the root, of a
// match k segments deep below base in the slow route rt.
func (rt *route) mountOf(base, escBase string, k int) (mp, escMP string) {
	mp = base + joinSegments(rt.dec[:k], false)
	if rt.raw != "" {
		escMP = escBase + joinSegments(rt.esc[:k], false)
	}
	return mp, escMP
}

// hasDotPart reports whether a decoded segment holds an encoded slash with
// a "." or ".." beside it ("..%2F..%2Fetc"): such a segment would climb
// above its mount point once an app splits PATH_INFO on "/", so it is
// refused, as no clean path contains it.
func hasDotPart(seg string) bool {
	if !strings.Contains(seg, "/") {
		return false
	}
	for _, part := range strings.Split(seg, "/") {
		if part == "." || part == ".." {
			return true
		}
	}
	return false
}
