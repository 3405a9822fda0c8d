package fcgi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of a [Client]'s zero fields.
const (
	DefaultConnectTimeout  = 5 * time.Second
	DefaultResponseTimeout = time.Minute
	DefaultMaxIdle         = 16
	DefaultIdleTimeout     = time.Minute
	DefaultMaxHeaderBytes  = 1 << 20
)

// ErrTimeout is wrapped by the errors of a responder that did not connect,
// or did not answer, in time.
var ErrTimeout = errors.New("fcgi: timeout")

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("fcgi: client closed")

// requestID is the id of every request: one request per connection.
const requestID = 1

// chunk is the largest stdin content sent in one record: a multiple of 8,
// so records need no padding.
const chunk = MaxContent &^ 7

// Client sends requests to one FastCGI responder. Set its fields before the
// first Do; a Client is safe for concurrent use afterwards.
type Client struct {
	// Network and Address say where the responder listens: "tcp" and
	// "127.0.0.1:9000", or "unix" and a socket's path.
	Network, Address string

	// ConnectTimeout bounds a new connection. Default 5 seconds.
	ConnectTimeout time.Duration

	// ResponseTimeout is the longest the responder may stay silent: before
	// the response headers once it has the whole request body, between two
	// records of the answer, and while a record of the request body waits
	// to be taken. While the request body is still being sent, the
	// responder may take its time to answer: a slow upload is bounded by
	// the client's side (the server's read timeout). Default 1 minute.
	ResponseTimeout time.Duration

	// MaxIdle is the number of idle connections kept for reuse. Default 16;
	// negative keeps none.
	MaxIdle int

	// IdleTimeout closes a connection idle for longer, when it is next
	// taken from the pool. Default 1 minute.
	IdleTimeout time.Duration

	// MaxHeaderBytes bounds the response's header block. Default 1 MiB.
	MaxHeaderBytes int

	mu     sync.Mutex
	idle   []*conn
	closed bool
}

// Response is the answer of a responder: the status and headers of its CGI
// header block, and the rest of its stdout stream.
type Response struct {
	Status int
	Header http.Header
	// Body streams the rest of the stdout stream. It must be closed; a
	// body closed before its end discards the connection.
	Body *Body
}

// conn is one connection to the responder.
type conn struct {
	nc        net.Conn
	br        *bufio.Reader
	idleSince time.Time
}

// Request is what Do sends.
type Request struct {
	// Params is the encoded params stream (see [AppendParams]).
	Params []byte
	// Body is the request body, sent as the stdin stream; nil for none.
	Body io.Reader
	// Stderr, when set, receives the content of each stderr record as it
	// arrives, from the goroutine reading the answer. It must not keep p.
	Stderr func(p []byte)
	// Replayable says that the request may run twice: Do sends it again on
	// a new connection when a pooled connection fails before any answer
	// arrives. Set it for idempotent requests only (GET, HEAD, OPTIONS,
	// TRACE, or one with an Idempotency-Key): the responder may have run
	// the request before it failed. A request whose head could not be sent,
	// or none of whose body was read yet, is sent again in any case.
	Replayable bool
	// Abort, when set, makes a Read of Body that may be blocked return
	// soon (for a server's request body:
	// http.NewResponseController(w).SetReadDeadline(time.Now())). Do and
	// Body.Close call it when they stop sending the body before its end;
	// they then wait for the Read to return, so that no goroutine reads
	// Body after they returned.
	Abort func()
}

// Do sends a request: its params and its body, then reads the answer up to
// the end of its header block. The body is sent from another goroutine
// while the answer is read, so a responder that answers before it has read
// the whole body does not deadlock. ctx cancels the request, also while
// the body streams.
//
// A connection taken from the pool that turns out closed by the responder
// is replaced by a new one, once, when the request may run again (see
// [Request.Replayable]) and nothing of its body was read yet. When Do
// returns an error, or Body.Close returns, the body is no longer read.
func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) {
	for attempt := 0; ; attempt++ {
		cn, reused, err := c.get(ctx)
		if err != nil {
			return nil, err
		}
		resp, retry, err := c.roundTrip(ctx, cn, req, reused && attempt == 0)
		if retry {
			continue
		}
		return resp, err
	}
}

func (c *Client) roundTrip(ctx context.Context, cn *conn, req *Request, mayRetry bool) (resp *Response, retry bool, err error) {
	timeout := or(c.ResponseTimeout, DefaultResponseTimeout)
	stop := context.AfterFunc(ctx, func() { _ = cn.nc.Close() })
	b := &Body{c: c, cn: cn, stop: stop, ctx: ctx, timeout: timeout, stderrFn: req.Stderr, abort: req.Abort}
	params, body := req.Params, req.Body

	head := make([]byte, 0, 64+len(params)+len(params)/MaxContent*8)
	head = AppendBeginRequest(head, requestID, RoleResponder, FlagKeepConn)
	head = AppendRecord(head, TypeParams, requestID, params)
	head = AppendEnd(head, TypeParams, requestID)
	if body == nil || body == http.NoBody {
		head = AppendEnd(head, TypeStdin, requestID)
		b.sent = closedChan
	}
	_ = cn.nc.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := cn.nc.Write(head); err != nil {
		b.discard()
		if mayRetry && ctx.Err() == nil && !isTimeout(err) {
			return nil, true, nil
		}
		return nil, false, b.wrap(err, "send the request")
	}
	if b.sent == nil {
		b.gate = &gate{r: body}
		sent := make(chan struct{})
		b.sent = sent
		b.sending = true
		go b.sendBody(sent)
	}

	// The header block, read through a limit.
	b.lim.n = int64(or(c.MaxHeaderBytes, DefaultMaxHeaderBytes))
	b.br = bufio.NewReaderSize(&b.lim, 4096)
	b.lim.r = (*records)(b)
	hdr, err := textproto.NewReader(b.br).ReadMIMEHeader()
	if err != nil {
		b.discard()
		unstarted := b.gate.stopUnstarted()
		if mayRetry && !b.gotRecord && ctx.Err() == nil && !isTimeout(err) && unstarted && (req.Replayable || b.gate != nil) {
			// Either the responder may run the request twice, or it
			// never got a byte of its body: it cannot have run it.
			return nil, true, nil
		}
		if b.lim.n <= 0 {
			return nil, false, fmt.Errorf("%w: the response header block is over %d bytes", ErrMalformed, or(c.MaxHeaderBytes, DefaultMaxHeaderBytes))
		}
		if b.done && !b.gotStdout {
			return nil, false, fmt.Errorf("fcgi: the responder ended the request without an answer")
		}
		return nil, false, b.wrap(err, "read the response headers")
	}
	b.lim.n = 1<<63 - 1
	status, err := statusOf(hdr)
	if err != nil {
		b.discard()
		return nil, false, err
	}
	return &Response{Status: status, Header: http.Header(hdr), Body: b}, false, nil
}

// statusOf reads the status from the CGI header block and removes the
// Status header: "Status: 404 Not Found", or 302 for a Location alone, or
// 200.
func statusOf(h textproto.MIMEHeader) (int, error) {
	s := h.Get("Status")
	delete(h, "Status")
	if s == "" {
		if h.Get("Location") != "" {
			return http.StatusFound, nil
		}
		return http.StatusOK, nil
	}
	code, _, _ := strings.Cut(s, " ")
	n, err := strconv.Atoi(code)
	if err != nil || len(code) != 3 || n < 100 || n > 999 {
		return 0, fmt.Errorf("%w: bad Status header %q", ErrMalformed, truncate(s, 40))
	}
	return n, nil
}

// Body is the stream of a response body.
type Body struct {
	c        *Client
	cn       *conn
	ctx      context.Context
	stop     func() bool // stops the context's AfterFunc
	timeout  time.Duration
	gate     *gate
	stderrFn func(p []byte)
	abort    func()

	br  *bufio.Reader
	lim limitReader

	// The record being read, for records.Read.
	remaining int // content bytes of the current stdout record still unread
	padding   int
	hbuf      [HeaderLen]byte

	gotRecord bool // a record arrived
	gotStdout bool // stdout content arrived
	done      bool // END_REQUEST read
	closed    bool
	err       error // the first error; sticky
	rerr      error // the first error reading records; sticky

	sent     <-chan struct{} // closed when the request body is sent
	bodyRead atomic.Bool     // the request body was read to its end
	sendErr  error           // read after sent is closed

	dlMu    sync.Mutex // guards sending and the read deadline
	sending bool       // the request body is being sent
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Read reads the body. At the end of the stdout stream, once the responder
// has ended the request, it returns io.EOF.
func (b *Body) Read(p []byte) (int, error) {
	if b.closed {
		return 0, errors.New("fcgi: read on a closed body")
	}
	n, err := b.br.Read(p)
	if err != nil && err != io.EOF {
		err = b.wrap(err, "read the response body")
	}
	return n, err
}

// Buffered returns the number of bytes of the body already received and
// not yet read: 0 means the next Read may wait for the responder. A copier
// flushes when it is 0. Other records received (stderr, the end of the
// request) do not count: a Read may wait after them.
func (b *Body) Buffered() int { return b.br.Buffered() + min(b.remaining, b.cn.br.Buffered()) }

// EndRequestBody stops sending the request body, unless it was sent in
// full, and waits until it is no longer read; it reports whether the whole
// body was sent. A proxy whose client cannot read the answer while it
// sends its body (HTTP/1) calls it before it passes on an answer that came
// early: the responder did not wait for the rest of the body.
func (b *Body) EndRequestBody() bool {
	if b.gate == nil {
		return true
	}
	b.stopSender(false)
	return b.bodyRead.Load() && b.sendErr == nil
}

// stopSender stops the goroutine sending the request body, unless it has
// read the body to its end, and waits for it. closing says that the
// connection is being closed anyway.
func (b *Body) stopSender(closing bool) {
	if b.gate == nil {
		return
	}
	select {
	case <-b.sent:
		return
	default:
	}
	if !b.bodyRead.Load() {
		if !b.gate.stopUnstarted() && b.abort != nil {
			b.abort() // a read may be under way
		}
		if !closing {
			// A record blocked in a write goes no further: the stream
			// is cut, and the connection will be discarded.
			_ = b.cn.nc.SetWriteDeadline(time.Now())
		}
	}
	<-b.sent
}

// Close ends the answer: a connection whose answer was read to its end,
// whose request body was sent in full, goes back to the pool; any other is
// closed.
func (b *Body) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	if !b.done || b.err != nil || b.br.Buffered() > 0 || b.cn.br.Buffered() > 0 {
		b.discard()
		return nil
	}
	select {
	case <-b.sent:
	default:
		if !b.bodyRead.Load() {
			// The responder ended the request before it took all of
			// the body: the connection is out of step.
			b.discard()
			return nil
		}
		<-b.sent // only the last, empty record is left to write
	}
	if b.sendErr != nil || !b.bodyRead.Load() && b.gate != nil || !b.stop() {
		b.discard()
		return nil
	}
	b.c.put(b.cn)
	return nil
}

// discard closes the connection, stops the body's sender from reading
// more of the request body, and waits for it.
func (b *Body) discard() {
	b.stop()
	_ = b.cn.nc.Close()
	if b.gate != nil && b.sent != nil {
		b.stopSender(true)
	}
}

// wrap turns a read or write error into the error Do or Read returns.
func (b *Body) wrap(err error, doing string) error {
	if b.err != nil {
		return b.err
	}
	switch {
	case b.ctx.Err() != nil:
		err = fmt.Errorf("fcgi: %s: %w", doing, b.ctx.Err())
	case isTimeout(err):
		err = fmt.Errorf("%w: %s: the responder was silent for %v", ErrTimeout, doing, b.timeout)
	case errors.Is(err, ErrMalformed):
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		err = fmt.Errorf("fcgi: %s: the responder closed the connection", doing)
	default:
		err = fmt.Errorf("fcgi: %s: %w", doing, err)
	}
	b.err = err
	return err
}

// sendBody sends the request body as stdin records, then the empty one.
// While it runs, the read of the answer has no deadline: the responder may
// wait for the rest of the body; once it ends, ResponseTimeout runs.
func (b *Body) sendBody(sent chan<- struct{}) {
	defer close(sent)
	defer func() {
		b.dlMu.Lock()
		b.sending = false
		_ = b.cn.nc.SetReadDeadline(time.Now().Add(b.timeout))
		b.dlMu.Unlock()
	}()
	buf := make([]byte, HeaderLen+chunk)
	for {
		n, rerr := b.gate.Read(buf[HeaderLen:])
		if rerr != nil && rerr != io.EOF && b.gate.isStopped() {
			// Stopped by Close or EndRequestBody: the connection will
			// not be used again, and the answer may still be read.
			b.sendErr = rerr
			return
		}
		if n > 0 {
			AppendHeader(buf[:0], Header{Type: TypeStdin, ID: requestID, ContentLength: uint16(n)})
			_ = b.cn.nc.SetWriteDeadline(time.Now().Add(b.timeout))
			if _, err := b.cn.nc.Write(buf[:HeaderLen+n]); err != nil {
				b.sendErr = err
				return
			}
		}
		if rerr == io.EOF {
			b.bodyRead.Store(true)
			break
		}
		if rerr != nil {
			// The client's body failed: the responder cannot get a whole
			// request on this connection.
			b.sendErr = rerr
			_ = b.cn.nc.Close()
			return
		}
	}
	_ = b.cn.nc.SetWriteDeadline(time.Now().Add(b.timeout))
	if _, err := b.cn.nc.Write(AppendEnd(buf[:0], TypeStdin, requestID)); err != nil {
		b.sendErr = err
	}
}

// records reads the content of the stdout stream, record by record,
// handing stderr records to the Client's Stderr.
type records Body

func (r *records) Read(p []byte) (int, error) {
	b := (*Body)(r)
	if b.rerr != nil {
		return 0, b.rerr // sticky: bufio's Peek hands an error out once
	}
	n, err := r.read(p)
	if err != nil {
		b.rerr = err
	}
	return n, err
}

func (r *records) read(p []byte) (int, error) {
	b := (*Body)(r)
	for b.remaining == 0 {
		if b.done {
			return 0, io.EOF
		}
		if err := b.next(); err != nil {
			if err == io.EOF { // before END_REQUEST: an early end
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
	}
	n, err := b.cn.br.Read(p[:min(len(p), b.remaining)])
	b.remaining -= n
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err == nil && b.remaining == 0 && b.padding > 0 {
		_, err = b.cn.br.Discard(b.padding)
		b.padding = 0
	}
	return n, err
}

// next reads the next record header, and the whole of records other than
// stdout ones.
func (b *Body) next() error {
	b.dlMu.Lock()
	if b.sending {
		_ = b.cn.nc.SetReadDeadline(time.Time{})
	} else {
		_ = b.cn.nc.SetReadDeadline(time.Now().Add(b.timeout))
	}
	b.dlMu.Unlock()
	h, err := ReadHeader(b.cn.br, &b.hbuf)
	if err != nil {
		return err
	}
	b.gotRecord = true
	if h.ID != requestID {
		return fmt.Errorf("%w: request id %d, want %d", ErrMalformed, h.ID, requestID)
	}
	switch h.Type {
	case TypeStdout:
		b.gotStdout = true
		if h.ContentLength == 0 {
			_, err = b.cn.br.Discard(int(h.PaddingLength))
			return err
		}
		b.remaining, b.padding = int(h.ContentLength), int(h.PaddingLength)
		return nil
	case TypeStderr:
		return b.stderr(h)
	case TypeEndRequest:
		if h.ContentLength != 8 {
			return fmt.Errorf("%w: END_REQUEST of %d bytes", ErrMalformed, h.ContentLength)
		}
		var c [8]byte
		if _, err := io.ReadFull(b.cn.br, c[:]); err != nil {
			return err
		}
		if _, err := b.cn.br.Discard(int(h.PaddingLength)); err != nil {
			return err
		}
		b.done = true
		if c[4] != StatusRequestComplete {
			return fmt.Errorf("fcgi: the responder refused the request (protocol status %d)", c[4])
		}
		return nil
	default:
		return fmt.Errorf("%w: unexpected record type %d", ErrMalformed, h.Type)
	}
}

// stderr reads a stderr record and hands its content to Stderr.
func (b *Body) stderr(h Header) error {
	n := int(h.ContentLength) + int(h.PaddingLength)
	if b.stderrFn == nil || h.ContentLength == 0 {
		_, err := b.cn.br.Discard(n)
		return err
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(b.cn.br, buf); err != nil {
		return err
	}
	b.stderrFn(buf[:h.ContentLength])
	return nil
}

// limitReader is io.LimitedReader with a limit that can be lifted.
type limitReader struct {
	r io.Reader
	n int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("%w: header block too large", ErrMalformed)
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// gate passes reads through to r until it is stopped; it tells whether a
// read ever started, so a request whose body was not touched can be sent
// again on another connection.
type gate struct {
	r       io.Reader
	mu      sync.Mutex
	started bool
	stopped bool
}

var errStopped = errors.New("fcgi: request abandoned")

func (g *gate) Read(p []byte) (int, error) {
	g.mu.Lock()
	if g.stopped {
		g.mu.Unlock()
		return 0, errStopped
	}
	g.started = true
	g.mu.Unlock()
	return g.r.Read(p)
}

// isStopped reports whether the gate was stopped.
func (g *gate) isStopped() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stopped
}

// stopUnstarted stops the gate and reports whether no read had started.
// A nil gate (no body) never started.
func (g *gate) stopUnstarted() bool {
	if g == nil {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
	return !g.started
}

// get takes an idle connection from the pool, or dials a new one.
func (c *Client) get(ctx context.Context) (cn *conn, reused bool, err error) {
	idleTimeout := or(c.IdleTimeout, DefaultIdleTimeout)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, false, ErrClosed
	}
	for len(c.idle) > 0 {
		cn = c.idle[len(c.idle)-1]
		c.idle = c.idle[:len(c.idle)-1]
		if time.Since(cn.idleSince) < idleTimeout && cn.br.Buffered() == 0 && idleAlive(cn.nc) {
			c.mu.Unlock()
			return cn, true, nil
		}
		_ = cn.nc.Close()
	}
	c.mu.Unlock()
	timeout := or(c.ConnectTimeout, DefaultConnectTimeout)
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(dctx, c.Network, c.Address)
	if err != nil {
		if ctx.Err() == nil && dctx.Err() != nil {
			return nil, false, fmt.Errorf("%w: connect to %s %s: no connection after %v", ErrTimeout, c.Network, c.Address, timeout)
		}
		return nil, false, fmt.Errorf("fcgi: connect: %w", err)
	}
	return &conn{nc: nc, br: bufio.NewReaderSize(nc, 32<<10)}, false, nil
}

// put returns a connection to the pool, or closes it when the pool is
// full or closed.
func (c *Client) put(cn *conn) {
	_ = cn.nc.SetDeadline(time.Time{})
	maxIdle := c.MaxIdle
	if maxIdle == 0 {
		maxIdle = DefaultMaxIdle
	}
	c.mu.Lock()
	if c.closed || len(c.idle) >= maxIdle {
		c.mu.Unlock()
		_ = cn.nc.Close()
		return
	}
	cn.idleSince = time.Now()
	c.idle = append(c.idle, cn)
	c.mu.Unlock()
}

// Close closes the idle connections; connections in use are closed when
// their answers end. Do fails afterwards.
func (c *Client) Close() error {
	c.mu.Lock()
	idle := c.idle
	c.idle, c.closed = nil, true
	c.mu.Unlock()
	for _, cn := range idle {
		_ = cn.nc.Close()
	}
	return nil
}

// Idle returns the number of idle connections in the pool.
func (c *Client) Idle() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.idle)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
