package isolate_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/wsapi-go/wsapi/filters/isolate"
)

// discard is a ResponseWriter that keeps nothing, so the benchmarks
// measure the filters and not a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

var okBody = []byte("ok")

var okApp = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(okBody) })

func bench(b *testing.B, h http.Handler) {
	b.Helper()
	w := &discard{h: http.Header{}}
	r := httptest.NewRequest("GET", "/", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.ServeHTTP(w, r)
		clear(w.h)
	}
}

// BenchmarkIsolate compares the filters with chi's middleware and
// http.TimeoutHandler doing the same jobs, one request at a time.
func BenchmarkIsolate(b *testing.B) {
	b.Run("app alone", func(b *testing.B) { bench(b, okApp) })

	b.Run("Recover", func(b *testing.B) { bench(b, (&isolate.Recover{}).Wrap(okApp)) })
	b.Run("chi Recoverer", func(b *testing.B) { bench(b, middleware.Recoverer(okApp)) })

	b.Run("Deadline", func(b *testing.B) {
		bench(b, (&isolate.Deadline{Timeout: time.Minute}).Wrap(okApp))
	})
	b.Run("chi Timeout", func(b *testing.B) { bench(b, middleware.Timeout(time.Minute)(okApp)) })
	b.Run("http.TimeoutHandler", func(b *testing.B) { bench(b, http.TimeoutHandler(okApp, time.Minute, "")) })

	b.Run("Bulkhead", func(b *testing.B) { bench(b, (&isolate.Bulkhead{Max: 100, Queue: 100}).Wrap(okApp)) })
	b.Run("chi Throttle", func(b *testing.B) { bench(b, middleware.ThrottleBacklog(100, 100, time.Minute)(okApp)) })

	b.Run("all three", func(b *testing.B) { bench(b, isolate.New(time.Minute, 100).Wrap(okApp)) })
	b.Run("chi all three", func(b *testing.B) {
		bench(b, middleware.Recoverer(middleware.ThrottleBacklog(100, 100, time.Minute)(middleware.Timeout(time.Minute)(okApp))))
	})
	b.Run("all three with TimeoutHandler", func(b *testing.B) {
		bench(b, middleware.Recoverer(middleware.ThrottleBacklog(100, 100, time.Minute)(http.TimeoutHandler(okApp, time.Minute, ""))))
	})
}
