package filter_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
)

// hooked is a filter that attaches the exchange and registers a
// before-headers hook that stamps a header, as a session filter would.
func hooked(name string, log *[]string) filter.Func {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			x, w, r, owner := filter.Begin(w, r)
			defer owner.End()
			x.OnHeaders(func(x *filter.Exchange) {
				*log = append(*log, "headers:"+name)
				x.Header().Add("X-Hook", name)
			})
			x.OnFinish(func(x *filter.Exchange) { *log = append(*log, "finish:"+name) })
			next.ServeHTTP(w, r)
		})
	}
}

func TestBeginAttachesOnceAndLaterFiltersReuseIt(t *testing.T) {
	var first, second *filter.Exchange
	var innerW http.ResponseWriter
	var innerCtx context.Context
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w2, r2, owner := filter.Begin(w, r)
		defer owner.End()
		second = x
		if w2 != w || r2 != r {
			t.Error("a second Begin must return w and r unchanged")
		}
		innerW, innerCtx = w, r.Context()
	})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, r, owner := filter.Begin(w, r)
		defer owner.End()
		first = x
		if filter.From(r) != x {
			t.Error("From(r) must return the attached exchange")
		}
		app.ServeHTTP(w, r)
	})
	rec := httptest.NewRecorder()
	lint(t, h).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if first == nil || first != second {
		t.Fatalf("want one exchange shared by both filters, got %p and %p", first, second)
	}
	if innerW == http.ResponseWriter(rec) {
		t.Error("the first filter must pass a wrapped writer inward")
	}
	if filter.FromContext(innerCtx) != nil {
		t.Error("a context kept after the request finished must not reach the recycled exchange")
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		name   string
		handle func(w http.ResponseWriter)
		want   int
	}{
		{"an empty response is 200", func(w http.ResponseWriter) {}, 200},
		{"a write without WriteHeader is 200", func(w http.ResponseWriter) { io.WriteString(w, "hi") }, 200},
		{"WriteHeader sets the status", func(w http.ResponseWriter) { w.WriteHeader(404) }, 404},
		{"a second WriteHeader does not change it", func(w http.ResponseWriter) { w.WriteHeader(201); w.WriteHeader(500) }, 201},
		{"103 Early Hints is not the final status", func(w http.ResponseWriter) { w.WriteHeader(103); w.WriteHeader(204) }, 204},
		{"100 then a write is 200", func(w http.ResponseWriter) { w.WriteHeader(100); w.Write([]byte("x")) }, 200},
		{"101 Switching Protocols is final", func(w http.ResponseWriter) { w.WriteHeader(101) }, 101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got int
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				x, w, _, owner := filter.Begin(w, r)
				x.OnFinish(func(x *filter.Exchange) { got = x.Status() })
				defer owner.End()
				tt.handle(w)
			})
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
			if got != tt.want {
				t.Errorf("status = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestInvalidWriteHeaderPanicsAsNetHTTPDoes(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, w, _, owner := filter.Begin(w, r)
		defer owner.End()
		w.WriteHeader(1000)
	})
	defer func() {
		if p := recover(); p == nil || !strings.Contains(p.(string), "invalid WriteHeader code") {
			t.Errorf("want net/http's panic for code 1000, got %v", p)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

func TestWrittenCountsEveryWayOfWriting(t *testing.T) {
	var got int64
	srv := httptest.NewServer(lint(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, _, owner := filter.Begin(w, r)
		x.OnFinish(func(x *filter.Exchange) { got = x.Written() })
		defer owner.End()
		w.Write([]byte("abc"))                                // 3
		io.WriteString(w, "defg")                             // 4
		w.(io.ReaderFrom).ReadFrom(strings.NewReader("hijk")) // 4
	})))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "abcdefghijk" {
		t.Errorf("body = %q", body)
	}
	if got != 11 {
		t.Errorf("Written = %d, want 11", got)
	}
}

func TestBeforeHeadersHooksRunOnceInOrderAtEachTrigger(t *testing.T) {
	triggers := []struct {
		name   string
		handle func(w http.ResponseWriter)
	}{
		{"WriteHeader", func(w http.ResponseWriter) { w.WriteHeader(202) }},
		{"Write", func(w http.ResponseWriter) { w.Write([]byte("a")); w.Write([]byte("b")) }},
		{"WriteString", func(w http.ResponseWriter) { io.WriteString(w, "a") }},
		{"Flush", func(w http.ResponseWriter) { w.(http.Flusher).Flush(); w.Write([]byte("a")) }},
		{"ResponseController.Flush", func(w http.ResponseWriter) { http.NewResponseController(w).Flush() }},
		{"ReadFrom", func(w http.ResponseWriter) { w.(io.ReaderFrom).ReadFrom(strings.NewReader("abc")) }},
		{"an empty response", func(w http.ResponseWriter) {}},
	}
	for _, tt := range triggers {
		t.Run(tt.name, func(t *testing.T) {
			var log []string
			app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				log = append(log, "app")
				tt.handle(w)
				log = append(log, "app done")
			})
			// Lint checks around the outer filter, and between it and the inner one.
			srv := httptest.NewServer(filtertest.Check(t, hooked("outer", &log), hooked("inner", &log)(app)))
			defer srv.Close()
			res, err := http.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if got := res.Header.Values("X-Hook"); strings.Join(got, ",") != "outer,inner" {
				t.Errorf("X-Hook = %q, want outer,inner (hooks run in registration order)", got)
			}
			want := "app headers:outer headers:inner app done finish:inner finish:outer"
			if tt.name == "an empty response" {
				want = "app app done headers:outer headers:inner finish:inner finish:outer"
			}
			if got := strings.Join(log, " "); got != want {
				t.Errorf("events:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestInformationalResponsesDoNotRunHooks(t *testing.T) {
	var ran int
	rec := httptest.NewRecorder()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, _, owner := filter.Begin(w, r)
		defer owner.End()
		x.OnHeaders(func(*filter.Exchange) { ran++ })
		w.WriteHeader(http.StatusEarlyHints)
		if ran != 0 || x.HeadersSent() {
			t.Error("a 103 must not run the hooks or count as the headers")
		}
		w.WriteHeader(http.StatusOK)
	})
	lint(t, h).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if ran != 1 {
		t.Errorf("hooks ran %d times, want 1", ran)
	}
}

func TestOnHeadersAfterTheHeadersAreOutIsRefused(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, _, owner := filter.Begin(w, r)
		defer owner.End()
		if !x.OnHeaders(func(*filter.Exchange) {}) {
			t.Error("OnHeaders before any write must register")
		}
		w.Write([]byte("x"))
		if x.OnHeaders(func(*filter.Exchange) { t.Error("a late hook must never run") }) {
			t.Error("OnHeaders after the headers went out must report false")
		}
	})
	lint(t, h).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

func TestHookMayChangeTheStatusOnlyWhileCommitting(t *testing.T) {
	rec := httptest.NewRecorder()
	var final int
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, _, owner := filter.Begin(w, r)
		defer owner.End()
		if x.SetStatus(500) {
			t.Error("SetStatus outside a before-headers hook must do nothing")
		}
		x.OnHeaders(func(x *filter.Exchange) {
			if x.Status() != 200 {
				t.Errorf("inside the hook Status = %d, want the pending 200", x.Status())
			}
			if !x.SetStatus(503) {
				t.Error("SetStatus inside a hook must take effect")
			}
		})
		x.OnFinish(func(x *filter.Exchange) { final = x.Status() })
		w.Write([]byte("body"))
	})
	lint(t, h).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 503 || final != 503 {
		t.Errorf("sent %d, recorded %d; want 503 both", rec.Code, final)
	}
}

// captureLog returns a logger writing JSON records to buf.
func captureLog(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, nil))
}

func TestPanickingHooksAreContainedAndTheOthersStillRun(t *testing.T) {
	var buf bytes.Buffer
	var events []string
	cancel := filter.DefaultHub.Subscribe("filter:hook", func(ev filter.Event) { events = append(events, ev.Topic) })
	defer cancel()
	var ran []string
	rec := httptest.NewRecorder()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, _, owner := filter.Begin(w, r)
		defer owner.End()
		x.SetLogger(captureLog(&buf))
		x.OnHeaders(func(*filter.Exchange) { panic("before boom") })
		x.OnHeaders(func(x *filter.Exchange) { ran = append(ran, "before 2"); x.Header().Set("X-After", "yes") })
		x.OnFinish(func(*filter.Exchange) { ran = append(ran, "finish 1") })
		x.OnFinish(func(*filter.Exchange) { panic("finish boom") })
		x.OnFinish(func(*filter.Exchange) { ran = append(ran, "finish 3") })
		w.Write([]byte("ok"))
	})
	lint(t, h).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := strings.Join(ran, ","); got != "before 2,finish 3,finish 1" {
		t.Errorf("hooks that ran: %s", got)
	}
	if rec.Body.String() != "ok" || rec.Header().Get("X-After") != "yes" {
		t.Errorf("response must still go out: body %q, X-After %q", rec.Body.String(), rec.Header().Get("X-After"))
	}
	logged := buf.String()
	if !strings.Contains(logged, "before boom") || !strings.Contains(logged, "finish boom") {
		t.Errorf("both hook panics must be logged, got %s", logged)
	}
	if len(events) != 2 || events[0] != "filter:hook:panic" {
		t.Errorf("events = %v, want two filter:hook:panic", events)
	}
}

func TestFinishHooksRunWhenTheAppPanicsAndThePanicGoesOn(t *testing.T) {
	var log []string
	var seen any
	var status int
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("app boom") })
	h := hooked("outer", &log)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := filter.From(r)
		x.OnFinish(func(x *filter.Exchange) { seen, status = x.Panic(), x.Status() })
		app.ServeHTTP(w, r)
	}))
	rec := httptest.NewRecorder()
	func() {
		defer func() {
			if p := recover(); p != "app boom" {
				t.Errorf("the panic must reach the caller unchanged, got %v", p)
			}
		}()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	}()
	if seen != "app boom" {
		t.Errorf("finish hooks must see the panic value, got %v", seen)
	}
	if status != 0 {
		t.Errorf("no headers may be sent for a panicking app, status %d", status)
	}
	if strings.Join(log, " ") != "finish:outer" {
		t.Errorf("hooks: %v", log)
	}
	if rec.Header().Get("X-Hook") != "" {
		t.Error("before-headers hooks must not run when the app panicked before writing")
	}
}

func TestErrAbortHandlerPassesThrough(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _, _, owner := filter.Begin(w, r)
		defer owner.End()
		panic(http.ErrAbortHandler)
	})
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("got %v, want http.ErrAbortHandler", p)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

func TestWritesAfterTheRequestFinishedGoNowhere(t *testing.T) {
	var kept http.ResponseWriter
	rec := httptest.NewRecorder()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, w, _, owner := filter.Begin(w, r)
		defer owner.End()
		kept = w
		w.Write([]byte("done"))
	})
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	// A new request reuses the pooled exchange; the old writer must not reach it.
	rec2 := httptest.NewRecorder()
	h2 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, w, _, owner := filter.Begin(w, r)
		defer owner.End()
		if _, err := kept.Write([]byte("stale")); !errors.Is(err, filter.ErrFinished) {
			t.Errorf("stale Write error = %v, want ErrFinished", err)
		}
		kept.WriteHeader(500)
		w.Write([]byte("fresh"))
	})
	h2.ServeHTTP(rec2, httptest.NewRequest("GET", "/", nil))
	if rec2.Body.String() != "fresh" || rec2.Code != 200 {
		t.Errorf("second response = %d %q, the stale writer leaked into it", rec2.Code, rec2.Body.String())
	}
}

func TestAnnotations(t *testing.T) {
	var nilX *filter.Exchange
	if nilX.RequestID() != "" || nilX.User() != "" || nilX.SessionID() != "" || nilX.ClientIP().IsValid() ||
		nilX.Status() != 0 || nilX.Written() != 0 || nilX.HeadersSent() || nilX.Panic() != nil || nilX.MountPoint() != "" {
		t.Error("the getters of a nil exchange must return zero values")
	}
	type session struct{ id string }
	sessKey := filter.NewKey[*session]("session")
	countKey := filter.NewKey[int]("count")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, _, r, owner := filter.Begin(w, r)
		defer owner.End()
		if _, ok := sessKey.Get(x); ok {
			t.Error("a pooled exchange must come back without values")
		}
		if x.RequestID() != "" || x.User() != "" {
			t.Error("a pooled exchange must come back without annotations")
		}
		x.SetRequestID("req-1")
		x.SetUser("alice")
		x.SetSessionID("s-9")
		x.SetClientIP(netip.MustParseAddr("2001:db8::1"))
		sessKey.Set(x, &session{id: "a"})
		countKey.Set(x, 1)
		countKey.Set(x, 2)
		y := filter.From(r)
		if s, ok := sessKey.Get(y); !ok || s.id != "a" {
			t.Error("Key.Get must return what Set stored")
		}
		if n, _ := countKey.Get(y); n != 2 {
			t.Errorf("count = %d, want the replaced value 2", n)
		}
		countKey.Delete(y)
		if _, ok := countKey.Get(y); ok {
			t.Error("Delete must remove the value")
		}
		if s, ok := sessKey.Get(y); !ok || s.id != "a" {
			t.Error("Delete must keep the other values")
		}
		if y.RequestID() != "req-1" || y.User() != "alice" || y.SessionID() != "s-9" || y.ClientIP().String() != "2001:db8::1" {
			t.Error("annotations must read back")
		}
	})
	for i := 0; i < 3; i++ {
		lint(t, h).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}
	if countKey.String() != "count" {
		t.Errorf("Key.String = %q", countKey.String())
	}
}

func TestHijackThroughTheWrapper(t *testing.T) {
	done := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, _, owner := filter.Begin(w, r)
		defer owner.End()
		x.OnHeaders(func(*filter.Exchange) { done <- errors.New("hooks must not run on hijack") })
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			done <- err
			return
		}
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nraw ok")
		brw.Flush()
		conn.Close()
		if !x.Hijacked() {
			done <- errors.New("Hijacked() = false after a hijack")
			return
		}
		if _, err := w.Write([]byte("x")); !errors.Is(err, http.ErrHijacked) {
			done <- errors.New("Write after hijack must return http.ErrHijacked")
			return
		}
		done <- nil
	}))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "raw ok" {
		t.Errorf("body = %q", body)
	}
	if err := <-done; err != nil {
		t.Error(err)
	}
}

func TestResponseControllerReachesTheConnection(t *testing.T) {
	errs := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, w, _, owner := filter.Begin(w, r)
		defer owner.End()
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			errs <- err
			return
		}
		if err := rc.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
			errs <- err
			return
		}
		errs <- rc.Flush()
	}))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if err := <-errs; err != nil {
		t.Errorf("ResponseController through the wrapper: %v", err)
	}
}

// plainWriter has none of the optional interfaces.
type plainWriter struct{ h http.Header }

func (p *plainWriter) Header() http.Header         { return p.h }
func (p *plainWriter) Write(b []byte) (int, error) { return len(b), nil }
func (p *plainWriter) WriteHeader(int)             {}

func TestTheWrapperInventsNoAbility(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, w, _, owner := filter.Begin(w, r)
		defer owner.End()
		if _, ok := w.(http.Flusher); ok {
			t.Error("wrapper claims http.Flusher")
		}
		if _, ok := w.(http.Hijacker); ok {
			t.Error("wrapper claims http.Hijacker")
		}
		if _, ok := w.(io.ReaderFrom); ok {
			t.Error("wrapper claims io.ReaderFrom")
		}
		if _, ok := w.(http.Pusher); ok {
			t.Error("wrapper claims http.Pusher")
		}
		if err := http.NewResponseController(w).Flush(); !errors.Is(err, http.ErrNotSupported) {
			t.Errorf("ResponseController.Flush = %v, want http.ErrNotSupported", err)
		}
	})
	lint(t, h).ServeHTTP(&plainWriter{h: http.Header{}}, httptest.NewRequest("GET", "/", nil))
}

func TestConcurrentRequestsShareNothing(t *testing.T) {
	var log []string
	var mu sync.Mutex
	srv := httptest.NewServer(lint(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, r, owner := filter.Begin(w, r)
		defer owner.End()
		id := r.URL.Query().Get("id")
		x.SetRequestID(id)
		x.OnHeaders(func(x *filter.Exchange) { x.Header().Set("X-Id", x.RequestID()) })
		time.Sleep(time.Millisecond)
		io.WriteString(w, filter.From(r).RequestID())
		mu.Lock()
		log = append(log, id)
		mu.Unlock()
	})))
	defer srv.Close()
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id := strings.Repeat("x", i%7) + string(rune('a'+i%26))
			res, err := http.Get(srv.URL + "/?id=" + id)
			if err != nil {
				t.Error(err)
				return
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(body) != id || res.Header.Get("X-Id") != id {
				t.Errorf("request %q got body %q, X-Id %q", id, body, res.Header.Get("X-Id"))
			}
		}(i)
	}
	wg.Wait()
	if len(log) != 50 {
		t.Errorf("served %d requests, want 50", len(log))
	}
}

type ctxTestKey struct{ name string }

func TestSetContextValueAnswersWithoutANewContext(t *testing.T) {
	var kept context.Context
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, _, r, owner := filter.Begin(w, r)
		defer owner.End()
		before := r.Context()
		for i := 0; i < 4; i++ { // past the inline slots
			x.SetContextValue(ctxTestKey{string(rune('a' + i))}, i)
		}
		x.SetContextValue(ctxTestKey{"a"}, 10) // replaces
		derived, cancel := context.WithCancel(r.Context())
		defer cancel()
		for i, want := range []int{10, 1, 2, 3} {
			k := ctxTestKey{string(rune('a' + i))}
			if got := before.Value(k); got != want {
				t.Errorf("Value(%v) = %v, want %d", k, got, want)
			}
			if got := derived.Value(k); got != want {
				t.Errorf("derived Value(%v) = %v, want %d", k, got, want)
			}
		}
		if before.Value(ctxTestKey{"z"}) != nil {
			t.Error("an unknown key must fall through to the parent")
		}
		kept = r.Context()
	})
	lint(t, h).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if kept.Value(ctxTestKey{"b"}) != 1 {
		t.Error("a context kept after the request must still answer its values")
	}
	defer func() {
		if recover() == nil {
			t.Error("a non-comparable key must panic")
		}
	}()
	h2 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, _, _, owner := filter.Begin(w, r)
		defer owner.End()
		x.SetContextValue([]int{1}, 1)
	})
	h2.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

func TestContextLookupsFromOtherGoroutinesDoNotRaceTheEnd(t *testing.T) {
	var wg sync.WaitGroup
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, _, r, owner := filter.Begin(w, r)
		defer owner.End()
		x.SetContextValue(ctxTestKey{"k"}, "v")
		ctx := r.Context()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				_ = filter.FromContext(ctx) // an atomic load; the exchange itself belongs to the handler
				if ctx.Value(ctxTestKey{"k"}) != "v" {
					t.Error("value lost")
					return
				}
			}
		}()
	})
	for i := 0; i < 20; i++ {
		lint(t, h).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}
	wg.Wait()
}

// countingWriter counts the WriteHeader calls that reach it.
type countingWriter struct {
	plainWriter
	codes []int
}

func (c *countingWriter) WriteHeader(code int) { c.codes = append(c.codes, code) }

func TestAHookThatWritesSendsThePendingStatusOnce(t *testing.T) {
	tests := []struct {
		name string
		hook func(x *filter.Exchange, w http.ResponseWriter)
		want string
	}{
		{"a hook that writes the body", func(_ *filter.Exchange, w http.ResponseWriter) { w.Write([]byte("oops")) }, "[404]"},
		{"a hook that sends its own status", func(_ *filter.Exchange, w http.ResponseWriter) { w.WriteHeader(500) }, "[500]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			under := &countingWriter{plainWriter: plainWriter{h: http.Header{}}}
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				x, w, _, owner := filter.Begin(w, r)
				defer owner.End()
				x.OnHeaders(func(x *filter.Exchange) { tt.hook(x, w) })
				w.WriteHeader(404)
				w.Write([]byte("body"))
			})
			h.ServeHTTP(under, httptest.NewRequest("GET", "/", nil))
			if got := fmt.Sprint(under.codes); got != tt.want {
				t.Errorf("WriteHeader calls below the exchange: %s, want %s", got, tt.want)
			}
		})
	}
}

func TestTheWriterIsNotAContext(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, w, _, owner := filter.Begin(w, r)
		defer owner.End()
		if _, ok := w.(context.Context); ok {
			t.Error("the wrapped writer must not pass for a context.Context")
		}
	})
	lint(t, h).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

// lazyCounter makes its value on demand and counts how often.
type lazyCounter struct {
	mu    sync.Mutex
	calls int
}

func (l *lazyCounter) ContextValue(key any) any {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	return key.(ctxTestKey).name + "-made"
}

func TestSetContextProviderMakesTheValueOnDemand(t *testing.T) {
	p := &lazyCounter{}
	var kept context.Context
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, _, r, owner := filter.Begin(w, r)
		defer owner.End()
		x.SetContextValue(ctxTestKey{"lazy"}, "plain")
		x.SetContextProvider(ctxTestKey{"lazy"}, p) // replaces the plain value
		if p.calls != 0 {
			t.Error("the provider must not be called before a lookup")
		}
		if got := r.Context().Value(ctxTestKey{"lazy"}); got != "lazy-made" {
			t.Errorf("Value = %v", got)
		}
		kept = r.Context()
	})
	lint(t, h).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if kept.Value(ctxTestKey{"lazy"}) != "lazy-made" || p.calls != 2 {
		t.Errorf("after the request: calls = %d, want 2", p.calls)
	}
	defer func() {
		if recover() == nil {
			t.Error("a nil provider must panic")
		}
	}()
	h2 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, _, _, owner := filter.Begin(w, r)
		defer owner.End()
		x.SetContextProvider(ctxTestKey{"x"}, nil)
	})
	h2.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

// libKey stands for a library's private context key.
type libKey struct{}

func libLookup(ctx context.Context) string {
	s, _ := ctx.Value(libKey{}).(string)
	return s
}

func TestLookupKeyFindsALibrarysPrivateKey(t *testing.T) {
	key := filter.LookupKey(func(ctx context.Context) { libLookup(ctx) })
	if key != (libKey{}) {
		t.Fatalf("LookupKey = %#v", key)
	}
	if k := filter.LookupKey(func(ctx context.Context) { ctx.Value(libKey{}); panic("nothing found") }); k != (libKey{}) {
		t.Errorf("a lookup that panics after asking: %#v", k)
	}
	if k := filter.LookupKey(func(context.Context) {}); k != nil {
		t.Errorf("a lookup that asks nothing: %#v", k)
	}
	// The point of it: the exchange answers the library's own accessor.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, _, r, owner := filter.Begin(w, r)
		defer owner.End()
		x.SetContextValue(key, "from the exchange")
		if got := libLookup(r.Context()); got != "from the exchange" {
			t.Errorf("library accessor = %q", got)
		}
	})
	lint(t, h).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

func TestPrefixMountPointLeavesOutExactRoutes(t *testing.T) {
	tests := []struct{ pattern, path, mount, prefix string }{
		{"POST /login", "/login", "/login", ""},
		{"GET /users/{id}", "/users/7", "/users/7", ""},
		{"/api/", "/api/x", "/api", "/api"},
		{"/api/*", "/api/x/y", "/api", "/api"},
		{"GET /f/{rest...}", "/f/a", "/f", "/f"},
		{"/b", "/b/", "/b", "/b"}, // chi's Mount("/b") answering "/b/"
		{"/b", "/b", "/b", ""},    // ambiguous: an exact route, or chi's Mount answering "/b"
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.path, nil)
		r.Pattern = tt.pattern
		if got := filter.MountPoint(r); got != tt.mount {
			t.Errorf("%s %s: MountPoint = %q, want %q", tt.pattern, tt.path, got, tt.mount)
		}
		if got := filter.PrefixMountPoint(r); got != tt.prefix {
			t.Errorf("%s %s: PrefixMountPoint = %q, want %q", tt.pattern, tt.path, got, tt.prefix)
		}
	}
}

func TestTheRequestLoggerCarriesTheRequestID(t *testing.T) {
	var buf bytes.Buffer
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, _, _, owner := filter.Begin(w, r)
		defer owner.End()
		if x.HasLogger() {
			t.Error("HasLogger before SetLogger")
		}
		x.SetLogger(captureLog(&buf))
		if !x.HasLogger() {
			t.Error("HasLogger after SetLogger")
		}
		x.Logger().Info("before")
		x.SetRequestID("req-7")
		x.Logger().Info("after")
		x.SetRequestID("req-8")
		x.Logger().Info("changed")
	})
	lint(t, h).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || strings.Contains(lines[0], "request_id") ||
		!strings.Contains(lines[1], `"request_id":"req-7"`) || !strings.Contains(lines[2], `"request_id":"req-8"`) {
		t.Errorf("log:\n%s", buf.String())
	}
}
