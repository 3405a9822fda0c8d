package isolate

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/wsapi-go/wsapi/filter"
)

// Deadline gives each request a deadline on its context. When it passes
// before the app sent its headers, the client gets Status (503 by default)
// at once, and whatever the app writes later is dropped. When it passes
// after the headers went out, the response is cut: the connection's write
// deadline (set through http.ResponseController) makes further writes
// fail, and the connection is aborted when the app returns. Responses are
// never buffered: a stream goes out as the app writes it.
//
// The app runs on the request's goroutine; Deadline returns only when the
// app has returned, so the exchange's finish hooks (and a bulkhead's slot)
// wait for an app that ignores its context. Put Deadline next to the app:
// once it has answered, the app must touch neither the exchange nor the
// writer below its own.
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

// deadlineState is what one request under a deadline needs.
type deadlineState struct {
	ctxState // the request's context
	c        *deadliner
	x        *filter.Exchange
	w        http.ResponseWriter // the writer below the gate
	r        *http.Request
	gate     *filter.Gate
	wd       bool           // a write deadline was set
	fired    sync.WaitGroup // done when the timeout function has finished
	answered bool           // the timeout function answered (set before fired is done)
	returned bool           // the app returned normally
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

	s := &deadlineState{c: c, x: x, w: w}
	s.parent, s.deadline = r.Context(), time.Now().Add(c.timeout)
	s.r = r.WithContext(s)
	s.gate = filter.NewGate(w, s.decide)
	s.fired.Add(1)
	slot := timerSlots.Get().(*timerSlot)
	slot.s = s
	slot.t.Reset(c.timeout)
	defer s.end(slot)
	c.next.ServeHTTP(s.gate.Writer(), s.r)
	s.returned = true
}

// decide runs when the app sends its headers: from then on, the deadline
// is the connection's write deadline.
func (s *deadlineState) decide(int, http.Header) bool {
	s.wd = http.NewResponseController(s.w).SetWriteDeadline(s.deadline) == nil
	return true
}

// timedOut runs on its own goroutine when the context ends: at the
// deadline, or when the client went away.
func (s *deadlineState) timedOut() {
	defer s.fired.Done()
	if err := s.parent.Err(); err != nil {
		s.cancel(err) // the client went away: nobody to answer
		return
	}
	// Close the gate before the app hears of the deadline, so that what
	// it writes when it does is dropped.
	dropped := s.gate.Drop()
	s.cancel(context.DeadlineExceeded)
	if !dropped {
		return // the headers are out: the write deadline cuts the stream
	}
	s.answered = true
	writeError(s.w, s.r, s.c.status, s.c.body, s.c.bodyLen, "")
	_ = http.NewResponseController(s.w).Flush()
}

// end runs when the app returned or panicked.
func (s *deadlineState) end(slot *timerSlot) {
	expired := !slot.t.Stop()
	if expired {
		s.fired.Wait()
	} else {
		s.fired.Done() // the timeout function will not run
	}
	// The timer is stopped or its function has returned: the slot is free.
	slot.s = nil
	timerSlots.Put(slot)
	s.cancel(context.Canceled)
	if s.answered {
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
	if !passed || s.x.Hijacked() {
		return
	}
	if expired {
		// The response may be incomplete: abort, so the client cannot
		// take it for a whole one.
		s.publish(false)
		s.x.SetAborted("deadline")
		panic(http.ErrAbortHandler)
	}
	if s.wd {
		// Undo the write deadline for the next request on the connection.
		_ = http.NewResponseController(s.w).SetWriteDeadline(time.Time{})
	}
}

func (s *deadlineState) publish(answered bool) {
	if s.c.hub.Enabled(EventTimeout) {
		s.c.hub.Publish(EventTimeout, s.r, TimeoutEvent{Timeout: s.c.timeout, Answered: answered})
	}
}
