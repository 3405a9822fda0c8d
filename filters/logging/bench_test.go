package logging_test

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

	"github.com/wsapi-go/wsapi/filters/logging"
)

// discard is a ResponseWriter that keeps nothing, so the benchmarks
// measure the filters and not a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

var okBody = []byte("ok")

var okApp = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(okBody) })

func bench(b *testing.B, h http.Handler, path string) {
	b.Helper()
	w := &discard{h: http.Header{}}
	r := httptest.NewRequest("GET", path, nil)
	r.Header.Set("User-Agent", "bench/1")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.ServeHTTP(w, r)
		clear(w.h)
	}
}

// hlogStack is what a zerolog user builds with hlog: a logger in the
// context, a request id, and an access line with the same fields.
func hlogStack(next http.Handler) http.Handler {
	h := hlog.AccessHandler(func(r *http.Request, status, size int, d time.Duration) {
		hlog.FromRequest(r).Info().Str("method", r.Method).Str("path", r.URL.Path).
			Int("status", status).Int("bytes", size).Dur("duration", d).
			Str("user_agent", r.UserAgent()).Str("proto", r.Proto).Msg("request")
	})(next)
	h = hlog.RemoteAddrHandler("ip")(h)
	h = hlog.RequestIDHandler("request_id", "X-Request-Id")(h)
	return hlog.NewHandler(zerolog.New(io.Discard))(h)
}

// chiStack is chi's RequestID and Logger, writing to io.Discard.
func chiStack(next http.Handler) http.Handler {
	logger := middleware.RequestLogger(&middleware.DefaultLogFormatter{Logger: log.New(io.Discard, "", log.LstdFlags), NoColor: true})
	return middleware.RequestID(logger(next))
}

// BenchmarkLogging compares the whole filter (request id made, client IP,
// JSON access line) with zerolog's hlog handlers and chi's middleware
// doing the same job.
func BenchmarkLogging(b *testing.B) {
	f := logging.New(io.Discard)
	b.Run("wsapi-logging", func(b *testing.B) { bench(b, f.Wrap(okApp), "/items") })
	skipping := logging.New(io.Discard)
	skipping.Skip = []string{"/healthz"}
	b.Run("wsapi-logging/skipped-path", func(b *testing.B) { bench(b, skipping.Wrap(okApp), "/healthz") })
	clf := logging.New(io.Discard)
	clf.Format = logging.Combined
	b.Run("wsapi-logging/combined", func(b *testing.B) { bench(b, clf.Wrap(okApp), "/items") })
	b.Run("hlog", func(b *testing.B) { bench(b, hlogStack(okApp), "/items") })
	b.Run("chi-RequestID+Logger", func(b *testing.B) { bench(b, chiStack(okApp), "/items") })
	b.Run("no-logging", func(b *testing.B) { bench(b, okApp, "/items") })
}

func TestLoggingAllocations(t *testing.T) {
	if logging.RaceEnabled {
		t.Skip("allocation counts are not stable under -race (sync.Pool drops items); run without -race")
	}
	f := logging.New(io.Discard)
	f.Skip = []string{"/healthz"}
	h := f.Wrap(okApp)
	w := &discard{h: http.Header{}}
	for _, tt := range []struct {
		path string
		max  float64
	}{{"/healthz", 0}, {"/items", 3}} {
		r := httptest.NewRequest("GET", tt.path, nil)
		n := testing.AllocsPerRun(200, func() { h.ServeHTTP(w, r); clear(w.h) })
		if n > tt.max {
			t.Errorf("%s: %v allocs/op, want at most %v", tt.path, n, tt.max)
		}
	}
}
