package wsapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/justinas/alice"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter"
)

// discard is a ResponseWriter that keeps nothing, so benchmarks measure
// the filters and not the recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Flush()                      {}

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })

func passThrough(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { next.ServeHTTP(w, r) })
}

func run(b *testing.B, h http.Handler) {
	b.Helper()
	w := &discard{h: http.Header{}}
	r := httptest.NewRequest("GET", "/", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

// BenchmarkPassThrough compares stacks of N filters that do nothing but
// call the next one: the cost of composition itself.
func BenchmarkPassThrough(b *testing.B) {
	for _, n := range []int{1, 5, 10} {
		fs := make([]filter.Filter, n)
		mws := make([]func(http.Handler) http.Handler, n)
		cs := make([]alice.Constructor, n)
		for i := range n {
			fs[i], mws[i], cs[i] = filter.Func(passThrough), passThrough, passThrough
		}
		b.Run(fmt.Sprintf("wsapi.Stack/%d", n), func(b *testing.B) { run(b, wsapi.New(fs...).Then(ok)) })
		b.Run(fmt.Sprintf("chi.Chain/%d", n), func(b *testing.B) { run(b, chi.Chain(mws...).Handler(ok)) })
		b.Run(fmt.Sprintf("alice/%d", n), func(b *testing.B) { run(b, alice.New(cs...).Then(ok)) })
	}
}

type benchKey struct{ name string }

var annotation = filter.NewKey[*benchKey]("bench")
var benchValue = &benchKey{name: "bench"}

func stampHeader(x *filter.Exchange) { x.Header()["X-Stamp"] = stamp }

var stamp = []string{"1"}

// annotating is a filter that reads and annotates the exchange and
// registers a before-headers and a finish hook, as real filters do.
func annotating(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, r, owner := filter.Begin(w, r)
		defer owner.End()
		if _, found := annotation.Get(x); !found {
			annotation.Set(x, benchValue)
		}
		x.SetUser("alice")
		_ = x.RequestID()
		x.OnHeaders(stampHeader)
		x.OnFinish(noop)
		next.ServeHTTP(w, r)
	})
}

func noop(*filter.Exchange) {}

type ctxKey struct{}

// contextPerFilter is the usual alternative: each filter adds a context
// value and wraps the writer itself.
func contextPerFilter(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, benchValue))
		next.ServeHTTP(ww, r)
	})
}

// BenchmarkExchange shows that N filters sharing the exchange cost one
// attach (one WithContext and one pooled record), whatever N is, against N
// filters that each add a context value and wrap the writer.
func BenchmarkExchange(b *testing.B) {
	for _, n := range []int{1, 3, 6} {
		fs := make([]filter.Filter, n)
		mws := make([]func(http.Handler) http.Handler, n)
		for i := range n {
			fs[i], mws[i] = filter.Func(annotating), contextPerFilter
		}
		b.Run(fmt.Sprintf("shared-exchange/%d", n), func(b *testing.B) { run(b, wsapi.New(fs...).Then(ok)) })
		b.Run(fmt.Sprintf("context-and-wrapper-per-filter/%d", n), func(b *testing.B) { run(b, chi.Chain(mws...).Handler(ok)) })
	}
}

func TestSharedExchangeAllocationsDoNotGrowWithFilters(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not stable under -race (sync.Pool drops items); run without -race")
	}
	allocs := func(n int) float64 {
		fs := make([]filter.Filter, n)
		for i := range fs {
			fs[i] = filter.Func(annotating)
		}
		h := wsapi.New(fs...).Then(ok)
		w := &discard{h: http.Header{}}
		r := httptest.NewRequest("GET", "/", nil)
		return testing.AllocsPerRun(200, func() { h.ServeHTTP(w, r) })
	}
	one, three, six := allocs(1), allocs(3), allocs(6)
	if one != three || one != six {
		t.Errorf("allocs/op for 1, 3, 6 filters: %v, %v, %v; want them equal", one, three, six)
	}
	if one > 2 {
		t.Errorf("attaching the exchange costs %v allocs/op, want at most 2 (the context handle and the request copy)", one)
	}
}

var benchHeader = http.Header{"Content-Type": {"text/plain"}}

func threeChunks(yield func([]byte) bool) {
	_ = yield(chunkA) && yield(chunkB) && yield(chunkC)
}

var chunkA, chunkB, chunkC = []byte("<p>one</p>"), []byte("<p>two</p>"), []byte("<p>three</p>")

// BenchmarkAppFunc measures the WSAPI-style adapter with a body of three
// chunks, beside a plain handler that writes and flushes the same chunks.
func BenchmarkAppFunc(b *testing.B) {
	b.Run("AppFunc/3-chunks", func(b *testing.B) {
		run(b, filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
			return 200, benchHeader, filter.Chunks(threeChunks)
		}))
	})
	b.Run("AppFunc/3-chunks-in-stack", func(b *testing.B) {
		run(b, wsapi.New(filter.Func(annotating)).Then(filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
			return 200, benchHeader, filter.Chunks(threeChunks)
		})))
	})
	b.Run("AppFunc/known-length", func(b *testing.B) {
		run(b, filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
			return 200, benchHeader, filter.Bytes(chunkC)
		}))
	})
	b.Run("http.HandlerFunc/3-chunks", func(b *testing.B) {
		run(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = benchHeader["Content-Type"]
			w.WriteHeader(200)
			f := w.(http.Flusher)
			for _, c := range [][]byte{chunkA, chunkB, chunkC} {
				w.Write(c)
				f.Flush()
			}
		}))
	})
}

func TestAppFuncAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not stable under -race (sync.Pool drops items); run without -race")
	}
	h := filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
		return 200, benchHeader, filter.Chunks(threeChunks)
	})
	w := &discard{h: http.Header{}}
	r := httptest.NewRequest("GET", "/x", nil)
	if n := testing.AllocsPerRun(200, func() { h.ServeHTTP(w, r) }); n > 2 {
		t.Errorf("AppFunc with a 3-chunk body: %v allocs/op, want at most 2", n)
	}
}

func TestPassThroughStacksDoNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not stable under -race (sync.Pool drops items); run without -race")
	}
	h := wsapi.New(filter.Func(passThrough), filter.Func(passThrough)).Then(ok)
	w := &discard{h: http.Header{}}
	r := httptest.NewRequest("GET", "/", nil)
	if n := testing.AllocsPerRun(200, func() { h.ServeHTTP(w, r) }); n != 0 {
		t.Errorf("pass-through stack: %v allocs/op, want 0", n)
	}
}
