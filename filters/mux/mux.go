package mux

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-chi/chi/v5"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/internal/trust"
)

// Mux mounts apps by path prefix, and optionally by host, and dispatches
// each request to the app with the longest matching prefix. It is an
// http.Handler (a miss goes to Fallback) and a filter.Filter (with Wrap, a
// miss goes to the next handler).
//
// Set the fields before the mux serves its first request (Wrap may come
// before: settings are read at the first request); Mount may be called at
// any time, also while the mux serves.
type Mux struct {
	// Fallback answers requests that match no mount (and, with Cascade,
	// requests that every candidate passed on) when the mux is used as a
	// handler. Default: a plain 404 Not Found. With Wrap, the next handler
	// plays this part.
	Fallback http.Handler

	// Cascade lets a mounted app pass a request on: when it answers 404
	// with the header "X-Cascade: pass" (see Pass), its answer is dropped
	// and the next candidate tries (the next shorter prefix, then entries
	// for any host), then the miss handler. Each candidate gets a deep copy
	// of the request (r.Clone) and writes through a filter.Gate, which holds
	// back the headers (never the body) until the status is known; what a
	// candidate that passed left behind (before-headers hooks, annotations,
	// chi routing state) is taken back. The request body is shared: a
	// candidate that read it leaves less for the next, so pass before
	// reading. Default false: the deepest match answers, whatever it says.
	Cascade bool

	// RedirectSlash redirects a request for a mount prefix without its
	// final slash ("/app") to the prefix with one ("/app/"), keeping the
	// query: 301 for GET and HEAD, 308 (which keeps the method and body)
	// for other methods. Default false: "/app" is served by the app
	// mounted at "/app" with an empty PATH_INFO.
	RedirectSlash bool

	// EncodedSlash makes an encoded slash (%2F) in the request path
	// separate segments like "/" does. Default false: "/a%2Fb" is one
	// segment, "a/b", which no mount prefix can match, so an encoded slash
	// cannot reach an app that a plain "/" would not.
	EncodedSlash bool

	// MaxForwards is how many times one request may be forwarded (see
	// Forward) before Forward refuses with ErrForwardLoop. Default 10.
	MaxForwards int

	// TrustedProxies are the networks of proxies whose forwarding header
	// (ProxyHeader) AbsoluteLink believes, for requests this mux
	// dispatched. Default: none, so links use the request's own Host and
	// TLS state.
	TrustedProxies []netip.Prefix

	// ProxyHeader names the header the trusted proxies set, the only one
	// believed: "X-Forwarded" (X-Forwarded-Proto and X-Forwarded-Host, the
	// default) or "Forwarded" (RFC 7239). Of either, the value the nearest
	// proxy appended, the last, is used.
	ProxyHeader string

	// Hub receives the mux's events ("mux:forward:loop"). Default
	// filter.DefaultHub.
	Hub *filter.Hub

	table atomic.Pointer[table]
	mu    sync.Mutex // serializes Mount

	setup   sync.Once
	proxies *trust.Proxies
	root    *router // the router ServeHTTP uses
}

var (
	_ filter.Filter = (*Mux)(nil)
	_ http.Handler  = (*Mux)(nil)
)

// New returns an empty mux with the default settings.
func New() *Mux { return &Mux{} }

// Name returns "mux", the mux's name in a stack listing.
func (m *Mux) Name() string { return "mux" }

// Mount mounts app at pattern: a path prefix, optionally preceded by a host
// as in net/http's ServeMux ("/api", "api.example.com/", "*.example.com/v1",
// "example.com:8080/", "[::1]/"). The prefix must be a clean path; a final
// "/" is ignored, so "/api" and "/api/" mount at the same place, and "/"
// mounts at the root. A wildcard host "*.example.com" matches any name
// below example.com, not example.com itself. A host without a port matches
// any port; one with a port matches a Host header with that port only
// (browsers leave out the default ports 80 and 443).
//
// The app may be any http.Handler: a Stack's handler, a WSAPI-style
// filter.AppFunc, a hosted CGI or FastCGI program, another Mux, or a chi
// router. Mount panics if pattern is malformed, app is nil, or the same
// host and prefix are mounted twice.
func (m *Mux) Mount(pattern string, app http.Handler) {
	if app == nil {
		panic("mux: Mount(" + pattern + ") with a nil app")
	}
	host, prefix, err := parsePattern(pattern)
	if err != nil {
		panic(err.Error())
	}
	e := &entry{host: host, prefix: prefix, app: app, chiRouter: chiRouter(app), chiPattern: prefix + "/*"}
	if host != "" {
		e.name, e.port = splitHost(strings.TrimPrefix(host, "*"))
		if strings.HasPrefix(host, "*.") {
			e.name = "." + strings.TrimPrefix(e.name, ".")
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.table.Load()
	if t == nil {
		t = &table{}
	}
	nt, err := t.add(e)
	if err != nil {
		panic(err.Error())
	}
	m.table.Store(nt)
}

// MountFunc mounts a handler function at pattern, as Mount does.
func (m *Mux) MountFunc(pattern string, fn func(http.ResponseWriter, *http.Request)) {
	m.Mount(pattern, http.HandlerFunc(fn))
}

// Mounts lists the mounted patterns in the order they were mounted, for a
// startup log or a debug page.
func (m *Mux) Mounts() []string {
	t := m.table.Load()
	if t == nil {
		return nil
	}
	out := make([]string, len(t.entries))
	for i, e := range t.entries {
		out[i] = e.host + orRoot(e.prefix)
	}
	return out
}

func (m *Mux) init() {
	m.setup.Do(func() {
		m.proxies = trust.New(m.TrustedProxies)
		if m.MaxForwards <= 0 {
			m.MaxForwards = 10
		}
		if m.Hub == nil {
			m.Hub = filter.DefaultHub
		}
		fb := m.Fallback
		if fb == nil {
			fb = http.HandlerFunc(notFound)
		}
		m.root = &router{m: m, miss: fb}
	})
}

func notFound(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "404 page not found", http.StatusNotFound)
}

// ServeHTTP dispatches r to the app mounted at the longest matching prefix,
// or to Fallback.
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.init()
	m.root.ServeHTTP(w, r)
}

// Wrap returns the mux as a filter around next: requests that match a mount
// go to its app; the others (and, with Cascade, those every candidate
// passed on) go to next.
func (m *Mux) Wrap(next http.Handler) http.Handler {
	return &router{m: m, miss: next}
}

// A router is a mux with the handler that answers its misses.
type router struct {
	m    *Mux
	miss http.Handler
	last atomic.Pointer[dispatch] // the dispatch record for the last base
}

// A dispatch tells Forward and the link functions which mux dispatched a
// request and from which base. Records are shared between requests with
// the same base, and never changed.
type dispatch struct {
	rt      *router
	base    string // decoded mount point of the mux
	escBase string // the same, as the escaped path spells it ("" when not escaped)
}

// dispatchKey holds the innermost mux's dispatch record on the exchange.
var dispatchKey = filter.NewKey[*dispatch]("mux")

// mountKey holds the mount point of the app the innermost mux called.
var mountKey = filter.NewKey[*patternCache]("mux.mount")

// forwardsKey counts the forwards of a request.
var forwardsKey = filter.NewKey[int]("mux.forwards")

func (rt *router) dispatchFor(base, escBase string) *dispatch {
	if d := rt.last.Load(); d != nil && d.base == base && d.escBase == escBase {
		return d
	}
	d := &dispatch{rt: rt, base: base, escBase: escBase}
	rt.last.Store(d)
	return d
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt.m.init()
	x, w, r2, owner := filter.Begin(w, r)
	defer owner.End()
	// When Begin attached the exchange, r2 is a new request value that only
	// this call holds: the app may have it.
	fresh := r2 != r
	rt.serve(x, w, r2, fresh, "", false)
}

// serve dispatches r. base is the mux's mount point when the caller knows
// it (knownBase, from Forward); otherwise it is filter.MountPoint(r).
func (rt *router) serve(x *filter.Exchange, w http.ResponseWriter, r *http.Request, fresh bool, base string, knownBase bool) {
	m := rt.m
	t := m.table.Load()
	p := r.URL.Path
	if t == nil || p == "" || p[0] != '/' {
		rt.miss.ServeHTTP(w, r)
		return
	}
	if !knownBase {
		base = filter.MountPoint(r)
	}
	if !strings.HasPrefix(p, base) {
		base = "" // cannot happen for a mount point; keep the path whole
	}
	escaped := ""
	if !m.EncodedSlash && r.URL.RawPath != "" {
		escaped = r.URL.EscapedPath()
	}

	var rtp route
	rel := p[len(base):]
	if r.URL.RawPath == "" && !needsSlowPath(rel) {
		rtp.key = rel
	} else {
		var ok bool
		rtp, ok = slowRoute(p, escaped, base)
		if !ok {
			http.Error(w, "400 bad request: malformed path", http.StatusBadRequest)
			return
		}
		rtp.changed = rtp.path != p || rtp.raw != r.URL.RawPath
	}
	prevDispatch, hadDispatch := dispatchKey.Get(x)
	prevMount, hadMount := mountKey.Get(x)
	d := rt.dispatchFor(base, rtp.escBase)
	dispatchKey.Set(x, d)

	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	if !m.Cascade {
		mt, ok := t.lookup(host, rtp.key)
		if ok {
			rt.call(x, w, r, fresh, d, &rtp, mt, false)
			return
		}
	} else {
		var buf [8]match
		cands := buf[:0]
		t.trees(host, func(n *node) bool {
			cands = n.all(rtp.key, cands)
			return true
		})
		for _, mt := range cands {
			// Each candidate gets a deep copy, so what one that passes
			// changed (headers, path values) does not reach the next.
			if rt.call(x, w, r, false, d, &rtp, mt, true) {
				return
			}
		}
	}
	// A miss: the request goes on as this mux found it.
	restore(x, dispatchKey, prevDispatch, hadDispatch)
	restore(x, mountKey, prevMount, hadMount)
	if rtp.changed {
		r = withPath(r, rtp.path, rtp.raw)
	}
	rt.miss.ServeHTTP(w, r)
}

// restore puts back the value k held before, or removes it.
func restore[T any](x *filter.Exchange, k *filter.Key[T], v T, had bool) {
	if had {
		k.Set(x, v)
	} else {
		k.Delete(x)
	}
}

// withPath returns a copy of r with a copy of its URL that has path and raw.
func withPath(r *http.Request, path, raw string) *http.Request {
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Path, u.RawPath = path, raw
	r2.URL = &u
	return r2
}

// call serves r with the app of match mt. With cascade it reports whether
// the app answered (false: it passed, and what it left on the exchange and
// in chi's route context is taken back); without, it always answers.
func (rt *router) call(x *filter.Exchange, w http.ResponseWriter, r *http.Request, fresh bool, d *dispatch, rtp *route, mt match, cascade bool) bool {
	e := mt.e
	// The mount point as the pattern spells it (escaped when the request
	// path is), and PATH_INFO in the same form.
	var patMP, info string
	if rtp.dec == nil {
		patMP = d.base + rtp.key[:mt.end]
		info = rtp.key[mt.end:]
	} else {
		mp, escMP := rtp.mountOf(d.base, d.escBase, mt.k)
		patMP = mp
		info = rtp.path[len(mp):]
		if rtp.raw != "" {
			patMP = escMP
			info = rtp.raw[len(escMP):]
		}
	}
	pc := e.patternFor(patMP, rtp.raw != "")

	if rt.m.RedirectSlash && info == "" && e.prefix != "" {
		redirectSlash(w, r, pc.escaped)
		return true
	}

	var r2 *http.Request
	switch {
	case cascade:
		r2 = r.Clone(r.Context())
		if rtp.changed {
			r2.URL.Path, r2.URL.RawPath = rtp.path, rtp.raw
		}
	case rtp.changed:
		r2 = withPath(r, rtp.path, rtp.raw)
	case fresh:
		r2 = r
	default:
		r2 = new(http.Request)
		*r2 = *r
	}
	r2.Pattern = pc.pattern
	mountKey.Set(x, pc)
	r2, cs := chiRoute(r2, e, info)

	if !cascade {
		e.app.ServeHTTP(w, r2)
		return true
	}
	cp := x.Checkpoint()
	g := filter.NewGate(w, answers)
	e.app.ServeHTTP(g.Writer(), r2)
	if g.Finish() {
		return true
	}
	x.Rollback(cp)
	cs.restore()
	dispatchKey.Set(x, d)
	return false
}

// chiState is what chiRoute changed in a chi route context, to put back
// when a cascade candidate passes.
type chiState struct {
	rctx             *chi.Context
	routePath        string
	patterns, params int
}

func (cs chiState) restore() {
	if c := cs.rctx; c != nil {
		c.RoutePath = cs.routePath
		c.RoutePatterns = c.RoutePatterns[:cs.patterns]
		if cs.params <= len(c.URLParams.Keys) && cs.params <= len(c.URLParams.Values) {
			c.URLParams.Keys = c.URLParams.Keys[:cs.params]
			c.URLParams.Values = c.URLParams.Values[:cs.params]
		}
	}
}

// chiRoute keeps chi's routing in step with the mount, as chi's own Mount
// does: when the request carries a chi route context, its RoutePath becomes
// the path below the mount and the mount's pattern is recorded; a chi
// router mounted on a mux outside any chi router gets a route context of
// its own. It returns the request and what it changed.
func chiRoute(r *http.Request, e *entry, info string) (*http.Request, chiState) {
	routePath := info
	if routePath == "" {
		routePath = "/"
	}
	if rctx := chi.RouteContext(r.Context()); rctx != nil {
		cs := chiState{rctx: rctx, routePath: rctx.RoutePath, patterns: len(rctx.RoutePatterns), params: len(rctx.URLParams.Keys)}
		rctx.RoutePath = routePath
		rctx.RoutePatterns = append(rctx.RoutePatterns, e.chiPattern)
		return r, cs
	}
	if e.chiRouter == nil {
		return r, chiState{}
	}
	// As chi's own ServeHTTP does for a route context it makes: Routes is
	// the router (chi's GetHead and other middleware match on it).
	rctx := chi.NewRouteContext()
	rctx.Routes = e.chiRouter
	rctx.RoutePath = routePath
	rctx.RoutePatterns = append(rctx.RoutePatterns, strings.TrimSuffix(r.Pattern, "{path...}")+"*")
	return r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, rctx)), chiState{}
}

// redirectSlash redirects to mp + "/", keeping the query.
func redirectSlash(w http.ResponseWriter, r *http.Request, escapedMP string) {
	target := "/" + strings.TrimLeft(escapedMP, "/") + "/" // never "//host"
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	code := http.StatusMovedPermanently
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		code = http.StatusPermanentRedirect
	}
	w.Header().Set("Location", target)
	w.WriteHeader(code)
}
