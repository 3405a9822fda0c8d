package isolate

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsapi-go/wsapi/filter"
)

// Deadline gives each request a deadline on its context. When it passes
// before the app sent its headers, the client gets Status (503 by default)
// at once, and whatever the app writes later is dropped. When it passes
// after the headers went out, the response is cut: the connection's write
// deadline is moved to that moment (through http.ResponseController), so
// further writes fail, and the connection is aborted when the app
// returns. Deadline never extends a write deadline: a server's
// WriteTimeout that ends earlier still applies. Responses are never
// buffered: a stream goes out as the app writes it.
//
// The app runs on the request's goroutine; Deadline returns only when the
// app has returned, so the exchange's finish hooks (and a bulkhead's slot)
// wait for an app that ignores its context. The answer at the deadline is
// written by the timer's goroutine on the writer below the exchange
// (filter.Exchange.Underlying), without running the before-headers hooks
// of outer filters (a session does not save what the app is still
// changing); the exchange records it (filter.Exchange.MarkSent) when the
// app returned, so an access log sees the status. The app may go on using
// its writer, whose writes are then dropped, and the exchange, with one
// exception: filter.Exchange.Header is the header map below the gate, so
// set headers through the writer Deadline hands to the app.
//
// A hijacked connection (a WebSocket) belongs to the app: the deadline
// once hijacked before the deadline, it is neither cut nor is the
// request's context ended at the deadline.
type Deadline struct {
	// Timeout is the time a request has, from when it enters the filter.
	// It must be positive; Wrap panics otherwise.
	Timeout time.Duration

	// Status is the status sent when the deadline passes before the
	// headers: 503 (the default) or 504. Wrap panics on another one.
	Status int

	// Body is the body of that answer; the default is the status text
	// and a newline.
	Body string

	// Hub receives EventTimeout; nil means filter.DefaultHub.
	Hub *filter.Hub
}

var (
	_ filter.Filter = (*Deadline)(nil)
	_ filter.Namer  = (*Deadline)(nil)
)

// Name returns "isolate.Deadline".
func (f *Deadline) Name() string { return "isolate.Deadline" }

// Wrap returns next with a deadline on each request.
func (f *Deadline) Wrap(next http.Handler) http.Handler {
	if f.Timeout <= 0 {
		panic(fmt.Sprintf("isolate: Deadline.Timeout is %v: set it to a positive duration", f.Timeout))
	}
	status := f.Status
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	if status != http.StatusServiceUnavailable && status != http.StatusGatewayTimeout {
		panic(fmt.Sprintf("isolate: Deadline.Status is %d: set it to 503 or 504", status))
	}
	body := f.Body
	if body == "" {
		body = http.StatusText(status) + "\n"
	}
	return &deadliner{next: next, timeout: f.Timeout, status: status, body: body,
		bodyLen: strconv.Itoa(len(body)), hub: hubOr(f.Hub)}
}

type deadliner struct {
	next    http.Handler
	timeout time.Duration
	status  int
	body    string
	bodyLen string
	hub     *filter.Hub
}

// The turn of a request under a deadline: the first of the app's end and
// the timer to claim it decides what happens.
const (
	turnRunning = iota // the app runs and the timer has not fired
	turnEnded          // the app returned or panicked first
	turnFired          // the timer fired first
)

// deadlineState is what one request under a deadline needs.
type deadlineState struct {
	ctxState // the request's context
	c        *deadliner
	x        *filter.Exchange
	under    http.ResponseWriter // the writer below the exchange
	r        *http.Request
	head     bool // a HEAD request: the answer has no body
	gate     *filter.Gate
	turn     atomic.Int32
	returned bool           // the app returned normally
	fired    sync.WaitGroup // done when the timeout function has finished

	// Set by the timeout function before fired is done, read after.
	answered bool  // it answered below the exchange
	sent     int64 // the body bytes of its answer
	cut      bool  // the headers were out: it cut the stream
}

// A timerSlot is a timer reused across requests, so a request under a
// deadline does not make one: its function is bound once, and runs the
// timeout of the request that holds the slot.
type timerSlot struct {
	t *time.Timer
	s *deadlineState // set before the timer is started, read when it fires
}

var timerSlots = sync.Pool{New: func() any {
	slot := new(timerSlot)
	slot.t = time.AfterFunc(time.Hour, func() { slot.s.timedOut() })
	slot.t.Stop()
	return slot
}}

func (c *deadliner) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x, w, r, owner := filter.Begin(w, r)
	defer owner.End()

	s := &deadlineState{c: c, x: x, under: x.Underlying(), head: r.Method == http.MethodHead}
	s.parent, s.deadline = r.Context(), time.Now().Add(c.timeout)
	s.r = r.WithContext(s)
	s.gate = filter.NewGate(w, nil)
	s.fired.Add(1)
	slot := timerSlots.Get().(*timerSlot)
	slot.s = s
	slot.t.Reset(c.timeout)
	defer s.end(slot)
	c.next.ServeHTTP(s.gate.Writer(), s.r)
	s.returned = true
}

// timedOut runs on the timer's goroutine at the deadline. It must not
// touch the exchange, which belongs to the app's goroutine: it answers on
// the writer below it, where no before-headers hook runs, and end records
// the answer on the exchange once the app returned.
func (s *deadlineState) timedOut() {
	defer s.fired.Done()
	if !s.turn.CompareAndSwap(turnRunning, turnFired) {
		return // the app is done already: its response stands
	}
	if err := s.parent.Err(); err != nil {
		s.cancel(err) // the client went away: nobody to answer
		return
	}
	// Close the gate before the app hears of the deadline, so that what
	// it writes when it does is dropped.
	dropped := s.gate.Drop()
	if !dropped && s.gate.Hijacked() {
		// The connection was hijacked (a WebSocket): it is the app's now,
		// and the deadline no longer applies to it.
		return
	}
	s.cancel(context.DeadlineExceeded)
	if !dropped {
		// The headers are out: the stream is cut. Moving the write
		// deadline to now makes the app's further writes fail; it can
		// only shorten a deadline the server set.
		s.cut = true
		_ = http.NewResponseController(s.under).SetWriteDeadline(time.Now())
		return
	}
	s.answered = true
	s.sent = int64(writeErrorTo(s.under, s.head, s.c.status, s.c.body, s.c.bodyLen, ""))
	_ = http.NewResponseController(s.under).Flush()
}

// end runs on the app's goroutine when the app returned or panicked.
func (s *deadlineState) end(slot *timerSlot) {
	s.turn.CompareAndSwap(turnRunning, turnEnded)
	if slot.t.Stop() {
		s.fired.Done() // the timeout function will not run
	} else {
		s.fired.Wait()
	}
	// The timer is stopped or its function has returned: the slot is free.
	slot.s = nil
	timerSlots.Put(slot)
	s.cancel(context.Canceled)
	if s.answered {
		// The timeout function answered below the exchange: record it, so
		// the access log sees the status.
		s.x.MarkSent(s.c.status, s.sent)
		s.publish(true)
		return
	}
	if !s.returned {
		// A panic: the gate stays as it is, for an outer Recover to
		// answer below it when nothing went through.
		s.gate.Drop()
		return
	}
	passed := s.gate.Finish()
	if passed && s.cut && !s.x.Hijacked() {
		// The response may be incomplete: abort, so the client cannot
		// take it for a whole one.
		s.publish(false)
		s.x.SetAborted("deadline")
		panic(http.ErrAbortHandler)
	}
}

func (s *deadlineState) publish(answered bool) {
	if s.c.hub.Enabled(EventTimeout) {
		s.c.hub.Publish(EventTimeout, s.r, TimeoutEvent{Timeout: s.c.timeout, Answered: answered})
	}
}
