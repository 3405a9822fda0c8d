package isolate

import (
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/wsapi-go/wsapi/filter"
)

// Bulkhead lets at most Max requests into the app at once. Up to Queue more
// wait, each for at most MaxWait, in no particular order; beyond that, or
// when the wait is over, the client gets 503 with Retry-After. A waiting
// request leaves the queue as soon as its client goes away.
//
// A slot is taken before the app runs and given back when the app
// returns: also when it panicked or its client went away, and never
// before, whoever owns the exchange (an outer http.TimeoutHandler may end
// the response while the app still runs).
type Bulkhead struct {
	// Max is the number of requests in the app at once. It must be at
	// least 1; Wrap panics otherwise.
	Max int

	// Queue is the number of requests that may wait for a slot; 0 (the
	// default) turns away every request beyond Max at once. It must not
	// be negative.
	Queue int

	// MaxWait is the longest a request waits in the queue; 0 means until
	// its client goes away (or its context ends).
	MaxWait time.Duration

	// RetryAfter is the Retry-After sent with the 503, rounded up to whole
	// seconds; the default is 1s.
	RetryAfter time.Duration

	// Body is the body of the 503; the default is
	// "Service Unavailable\n".
	Body string

	// Hub receives EventRejected; nil means filter.DefaultHub.
	Hub *filter.Hub
}

var (
	_ filter.Filter = (*Bulkhead)(nil)
	_ filter.Namer  = (*Bulkhead)(nil)
)

// Name returns "isolate.Bulkhead".
func (f *Bulkhead) Name() string { return "isolate.Bulkhead" }

// Wrap returns next behind the bulkhead. Each call makes a new set of
// slots: wrap once and share the handler.
func (f *Bulkhead) Wrap(next http.Handler) http.Handler {
	if f.Max < 1 {
		panic(fmt.Sprintf("isolate: Bulkhead.Max is %d: set it to at least 1", f.Max))
	}
	if f.Queue < 0 || f.MaxWait < 0 || f.RetryAfter < 0 {
		panic("isolate: Bulkhead.Queue, MaxWait and RetryAfter must not be negative")
	}
	retry := f.RetryAfter
	if retry == 0 {
		retry = time.Second
	}
	body := f.Body
	if body == "" {
		body = "Service Unavailable\n"
	}
	c := &bulkhead{
		next:    next,
		slots:   make(chan struct{}, f.Max),
		queue:   int64(f.Queue),
		maxWait: f.MaxWait,
		retry:   strconv.FormatInt(int64((retry+time.Second-1)/time.Second), 10),
		body:    body,
		bodyLen: strconv.Itoa(len(body)),
		hub:     hubOr(f.Hub),
	}
	return c
}

type bulkhead struct {
	next    http.Handler
	slots   chan struct{}
	queue   int64
	queued  atomic.Int64
	maxWait time.Duration
	retry   string
	body    string
	bodyLen string
	hub     *filter.Hub
}

func (c *bulkhead) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, w, r, owner := filter.Begin(w, r)
	defer owner.End()
	select {
	case c.slots <- struct{}{}:
	default:
		if reason := c.wait(r); reason != "" {
			c.reject(w, r, reason)
			return
		}
	}
	defer c.release()
	c.next.ServeHTTP(w, r)
}

// wait queues r for a slot; it returns "" with a slot taken, or why not.
func (c *bulkhead) wait(r *http.Request) string {
	if c.queued.Add(1) > c.queue {
		c.queued.Add(-1)
		return "queue full"
	}
	defer c.queued.Add(-1)
	var timeout <-chan time.Time
	if c.maxWait > 0 {
		t := time.NewTimer(c.maxWait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case c.slots <- struct{}{}:
		return ""
	case <-r.Context().Done():
		return "gone"
	case <-timeout:
		return "wait"
	}
}

func (c *bulkhead) reject(w http.ResponseWriter, r *http.Request, reason string) {
	if c.hub.Enabled(EventRejected) {
		c.hub.Publish(EventRejected, r, RejectedEvent{Reason: reason, Queued: int(c.queued.Load())})
	}
	writeError(w, r, http.StatusServiceUnavailable, c.body, c.bodyLen, c.retry)
}

func (c *bulkhead) release() { <-c.slots }
