package hostile

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Window is how long a server has to answer a hostile request: after the
// last byte of it was sent, or, for a case with DeadlineHeaderTimeout,
// after its header timeout.
const Window = time.Second

// patience is how much longer than its deadline the replayer waits for an
// answer, so that a late answer is reported as late rather than missing.
const patience = 2 * time.Second

// keepBytes caps what an Observation keeps of the bytes received and of
// each answer's body.
const (
	keepBytes     = 1 << 20
	keepBodyBytes = 64 << 10
)

// Target is a running server to replay cases against.
type Target struct {
	// Addr is the server's host:port, on 127.0.0.1.
	Addr string
	// HeaderTimeout is the server's header timeout (its
	// http.Server.ReadHeaderTimeout): the deadline of slow cases.
	HeaderTimeout time.Duration
	// Cookie is the Cookie header value of a logged-in session
	// ("session=..."), added to the cases that ask for a login.
	Cookie string
	// Origin is the same-origin Origin header value added with the
	// cookie; default "http://" + Addr.
	Origin string
	// HealthPath is the path that answers 200 "ok"; default "/healthz".
	HealthPath string
}

// Render returns the bytes of c as they go on the wire to t: HostToken
// replaced with t.Addr, LenToken with the length of the body and, for a
// case that asks for a login, a Cookie header (and an Origin header,
// unless the request has an Origin or Sec-Fetch-Site header) inserted
// after the request line.
func (t *Target) Render(c *Case) ([]byte, error) {
	raw := bytes.ReplaceAll(c.Raw, []byte(HostToken), []byte(t.Addr))
	if head, body, ok := bytes.Cut(raw, []byte("\r\n\r\n")); ok && bytes.Contains(head, []byte(LenToken)) {
		head = bytes.ReplaceAll(head, []byte(LenToken), []byte(strconv.Itoa(len(body))))
		raw = slices.Concat(head, []byte("\r\n\r\n"), body)
	}
	if !c.Login {
		return raw, nil
	}
	if t.Cookie == "" {
		return nil, fmt.Errorf("case %s needs a login, and the target has no session cookie", c.Name)
	}
	i := bytes.IndexByte(raw, '\n')
	if i < 0 {
		return nil, fmt.Errorf("case %s needs a login, and its request has no request line", c.Name)
	}
	add := "Cookie: " + t.Cookie + "\r\n"
	head := raw
	if j := bytes.Index(raw, []byte("\r\n\r\n")); j >= 0 {
		head = raw[:j]
	}
	lower := strings.ToLower(string(head))
	if !strings.Contains(lower, "\norigin:") && !strings.Contains(lower, "\nsec-fetch-site:") {
		add += "Origin: " + t.origin() + "\r\n"
	}
	out := make([]byte, 0, len(raw)+len(add))
	out = append(out, raw[:i+1]...)
	out = append(out, add...)
	return append(out, raw[i+1:]...), nil
}

func (t *Target) origin() string {
	if t.Origin != "" {
		return t.Origin
	}
	return "http://" + t.Addr
}

func (t *Target) healthPath() string {
	if t.HealthPath != "" {
		return t.HealthPath
	}
	return "/healthz"
}

// Answer is one HTTP response read back from the server.
type Answer struct {
	// Status is the status code, Proto the protocol of the status line.
	Status int
	Proto  string
	// Header is the response's header.
	Header http.Header
	// Body holds the first 64 KiB of the body; BodyLen counts all of it.
	Body    []byte
	BodyLen int64
	// BodyErr is why reading the body stopped short, if it did.
	BodyErr error
	// At is when the status line and header had arrived.
	At time.Time
}

// Final reports whether a is a final answer, not an interim 1xx one (101
// Switching Protocols counts as final).
func (a *Answer) Final() bool { return a.Status >= 200 || a.Status == 101 }

// Observation is what a replay saw.
type Observation struct {
	// Start is when the connection was open; LastByte, when the last byte
	// was sent, or when sending stopped because the server had answered,
	// closed or stopped reading.
	Start, LastByte time.Time
	// Sent counts the bytes sent; WriteErr is why sending stopped short.
	Sent     int
	WriteErr error
	// Answers are the responses read back, in order.
	Answers []Answer
	// Closed is set when the server closed the connection (end of file or
	// reset), at ClosedAt.
	Closed   bool
	ClosedAt time.Time
	// Garbled describes bytes that were no HTTP response.
	Garbled string
	// TimedOut is set when the replayer stopped waiting with no answer
	// and the connection still open.
	TimedOut bool
	// Received is everything the server sent, up to 1 MiB.
	Received []byte
	// Health lists the health checks that failed while a slow case was
	// being sent.
	Health []error
}

// Replay sends c to t over a new TCP connection and records what comes
// back. It returns an error only when the replay itself could not be
// made (no connection); everything the server does is in the
// Observation, for Judge.
func (t *Target) Replay(ctx context.Context, c *Case) (*Observation, error) {
	raw, err := t.Render(c)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return nil, err
	}
	o := &Observation{Start: time.Now()}
	slowAfter := c.SlowAfter
	if slowAfter == SlowAfterHead {
		slowAfter = bytes.Index(raw, []byte("\r\n\r\n")) + 4
	}
	trickle := time.Duration(len(raw)-slowAfter) * c.Slow
	budget := trickle + t.HeaderTimeout + Window + patience + 5*time.Second
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < budget {
		budget = time.Until(dl)
	}
	_ = conn.SetDeadline(o.Start.Add(budget))

	// The writer sends the request, at once or trickled, until it is done
	// or told to stop.
	stop := make(chan struct{})
	var stopOnce sync.Once
	stopWriter := func() {
		stopOnce.Do(func() {
			close(stop)
			_ = conn.SetWriteDeadline(time.Now())
		})
	}
	type written struct {
		n   int
		err error
		at  time.Time
	}
	writerDone := make(chan written, 1)
	go func() {
		n, err := writeRequest(conn, raw, slowAfter, c.Slow, stop)
		if err == nil && c.CloseWrite {
			if cw, ok := conn.(interface{ CloseWrite() error }); ok {
				err = cw.CloseWrite()
			}
		}
		writerDone <- written{n, err, time.Now()}
	}()

	// While a slow case is sent, the server must keep answering others.
	healthDone := make(chan []error, 1)
	if c.Slow > 0 {
		go func() {
			var errs []error
			tick := time.NewTicker(250 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					healthDone <- errs
					return
				case <-tick.C:
					if err := t.Health(ctx); err != nil {
						errs = append(errs, err)
					}
				}
			}
		}()
	} else {
		healthDone <- nil
	}

	// The reader parses what comes back, answer after answer.
	events := make(chan readEvent, 4)
	rec := &recorder{r: conn}
	go readAnswers(rec, requestMethod(raw), events)

	var first *Answer
	writing := true
	setReadDeadline := func() {
		if first != nil && c.Smuggle {
			// Room for a second answer: the hidden request's.
			_ = conn.SetReadDeadline(later(first.At, o.LastByte).Add(Window))
			return
		}
		if c.Deadline == DeadlineHeaderTimeout {
			_ = conn.SetReadDeadline(o.Start.Add(t.HeaderTimeout + Window + patience))
			return
		}
		_ = conn.SetReadDeadline(o.LastByte.Add(Window + patience))
	}
	finishWriting := func(w written) {
		writing = false
		o.Sent, o.LastByte = w.n, w.at
		if w.err != nil && !isStopped(stop) {
			o.WriteErr = w.err
		}
	}
loop:
	for {
		select {
		case w := <-writerDone:
			finishWriting(w)
			if first == nil || c.Smuggle {
				setReadDeadline()
			}
		case ev := <-events:
			switch {
			case ev.answer != nil:
				o.Answers = append(o.Answers, *ev.answer)
				if !ev.answer.Final() || first != nil {
					continue
				}
				first = &o.Answers[len(o.Answers)-1]
				if !c.Smuggle {
					break loop
				}
				if !writing {
					setReadDeadline()
				}
			case ev.closed:
				o.Closed, o.ClosedAt = true, ev.at
				break loop
			case ev.timeout:
				o.TimedOut = first == nil
				break loop
			default:
				o.Garbled = ev.garbled
				break loop
			}
		}
	}
	stopWriter()
	if writing {
		finishWriting(<-writerDone)
	}
	o.Health = <-healthDone
	_ = conn.Close()
	for range events { // the reader ends once the connection is closed
	}
	o.Received = rec.bytes()
	return o, nil
}

// writeRequest sends raw: at once, or the first slowAfter bytes at once
// and the others one by one, slow apart. It stops when stop is closed.
func writeRequest(conn net.Conn, raw []byte, slowAfter int, slow time.Duration, stop <-chan struct{}) (int, error) {
	if slow <= 0 {
		return conn.Write(raw)
	}
	n, err := conn.Write(raw[:slowAfter])
	if err != nil {
		return n, err
	}
	timer := time.NewTimer(slow)
	defer timer.Stop()
	for n < len(raw) {
		select {
		case <-stop:
			return n, nil
		case <-timer.C:
		}
		m, err := conn.Write(raw[n : n+1])
		n += m
		if err != nil {
			return n, err
		}
		timer.Reset(slow)
	}
	return n, nil
}

func isStopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// requestMethod returns the method of raw's request line, for reading
// the answer (a HEAD answer has no body).
func requestMethod(raw []byte) string {
	if i := bytes.IndexByte(raw, ' '); i > 0 && i < 32 {
		return string(raw[:i])
	}
	return http.MethodGet
}

type readEvent struct {
	answer  *Answer
	closed  bool
	timeout bool
	garbled string
	at      time.Time
}

// readAnswers reads responses from r until the connection ends, sending
// one event per answer and a last one saying how it ended; then it closes
// events.
func readAnswers(r *recorder, method string, events chan<- readEvent) {
	defer close(events)
	br := bufio.NewReader(r)
	for {
		_, err := br.Peek(1)
		if err != nil {
			events <- endEvent(err)
			return
		}
		before := r.count()
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			if isTimeout(err) {
				events <- readEvent{timeout: true, at: time.Now()}
				return
			}
			events <- readEvent{garbled: fmt.Sprintf("%v, after %q", err, clip(r.since(before), 200)), at: time.Now()}
			return
		}
		a := &Answer{Status: resp.StatusCode, Proto: resp.Proto, Header: resp.Header, At: time.Now()}
		var body bytes.Buffer
		a.BodyLen, a.BodyErr = io.Copy(&capped{w: &body, n: keepBodyBytes}, resp.Body)
		a.Body = body.Bytes()
		_ = resp.Body.Close()
		events <- readEvent{answer: a, at: a.At}
		if a.BodyErr != nil {
			events <- endEvent(a.BodyErr)
			return
		}
		method = http.MethodGet // a second answer is to a hidden request
	}
}

func endEvent(err error) readEvent {
	if isTimeout(err) {
		return readEvent{timeout: true, at: time.Now()}
	}
	// End of file, a reset or a closed connection: the server hung up, or
	// the replay is over.
	return readEvent{closed: true, at: time.Now()}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// recorder keeps the first keepBytes bytes read through it.
type recorder struct {
	r  io.Reader
	mu sync.Mutex
	b  []byte
	n  int
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.mu.Lock()
	r.n += n
	if room := keepBytes - len(r.b); room > 0 {
		r.b = append(r.b, p[:min(n, room)]...)
	}
	r.mu.Unlock()
	return n, err
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func (r *recorder) since(n int) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n >= len(r.b) {
		return nil
	}
	return append([]byte(nil), r.b[n:]...)
}

func (r *recorder) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]byte(nil), r.b...)
}

// capped writes through to w up to n bytes and counts the rest.
type capped struct {
	w io.Writer
	n int
}

func (c *capped) Write(p []byte) (int, error) {
	if c.n > 0 {
		k := min(len(p), c.n)
		_, _ = c.w.Write(p[:k])
		c.n -= k
	}
	return len(p), nil
}

// clip returns b, cut to n bytes, as a string for a message.
func clip(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + fmt.Sprintf("... (%d bytes)", len(b))
	}
	return string(b)
}

// Health checks that the server answers GET HealthPath with 200 "ok" on
// a new connection within Window.
func (t *Target) Health(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, Window)
	defer cancel()
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	defer func() { _ = conn.Close() }()
	dl, _ := ctx.Deadline()
	_ = conn.SetDeadline(dl)
	_, err = io.WriteString(conn, "GET "+t.healthPath()+" HTTP/1.1\r\nHost: "+t.Addr+"\r\nConnection: close\r\n\r\n")
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
	_ = resp.Body.Close()
	if err != nil {
		return fmt.Errorf("health check: reading the body: %w", err)
	}
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		return fmt.Errorf("health check: %s %q, want 200 \"ok\"", resp.Status, clip(body, 100))
	}
	return nil
}
