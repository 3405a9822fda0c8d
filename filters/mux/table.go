package mux

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync/atomic"

	"github.com/go-chi/chi/v5"
)

// An entry is one mounted app.
type entry struct {
	host   string // as listed: lower case, "" for any host, "*.example.com" for a wildcard
	name   string // the host name: no port, no brackets, no final dot; ".example.com" for a wildcard
	port   string // "" for any port
	prefix string // "" for the root, else "/a/b"
	app    http.Handler

	// chiRouter: the app is a chi router, which routes on chi's RoutePath
	// (the router itself, for the route context's Routes); nil otherwise.
	chiRouter  chi.Routes
	chiPattern string // prefix + "/*", what chi's Mount would record

	// pattern caches the r.Pattern given to the app for the last mount
	// point seen (the mux's base plus prefix), so a mux under a fixed base
	// does not build the string per request.
	pattern atomic.Pointer[patternCache]
}

// A patternCache is what a mount point looks like to the app: the mount
// point as the pattern spells it (escaped when the request path was), the
// pattern, the decoded mount point, and its escaped form for a Location.
type patternCache struct{ patMP, pattern, mp, escaped string }

// patternFor returns how the mount point patMP (escaped when the request
// path is, raw) is given to the app: r.Pattern tells filter.MountPoint
// the mount point, and Link finds it on the exchange.
func (e *entry) patternFor(patMP string, raw bool) *patternCache {
	if c := e.pattern.Load(); c != nil && c.patMP == patMP {
		return c
	}
	c := &patternCache{patMP: patMP, pattern: patMP + "/{path...}", mp: patMP, escaped: patMP}
	if raw {
		if d, err := url.PathUnescape(patMP); err == nil {
			c.mp = d
		}
	} else {
		c.escaped = (&url.URL{Path: patMP}).EscapedPath()
	}
	e.pattern.Store(c)
	return c
}

// A node is a segment of the prefix tree: children by key segment.
type node struct {
	children map[string]*node
	entry    *entry
}

// A table is an immutable routing table: a prefix tree per exact host, per
// wildcard host suffix, and one for any host. Lookup walks at most the depth
// of a tree, whatever the number of mounts.
type table struct {
	exact   map[string]*hostTrees // by host name
	wild    map[string]*hostTrees // ".example.com" for "*.example.com"
	any     *node
	entries []*entry
}

// hostTrees are the trees of one host name: for a given port, and for any.
type hostTrees struct {
	ports   map[string]*node
	anyPort *node
}

// parsePattern splits a mount pattern "[host]/path" into its host and its
// prefix, and checks both.
func parsePattern(pattern string) (host, prefix string, err error) {
	i := strings.IndexByte(pattern, '/')
	if i < 0 {
		return "", "", fmt.Errorf("mux: mount pattern %q: the path must start with \"/\"", pattern)
	}
	host, p := strings.ToLower(pattern[:i]), pattern[i:]
	if host != "" {
		name, _ := splitHost(strings.TrimPrefix(host, "*."))
		if name == "" || !validHost(strings.TrimPrefix(host, "*.")) || strings.Contains(name, "..") || name[0] == '.' {
			return "", "", fmt.Errorf("mux: mount pattern %q: bad host %q (use \"example.com\", \"example.com:8080\", \"[::1]\" or \"*.example.com\")", pattern, host)
		}
	}
	clean := path.Clean(p)
	if clean != strings.TrimSuffix(p, "/") && clean+"/" != p && p != "/" {
		return "", "", fmt.Errorf("mux: mount pattern %q: the path is not clean (want %q)", pattern, clean)
	}
	if clean == "/" {
		clean = ""
	}
	return host, clean, nil
}

// add returns a new table with e added; t is unchanged.
func (t *table) add(e *entry) (*table, error) {
	for _, old := range t.entries {
		if old.name == e.name && old.port == e.port && old.prefix == e.prefix {
			return nil, fmt.Errorf("mux: %s%s is mounted twice", e.host, orRoot(e.prefix))
		}
	}
	entries := append(append([]*entry(nil), t.entries...), e)
	nt := &table{entries: entries}
	for _, e := range entries {
		nt.insert(e)
	}
	return nt, nil
}

func orRoot(prefix string) string {
	if prefix == "" {
		return "/"
	}
	return prefix
}

func (t *table) insert(e *entry) {
	var root **node
	if e.host == "" {
		root = &t.any
	} else {
		m := &t.exact
		if strings.HasPrefix(e.host, "*.") {
			m = &t.wild
		}
		if *m == nil {
			*m = make(map[string]*hostTrees)
		}
		ht := (*m)[e.name]
		if ht == nil {
			ht = &hostTrees{}
			(*m)[e.name] = ht
		}
		if e.port == "" {
			root = &ht.anyPort
		} else {
			if ht.ports == nil {
				ht.ports = make(map[string]*node)
			}
			n := ht.ports[e.port]
			if n == nil {
				n = &node{}
				ht.ports[e.port] = n
			}
			root = &n
		}
	}
	if *root == nil {
		*root = &node{}
	}
	n := *root
	for rest := keyOf(e.prefix); rest != ""; {
		var seg string
		seg, rest = nextSegment(rest)
		child := n.children[seg]
		if child == nil {
			if n.children == nil {
				n.children = make(map[string]*node)
			}
			child = &node{}
			n.children[seg] = child
		}
		n = child
	}
	n.entry = e
}

// nextSegment splits "/seg/rest" into "seg" and "/rest".
func nextSegment(key string) (seg, rest string) {
	key = key[1:]
	if i := strings.IndexByte(key, '/'); i >= 0 {
		return key[:i], key[i:]
	}
	return key, ""
}

// A match is an entry and the length of the key it matched.
type match struct {
	e   *entry
	end int // bytes of the key matched
	k   int // segments matched
}

// walk calls fn with each entry of the tree that is a prefix of key,
// shallowest first. It follows key segment by segment and stops at the
// first segment the tree does not have.
func (n *node) walk(key string, fn func(match)) {
	if n == nil {
		return
	}
	if n.entry != nil {
		fn(match{e: n.entry})
	}
	for i, k := 0, 0; i < len(key); {
		j := strings.IndexByte(key[i+1:], '/')
		if j < 0 {
			j = len(key)
		} else {
			j += i + 1
		}
		seg := key[i+1 : j]
		if seg == "" {
			return
		}
		if n = n.children[seg]; n == nil {
			return
		}
		i, k = j, k+1
		if n.entry != nil {
			fn(match{e: n.entry, end: j, k: k})
		}
	}
}

// deepest returns the entry with the longest prefix of key in the tree.
func (n *node) deepest(key string) (m match, ok bool) {
	n.walk(key, func(x match) { m, ok = x, true })
	return m, ok
}

// all appends the entries of the tree that are prefixes of key to buf,
// deepest first.
func (n *node) all(key string, buf []match) []match {
	start := len(buf)
	n.walk(key, func(x match) { buf = append(buf, x) })
	for a, b := start, len(buf)-1; a < b; a, b = a+1, b-1 {
		buf[a], buf[b] = buf[b], buf[a]
	}
	return buf
}

// trees calls visit with each tree that applies to host, in the order
// their entries are tried: the exact host (its port, then any port),
// wildcard hosts from the most specific, then any host. It stops when
// visit returns false.
func (t *table) trees(host string, visit func(*node) bool) {
	if t.exact != nil || t.wild != nil {
		name, port := splitHost(host)
		if ht := t.exact[name]; ht != nil && !ht.visit(port, visit) {
			return
		}
		if t.wild != nil && name != "" && name[0] != '.' && !strings.Contains(name, "..") {
			for i := strings.IndexByte(name, '.'); i >= 0; {
				if ht := t.wild[name[i:]]; ht != nil && !ht.visit(port, visit) {
					return
				}
				j := strings.IndexByte(name[i+1:], '.')
				if j < 0 {
					break
				}
				i += 1 + j
			}
		}
	}
	if t.any != nil {
		visit(t.any)
	}
}

// visit calls visit with the tree for port, then the one for any port; it
// returns false when visit did.
func (ht *hostTrees) visit(port string, visit func(*node) bool) bool {
	if n := ht.ports[port]; n != nil && port != "" && !visit(n) {
		return false
	}
	if ht.anyPort != nil && !visit(ht.anyPort) {
		return false
	}
	return true
}

// lookup returns the deepest match for key among the trees for host, host
// trees first.
func (t *table) lookup(host, key string) (match, bool) {
	if t.exact == nil && t.wild == nil {
		return t.any.deepest(key)
	}
	var m match
	found := false
	t.trees(host, func(n *node) bool {
		m, found = n.deepest(key)
		return !found
	})
	return m, found
}

// splitHost returns the host name of a Host header or pattern, in lower
// case, without brackets or a final dot, and its port ("" for none).
func splitHost(host string) (name, port string) {
	for i := 0; i < len(host); i++ {
		if c := host[i]; 'A' <= c && c <= 'Z' {
			host = strings.ToLower(host)
			break
		}
	}
	name = host
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		name, port = host[:i], host[i+1:]
	}
	if len(name) >= 2 && name[0] == '[' && name[len(name)-1] == ']' {
		name = name[1 : len(name)-1]
	}
	return strings.TrimSuffix(name, "."), port
}

// chiRouter returns the chi router h routes with, when h routes on chi's
// RoutePath: h is a chi router, or a handler whose Unwrap leads to one (a
// wsapi.Stack's handler). It returns nil otherwise.
func chiRouter(h http.Handler) chi.Routes {
	for i := 0; h != nil && i < 100; i++ {
		switch t := h.(type) {
		case chi.Routes:
			return t
		case interface{ Unwrap() http.Handler }:
			h = t.Unwrap()
		default:
			return nil
		}
	}
	return nil
}
