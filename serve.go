package wsapi

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/fcgi"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wsapi-go/wsapi/filter"
	ifcgi "github.com/wsapi-go/wsapi/internal/fcgi"
)

// Defaults of a [Launcher]'s zero fields.
const (
	DefaultAddr              = "127.0.0.1:8080"
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = time.Minute
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultShutdownGrace     = 10 * time.Second
)

// Mode is how a program serves: natively, as a CGI child or as a FastCGI
// responder.
type Mode int

// The modes a [Launcher] picks from.
const (
	Native Mode = iota
	CGI
	FastCGI
)

// String returns "native", "cgi" or "fastcgi".
func (m Mode) String() string {
	switch m {
	case CGI:
		return "cgi"
	case FastCGI:
		return "fastcgi"
	}
	return "native"
}

// Launcher serves a handler natively, under CGI or under FastCGI, as its
// environment asks: WSAPI's launchers, in one value. The zero Launcher is
// ready to use; set fields before Run.
//
// The native server's timeouts stop slow clients: a client has
// ReadHeaderTimeout to send its request line and headers, ReadTimeout for
// the whole request with its body, and a kept-alive connection is closed
// after IdleTimeout without a request. There is no write timeout: a
// server-wide one would cut legitimate streams (server-sent events, large
// downloads, a WSAPI body that yields for minutes). A handler that wants
// one sets its own deadline per response, through the exchange's writer:
// http.NewResponseController(w).SetWriteDeadline(t). ReadTimeout bounds
// the request body too: an app that takes uploads slower than that raises
// it, or extends the deadline as the body arrives, through
// http.NewResponseController(w).SetReadDeadline(t).
//
// A native request with a Transfer-Encoding (a chunked body) is answered
// with "Connection: close". net/http reads such a body by its chunks and
// drops a Content-Length sent beside them, but keeps the connection: bytes
// after the last chunk would be read as the next request, which is how a
// request is smuggled past a proxy in front that went by the
// Content-Length (RFC 9112, section 6.1, asks the server to close).
// Clients send chunked bodies rarely (browsers never do); they lose
// keep-alive for that one request.
//
// At shutdown, [Draining] tells the handlers of long-lived answers
// (server-sent events, long polls) to end them, so that they do not hold
// the shutdown for the whole grace period.
type Launcher struct {
	// Addr is the native server's address. Default: the -addr flag for
	// Main, else 127.0.0.1:$PORT when PORT is set, else 127.0.0.1:8080.
	Addr string

	// FastCGIAddr, when set, serves FastCGI on this address instead of
	// detecting the mode: "host:port", or a unix socket's path ("/run/app.sock"
	// or "unix:/run/app.sock"). Main sets it from the -fastcgi flag.
	FastCGIAddr string

	// ReadHeaderTimeout, ReadTimeout and IdleTimeout are the native
	// server's; defaults 10 seconds, 1 minute and 2 minutes.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	IdleTimeout       time.Duration

	// MaxHeaderBytes bounds the request line and headers of the native
	// server (net/http allows 4 KiB above it); a request over it gets 431.
	// Default 64 KiB.
	MaxHeaderBytes int

	// ShutdownGrace is how long requests in flight may take to finish
	// once the context is done (or SIGINT or SIGTERM came, under Main).
	// Default 10 seconds.
	ShutdownGrace time.Duration

	// Stack is listed in the start-up log line when it has filters.
	Stack Stack

	// Logger gets the start-up, shutdown and error lines. Default
	// slog.Default().
	Logger *slog.Logger

	// Getenv reads the environment to pick the mode (GATEWAY_INTERFACE)
	// and the native address (PORT); default os.Getenv. Under CGI the
	// request itself always comes from the process environment. Stdin is
	// the file that may be the listening socket of FastCGI; default
	// os.Stdin.
	Getenv func(string) string
	Stdin  *os.File
}

// Main serves h with a zero [Launcher]: see [Launcher.Main].
func Main(h http.Handler) { (&Launcher{}).Main(h) }

// Run serves h with a zero [Launcher] until SIGINT or SIGTERM: see
// [Launcher.Run].
func Run(h http.Handler) error {
	ctx, stop := signalContext()
	defer stop()
	return (&Launcher{}).Run(ctx, h)
}

// ServeContext serves h natively on addr until ctx is done, then shuts
// down gracefully: see [Launcher.Serve].
func ServeContext(ctx context.Context, addr string, h http.Handler) error {
	return (&Launcher{Addr: addr}).Run(ctx, h)
}

// ListenAndServe serves h natively on addr, with the launcher's timeouts,
// until SIGINT or SIGTERM, then shuts down gracefully.
func ListenAndServe(addr string, h http.Handler) error {
	ctx, stop := signalContext()
	defer stop()
	return ServeContext(ctx, addr, h)
}

// signalContext is done at the first SIGINT or SIGTERM; the default
// handling is restored then, so that a second signal stops the program at
// once.
func signalContext() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	return ctx, stop
}

// Main is the entry point of a program: it reads the flags -addr (the
// native address) and -fastcgi (serve FastCGI on that address) from the
// command line, except under CGI, whose arguments belong to the web
// server, then runs [Launcher.Run] until SIGINT or SIGTERM, and exits: 0
// after a clean shutdown, 1 after an error, 2 for bad flags.
func (l *Launcher) Main(h http.Handler) {
	if l.mode() != CGI {
		fs := flag.NewFlagSet(os.Args[0], flag.ContinueOnError)
		addr := fs.String("addr", l.Addr, "`address` of the native server (default 127.0.0.1:8080, or 127.0.0.1:$PORT when PORT is set)")
		fcgiAddr := fs.String("fastcgi", l.FastCGIAddr, "serve FastCGI on this `address` (host:port or a unix socket's path)")
		if err := fs.Parse(os.Args[1:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				os.Exit(0)
			}
			os.Exit(2)
		}
		l.Addr, l.FastCGIAddr = *addr, *fcgiAddr
	}
	ctx, stop := signalContext()
	err := l.Run(ctx, h)
	stop()
	if err != nil {
		l.logger().Error("wsapi: "+err.Error(), "mode", l.mode().String())
		os.Exit(1)
	}
}

// Mode returns the mode Run picks: CGI when GATEWAY_INTERFACE is set;
// FastCGI when FastCGIAddr is set or standard input is a listening socket
// (a web server or spawn-fcgi started the program); Native otherwise.
func (l *Launcher) Mode() Mode { return l.mode() }

func (l *Launcher) mode() Mode {
	switch {
	case l.getenv("GATEWAY_INTERFACE") != "":
		return CGI
	case l.FastCGIAddr != "":
		return FastCGI
	case stdinListens(l.stdin()):
		return FastCGI
	}
	return Native
}

// Run serves h in the mode [Launcher.Mode] picks, until ctx is done (CGI:
// until the one request is answered). Native and FastCGI servers then
// stop accepting and let the requests in flight finish, for up to
// ShutdownGrace.
func (l *Launcher) Run(ctx context.Context, h http.Handler) error {
	switch l.mode() {
	case CGI:
		return l.ServeCGI(h)
	case FastCGI:
		ln, err := l.fastCGIListener()
		if err != nil {
			return err
		}
		return l.ServeFastCGI(ctx, ln, h)
	}
	ln, err := net.Listen("tcp", l.nativeAddr())
	if err != nil {
		return err
	}
	return l.Serve(ctx, ln, h)
}

// Server returns the native server for h, with the launcher's timeouts
// and limits, and "Connection: close" after a request with a
// Transfer-Encoding (see [Launcher]).
func (l *Launcher) Server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           closeAfterChunked{h},
		ReadHeaderTimeout: or(l.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		ReadTimeout:       or(l.ReadTimeout, DefaultReadTimeout),
		IdleTimeout:       or(l.IdleTimeout, DefaultIdleTimeout),
		MaxHeaderBytes:    or(l.MaxHeaderBytes, DefaultMaxHeaderBytes),
		ErrorLog:          slog.NewLogLogger(l.logger().Handler(), slog.LevelWarn),
	}
}

// closeAfterChunked closes the connection after a request whose body came
// with a Transfer-Encoding, so that nothing sent after it is served.
type closeAfterChunked struct{ h http.Handler }

func (c closeAfterChunked) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if len(r.TransferEncoding) > 0 && r.ProtoMajor == 1 {
		w.Header().Set("Connection", "close")
	}
	h := c.h
	if h == nil {
		h = http.DefaultServeMux
	}
	h.ServeHTTP(w, r)
}

// Serve serves h natively on ln until ctx is done, then shuts down: it
// closes ln (new connections are refused), closes idle connections, and
// waits for the requests in flight for up to ShutdownGrace, after which it
// closes their connections and returns an error saying so. It returns nil
// after a clean shutdown.
func (l *Launcher) Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := l.Server(h)
	drain := make(chan struct{})
	base := context.WithValue(context.Background(), drainingKey{}, (<-chan struct{})(drain))
	srv.BaseContext = func(net.Listener) context.Context { return base }
	l.started(Native, "http://"+ln.Addr().String()+"/")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	close(drain)
	grace := or(l.ShutdownGrace, DefaultShutdownGrace)
	shutdown, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(shutdown)
	if err != nil {
		_ = srv.Close()
		err = fmt.Errorf("requests still in flight after the %v grace period were cut off", grace)
	}
	<-errc
	l.logger().Info("wsapi: stopped", "mode", "native")
	return err
}

// drainingKey is the context key of the channel [Draining] returns.
type drainingKey struct{}

// Draining returns a channel that is closed when the [Launcher] serving r,
// natively or as a FastCGI responder, begins its graceful shutdown; nil,
// which is never ready, for a request that no Launcher serves (under CGI,
// or on a server of its own). The requests in flight go on, and a shutdown
// waits for them up to ShutdownGrace: a handler that would otherwise
// answer for as long as its client listens (server-sent events, a long
// poll) ends its answer when the channel is closed.
func Draining(r *http.Request) <-chan struct{} {
	ch, _ := r.Context().Value(drainingKey{}).(<-chan struct{})
	return ch
}

// withDraining adds the channel drain to the context of each request.
func withDraining(h http.Handler, drain <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), drainingKey{}, drain)))
	})
}

// started logs the start-up line.
func (l *Launcher) started(m Mode, where string) {
	args := []any{"mode", m.String(), "addr", where}
	if l.Stack.Len() > 0 {
		args = append(args, "stack", l.Stack.String())
	}
	l.logger().Info("wsapi: serving", args...)
}

// nativeAddr is Addr, else 127.0.0.1:$PORT, else DefaultAddr.
func (l *Launcher) nativeAddr() string {
	if l.Addr != "" {
		return l.Addr
	}
	if port := l.getenv("PORT"); port != "" {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return DefaultAddr
}

func (l *Launcher) getenv(name string) string {
	if l.Getenv != nil {
		return l.Getenv(name)
	}
	return os.Getenv(name)
}

func (l *Launcher) stdin() *os.File {
	if l.Stdin != nil {
		return l.Stdin
	}
	return os.Stdin
}

func (l *Launcher) logger() *slog.Logger {
	if l.Logger != nil {
		return l.Logger
	}
	return slog.Default()
}

// ServeCGI answers the one request of a CGI child through net/http/cgi:
// the request comes from the process environment and standard input, the
// answer goes to standard output. The web server's SCRIPT_NAME becomes the
// mount point, and SCRIPT_NAME + PATH_INFO the request path, so the handler
// sees what RFC 3875 says it should; a SCRIPT_NAME that ends in "/" keeps
// that slash in the path. Without REQUEST_URI (RFC 3875 does not define it,
// and some servers do not send it), the request's URI is SCRIPT_NAME +
// PATH_INFO, escaped, and QUERY_STRING. An environment that is no valid
// request (no REQUEST_METHOD, or one that is no HTTP token; a
// CONTENT_LENGTH that is no decimal number; a bad SERVER_PROTOCOL) gets 400
// and a short reason, and ServeCGI returns an error saying why.
func (l *Launcher) ServeCGI(h http.Handler) error {
	env := make(map[string]string)
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	if env["REQUEST_URI"] == "" {
		// net/http/cgi would parse SCRIPT_NAME + PATH_INFO as a URL, but
		// they are decoded already: "%" or "?" in them would break it.
		uri := (&url.URL{Path: env["SCRIPT_NAME"] + env["PATH_INFO"]}).EscapedPath()
		if q := env["QUERY_STRING"]; q != "" {
			uri += "?" + q
		}
		if uri != "" {
			env["REQUEST_URI"] = uri
			if err := os.Setenv("REQUEST_URI", uri); err != nil {
				return fmt.Errorf("CGI: %w", err)
			}
		}
	}
	if err := checkCGI(env, os.Stdout); err != nil {
		return err
	}
	return cgi.Serve(mountAt(h, false, func(*http.Request) (string, string, bool, bool) {
		script, hasScript := env["SCRIPT_NAME"]
		info, hasInfo := env["PATH_INFO"]
		return script, info, hasScript, hasInfo
	}))
}

// checkCGI answers 400 on out, and returns an error, when env is no valid
// CGI request.
func checkCGI(env map[string]string, out io.Writer) error {
	reason := ""
	switch method := env["REQUEST_METHOD"]; {
	case method == "":
		reason = "no REQUEST_METHOD"
	case !isToken(method):
		reason = "REQUEST_METHOD is not a method name"
	}
	if cl := env["CONTENT_LENGTH"]; reason == "" && cl != "" {
		if _, err := strconv.ParseUint(cl, 10, 63); err != nil || cl[0] == '+' {
			reason = "CONTENT_LENGTH is not a decimal number"
		}
	}
	if reason == "" {
		if _, err := cgi.RequestFromMap(env); err != nil {
			reason = strings.TrimPrefix(err.Error(), "cgi: ")
			if i := strings.IndexByte(reason, ':'); i >= 0 {
				reason = reason[:i] // not the value: it is the client's
			}
		}
	}
	if reason == "" {
		return nil
	}
	body := "400 bad CGI request: " + reason + "\n"
	_, _ = io.WriteString(out, "Status: 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "+
		strconv.Itoa(len(body))+"\r\n\r\n"+body)
	return errors.New("bad CGI request: " + reason)
}

// isToken reports whether s is an HTTP token (RFC 9110), as a method is.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return s != ""
}

// Private names under which the FastCGI launcher's connections repeat the
// params that net/http/fcgi does not show its handler. Their prefix is
// random, so that no web server, and no variable it passes through, can
// send them.
var (
	fcgiParamPrefix = "wsapi.launcher." + rand.Text() + "."
	fcgiScriptName  = fcgiParamPrefix + "SCRIPT_NAME"
	fcgiPathInfo    = fcgiParamPrefix + "PATH_INFO"
)

// ServeFastCGI serves h as a FastCGI responder through net/http/fcgi on ln
// (nil: the listening socket on standard input) until ctx is done. The
// SCRIPT_NAME and PATH_INFO params of each request become its mount point
// and path, as under CGI. A web server that sends SCRIPT_NAME without
// PATH_INFO (nginx's stock fastcgi_params, whose SCRIPT_NAME is the whole
// path) mounts the app at the root, with SCRIPT_NAME as its path; to mount
// it under a prefix, the web server sends PATH_INFO too (in nginx:
// fastcgi_split_path_info and "fastcgi_param PATH_INFO $fastcgi_path_info").
//
// Once ctx is done, ServeFastCGI closes ln, closes the connections that
// carry no request, and waits up to ShutdownGrace for each request in
// flight to be answered to its end (its END_REQUEST record written) before
// closing its connection; [Draining] tells the handlers. Requests still in
// flight after the grace period are cut off, and ServeFastCGI returns an
// error saying so; it returns nil after a clean shutdown. An Accept error
// that may pass (too many open files) is logged and retried, with a
// growing pause; any other ends the server the same way, and is returned.
func (l *Launcher) ServeFastCGI(ctx context.Context, ln net.Listener, h http.Handler) error {
	if ln == nil {
		var err error
		if ln, err = net.FileListener(l.stdin()); err != nil {
			return fmt.Errorf("FastCGI on standard input: %w", err)
		}
	}
	drain := make(chan struct{})
	tl := &tapListener{Listener: ln, logger: l.logger(), stop: drain}
	handler := withDraining(mountAt(h, true, func(r *http.Request) (string, string, bool, bool) {
		env := fcgi.ProcessEnv(r)
		script, hasScript := env[fcgiScriptName]
		info, hasInfo := env[fcgiPathInfo]
		return script, info, hasScript, hasInfo
	}), drain)
	l.started(FastCGI, ln.Addr().Network()+":"+ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- fcgi.Serve(tl, handler) }()
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	close(drain)
	_ = ln.Close()
	if serveErr == nil {
		<-errc
	}
	grace := or(l.ShutdownGrace, DefaultShutdownGrace)
	var err error
	if cut := tl.shutdown(grace); cut > 0 {
		err = fmt.Errorf("requests still in flight after the %v grace period were cut off", grace)
	}
	l.logger().Info("wsapi: stopped", "mode", "fastcgi")
	if serveErr != nil {
		return serveErr
	}
	return err
}

// fastCGIListener listens on FastCGIAddr, or takes standard input.
func (l *Launcher) fastCGIListener() (net.Listener, error) {
	addr := l.FastCGIAddr
	switch {
	case addr == "":
		ln, err := net.FileListener(l.stdin())
		if err != nil {
			return nil, fmt.Errorf("FastCGI on standard input: %w", err)
		}
		return ln, nil
	case strings.HasPrefix(addr, "unix:"):
		return listenUnix(addr[len("unix:"):])
	case strings.HasPrefix(addr, "/") || strings.HasPrefix(addr, "./"):
		return listenUnix(addr)
	}
	return net.Listen("tcp", addr)
}

// tapListener wraps each connection with a Tap that repeats SCRIPT_NAME
// and PATH_INFO under private names and follows the requests on it, and
// keeps the open connections so that a shutdown can close them.
type tapListener struct {
	net.Listener
	logger *slog.Logger
	stop   <-chan struct{} // closed at shutdown: no more retries

	mu    sync.Mutex
	conns map[*trackedConn]struct{}
}

func (t *tapListener) Accept() (net.Conn, error) {
	var pause time.Duration
	for {
		c, err := t.Listener.Accept()
		if err == nil {
			return t.track(c), nil
		}
		var te interface{ Temporary() bool }
		if errors.Is(err, net.ErrClosed) || !errors.As(err, &te) || !te.Temporary() {
			return nil, err
		}
		pause = min(max(2*pause, 5*time.Millisecond), time.Second)
		t.logger.Warn("wsapi: FastCGI accept failed; retrying", "err", err.Error(), "pause", pause.String())
		timer := time.NewTimer(pause)
		select {
		case <-t.stop:
			timer.Stop()
			return nil, err
		case <-timer.C:
		}
	}
}

func (t *tapListener) track(c net.Conn) net.Conn {
	tc := &trackedConn{TapConn: ifcgi.Tap(c, fcgiParamPrefix, "SCRIPT_NAME", "PATH_INFO"), l: t}
	t.mu.Lock()
	if t.conns == nil {
		t.conns = make(map[*trackedConn]struct{})
	}
	t.conns[tc] = struct{}{}
	t.mu.Unlock()
	return tc
}

// shutdown closes the connections as their requests end, polling as
// http.Server.Shutdown does, and after grace closes the others; it returns
// the number of connections closed with a request still open.
func (t *tapListener) shutdown(grace time.Duration) (cut int) {
	timer := time.NewTimer(grace)
	defer timer.Stop()
	pause := time.Millisecond
	for t.closeIdle() > 0 {
		poll := time.NewTimer(pause)
		select {
		case <-timer.C:
			poll.Stop()
			return t.closeAll()
		case <-poll.C:
		}
		pause = min(2*pause, 100*time.Millisecond)
	}
	return 0
}

// closeIdle closes the connections that carry no request, and returns the
// number of the others.
func (t *tapListener) closeIdle() (busy int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c := range t.conns {
		if c.CloseIdle() {
			delete(t.conns, c)
		} else {
			busy++
		}
	}
	return busy
}

// closeAll closes the connections still open, and returns the number of
// those that carried a request.
func (t *tapListener) closeAll() (busy int) {
	t.mu.Lock()
	conns := t.conns
	t.conns = nil
	t.mu.Unlock()
	for c := range conns {
		if c.Busy() {
			busy++
		}
		_ = c.TapConn.Close()
	}
	return busy
}

type trackedConn struct {
	*ifcgi.TapConn
	l    *tapListener
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.TapConn.Close()
}

// mountAt sets the mount point of each request from the web server's
// SCRIPT_NAME and PATH_INFO, which params returns with whether the server
// sent each. The request path becomes SCRIPT_NAME + PATH_INFO when the two
// differ from it (a rewrite in the web server), as RFC 3875 has it; a
// SCRIPT_NAME that ends in "/" (with no PATH_INFO) keeps its slash in the
// path. Under FastCGI (fastCGI true), a SCRIPT_NAME sent without PATH_INFO
// is taken as the whole path of an app at the root: nginx's stock
// fastcgi_params send that, for every path.
func mountAt(h http.Handler, fastCGI bool, params func(*http.Request) (script, info string, hasScript, hasInfo bool)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		script, info, hasScript, hasInfo := params(r)
		if !hasScript && !hasInfo || script == "" && info == "" {
			h.ServeHTTP(w, r)
			return
		}
		if fastCGI && !hasInfo {
			script, info = "", script
		}
		x, w, r, owner := filter.Begin(w, r)
		defer owner.End()
		if info == "" && strings.HasSuffix(script, "/") {
			info = "/"
		}
		script = filter.CleanMountPoint(script)
		if info != "" && info[0] != '/' {
			info = "/" + info
		}
		if p := script + info; r.URL.Path != p && p != "" {
			u := *r.URL
			u.Path, u.RawPath = p, ""
			r.URL = &u
		}
		x.SetMountPoint(script)
		h.ServeHTTP(w, r)
	})
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
