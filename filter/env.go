package filter

import (
	"io"
	"iter"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Env is WSAPI's view of a request: the CGI metavariables of RFC 3875,
// computed lazily from the *http.Request and its mount point, the input
// stream, and an error stream that goes to the request's logger.
//
// The invariants, which hold for every request, however odd:
//
//   - SCRIPT_NAME is "" or starts with "/", and is never "/";
//   - PATH_INFO is "" or starts with "/";
//   - SCRIPT_NAME + PATH_INFO is the request path (r.URL.Path, with a "/"
//     put in front when it lacks one, as for "OPTIONS *");
//   - REQUEST_METHOD, SCRIPT_NAME, PATH_INFO, QUERY_STRING, SERVER_NAME,
//     SERVER_PORT, SERVER_PROTOCOL, GATEWAY_INTERFACE, SERVER_SOFTWARE and
//     HTTPS ("on" or "off") are always present, maybe empty;
//   - CONTENT_TYPE and CONTENT_LENGTH never also appear as HTTP_*.
//
// Request headers appear as HTTP_* with the name upper-cased and "-" turned
// into "_"; several values are joined with ", " (with "; " for Cookie). A
// header whose name contains "_" or any character other than letters,
// digits and "-" is left out, so that "X_Forwarded_For" cannot pass for
// "X-Forwarded-For"; so is Proxy (httpoxy). REMOTE_USER is the user that an
// auth filter set on the exchange.
//
// Reading REQUEST_METHOD, SCRIPT_NAME, PATH_INFO and QUERY_STRING does not
// allocate; the full set is built only by [Env.All] and [Env.Map].
//
// An Env is valid while the request is being served.
type Env struct {
	r      *http.Request
	x      *Exchange
	script string
	info   string
	errs   io.Writer
	w      http.ResponseWriter // while an AppFunc streams its body
}

// NewEnv returns the Env of r.
func NewEnv(r *http.Request) *Env {
	e := &Env{r: r, x: From(r)}
	e.script, e.info = splitPath(requestPath(r), MountPoint(r))
	return e
}

// Request returns the request the Env describes.
func (e *Env) Request() *http.Request { return e.r }

// Exchange returns the request's exchange, or nil when no filter attached
// one.
func (e *Env) Exchange() *Exchange { return e.x }

// Method returns REQUEST_METHOD.
func (e *Env) Method() string {
	if e.r.Method == "" {
		return http.MethodGet
	}
	return e.r.Method
}

// ScriptName returns SCRIPT_NAME, the mount point of the app.
func (e *Env) ScriptName() string { return e.script }

// PathInfo returns PATH_INFO, the request path below the mount point.
func (e *Env) PathInfo() string { return e.info }

// QueryString returns QUERY_STRING, the raw query without "?".
func (e *Env) QueryString() string {
	if e.r.URL == nil {
		return ""
	}
	return e.r.URL.RawQuery
}

// Input returns the request body (http.NoBody when there is none).
func (e *Env) Input() io.Reader {
	if e.r.Body == nil {
		return http.NoBody
	}
	return e.r.Body
}

// Errors returns the error stream: WSAPI's wsapi.errors. What an app writes
// there goes, a line at a time, to the request's logger at error level
// (standard error by default), or to the writer a filter set with
// [Exchange.SetErrorWriter].
func (e *Env) Errors() io.Writer {
	if e.errs == nil {
		if e.x != nil && e.x.errw != nil {
			e.errs = e.x.errw
		} else {
			e.errs = &logWriter{l: e.x.Logger(), r: e.r}
		}
	}
	return e.errs
}

// Get returns the metavariable name, or "" when it is not set.
func (e *Env) Get(name string) string {
	v, _ := e.Lookup(name)
	return v
}

// The metavariables that are not HTTP_*, in the order All yields them.
var cgiNames = [...]string{
	"REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING",
	"SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SOFTWARE",
	"GATEWAY_INTERFACE", "HTTPS", "REQUEST_URI", "REMOTE_ADDR", "REMOTE_PORT",
	"REMOTE_USER", "CONTENT_TYPE", "CONTENT_LENGTH",
}

// Lookup returns the metavariable name and whether it is set.
func (e *Env) Lookup(name string) (string, bool) {
	r := e.r
	switch name {
	case "REQUEST_METHOD":
		return e.Method(), true
	case "SCRIPT_NAME":
		return e.script, true
	case "PATH_INFO":
		return e.info, true
	case "QUERY_STRING":
		return e.QueryString(), true
	case "SERVER_NAME":
		name, _ := e.server()
		return name, true
	case "SERVER_PORT":
		_, port := e.server()
		return port, true
	case "SERVER_PROTOCOL":
		if r.Proto == "" {
			return "HTTP/1.1", true
		}
		return r.Proto, true
	case "SERVER_SOFTWARE":
		return "wsapi-go", true
	case "GATEWAY_INTERFACE":
		return "CGI/1.1", true
	case "HTTPS":
		if r.TLS != nil {
			return "on", true
		}
		return "off", true
	case "REQUEST_URI":
		if r.RequestURI != "" {
			return r.RequestURI, true
		}
		if r.URL == nil {
			return "", false
		}
		return r.URL.RequestURI(), true
	case "REMOTE_ADDR":
		addr, _ := splitRemote(r.RemoteAddr)
		return addr, addr != ""
	case "REMOTE_PORT":
		_, port := splitRemote(r.RemoteAddr)
		return port, port != ""
	case "REMOTE_USER":
		u := e.x.User()
		return u, u != ""
	case "CONTENT_TYPE":
		ct := r.Header.Get("Content-Type")
		return ct, ct != ""
	case "CONTENT_LENGTH":
		if r.ContentLength > 0 {
			return strconv.FormatInt(r.ContentLength, 10), true
		}
		return "", false
	case "HTTP_HOST":
		return r.Host, r.Host != ""
	}
	if rest, ok := strings.CutPrefix(name, "HTTP_"); ok {
		return lookupHeader(r.Header, rest)
	}
	return "", false
}

// lookupHeader returns the value of the header whose HTTP_* name is
// "HTTP_"+rest. A header map filled by hand may spell one name several ways
// ("Cookie" and "cookie"); their values are joined, in key order.
func lookupHeader(h http.Header, rest string) (string, bool) {
	var first string
	var others []string
	for k, vv := range h {
		if len(vv) == 0 || !cgiHeaderMatches(k, rest) {
			continue
		}
		if first == "" {
			first = k
		} else {
			others = append(others, k)
		}
	}
	if first == "" {
		return "", false
	}
	if others == nil {
		return joinHeader(first, h[first]), true
	}
	keys := append(others, first)
	slices.Sort(keys)
	var vals []string
	for _, k := range keys {
		vals = append(vals, h[k]...)
	}
	return joinHeader(first, vals), true
}

// All yields every metavariable that is set: the CGI ones first, in a fixed
// order, then HTTP_* sorted by name.
func (e *Env) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, name := range cgiNames {
			if v, ok := e.Lookup(name); ok && !yield(name, v) {
				return
			}
		}
		type kv struct{ name, key string }
		var hs []kv
		for k, vv := range e.r.Header {
			if name, ok := cgiHeaderName(k); ok && len(vv) > 0 {
				hs = append(hs, kv{name, k})
			}
		}
		slices.SortFunc(hs, func(a, b kv) int {
			if c := strings.Compare(a.name, b.name); c != 0 {
				return c
			}
			return strings.Compare(a.key, b.key)
		})
		host := e.r.Host
		for i := 0; i < len(hs); {
			j := i + 1
			var v string
			if j < len(hs) && hs[j].name == hs[i].name {
				v, _ = lookupHeader(e.r.Header, hs[i].name[len("HTTP_"):])
				for j < len(hs) && hs[j].name == hs[i].name {
					j++
				}
			} else {
				v = joinHeader(hs[i].key, e.r.Header[hs[i].key])
			}
			if host != "" && hs[i].name > "HTTP_HOST" {
				if !yield("HTTP_HOST", host) {
					return
				}
				host = ""
			}
			if !yield(hs[i].name, v) {
				return
			}
			i = j
		}
		if host != "" {
			yield("HTTP_HOST", host)
		}
	}
}

// Map returns every metavariable that is set, in a new map.
func (e *Env) Map() map[string]string {
	m := make(map[string]string, len(cgiNames)+len(e.r.Header)+1)
	for k, v := range e.All() {
		m[k] = v
	}
	return m
}

// server returns SERVER_NAME and SERVER_PORT: from the Host, else from the
// local address the request came in on. An IPv6 literal keeps its brackets,
// as RFC 3875 writes it.
func (e *Env) server() (name, port string) {
	r := e.r
	host := r.Host
	if host == "" && r.URL != nil {
		host = r.URL.Host
	}
	if host == "" {
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			host = a.String()
		}
	}
	name, port = host, ""
	rest := ""
	if strings.HasPrefix(host, "[") {
		if i := strings.IndexByte(host, ']'); i >= 0 {
			name, rest = host[:i+1], host[i+1:]
		}
	} else if i := strings.IndexByte(host, ':'); i >= 0 && strings.Count(host, ":") == 1 {
		name, rest = host[:i], host[i:]
	}
	if p, ok := strings.CutPrefix(rest, ":"); ok && p != "" && isDigits(p) {
		port = p
	} else if rest != "" {
		name = host // not host:port; keep it whole
	}
	if port == "" {
		port = "80"
		if r.TLS != nil {
			port = "443"
		}
	}
	return name, port
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// splitRemote splits RemoteAddr into an address without brackets and a
// port; an address it cannot split is returned whole.
func splitRemote(ra string) (addr, port string) {
	host, p, err := net.SplitHostPort(ra)
	if err != nil {
		return ra, ""
	}
	return host, p
}

// cgiHeaderName returns the HTTP_* name of header k, and false for headers
// left out of the environment.
func cgiHeaderName(k string) (string, bool) {
	if !cgiHeaderAllowed(k) {
		return "", false
	}
	b := make([]byte, 0, len("HTTP_")+len(k))
	b = append(b, "HTTP_"...)
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '-':
			c = '_'
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b), true
}

// cgiHeaderAllowed reports whether header k has an HTTP_* variable.
func cgiHeaderAllowed(k string) bool {
	if k == "" || strings.EqualFold(k, "Content-Type") || strings.EqualFold(k, "Content-Length") ||
		strings.EqualFold(k, "Proxy") || strings.EqualFold(k, "Host") {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// cgiHeaderMatches reports whether header k is HTTP_ + rest, without
// allocating.
func cgiHeaderMatches(k, rest string) bool {
	if len(k) != len(rest) || !cgiHeaderAllowed(k) {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '-':
			c = '_'
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		if c != rest[i] {
			return false
		}
	}
	return true
}

func joinHeader(k string, vv []string) string {
	if len(vv) == 1 {
		return vv[0]
	}
	sep := ", "
	if strings.EqualFold(k, "Cookie") {
		sep = "; "
	}
	return strings.Join(vv, sep)
}

// logWriter is the default error stream: each line written becomes one
// error record of the request's logger. The handler escapes what it
// prints, so a line cannot forge another record.
type logWriter struct {
	l *slog.Logger
	r *http.Request
}

func (w *logWriter) Write(p []byte) (int, error) {
	s := string(p)
	for line := range strings.Lines(s) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			continue
		}
		w.l.Error(line, "source", "wsapi.errors", "method", w.r.Method, "path", requestPath(w.r))
	}
	return len(p), nil
}
