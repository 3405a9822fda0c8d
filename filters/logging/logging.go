package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/rs/zerolog"

	"github.com/wsapi-go/wsapi/filter"
)

// Format is the format of the access log.
type Format uint8

const (
	// JSON writes one zerolog JSON object per request (the default).
	JSON Format = iota
	// Console writes zerolog's human-friendly console lines, for
	// development.
	Console
	// Common writes Apache Common Log Format lines.
	Common
	// Combined writes Apache Combined Log Format lines (Common plus the
	// referer and the user agent).
	Combined
)

// Filter is the logging filter. Set its fields, then use its Wrap method
// (or put it in a wsapi.Stack); fields must not change after Wrap. Most
// stacks put it outermost, so that the access log sees the final status
// and every other filter finds the request id and the client IP.
type Filter struct {
	// Out is where logs go. New sets os.Stderr; nil also means os.Stderr.
	Out io.Writer

	// Format is the access log's format; the default is JSON. For Common
	// and Combined, the access lines go to Out and the app logs (the
	// per-request logger) go to Logger, or as JSON to Out when Logger is
	// nil.
	Format Format

	// Logger, when set, is the logger the access log (JSON and Console
	// formats) and the per-request loggers are made from, instead of one
	// writing to Out.
	Logger *zerolog.Logger

	// RequestIDHeader is the header that carries the request id, in and
	// out. New sets "X-Request-ID". An incoming id is kept only when it is
	// 1 to 64 characters of [A-Za-z0-9._-] (ValidRequestID); otherwise a
	// new one is made (NewRequestID).
	RequestIDHeader string

	// TrustedProxies are the networks of the proxies whose forwarding
	// header (ClientIPHeader) is believed. By default none is: the client
	// IP is the peer's address.
	TrustedProxies []netip.Prefix

	// ClientIPHeader is the forwarding header the trusted proxies set:
	// "X-Forwarded-For" (the default), "Forwarded" (RFC 7239) or
	// "X-Real-IP". Only that header is read; the others are ignored, as a
	// client may have sent them. Wrap panics on another name.
	ClientIPHeader string

	// Skip lists request paths (exact matches, such as "/healthz") that
	// are not logged at all: no access line, no request id, no client IP.
	Skip []string

	// Sample, when above 1, logs one in Sample requests that end with a
	// 1xx, 2xx or 3xx status. Errors and panics are always logged.
	Sample uint32

	// Query adds the raw query string to the access log. It is off by
	// default: queries may carry secrets.
	Query bool

	// Level gives the level of the access line for a status. The default
	// is error for 5xx, warn for 4xx, info otherwise.
	Level func(status int) zerolog.Level

	// Now is the clock; the default is time.Now. Tests pin it.
	Now func() time.Time
}

// New returns a logging filter that writes JSON to out (os.Stderr when out
// is nil), with the default request id header.
func New(out io.Writer) *Filter {
	if out == nil {
		out = os.Stderr
	}
	return &Filter{Out: out, RequestIDHeader: "X-Request-ID"}
}

var (
	_ filter.Filter   = (*Filter)(nil)
	_ filter.Namer    = (*Filter)(nil)
	_ filter.Provider = (*Filter)(nil)
)

// Name returns "logging".
func (f *Filter) Name() string { return "logging" }

// Provides tells a stack what the filter offers the filters inside it: the
// client IP, the request id and the per-request logger.
func (f *Filter) Provides() []string { return []string{"clientip", "requestid", "logger"} }

// config is a Filter compiled by Wrap: what every request needs, computed
// once.
type config struct {
	next     http.Handler
	format   Format
	out      io.Writer
	logger   zerolog.Logger // access log (JSON, Console) and base of request loggers
	stamp    bool           // request loggers get a time field from now
	slog     *slog.Logger   // the exchange's logger, for the contract's own reports
	idHeader string         // canonical
	proxies  *trustedProxies
	skip     map[string]bool
	sample   uint32
	counter  atomic.Uint32
	query    bool
	level    func(int) zerolog.Level
	now      func() time.Time
	realTime bool // now is time.Now: the exchange's start time serves
}

// Wrap returns next with request logging around it.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	c := &config{
		next:     next,
		format:   f.Format,
		out:      f.Out,
		idHeader: http.CanonicalHeaderKey(f.RequestIDHeader),
		proxies:  newTrustedProxies(f.TrustedProxies),
		sample:   f.Sample,
		query:    f.Query,
		level:    f.Level,
		now:      f.Now,
	}
	if f.ClientIPHeader != "" {
		p, ok := c.proxies.reading(f.ClientIPHeader)
		if !ok {
			panic(fmt.Sprintf("logging: ClientIPHeader is %q: set it to X-Forwarded-For, Forwarded or X-Real-IP", f.ClientIPHeader))
		}
		c.proxies = p
	}
	if c.out == nil {
		c.out = os.Stderr
	}
	if c.idHeader == "" {
		c.idHeader = "X-Request-Id"
	}
	if c.level == nil {
		c.level = levelFor
	}
	if c.now == nil {
		c.now, c.realTime = time.Now, true
	}
	switch {
	case f.Logger != nil:
		c.logger = *f.Logger
	case f.Format == Console:
		c.logger = zerolog.New(zerolog.ConsoleWriter{Out: c.out, TimeFormat: time.RFC3339})
		c.stamp = true
	default:
		c.logger = zerolog.New(c.out)
		c.stamp = true
	}
	c.slog = slog.New(zerolog.NewSlogHandler(c.logger))
	if len(f.Skip) > 0 {
		c.skip = make(map[string]bool, len(f.Skip))
		for _, p := range f.Skip {
			c.skip[p] = true
		}
	}
	return c
}

// header returns the first value of h[key], for a key already in canonical
// form: a plain map lookup, without Header.Get's canonicalization.
func header(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// levelFor is the default level of an access line.
func levelFor(status int) zerolog.Level {
	switch {
	case status >= 500:
		return zerolog.ErrorLevel
	case status >= 400:
		return zerolog.WarnLevel
	}
	return zerolog.InfoLevel
}

// request is what the filter keeps for one request. It is allocated per
// request (one allocation) and never pooled: the request id string points
// into it, and the per-request logger may be used after the request ends.
type request struct {
	c       *config
	r       *http.Request
	start   time.Time
	id      string
	traceID string
	spanID  string
	idBuf   [24]byte
	idValue [1]string // the response header's value slice

	once   sync.Once
	logger zerolog.Logger
}

var stateKey = filter.NewKey[*request]("logging")

// ServeHTTP logs the request around the app.
func (c *config) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.skip != nil && c.skip[r.URL.Path] {
		c.next.ServeHTTP(w, r)
		return
	}
	x, w, r, owner := filter.Begin(w, r)
	defer owner.End()

	q := &request{c: c, r: r}
	if c.realTime {
		q.start = x.Start()
	} else {
		q.start = c.now()
	}
	if id := header(r.Header, c.idHeader); ValidRequestID(id) {
		q.id = id
	} else {
		b := appendRequestID(q.idBuf[:0])
		// The bytes live in q, which is never reused: the string is
		// immutable as strings must be.
		q.id = unsafe.String(&q.idBuf[0], len(b))
	}
	q.idValue[0] = q.id
	w.Header()[c.idHeader] = q.idValue[:1:1]
	q.traceID, q.spanID, _ = parseTraceparent(header(r.Header, "Traceparent"))

	x.SetRequestID(q.id)
	if ip := c.proxies.clientIP(r); ip.IsValid() {
		x.SetClientIP(ip)
	}
	if !x.HasLogger() {
		x.SetLogger(c.slog)
	}
	x.SetContextProvider(zerologKey, q)
	x.SetErrorWriter(q)
	stateKey.Set(x, q)
	x.OnFinish(logAccess)
	c.next.ServeHTTP(w, r)
}

// ContextValue makes the request's logger when it is first asked for:
// zerolog.Ctx(r.Context()) returns it.
func (q *request) ContextValue(any) any { return q.requestLogger() }

func (q *request) requestLogger() *zerolog.Logger {
	q.once.Do(func() {
		ctx := q.c.logger.With().Str("request_id", q.id)
		if q.traceID != "" {
			ctx = ctx.Str("trace_id", q.traceID).Str("span_id", q.spanID)
		}
		q.logger = ctx.Logger()
		if q.c.stamp {
			q.logger = q.logger.Hook(clockHook{q.c.now})
		}
	})
	return &q.logger
}

// clockHook stamps a record with the filter's clock.
type clockHook struct{ now func() time.Time }

// Run adds the time field.
func (h clockHook) Run(e *zerolog.Event, _ zerolog.Level, _ string) {
	e.Time(zerolog.TimestampFieldName, h.now())
}

// Write is the request's error stream (filter.Env.Errors): each line is an
// error record of the request's logger.
func (q *request) Write(p []byte) (int, error) {
	n := len(p)
	l := q.requestLogger()
	for len(p) > 0 {
		line := p
		if i := indexNewline(p); i >= 0 {
			line, p = p[:i], p[i+1:]
		} else {
			p = nil
		}
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if len(line) > 0 {
			l.Error().Str("source", "wsapi.errors").Bytes("line", line).Send()
		}
	}
	return n, nil
}

func indexNewline(p []byte) int {
	for i, b := range p {
		if b == '\n' {
			return i
		}
	}
	return -1
}

// logAccess writes the access line when the response is finished.
func logAccess(x *filter.Exchange) {
	q, ok := stateKey.Get(x)
	if !ok {
		return
	}
	c := q.c
	status := x.Status()
	p := x.Panic()
	// http.ErrAbortHandler is a deliberate abort, not a bug: no stack.
	deliberate := p == http.ErrAbortHandler
	aborted := p != nil && (x.HeadersSent() || deliberate)
	if p != nil && !aborted {
		status = http.StatusInternalServerError
	}
	if p == nil && c.sample > 1 && status < 400 && c.counter.Add(1)%c.sample != 0 {
		return
	}
	end := c.now()
	switch c.format {
	case Common, Combined:
		c.writeCLF(q, x, status)
	default:
		c.writeJSON(q, x, status, aborted, end)
	}
	if p != nil && !deliberate {
		ev := c.logger.Error().Time(zerolog.TimestampFieldName, end).Str("request_id", q.id)
		ev.Str("panic", fmt.Sprint(p)).Bytes("stack", debug.Stack()).Msg("panic")
	}
}

func (c *config) writeJSON(q *request, x *filter.Exchange, status int, aborted bool, end time.Time) {
	r := q.r
	level := c.level(status)
	if x.Panic() != nil {
		level = zerolog.ErrorLevel
	}
	ev := c.logger.WithLevel(level)
	if ev == nil {
		return
	}
	ev.Time(zerolog.TimestampFieldName, end).
		Str("method", r.Method).
		Str("path", r.URL.Path)
	if c.query && r.URL.RawQuery != "" {
		ev.Str("query", r.URL.RawQuery)
	}
	ev.Int("status", status).
		Int64("bytes", x.Written()).
		Float64("duration_ms", float64(end.Sub(q.start).Microseconds())/1000)
	if ip := x.ClientIP(); ip.IsValid() {
		var buf [64]byte
		ev.Bytes("ip", ip.AppendTo(buf[:0]))
	}
	if ua := header(r.Header, "User-Agent"); ua != "" {
		ev.Str("user_agent", ua)
	}
	if ref := header(r.Header, "Referer"); ref != "" {
		ev.Str("referer", ref)
	}
	ev.Str("proto", r.Proto).Str("request_id", q.id)
	if q.traceID != "" {
		ev.Str("trace_id", q.traceID).Str("span_id", q.spanID)
	}
	if u := x.User(); u != "" {
		ev.Str("user", u)
	}
	if s := x.SessionID(); s != "" {
		ev.Str("session", s)
	}
	if x.Hijacked() {
		ev.Bool("hijacked", true)
	}
	if aborted {
		ev.Bool("aborted", true)
	}
	if reason := x.Aborted(); reason != "" {
		ev.Str("abort_reason", reason)
	}
	ev.Msg("request")
}

var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func (c *config) writeCLF(q *request, x *filter.Exchange, status int) {
	r := q.r
	e := clfEntry{
		User:      x.User(),
		Method:    r.Method,
		URI:       r.RequestURI,
		Proto:     r.Proto,
		Referer:   header(r.Header, "Referer"),
		UserAgent: header(r.Header, "User-Agent"),
		Time:      q.start, // %t: when the request was received
		Status:    status,
		Bytes:     x.Written(),
	}
	if e.URI == "" {
		e.URI = r.URL.RequestURI()
	}
	if ip := x.ClientIP(); ip.IsValid() {
		e.Host = ip.String()
	}
	bp := lineBufs.Get().(*[]byte)
	b := (*bp)[:0]
	if c.format == Combined {
		b = appendCombined(b, &e)
	} else {
		b = appendCommon(b, &e)
	}
	c.out.Write(b)
	*bp = b
	lineBufs.Put(bp)
}

// zerologKey is the key zerolog.Ctx looks up.
var zerologKey = func() any {
	key := filter.LookupKey(func(ctx context.Context) { zerolog.Ctx(ctx) })
	if key == nil {
		panic("logging: cannot find zerolog's context key")
	}
	return key
}()
