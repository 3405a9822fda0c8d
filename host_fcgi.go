package wsapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/internal/fcgi"
)

// FastCGIApp is an app that forwards each request to a FastCGI responder
// (a Lua WSAPI app under wsapi.fcgi, PHP-FPM, a Go program in FastCGI
// mode) and streams its answer back: the other way round from
// [Launcher.ServeFastCGI]. Filters in front of it work as for any app.
//
// The request's CGI metavariables ([filter.Env]) become the params, with
// SCRIPT_NAME its mount point ([filter.MountPoint]) and PATH_INFO the path
// below it; SCRIPT_FILENAME is Script, or Root + SCRIPT_NAME. Request and
// response bodies stream, record by record, never held whole; each record
// of the answer is flushed to the client as it arrives. A request body of
// unknown length (chunked) is sent without CONTENT_LENGTH: the end of the
// stdin stream marks its end. Lines the responder writes to its stderr
// stream are logged at warning level.
//
// A responder that answers before it has read the whole request body (413,
// a redirect) has its answer passed on at once: for an HTTP/1 client, the
// rest of the body is not sent, and the client's connection is closed
// after the answer. Once ServeHTTP returns, the request body is no longer
// read.
//
// Connections are kept open (FCGI_KEEP_CONN) and pooled. A pooled
// connection the responder closed is replaced; the request is sent again
// on a new connection only when it is idempotent (GET, HEAD, OPTIONS,
// TRACE, or with an Idempotency-Key header) or none of it can have run. A
// responder that cannot be reached, closes the connection, breaks the
// protocol or ends the request without an answer gets 502 Bad Gateway; one
// that does not connect or stays silent for longer than its timeout gets
// 504 Gateway Timeout, as does a request whose context reaches its
// deadline first. Either way a line is logged and the connection is
// discarded. A fault after the headers went out cuts the client's
// connection (http.ErrAbortHandler), as a proxy does.
//
// Set the fields before the first request. Close closes the idle
// connections.
type FastCGIApp struct {
	// Network and Address say where the responder listens: "tcp" and
	// "127.0.0.1:9000", or "unix" and a socket's path.
	Network, Address string

	// Script is sent as SCRIPT_FILENAME, when set: the file the responder
	// runs (PHP-FPM needs it). Otherwise SCRIPT_FILENAME is Root followed
	// by SCRIPT_NAME when Root is set, else not sent.
	Script string

	// Root, when set, is sent as DOCUMENT_ROOT.
	Root string

	// Params are sent after the request's own, and win over them.
	Params map[string]string

	// ConnectTimeout bounds a new connection (default 5 seconds);
	// ResponseTimeout is the longest the responder may stay silent before
	// its headers, once it has the whole request body, and between two
	// records of its answer (default 1 minute). While the client is still
	// sending the body, its pace is the server's concern (its read
	// timeout), not the responder's.
	ConnectTimeout, ResponseTimeout time.Duration

	// MaxIdle is the number of idle connections kept open (default 16;
	// negative keeps none), IdleTimeout how long one may stay idle
	// (default 1 minute).
	MaxIdle     int
	IdleTimeout time.Duration

	// Logger gets the error lines and the responder's stderr lines.
	// Default: the request's logger (the exchange's, with its request id).
	Logger *slog.Logger

	once   sync.Once
	client *fcgi.Client
}

var _ http.Handler = (*FastCGIApp)(nil)

// NewFastCGIApp returns an app that forwards to the responder at address
// on network ("tcp" or "unix"), with the default timeouts.
func NewFastCGIApp(network, address string) *FastCGIApp {
	return &FastCGIApp{Network: network, Address: address}
}

func (f *FastCGIApp) init() {
	f.client = &fcgi.Client{
		Network:         f.Network,
		Address:         f.Address,
		ConnectTimeout:  f.ConnectTimeout,
		ResponseTimeout: f.ResponseTimeout,
		MaxIdle:         f.MaxIdle,
		IdleTimeout:     f.IdleTimeout,
	}
}

// Close closes the idle connections to the responder. Requests after Close
// get 502.
func (f *FastCGIApp) Close() error {
	f.once.Do(f.init)
	return f.client.Close()
}

// Idle returns the number of idle connections to the responder in the
// pool.
func (f *FastCGIApp) Idle() int {
	f.once.Do(f.init)
	return f.client.Idle()
}

// hopHeaders are not passed from the responder's answer to the client.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Te", "Trailer", "Upgrade"}

// ServeHTTP forwards r to the responder.
func (f *FastCGIApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.once.Do(f.init)
	logger := f.logger(r)
	req := &fcgi.Request{Params: f.params(r), Stderr: stderrLogger(logger, "fastcgi"), Replayable: replayable(r)}
	if r.Body != nil && r.Body != http.NoBody && (r.ContentLength != 0 || len(r.TransferEncoding) > 0) {
		req.Body = r.Body
		rc := http.NewResponseController(w)
		req.Abort = func() { _ = rc.SetReadDeadline(time.Now()) }
	}
	resp, err := f.client.Do(r.Context(), req)
	if err != nil {
		cerr := r.Context().Err()
		if cerr != nil && !errors.Is(cerr, context.DeadlineExceeded) {
			return // the client went away
		}
		code := http.StatusBadGateway
		if errors.Is(err, fcgi.ErrTimeout) || cerr != nil {
			code = http.StatusGatewayTimeout
		}
		logger.Error("wsapi: FastCGI responder failed", "address", f.Address, "status", code, "err", err.Error())
		http.Error(w, strings.ToLower(http.StatusText(code))+": the FastCGI responder failed", code)
		return
	}
	defer resp.Body.Close()
	h := w.Header()
	for k, vv := range resp.Header {
		h[k] = vv
	}
	for _, k := range hopHeaders {
		delete(h, k)
	}
	if r.ProtoMajor < 2 && !resp.Body.EndRequestBody() {
		// An HTTP/1 client reads no answer while it sends its body: the
		// responder answered early, the rest of the body stays unread.
		h.Set("Connection", "close")
	}
	w.WriteHeader(resp.Status)
	flusher, _ := w.(http.Flusher)
	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	buf := *bp
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return // the client went away; Close discards the connection
			}
			if flusher != nil && resp.Body.Buffered() == 0 {
				flusher.Flush()
			}
		}
		if rerr == io.EOF {
			return
		}
		if rerr != nil {
			if r.Context().Err() != nil {
				return
			}
			logger.Error("wsapi: FastCGI responder failed mid-answer", "address", f.Address, "err", rerr.Error())
			resp.Body.Close()
			panic(http.ErrAbortHandler)
		}
	}
}

// replayable reports whether r may run twice: an idempotent method, or a
// client that says it may with an idempotency key.
func replayable(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return r.Header["Idempotency-Key"] != nil || r.Header["X-Idempotency-Key"] != nil
}

// copyBuffers holds the buffers that answers are copied through.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// params encodes the params stream of r.
func (f *FastCGIApp) params(r *http.Request) []byte {
	env := filter.NewEnv(r)
	b := make([]byte, 0, 1024)
	add := func(k, v string) {
		if _, over := f.Params[k]; !over {
			b = fcgi.AppendParams(b, k, v)
		}
	}
	for k, v := range env.All() {
		if k != "REQUEST_URI" {
			add(k, v)
		}
	}
	uri := r.RequestURI
	if uri == "" || uri[0] != '/' && uri != "*" {
		uri = r.URL.RequestURI()
	}
	add("REQUEST_URI", uri)
	add("DOCUMENT_URI", r.URL.Path)
	if f.Root != "" {
		add("DOCUMENT_ROOT", f.Root)
	}
	switch {
	case f.Script != "":
		add("SCRIPT_FILENAME", f.Script)
	case f.Root != "":
		add("SCRIPT_FILENAME", strings.TrimRight(f.Root, "/")+env.ScriptName())
	}
	for k, v := range f.Params {
		b = fcgi.AppendParams(b, k, v)
	}
	return b
}

func (f *FastCGIApp) logger(r *http.Request) *slog.Logger {
	if f.Logger != nil {
		return f.Logger
	}
	return filter.From(r).Logger()
}

// stderrLogger returns a function that logs each line of p as a warning.
// slog quotes what it logs, so a line cannot pass for another log line.
func stderrLogger(l *slog.Logger, from string) func(p []byte) {
	return func(p []byte) {
		for line := range bytes.Lines(p) {
			line = bytes.TrimRight(line, "\r\n")
			if len(line) == 0 {
				continue
			}
			if len(line) > 2048 {
				line = line[:2048]
			}
			l.Warn("wsapi: "+from+" stderr", "line", string(line))
		}
	}
}
