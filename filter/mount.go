package filter

import (
	"net/http"
	"net/url"
	"strings"
)

// MountPoint returns the mount point of r: the SCRIPT_NAME a WSAPI-style
// app sees, "" or a path that starts with "/" and does not end with one.
//
// It is the deeper of two answers: the one set on r's exchange with
// [Exchange.SetMountPoint] (by a launcher or a mux), and the one implied by
// the router pattern that matched r (r.Pattern, which chi and net/http's
// ServeMux set):
//
//   - a pattern ending in a catch-all ("/api/*" in chi, "/api/{rest...}"
//     in ServeMux) mounts at the segments before it: under chi's
//     r.Mount("/api", app), "/api/users/7" has mount point "/api";
//   - a ServeMux subtree pattern "/api/" mounts at "/api";
//   - an exact route mounts at the whole path, as a CGI script at that path
//     would be: chi's Mount answers "/api" itself with the pattern "/api",
//     and a route "/users/{id}" is a script at "/users/7".
//
// The pattern must describe the path: its literal segments must equal the
// path's, and a {parameter} stands for one segment. Behind http.StripPrefix
// the path no longer matches the pattern, and no mount point is implied.
// A mount point that is not a prefix of the request path, on a segment
// boundary, is ignored.
func MountPoint(r *http.Request) string { return mountPoint(r, true) }

// PathInfo returns the PATH_INFO of r: the request path below its mount
// point ([MountPoint]), "" or starting with "/". It is the path an app
// mounted under a prefix routes on.
func PathInfo(r *http.Request) string {
	_, info := splitPath(requestPath(r), MountPoint(r))
	return info
}

// PrefixMountPoint is [MountPoint] without what an exact route implies: the
// mount point set on the exchange or implied by a prefix pattern (a
// catch-all, a subtree, or chi's Mount answering "/api/" with "/api"),
// never the whole path of a route such as "POST /login". It is what scopes
// state shared by everything under a mount, such as a session cookie's
// path.
func PrefixMountPoint(r *http.Request) string { return mountPoint(r, false) }

func mountPoint(r *http.Request, exactRoutes bool) string {
	path := requestPath(r)
	explicit := ""
	if x := From(r); x != nil && x.mount != "" && mountMatches(path, x.mount) {
		explicit = x.mount
	}
	if r.Pattern == "" || r.URL == nil {
		return explicit
	}
	if inferred := inferMount(r, path, exactRoutes); len(inferred) > len(explicit) {
		return inferred
	}
	return explicit
}

// MountPoint returns the mount point set on the exchange ("" when none).
// Use the package function [MountPoint] to include what the router implies.
func (x *Exchange) MountPoint() string {
	if x == nil {
		return ""
	}
	return x.mount
}

// SetMountPoint sets the mount point (SCRIPT_NAME) for the request, after
// cleaning it with [CleanMountPoint]. A mux sets it before calling a mounted
// app; launchers set it from the web server's SCRIPT_NAME.
func (x *Exchange) SetMountPoint(mp string) { x.mount = CleanMountPoint(mp) }

// CleanMountPoint returns mp in the form a mount point takes: "" for the
// root, otherwise starting with "/" and not ending with "/". It does not
// resolve "." or ".." segments.
func CleanMountPoint(mp string) string {
	mp = strings.TrimRight(mp, "/")
	if mp != "" && mp[0] != '/' {
		mp = "/" + mp
	}
	return mp
}

// requestPath is the path that SCRIPT_NAME + PATH_INFO add up to: r.URL.Path,
// made absolute when it is not ("*" of OPTIONS * becomes "/*").
func requestPath(r *http.Request) string {
	if r.URL == nil {
		return ""
	}
	p := r.URL.Path
	if p != "" && p[0] != '/' {
		p = "/" + p
	}
	return p
}

// mountMatches reports whether mp is a prefix of path on a segment boundary.
func mountMatches(path, mp string) bool {
	return strings.HasPrefix(path, mp) && (len(path) == len(mp) || path[len(mp)] == '/')
}

// splitPath divides path into SCRIPT_NAME and PATH_INFO at mp.
func splitPath(path, mp string) (script, info string) {
	if mp == "" || !mountMatches(path, mp) {
		return "", path
	}
	return mp, path[len(mp):]
}

// inferMount returns the mount point implied by r.Pattern, or "".
func inferMount(r *http.Request, path string, exactRoutes bool) string {
	pat := r.Pattern
	// A ServeMux pattern may start with a method and a host.
	i := strings.IndexByte(pat, '/')
	if i < 0 {
		return ""
	}
	pat = pat[i:]
	prefix, exact := pat, false
	switch {
	case strings.HasSuffix(pat, "/*"): // chi catch-all, and chi's Mount
		prefix = pat[:len(pat)-2]
	case strings.HasSuffix(pat, "...}"): // ServeMux "/a/{rest...}"
		j := strings.LastIndex(pat, "/{")
		if j < 0 {
			return ""
		}
		prefix = pat[:j]
	case strings.HasSuffix(pat, "/"): // ServeMux subtree "/a/"
		prefix = pat[:len(pat)-1]
	default: // an exact route, such as chi's Mount answering "/api" itself
		exact = true
	}
	if prefix == "" {
		return ""
	}
	mp, rest, ok := matchSegments(r, path, prefix)
	if !ok || exact && rest != "" && rest != "/" {
		return ""
	}
	// Without exact routes, only "/api/" answered by the pattern "/api" is
	// a mount: chi's Mount answers its root that way, and an exact route
	// does not match a trailing slash.
	if exact && !exactRoutes && rest != "/" {
		return ""
	}
	return mp
}

// matchSegments matches the segments of prefix, a pattern without its
// trailing wildcard, against the start of the request path: a literal
// segment must be equal, a segment with a {parameter} matches any one. It
// returns the matched part of the path as a mount point, and the rest.
// Segments are compared on the escaped path when the request has one, so an
// encoded slash (%2F) stays inside its segment, as routers that match on the
// escaped path see it. A router that changed the path after matching (such
// as http.StripPrefix) leaves a pattern that no longer matches: no mount.
func matchSegments(r *http.Request, path, prefix string) (mp, rest string, ok bool) {
	if r.URL == nil {
		return "", "", false
	}
	p := path
	raw := r.URL.RawPath != ""
	if raw {
		p = r.URL.EscapedPath()
	}
	if p == "" || p[0] != '/' || prefix[0] != '/' {
		return "", "", false
	}
	end := 0
	for pats, more := prefix[1:], true; more; {
		var lit string
		lit, pats, more = strings.Cut(pats, "/")
		if end >= len(p) {
			return "", "", false // the path has fewer segments than the pattern
		}
		next := len(p)
		if j := strings.IndexByte(p[end+1:], '/'); j >= 0 {
			next = end + 1 + j
		}
		if !strings.ContainsAny(lit, "{}*") && !segmentEqual(p[end+1:next], lit, raw) {
			return "", "", false
		}
		end = next
	}
	mp, rest = p[:end], p[end:]
	if raw {
		var err error
		if mp, err = url.PathUnescape(mp); err != nil {
			return "", "", false
		}
	}
	mp = CleanMountPoint(mp)
	if !mountMatches(path, mp) {
		return "", "", false
	}
	return mp, rest, true
}

// segmentEqual compares a path segment with a literal pattern segment,
// unescaping the segment when it comes from the escaped path.
func segmentEqual(seg, lit string, escaped bool) bool {
	if seg == lit {
		return true
	}
	if !escaped && !strings.Contains(lit, "%") {
		return false
	}
	us, err1 := url.PathUnescape(seg)
	ul, err2 := url.PathUnescape(lit)
	if !escaped {
		us, err1 = seg, nil
	}
	return err1 == nil && err2 == nil && us == ul
}
