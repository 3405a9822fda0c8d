package filter_test

import (
	"net/http"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
)

func TestAborted(t *testing.T) {
	var nilX *filter.Exchange
	if nilX.Aborted() != "" {
		t.Error("a nil exchange reports an abort")
	}
	nilX.SetAborted("panic") // must not panic

	var seen string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, _, owner := filter.Begin(w, r)
		defer owner.End()
		if x.Aborted() != "" {
			t.Errorf("a new exchange reports abort %q", x.Aborted())
		}
		x.OnFinish(func(x *filter.Exchange) { seen = x.Aborted() })
		x.SetAborted("deadline")
		w.WriteHeader(http.StatusNoContent)
	})
	h.ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/"))
	if seen != "deadline" {
		t.Errorf("finish hook saw %q, want deadline", seen)
	}
	// The pooled exchange comes back without the reason.
	h2 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, _, _, owner := filter.Begin(w, r)
		defer owner.End()
		seen = x.Aborted()
	})
	for range 3 {
		h2.ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/"))
		if seen != "" {
			t.Errorf("a reused exchange kept the abort reason %q", seen)
		}
	}
}

func TestMarkSent(t *testing.T) {
	var nilX *filter.Exchange
	if nilX.Underlying() != nil {
		t.Error("a nil exchange has a writer")
	}
	nilX.MarkSent(503, 1) // must not panic

	rec := filtertest.NewRecorder()
	var status int
	var written int64
	var hookRan, sent bool
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, _, _, owner := filter.Begin(w, r)
		defer owner.End()
		if x.Underlying() != http.ResponseWriter(rec) {
			t.Error("Underlying is not the writer below the exchange")
		}
		x.OnHeaders(func(*filter.Exchange) { hookRan = true })
		x.OnFinish(func(x *filter.Exchange) { status, written = x.Status(), x.Written() })
		// As a filter answering from another goroutine would, then
		// recording it on the request's goroutine.
		done := make(chan struct{})
		go func() {
			defer close(done)
			x.Underlying().WriteHeader(http.StatusServiceUnavailable)
			x.Underlying().Write([]byte("late\n"))
		}()
		<-done
		x.MarkSent(http.StatusServiceUnavailable, 5)
		sent = x.HeadersSent()
		x.MarkSent(http.StatusOK, 7) // the headers are out: no effect
	})
	h.ServeHTTP(rec, filtertest.Get("/"))
	if !sent || hookRan || status != 503 || written != 5 {
		t.Errorf("sent %v, hook ran %v, status %d, written %d", sent, hookRan, status, written)
	}
	if rec.Code != 503 || rec.Body.String() != "late\n" {
		t.Errorf("got %d %q", rec.Code, rec.Body.String())
	}
}
