package isolate_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/isolate"
	"github.com/wsapi-go/wsapi/filters/logging"
)

// serve runs h for r and returns what it panicked with.
func serve(h http.Handler, w http.ResponseWriter, r *http.Request) (p any) {
	defer func() { p = recover() }()
	h.ServeHTTP(w, r)
	return nil
}

// aborts is a filter that owns the exchange and records, when the
// response is finished, why it was aborted.
type aborts struct{ reason string }

func (a *aborts) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, r, owner := filter.Begin(w, r)
		defer owner.End()
		x.OnFinish(func(x *filter.Exchange) { a.reason = x.Aborted() })
		next.ServeHTTP(w, r)
	})
}

func TestRecoverBeforeAnyWrite(t *testing.T) {
	noLeaks(t)
	hub := new(filter.Hub)
	ev := listen(t, hub, "isolate")
	for ab := range filtertest.AllAbilities + 1 {
		rec, w := filtertest.NewWriter(ab)
		h := filtertest.Check(t, &isolate.Recover{Hub: hub}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "99")
			w.Header().Set("X-Kept", "1")
			panic("boom")
		}))
		if p := serve(h, w, filtertest.Get("/")); p != nil {
			t.Fatalf("%v: the panic went on: %v", ab, p)
		}
		sent := rec.SentHeader()
		if rec.Code != 500 || rec.Body.String() != "Internal Server Error\n" ||
			sent.Get("Content-Type") != "text/plain; charset=utf-8" || sent.Get("Content-Length") != "22" {
			t.Errorf("%v: got %d %q %v", ab, rec.Code, rec.Body.String(), sent)
		}
	}
	got := ev.all()
	if len(got) != int(filtertest.AllAbilities)+1 {
		t.Fatalf("%d events, want one per request", len(got))
	}
	pe, ok := got[0].Data.(isolate.PanicEvent)
	if got[0].Topic != isolate.EventPanic || !ok || pe.Value != "boom" || pe.Aborted ||
		!bytes.Contains(pe.Stack, []byte("TestRecoverBeforeAnyWrite")) {
		t.Errorf("event %s %+v", got[0].Topic, got[0].Data)
	}
}

func TestRecoverHeadGetsNoBody(t *testing.T) {
	rec := filtertest.NewRecorder()
	h := filtertest.Check(t, &isolate.Recover{Hub: new(filter.Hub)}, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	h.ServeHTTP(rec, filtertest.NewRequest("HEAD", "/", nil))
	if rec.Code != 500 || rec.Body.Len() != 0 {
		t.Errorf("HEAD got %d %q", rec.Code, rec.Body.String())
	}
}

func TestRecoverAfterWriteAborts(t *testing.T) {
	noLeaks(t)
	hub := new(filter.Hub)
	ev := listen(t, hub, isolate.EventPanic)
	a := &aborts{}
	h := a.Wrap(filtertest.Check(t, &isolate.Recover{Hub: hub}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "half")
		panic(errors.New("broken"))
	})))
	rec := filtertest.NewRecorder()
	if p := serve(h, rec, filtertest.Get("/")); p != http.ErrAbortHandler {
		t.Fatalf("panicked with %v, want http.ErrAbortHandler", p)
	}
	if a.reason != "panic" || rec.Code != 200 || rec.Body.String() != "half" {
		t.Errorf("reason %q, response %d %q", a.reason, rec.Code, rec.Body.String())
	}
	if got := ev.all(); len(got) != 1 || !got[0].Data.(isolate.PanicEvent).Aborted {
		t.Errorf("events %+v", got)
	}
}

func TestRecoverPassesErrAbortHandler(t *testing.T) {
	hub := new(filter.Hub)
	ev := listen(t, hub, isolate.EventPanic)
	a := &aborts{}
	h := a.Wrap((&isolate.Recover{Hub: hub}).Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic(http.ErrAbortHandler)
	})))
	if p := serve(h, filtertest.NewRecorder(), filtertest.Get("/")); p != http.ErrAbortHandler {
		t.Fatalf("panicked with %v", p)
	}
	if len(ev.all()) != 0 || a.reason != "abort" {
		t.Errorf("a deliberate abort was reported as a panic (%d events, reason %q)", len(ev.all()), a.reason)
	}
}

func TestRecoverDuringStreaming(t *testing.T) {
	noLeaks(t)
	hub := new(filter.Hub)
	ev := listen(t, hub, isolate.EventPanic)
	a := &aborts{}
	app := filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
		return 200, nil, filter.TextChunks(func(yield func(string) bool) {
			yield("one ")
			panic("in the iterator")
		})
	})
	h := a.Wrap(filtertest.Check(t, &isolate.Recover{Hub: hub}, app))
	rec := filtertest.NewRecorder()
	if p := serve(h, rec, filtertest.Get("/")); p != http.ErrAbortHandler {
		t.Fatalf("panicked with %v", p)
	}
	if a.reason != "panic" || rec.Body.String() != "one " || len(ev.all()) != 1 || ev.all()[0].Data.(isolate.PanicEvent).Value != "in the iterator" {
		t.Errorf("reason %q body %q events %v", a.reason, rec.Body.String(), ev.all())
	}
}

// TestRecoverInFinishHook: a finish hook that panics is contained by the
// exchange; the bulkhead's slot is still released and the response stands.
func TestRecoverInFinishHook(t *testing.T) {
	noLeaks(t)
	f := isolate.New(0, 1)
	f.Hub = new(filter.Hub)
	h := filtertest.Check(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		filter.From(r).OnFinish(func(*filter.Exchange) { panic("in a hook") })
		io.WriteString(w, "fine")
	}))
	for i := range 3 { // Max 1: a slot that leaked would turn the second away
		rec := filtertest.NewRecorder()
		if p := serve(h, rec, filtertest.Get("/")); p != nil {
			t.Fatalf("request %d panicked: %v", i, p)
		}
		if rec.Code != 200 || rec.Body.String() != "fine" {
			t.Fatalf("request %d: %d %q", i, rec.Code, rec.Body.String())
		}
	}
}

// TestRecoverAccessLog: behind the logging filter, on a real server, the
// access line says the connection was aborted and why.
func TestRecoverAccessLog(t *testing.T) {
	noLeaks(t)
	var mu sync.Mutex
	var buf bytes.Buffer
	logs := logging.New(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}))
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "half")
		w.(http.Flusher).Flush()
		panic("late")
	})
	srv := server(t, nil, logs.Wrap((&isolate.Recover{Hub: new(filter.Hub)}).Wrap(app)))
	_, _, err := get(t, newClient(t), srv.URL)
	if err == nil {
		t.Error("the client read a whole response from an aborted connection")
	}
	srv.Close()
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(buf.String(), `"aborted":true,"abort_reason":"panic"`) {
		t.Errorf("access log: %s", buf.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
