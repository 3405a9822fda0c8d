package isolate_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/isolate"
)

func TestDeadlineBeforeHeaders(t *testing.T) {
	noLeaks(t)
	hub := new(filter.Hub)
	ev := listen(t, hub, isolate.EventTimeout)
	for _, status := range []int{0, 503, 504} {
		var err, cause error
		app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
			err, cause = r.Context().Err(), context.Cause(r.Context())
			w.Header().Set("X-Late", "1")
			w.WriteHeader(201)
			io.WriteString(w, "too late")
		})
		for ab := range filtertest.AllAbilities + 1 {
			rec, w := filtertest.NewWriter(ab)
			h := filtertest.Check(t, &isolate.Deadline{Timeout: time.Millisecond, Status: status, Hub: hub}, app)
			if p := serve(h, w, filtertest.Get("/")); p != nil {
				t.Fatalf("panicked: %v", p)
			}
			want := max(status, 503)
			if rec.Code != want || rec.Body.String() != http.StatusText(want)+"\n" || rec.SentHeader().Get("X-Late") != "" {
				t.Errorf("%v: got %d %q", ab, rec.Code, rec.Body.String())
			}
			if err != context.DeadlineExceeded || cause != context.DeadlineExceeded {
				t.Errorf("the app saw %v (cause %v)", err, cause)
			}
			if e := ev.next(t); !e.Data.(isolate.TimeoutEvent).Answered {
				t.Errorf("event %+v", e.Data)
			}
		}
	}
}

func TestDeadlineAfterHeaders(t *testing.T) {
	noLeaks(t)
	a := &aborts{}
	// The app writes at once; the deadline must come after that write, even
	// on a loaded machine, hence a timeout far above a write's time.
	h := a.Wrap(filtertest.Check(t, &isolate.Deadline{Timeout: 250 * time.Millisecond, Hub: new(filter.Hub)},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "a")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			io.WriteString(w, "b")
		})))
	rec := filtertest.NewRecorder()
	if p := serve(h, rec, filtertest.Get("/")); p != http.ErrAbortHandler {
		t.Fatalf("panicked with %v, want http.ErrAbortHandler", p)
	}
	if a.reason != "deadline" || rec.Code != 200 {
		t.Errorf("reason %q, status %d", a.reason, rec.Code)
	}
}

// TestDeadlineAfterHeadersOnServer: the stream is not buffered, and the
// connection's write deadline cuts it.
func TestDeadlineAfterHeadersOnServer(t *testing.T) {
	noLeaks(t)
	first := make(chan struct{})
	srv := server(t, isolate.New(250*time.Millisecond, 0), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		<-first // the client read the first chunk: nothing was buffered
		<-r.Context().Done()
		for range 1000 {
			if _, err := io.WriteString(w, "more\n"); err != nil {
				return
			}
		}
	}))
	resp, err := newClient(t).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 6)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first\n" {
		t.Fatalf("first chunk %q %v", buf, err)
	}
	close(first)
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Error("a response cut at its deadline read as whole")
	}
}

func TestDeadlineInTime(t *testing.T) {
	noLeaks(t)
	var dl time.Time
	var derived error
	h := filtertest.Check(t, &isolate.Deadline{Timeout: time.Hour}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dl, _ = r.Context().Deadline()
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		stop := context.AfterFunc(ctx, func() {})
		defer stop()
		derived = ctx.Err()
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "made")
	}))
	rec := filtertest.NewRecorder()
	h.ServeHTTP(rec, filtertest.Get("/"))
	if rec.Code != 201 || rec.Body.String() != "made" || derived != nil {
		t.Errorf("got %d %q %v", rec.Code, rec.Body.String(), derived)
	}
	if d := time.Until(dl); d < 59*time.Minute || d > time.Hour {
		t.Errorf("deadline in %v", d)
	}
}

// TestDeadlineDerivedContext: a context made from the request's ends at
// the deadline, with its error.
func TestDeadlineDerivedContext(t *testing.T) {
	noLeaks(t)
	var err error
	h := (&isolate.Deadline{Timeout: time.Millisecond, Hub: new(filter.Hub)}).Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Hour)
		defer cancel()
		<-ctx.Done()
		err = ctx.Err()
	}))
	h.ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/"))
	if err != context.DeadlineExceeded {
		t.Errorf("derived context ended with %v", err)
	}
}

func TestDeadlineClientGone(t *testing.T) {
	noLeaks(t)
	hub := new(filter.Hub)
	ev := listen(t, hub, isolate.EventTimeout)
	var err error
	h := (&isolate.Deadline{Timeout: time.Hour, Hub: hub}).Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		err = r.Context().Err()
	}))
	ctx, cancel := context.WithCancel(context.Background())
	r := filtertest.Get("/").WithContext(ctx)
	cancel()
	h.ServeHTTP(filtertest.NewRecorder(), r)
	if err != context.Canceled || len(ev.all()) != 0 {
		t.Errorf("the app saw %v; %d timeout events", err, len(ev.all()))
	}
}

func TestDeadlineConfig(t *testing.T) {
	for _, d := range []isolate.Deadline{{}, {Timeout: -1}, {Timeout: time.Second, Status: 500}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Wrap took %+v", d)
				}
			}()
			d.Wrap(http.NotFoundHandler())
		}()
	}
	if (&isolate.Deadline{}).Name() != "isolate.Deadline" {
		t.Error("name")
	}
}

// TestDeadlineAnswersBelowExchange: the answer at the deadline does not go
// through the exchange, which the app still uses: an outer filter's
// before-headers hook does not run for it (it would run concurrently with
// the app), and the exchange records the answer once the app returned.
func TestDeadlineAnswersBelowExchange(t *testing.T) {
	noLeaks(t)
	var state int // what an outer hook would read, such as a session
	var hookRan bool
	var status int
	var written int64
	outer := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			x, w, r, owner := filter.Begin(w, r)
			defer owner.End()
			w.Header().Set("X-Outer", "1")
			x.OnHeaders(func(*filter.Exchange) { hookRan = state >= 0 })
			x.OnFinish(func(x *filter.Exchange) { status, written = x.Status(), x.Written() })
			next.ServeHTTP(w, r)
		})
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := filter.From(r)
		for r.Context().Err() == nil {
			state++
			_ = x.HeadersSent()
			runtime.Gosched()
		}
		for range 100 { // the app goes on for a while after the deadline
			state++
			_ = x.HeadersSent()
			x.OnHeaders(func(*filter.Exchange) {})
		}
		w.WriteHeader(http.StatusCreated)
	})
	d := &isolate.Deadline{Timeout: 5 * time.Millisecond, Hub: new(filter.Hub)}
	rec := filtertest.NewRecorder()
	outer(d.Wrap(app)).ServeHTTP(rec, filtertest.Get("/"))
	if rec.Code != 503 || rec.Body.String() != "Service Unavailable\n" || rec.SentHeader().Get("X-Outer") != "1" {
		t.Errorf("got %d %q %v", rec.Code, rec.Body.String(), rec.SentHeader())
	}
	if hookRan {
		t.Error("a before-headers hook ran for the deadline's answer")
	}
	if status != 503 || written != int64(len("Service Unavailable\n")) {
		t.Errorf("the exchange recorded %d and %d bytes", status, written)
	}
}

// TestDeadlineKeepsWriteTimeout: a deadline later than the server's
// WriteTimeout does not extend it.
func TestDeadlineKeepsWriteTimeout(t *testing.T) {
	noLeaks(t)
	failed := make(chan bool, 1)
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 40 { // 2s at most, well past the WriteTimeout
			_, err := io.WriteString(w, "0123456789")
			if err == nil {
				err = http.NewResponseController(w).Flush()
			}
			if err != nil {
				failed <- true
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		failed <- false
	})
	srv := httptest.NewUnstartedServer((&isolate.Deadline{Timeout: time.Hour, Hub: new(filter.Hub)}).Wrap(app))
	srv.Config.WriteTimeout = 100 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	_, body, err := get(t, newClient(t), srv.URL)
	if err == nil || len(body) == 400 {
		t.Errorf("read %d bytes, error %v: the server's WriteTimeout did not apply", len(body), err)
	}
	if !<-failed {
		t.Error("the app's writes went on past the server's WriteTimeout")
	}
}

// TestDeadlineLeavesHijacked: a connection hijacked before the deadline is
// the app's: the deadline neither ends its context nor cuts it.
func TestDeadlineLeavesHijacked(t *testing.T) {
	noLeaks(t)
	const timeout = 10 * time.Millisecond
	srv := httptest.NewServer((&isolate.Deadline{Timeout: timeout, Hub: new(filter.Hub)}).Wrap(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			select {
			case <-r.Context().Done():
				t.Errorf("the context of a hijacked connection ended: %v", context.Cause(r.Context()))
			case <-time.After(30 * timeout):
			}
			brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
			if err := brw.Flush(); err != nil {
				t.Errorf("write on the hijacked connection: %v", err)
			}
		})))
	t.Cleanup(srv.Close)
	code, body, err := get(t, newClient(t), srv.URL)
	if err != nil || code != 200 || body != "ok" {
		t.Errorf("got %d %q %v", code, body, err)
	}
}
