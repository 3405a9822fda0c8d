package filter

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// ErrFinished is returned by writes through an exchange's writer after the
// request has finished (for example from a goroutine that outlived its
// handler). Such writes go nowhere.
var ErrFinished = errors.New("filter: write after the request finished")

// Exchange is the per-request record that filters share. The first filter
// that needs response state attaches it with [Begin]; every later filter
// finds the same record and reuses it, instead of wrapping the writer or
// calling r.WithContext again. An Exchange is pooled: it is valid from Begin
// until the owner's [Owner.End] returns, and must not be kept after that.
//
// It holds the only ResponseWriter wrapper of a stack, the response status,
// the bytes written, the start time, the mount point, typed annotations
// (request id, user, session id, client IP, and any [Key]), hooks that run
// just before the headers go out, and hooks that run when the response is
// finished.
//
// The getters of a nil *Exchange return zero values, so
// filter.From(r).RequestID() is safe when no filter attached one.
//
// An Exchange is not safe for concurrent use: like an http.ResponseWriter,
// it belongs to the goroutine serving the request.
type Exchange struct {
	h     *handle
	under http.ResponseWriter
	req   *http.Request
	start time.Time

	status      int // final status; while committing, the status to send
	written     int64
	headersSent bool
	committing  bool
	hijacked    bool
	panicVal    any
	aborted     string // why the connection was aborted; see SetAborted

	mount     string
	requestID string
	user      string
	sessionID string
	clientIP  netip.Addr

	values []keyValue
	before []func(*Exchange)
	finish []func(*Exchange)

	logger *slog.Logger
	errw   io.Writer

	reqLogger     *slog.Logger // logger with the request id, made on first use
	reqLoggerID   string
	reqLoggerBase *slog.Logger
}

type keyValue struct {
	key any
	val any
}

// handle is allocated once per attached request. It holds the context
// that carries the exchange and is the base of the writer wrapper, so a
// context or writer used after the owner's End returned points to a dead
// handle, never to a recycled exchange. That holds for uses after End: an
// exchange reached from another goroutine while the owner ends (an app
// still running under http.TimeoutHandler) is a data race, as using a
// ResponseWriter after its handler returned is in net/http.
//
// x is atomic because goroutines started by the handler may look up
// context values while the owner ends the request.
type handle struct {
	ctx handleCtx // the request's context; &ctx is what Begin attaches
	x   atomic.Pointer[Exchange]
	w   http.ResponseWriter

	// Context values set with Exchange.SetContextValue. They live here,
	// not in the pooled exchange, so a context kept after the request still
	// answers what it answered during it.
	vals  [2]ctxValue
	nvals int
	more  []ctxValue
}

// ctxValue is a context value set on the exchange: val, or what p makes.
type ctxValue struct {
	key any
	val any
	p   ContextProvider
}

func (v *ctxValue) value() any {
	if v.p != nil {
		return v.p.ContextValue(v.key)
	}
	return v.val
}

// ContextProvider makes a context value on demand; see
// [Exchange.SetContextProvider].
type ContextProvider interface {
	ContextValue(key any) any
}

// handleCtx is the context that carries a handle. It is a field of the
// handle (one allocation for both) rather than embedded in it, so that the
// writer wrappers, which embed *handle, do not get Deadline, Done, Err and
// Value and pass for a context.Context.
type handleCtx struct {
	context.Context
	h *handle
}

type ctxKey struct{}

// Value returns the handle for the exchange key, a value set with
// Exchange.SetContextValue for its key, and defers to the parent context
// otherwise.
func (c *handleCtx) Value(key any) any {
	h := c.h
	if _, ok := key.(ctxKey); ok {
		return h
	}
	for i := 0; i < h.nvals; i++ {
		if h.vals[i].key == key {
			return h.vals[i].value()
		}
	}
	for i := range h.more {
		if h.more[i].key == key {
			return h.more[i].value()
		}
	}
	return c.Context.Value(key)
}

// setValue records a context value; see Exchange.SetContextValue.
func (h *handle) setValue(v ctxValue) {
	for i := 0; i < h.nvals; i++ {
		if h.vals[i].key == v.key {
			h.vals[i] = v
			return
		}
	}
	for i := range h.more {
		if h.more[i].key == v.key {
			h.more[i] = v
			return
		}
	}
	if h.nvals < len(h.vals) {
		h.vals[h.nvals] = v
		h.nvals++
		return
	}
	h.more = append(h.more, v)
}

var exchangePool = sync.Pool{New: func() any { return new(Exchange) }}

// Owner ends an exchange. [Begin] returns a live Owner only to the caller
// that attached the exchange; the zero Owner's End does nothing. Defer End
// right after Begin:
//
//	x, w, r, owner := filter.Begin(w, r)
//	defer owner.End()
type Owner struct{ x *Exchange }

// Begin returns the request's exchange, attaching a new one when none is
// there. When it attaches, it returns the wrapped writer and a request that
// carries the exchange in its context (the stack's one r.WithContext), and a
// live Owner; otherwise w and r come back unchanged with a zero Owner.
func Begin(w http.ResponseWriter, r *http.Request) (*Exchange, http.ResponseWriter, *http.Request, Owner) {
	if h, ok := r.Context().Value(ctxKey{}).(*handle); ok {
		if x := h.x.Load(); x != nil {
			return x, w, r, Owner{}
		}
	}
	x := exchangePool.Get().(*Exchange)
	h := &handle{w: w}
	h.ctx = handleCtx{Context: r.Context(), h: h}
	h.x.Store(x)
	x.h = h
	x.under = w
	x.start = time.Now()
	r = r.WithContext(&h.ctx)
	x.req = r
	return x, wrapWriter(h, w), r, Owner{x: x}
}

// From returns the exchange attached to r, or nil when there is none. The
// exchange belongs to the goroutine serving the request, until the filter
// that attached it returns: a goroutine that outlives the handler (such as
// an app left running by http.TimeoutHandler) must not use it.
func From(r *http.Request) *Exchange { return FromContext(r.Context()) }

// FromContext returns the exchange carried by ctx, or nil when there is
// none or its request has finished.
func FromContext(ctx context.Context) *Exchange {
	if h, ok := ctx.Value(ctxKey{}).(*handle); ok {
		return h.x.Load()
	}
	return nil
}

// End finishes the exchange when o owns it: for an empty response it sends
// the headers (running the before-headers hooks); it runs the finish hooks
// in reverse order; it returns the exchange to the pool. When the handler
// panicked, End sends no headers, lets the finish hooks see the value
// through [Exchange.Panic], and panics again with the same value, so
// net/http (or an outer recoverer) handles it as before.
//
// End must be called directly by defer.
func (o Owner) End() {
	x := o.x
	if x == nil {
		return
	}
	p := recover()
	if p != nil {
		x.panicVal = p
	} else if !x.headersSent && !x.hijacked {
		x.commit(http.StatusOK)
	}
	for n := len(x.finish); n > 0; n = len(x.finish) {
		fn := x.finish[n-1]
		x.finish[n-1] = nil
		x.finish = x.finish[:n-1]
		x.runHook("finish", fn)
	}
	x.release()
	if p != nil {
		panic(p)
	}
}

func (x *Exchange) release() {
	x.h.x.Store(nil)
	clear(x.values)
	clear(x.before)
	clear(x.finish)
	values, before, finish := x.values[:0], x.before[:0], x.finish[:0]
	if cap(values) > 32 {
		values = nil
	}
	if cap(before) > 32 {
		before = nil
	}
	if cap(finish) > 32 {
		finish = nil
	}
	*x = Exchange{values: values, before: before, finish: finish}
	exchangePool.Put(x)
}

// runHook runs fn and contains a panic in it: the panic is logged with its
// stack and published as "filter:hook:panic"; the caller goes on.
func (x *Exchange) runHook(kind string, fn func(*Exchange)) {
	defer func() {
		if p := recover(); p != nil {
			x.Logger().Error("filter: "+kind+" hook panicked",
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			DefaultHub.Publish("filter:hook:panic", x.req, p)
		}
	}()
	fn(x)
}

// Request returns the request as it was when the exchange was attached.
func (x *Exchange) Request() *http.Request {
	if x == nil {
		return nil
	}
	return x.req
}

// Start returns the time the exchange was attached.
func (x *Exchange) Start() time.Time {
	if x == nil {
		return time.Time{}
	}
	return x.start
}

// Status returns the final status of the response: 0 until the headers are
// out, then the status sent (200 when the app wrote without calling
// WriteHeader). 1xx informational responses are not final, except 101.
// Inside a before-headers hook it returns the status about to be sent.
func (x *Exchange) Status() int {
	if x == nil {
		return 0
	}
	return x.status
}

// SetStatus changes the status about to be sent. It only has an effect
// inside a before-headers hook (a session store that failed to save can turn
// the response into a 500) and reports whether it did.
func (x *Exchange) SetStatus(code int) bool {
	if x == nil || !x.committing || code < 200 || code > 999 {
		return false
	}
	x.status = code
	return true
}

// Written returns the number of body bytes written so far.
func (x *Exchange) Written() int64 {
	if x == nil {
		return 0
	}
	return x.written
}

// HeadersSent reports whether the final status line and headers have gone
// out (or are going out: it is false inside before-headers hooks).
func (x *Exchange) HeadersSent() bool { return x != nil && x.headersSent }

// Hijacked reports whether the connection was hijacked.
func (x *Exchange) Hijacked() bool { return x != nil && x.hijacked }

// Panic returns the value the handler panicked with, for finish hooks; it is
// nil when the handler returned normally or a filter inside recovered.
func (x *Exchange) Panic() any {
	if x == nil {
		return nil
	}
	return x.panicVal
}

// Header returns the response header map of the underlying writer. Before
// the headers are out (and inside before-headers hooks) changes to it are
// sent.
func (x *Exchange) Header() http.Header { return x.under.Header() }

// OnHeaders registers fn to run once, just before the final status line and
// headers go out: on the first WriteHeader with a final status, Write,
// Flush or ReadFrom, or when the owner ends an empty response. Hooks run in
// the order registered; a hook may change headers and, with
// [Exchange.SetStatus], the status. A hook must not write the body. OnHeaders
// reports false, and does not register fn, when the headers are already out.
func (x *Exchange) OnHeaders(fn func(*Exchange)) bool {
	if x.headersSent || x.hijacked {
		return false
	}
	x.before = append(x.before, fn)
	return true
}

// OnFinish registers fn to run once when the response is finished: when the
// filter that attached the exchange returns, also when the handler panicked.
// Finish hooks run in reverse order of registration (the outermost filter's
// hook last). A panic in one is contained and reported, and the others
// still run.
func (x *Exchange) OnFinish(fn func(*Exchange)) {
	x.finish = append(x.finish, fn)
}

// commit runs the before-headers hooks, then sends the status and the
// headers to the underlying writer, once.
func (x *Exchange) commit(code int) {
	if x.committing {
		// A hook wrote: the headers go out now, as they are, with the
		// status about to be sent; the outer commit sends nothing more.
		x.headersSent = true
		x.under.WriteHeader(x.status)
		return
	}
	x.committing = true
	x.status = code
	for i := 0; i < len(x.before); i++ {
		fn := x.before[i]
		x.before[i] = nil
		x.runHook("before-headers", fn)
	}
	x.before = x.before[:0]
	x.committing = false
	if !x.headersSent {
		x.headersSent = true
		x.under.WriteHeader(x.status)
	}
}

func (x *Exchange) writeHeader(code int) {
	if x.hijacked {
		x.under.WriteHeader(code) // let net/http log the misuse
		return
	}
	checkWriteHeaderCode(code)
	if x.headersSent || (code < 200 && code != http.StatusSwitchingProtocols) {
		x.under.WriteHeader(code)
		return
	}
	if x.committing {
		x.status = code // a hook sends its own status, now
	}
	x.commit(code)
}

// checkWriteHeaderCode panics as net/http does for a code it cannot send.
func checkWriteHeaderCode(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
}

func (x *Exchange) ensureHeaders() {
	if !x.headersSent {
		x.commit(http.StatusOK)
	}
}

func (x *Exchange) write(p []byte) (int, error) {
	if x.hijacked {
		return 0, http.ErrHijacked
	}
	x.ensureHeaders()
	n, err := x.under.Write(p)
	x.written += int64(n)
	return n, err
}

func (x *Exchange) writeString(s string) (int, error) {
	if x.hijacked {
		return 0, http.ErrHijacked
	}
	x.ensureHeaders()
	n, err := io.WriteString(x.under, s)
	x.written += int64(n)
	return n, err
}

func (x *Exchange) readFrom(src io.Reader) (int64, error) {
	if x.hijacked {
		return 0, http.ErrHijacked
	}
	x.ensureHeaders()
	n, err := x.under.(io.ReaderFrom).ReadFrom(src)
	x.written += n
	return n, err
}

func (x *Exchange) flush() {
	if x.hijacked {
		return
	}
	x.ensureHeaders()
	x.under.(http.Flusher).Flush()
}

func (x *Exchange) flushError() error {
	if x.hijacked {
		return http.ErrHijacked
	}
	x.ensureHeaders()
	return http.NewResponseController(x.under).Flush()
}

func (x *Exchange) hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := x.under.(http.Hijacker).Hijack()
	if err == nil {
		x.hijacked = true
	}
	return conn, brw, err
}
