// Package mux mounts apps under path prefixes, and optionally hosts, as
// WSAPI's loaders, Rack's URLMap and Werkzeug's DispatcherMiddleware do.
// The mounted app sees its mount point as SCRIPT_NAME and the rest of the
// path as PATH_INFO.
//
//	m := mux.New()
//	m.Mount("/", site)                      // everything else
//	m.Mount("/blog", blogStack.Then(blog))  // SCRIPT_NAME "/blog"
//	m.Mount("api.example.com/", api)        // by host, before the others
//	m.Mount("*.example.com/", tenants)      // any name below example.com
//	http.ListenAndServe(addr, m)
//
// # Matching
//
// The longest prefix wins; the entries of a matching host (exact, then
// wildcards from the most specific) are tried before those for any host. A
// prefix matches on a segment boundary only: "/css" matches "/css" and
// "/css/site.css", never "/css-config". Lookup walks a prefix tree, a map
// per segment, so its cost depends on the depth of the path, not on the
// number of mounts.
//
// Matching runs on the cleaned path: "." and empty segments are dropped and
// ".." removes the segment before it, never going above the mux's own mount
// point, so "/static/../admin" is matched (and served) as "/admin". An
// encoded slash (%2F) stays inside its segment unless Mux.EncodedSlash is
// set; a segment in which an encoded slash meets a dot segment
// ("..%2F..%2Fetc") is refused with 400, since PATH_INFO split on "/"
// would climb with it. The app receives the request with the cleaned path.
//
// # Mount points
//
// A mux finds its own mount point with filter.MountPoint, so it can sit
// under chi's Mount, in a ServeMux subtree, under another mux, or behind a
// launcher that set SCRIPT_NAME, and mounts compose: a mux mounted at
// "/api" that mounts "/v2" gives its app the mount point "/api/v2".
//
// Each mounted app gets a request value of its own: a shallow copy whose
// r.Pattern ("/api/v2/{path...}") tells filter.MountPoint where the app is
// mounted. Nothing is changed back after the app returns, so a body still
// streaming afterwards sees the same request. The copy keeps everything
// else: the context, chi's URL parameters, and r.PathValue from an outer
// ServeMux.
//
// Like chi's Mount, the mux does not strip the prefix from r.URL.Path: a
// plain handler sees the whole path and PATH_INFO says what is below its
// mount. A chi router mounted on a mux routes on the path below its mount,
// as under chi's own Mount: the mux sets chi's RoutePath, creating a route
// context when the mux is not itself under chi.
//
// # As a filter
//
// A Mux is a filter.Filter: in a wsapi.Stack, or with Wrap, requests that
// match a mount go to its app and the others go on to the next handler.
//
// # Cascade, forward, trailing slash
//
// With Mux.Cascade, an app that answers 404 with "X-Cascade: pass" (Pass
// does that) hands the request to the next candidate. Forward re-dispatches
// a request, from inside an app, to another path of the same mux, with a
// limit on the number of forwards. With Mux.RedirectSlash, "/blog" is
// redirected to "/blog/".
//
// # Links
//
// Link, StaticLink and AbsoluteLink (WSAPI's request:link, static_link and
// absolute_link) build URLs from the mount point, so an app links to its
// own pages wherever it is mounted. Query encodes a query string in the
// order given.
//
// # Cost
//
// Dispatch costs one request copy: a shallow copy of *http.Request, with no
// new context. When no filter outside the mux attached the exchange, the mux
// attaches it (package filter's Begin), and that copy is the one the app
// gets.
package mux
