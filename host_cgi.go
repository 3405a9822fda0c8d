package wsapi

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/cgi"
	"sync"

	"github.com/wsapi-go/wsapi/filter"
)

// CGIApp is an app that runs a CGI program for each request (a Lua WSAPI
// app through wsapi.cgi, a shell script, a Go program in CGI mode), on
// net/http/cgi's Handler: the other way round from [Launcher.ServeCGI].
// Filters in front of it work as for any app.
//
// The program sees SCRIPT_NAME as the app's mount point
// ([filter.MountPoint]) and PATH_INFO as the path below it, so an app
// mounted at "/lua" and asked for "/lua/a/b" runs with SCRIPT_NAME "/lua"
// and PATH_INFO "/a/b"; at the root, SCRIPT_NAME is "". REMOTE_USER is the
// user an auth filter set on the exchange ([filter.Exchange.User]). Request headers
// whose names hold "_" or characters other than letters, digits and "-"
// are not passed (so "X_Forwarded_For" cannot pass for HTTP_X_FORWARDED_FOR),
// nor is Proxy (httpoxy). What the program writes to its standard error is
// logged, line by line, at warning level.
//
// net/http/cgi answers 400 to a chunked request body (CGI needs
// CONTENT_LENGTH), 500 when the program cannot be started, and 502 when its
// output has no valid header block.
type CGIApp struct {
	// Path is the program's path.
	Path string

	// Args are its arguments; Dir its working directory (default: the
	// program's directory).
	Args []string
	Dir  string

	// Env are more "NAME=value" variables for the program;
	// InheritEnv names variables of this process to pass on (PATH,
	// LUA_PATH ...).
	Env        []string
	InheritEnv []string

	// Logger gets the program's stderr lines and net/http/cgi's errors.
	// Default: the request's logger (the exchange's, with its request id).
	Logger *slog.Logger
}

var _ http.Handler = (*CGIApp)(nil)

// NewCGIApp returns an app that runs the program at path with args.
func NewCGIApp(path string, args ...string) *CGIApp {
	return &CGIApp{Path: path, Args: args}
}

// ServeHTTP runs the program for r.
func (c *CGIApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	logger := c.Logger
	if logger == nil {
		logger = filter.From(r).Logger()
	}
	mp := filter.MountPoint(r)
	stderr := &lineWriter{log: stderrLogger(logger, "cgi")}
	defer stderr.flush()
	env := make([]string, 0, len(c.Env)+3)
	env = append(env, c.Env...)
	// net/http/cgi says SCRIPT_NAME "/" at the root, with the whole path
	// as PATH_INFO; RFC 3875 says "". The later value of a name wins.
	env = append(env, "SCRIPT_NAME="+mp, "PATH_INFO="+filter.PathInfo(r))
	// net/http/cgi sets no REMOTE_USER; the user an auth filter set on the
	// exchange is it (RFC 3875, 4.1.11), as in filter.Env.
	if u := filter.From(r).User(); u != "" {
		env = append(env, "REMOTE_USER="+u)
	}
	h := &cgi.Handler{
		Path:       c.Path,
		Root:       mp,
		Dir:        c.Dir,
		Env:        env,
		InheritEnv: c.InheritEnv,
		Args:       c.Args,
		Logger:     slog.NewLogLogger(logger.Handler(), slog.LevelError),
		Stderr:     stderr,
	}
	h.ServeHTTP(w, cleanHeaders(r))
}

// cleanHeaders returns r, or a copy of r without the headers whose names
// would map to an HTTP_* variable that another name also maps to.
func cleanHeaders(r *http.Request) *http.Request {
	bad := false
	for k := range r.Header {
		if !isHeaderName(k) {
			bad = true
			break
		}
	}
	if !bad {
		return r
	}
	r2 := new(http.Request)
	*r2 = *r
	r2.Header = make(http.Header, len(r.Header))
	for k, v := range r.Header {
		if isHeaderName(k) {
			r2.Header[k] = v
		}
	}
	return r2
}

// isHeaderName reports whether k holds only letters, digits and "-".
func isHeaderName(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return k != ""
}

// lineWriter hands whole lines to log; the program's stderr is written
// from net/http/cgi's goroutine.
type lineWriter struct {
	mu  sync.Mutex
	buf []byte
	log func(p []byte)
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	if i := bytes.LastIndexByte(l.buf, '\n'); i >= 0 {
		l.log(l.buf[:i+1])
		l.buf = append(l.buf[:0], l.buf[i+1:]...)
	}
	if len(l.buf) > 4096 { // a line without end
		l.log(l.buf)
		l.buf = l.buf[:0]
	}
	return len(p), nil
}

func (l *lineWriter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.log(l.buf)
		l.buf = nil
	}
}
