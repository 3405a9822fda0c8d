package isolate_test

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/isolate"
)

// holdApp is an app whose requests wait in it until released.
type holdApp struct {
	entered chan struct{}
	release chan struct{}
}

func newHoldApp() *holdApp {
	return &holdApp{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (a *holdApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.entered <- struct{}{}
	<-a.release
	io.WriteString(w, "done")
}

// until waits for cond, failing the test after a minute.
func until(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(time.Minute); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("condition never met")
		}
	}
}

// fill sends n requests to h in the background and returns a function
// that waits for them and returns their statuses.
func fill(h http.Handler, n int) func() []int {
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := filtertest.NewRecorder()
			h.ServeHTTP(rec, filtertest.Get("/"))
			codes[i] = rec.Code
		}()
	}
	return func() []int { wg.Wait(); return codes }
}

func TestBulkheadMax(t *testing.T) {
	noLeaks(t)
	hub := new(filter.Hub)
	ev := listen(t, hub, isolate.EventRejected)
	app := newHoldApp()
	h := filtertest.Check(t, &isolate.Bulkhead{Max: 2, RetryAfter: 1500 * time.Millisecond, Hub: hub}, app)
	wait := fill(h, 2) // N: both get in
	<-app.entered
	<-app.entered
	rec := filtertest.NewRecorder() // N+1: turned away
	h.ServeHTTP(rec, filtertest.Get("/"))
	if rec.Code != 503 || rec.SentHeader().Get("Retry-After") != "2" || rec.Body.String() != "Service Unavailable\n" {
		t.Errorf("N+1: %d %v %q", rec.Code, rec.SentHeader(), rec.Body.String())
	}
	if e := ev.next(t); e.Data.(isolate.RejectedEvent).Reason != "queue full" {
		t.Errorf("event %+v", e.Data)
	}
	close(app.release)
	if codes := wait(); codes[0] != 200 || codes[1] != 200 {
		t.Errorf("the first two got %v", codes)
	}
	rec = filtertest.NewRecorder() // slots are back
	h.ServeHTTP(rec, filtertest.Get("/"))
	if rec.Code != 200 {
		t.Errorf("after release: %d", rec.Code)
	}
}

func TestBulkheadQueueOverflow(t *testing.T) {
	noLeaks(t)
	hub := new(filter.Hub)
	ev := listen(t, hub, isolate.EventRejected)
	app := newHoldApp()
	b := &isolate.Bulkhead{Max: 1, Queue: 2, Hub: hub}
	h := b.Wrap(app)
	wait := fill(h, 1)
	<-app.entered
	waitQueued := fill(h, 2) // Queue N: both wait
	until(t, func() bool { return isolate.Queued(h) == 2 })
	rec := filtertest.NewRecorder() // N+1: overflow
	h.ServeHTTP(rec, filtertest.Get("/"))
	if rec.Code != 503 || ev.next(t).Data.(isolate.RejectedEvent).Queued != 2 {
		t.Errorf("overflow got %d", rec.Code)
	}
	close(app.release)
	if c := append(wait(), waitQueued()...); c[0] != 200 || c[1] != 200 || c[2] != 200 {
		t.Errorf("statuses %v", c)
	}
}

func TestBulkheadMaxWait(t *testing.T) {
	noLeaks(t)
	hub := new(filter.Hub)
	ev := listen(t, hub, isolate.EventRejected)
	app := newHoldApp()
	h := (&isolate.Bulkhead{Max: 1, Queue: 1, MaxWait: time.Millisecond, Hub: hub}).Wrap(app)
	wait := fill(h, 1)
	<-app.entered
	rec := filtertest.NewRecorder()
	h.ServeHTTP(rec, filtertest.Get("/"))
	if rec.Code != 503 || ev.next(t).Data.(isolate.RejectedEvent).Reason != "wait" {
		t.Errorf("got %d", rec.Code)
	}
	close(app.release)
	wait()
}

func TestBulkheadClientGoneWhileQueued(t *testing.T) {
	noLeaks(t)
	hub := new(filter.Hub)
	ev := listen(t, hub, isolate.EventRejected)
	app := newHoldApp()
	h := (&isolate.Bulkhead{Max: 1, Queue: 1, Hub: hub}).Wrap(app)
	wait := fill(h, 1)
	<-app.entered
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/").WithContext(ctx))
	}()
	until(t, func() bool { return isolate.Queued(h) == 1 })
	cancel()
	<-done
	if e := ev.next(t); e.Data.(isolate.RejectedEvent).Reason != "gone" || isolate.Queued(h) != 0 {
		t.Errorf("event %+v, queued %d", e.Data, isolate.Queued(h))
	}
	close(app.release)
	wait()
}

func TestBulkheadReleasesOnPanic(t *testing.T) {
	noLeaks(t)
	f := isolate.New(0, 1)
	f.Hub = new(filter.Hub)
	h := f.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	for range 3 {
		rec := filtertest.NewRecorder()
		h.ServeHTTP(rec, filtertest.Get("/"))
		if rec.Code != 500 {
			t.Fatalf("got %d: the slot was not released", rec.Code)
		}
	}
}

func TestBulkheadConfig(t *testing.T) {
	for _, b := range []isolate.Bulkhead{{}, {Max: 1, Queue: -1}, {Max: 1, MaxWait: -1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Wrap took %+v", b)
				}
			}()
			b.Wrap(http.NotFoundHandler())
		}()
	}
}

// TestBulkheadHeldUntilAppReturns: the slot is held until the app
// returns, even when an outer http.TimeoutHandler ended the response (and
// the exchange's owner finished) first.
func TestBulkheadHeldUntilAppReturns(t *testing.T) {
	noLeaks(t)
	var entered atomic.Int32
	release := make(chan struct{})
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered.Add(1)
		<-release
	})
	bh := (&isolate.Bulkhead{Max: 1, Queue: 1, Hub: new(filter.Hub)}).Wrap(app)
	mux := http.NewServeMux()
	mux.Handle("/timeout", http.TimeoutHandler(bh, 10*time.Millisecond, "timeout"))
	mux.Handle("/", bh)
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, w, r, owner := filter.Begin(w, r) // as the logging filter does
		defer owner.End()
		mux.ServeHTTP(w, r)
	})
	rec := filtertest.NewRecorder()
	outer.ServeHTTP(rec, filtertest.Get("/timeout"))
	if rec.Code != 503 || entered.Load() != 1 {
		t.Fatalf("the first request got %d, %d in the app", rec.Code, entered.Load())
	}
	done := make(chan int)
	go func() {
		rec := filtertest.NewRecorder()
		outer.ServeHTTP(rec, filtertest.Get("/"))
		done <- rec.Code
	}()
	until(t, func() bool { return isolate.Queued(bh) == 1 || entered.Load() > 1 })
	if n := entered.Load(); n != 1 {
		t.Errorf("Bulkhead{Max: 1} let %d requests into the app at once", n)
	}
	close(release)
	if code := <-done; code != 200 {
		t.Errorf("the queued request got %d", code)
	}
}
