package peers

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter"
)

// benchServe serves the request through h, one at a time, with the
// reusable writer, and checks the last answer.
func benchServe(b *testing.B, h http.Handler, prepare func(*http.Request)) {
	b.Helper()
	r := NewRequest()
	if prepare != nil {
		prepare(r)
	}
	w := NewWriter()
	b.ReportAllocs()
	cpu := CPUTime()
	for b.Loop() {
		w.Reset()
		h.ServeHTTP(w, r)
	}
	reportCPU(b, cpu)
	if w.Status() != http.StatusOK || w.Head() != Body {
		b.Fatalf("answer %d %q, want 200 %q", w.Status(), w.Head(), Body)
	}
}

// benchParallel is benchServe with b.RunParallel: a request and a writer
// per goroutine.
func benchParallel(b *testing.B, h http.Handler, prepare func(*http.Request)) {
	b.Helper()
	b.ReportAllocs()
	cpu := CPUTime()
	defer reportCPU(b, cpu)
	b.RunParallel(func(pb *testing.PB) {
		r := NewRequest()
		if prepare != nil {
			prepare(r)
		}
		w := NewWriter()
		for pb.Next() {
			w.Reset()
			h.ServeHTTP(w, r)
			if w.Status() != http.StatusOK {
				b.Errorf("answer %d %q, want 200", w.Status(), w.Head())
				return
			}
		}
	})
}

// reportCPU reports the CPU time the process used since start, per
// operation, as "cpu-ns/op": on a machine that other work keeps busy it
// is steadier than ns/op, which counts the time the benchmark waited for
// a CPU. It includes the garbage collector's work on other threads.
func reportCPU(b *testing.B, start time.Duration) {
	if start > 0 && b.N > 0 {
		b.ReportMetric(float64(CPUTime()-start)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkPeers serves the hello app through each variant: serial is
// one request at a time, parallel is b.RunParallel (GOMAXPROCS
// goroutines). bench/peers.sh reads these figures.
func BenchmarkPeers(b *testing.B) {
	for _, mode := range []struct {
		name string
		run  func(*testing.B, http.Handler, func(*http.Request))
	}{{"serial", benchServe}, {"parallel", benchParallel}} {
		for _, name := range Names {
			b.Run(mode.name+"/"+name, func(b *testing.B) {
				v, err := Build(name, Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer v.Close()
				mode.run(b, v.Handler, v.Prepare)
			})
		}
	}
}

func bearer(f FullFilters) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+f.Token) }
}

// BenchmarkFilterAlone measures each part of the full stack alone around
// the hello app, and each part of the chi stack beside it, to tell what
// each job costs. A wsapi filter alone attaches the exchange itself, so
// each of these figures includes the exchange once (see
// BenchmarkStackPrefix for what each adds inside a stack).
func BenchmarkFilterAlone(b *testing.B) {
	full := func(b *testing.B, wrap func(FullFilters) http.Handler, creds bool) {
		f, err := FullStack(Hello, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Store.Close()
		var prep func(*http.Request)
		if creds {
			prep = bearer(f)
		}
		benchServe(b, wrap(f), prep)
	}
	b.Run("app alone", func(b *testing.B) { benchServe(b, Hello, nil) })
	b.Run("wsapi/exchange (filter.Begin)", func(b *testing.B) {
		benchServe(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, w, r, owner := filter.Begin(w, r)
			defer owner.End()
			Hello(w, r)
		}), nil)
	})
	b.Run("wsapi/logging", func(b *testing.B) {
		full(b, func(f FullFilters) http.Handler { return f.Logging.Wrap(Hello) }, false)
	})
	b.Run("wsapi/isolate Recover+Bulkhead", func(b *testing.B) {
		full(b, func(f FullFilters) http.Handler { return f.Isolate.Wrap(Hello) }, false)
	})
	b.Run("wsapi/isolate.Deadline", func(b *testing.B) {
		full(b, func(f FullFilters) http.Handler { return f.Deadline.Wrap(Hello) }, false)
	})
	b.Run("wsapi/session", func(b *testing.B) {
		full(b, func(f FullFilters) http.Handler { return f.Session.Wrap(Hello) }, false)
	})
	b.Run("wsapi/auth Bearer", func(b *testing.B) {
		full(b, func(f FullFilters) http.Handler { return f.Auth.Wrap(Hello) }, true)
	})
	b.Run("wsapi/auth Bearer+Require", func(b *testing.B) {
		full(b, func(f FullFilters) http.Handler { return f.Auth.Wrap(f.Require.Wrap(Hello)) }, true)
	})
	b.Run("wsapi/mux", func(b *testing.B) {
		full(b, func(f FullFilters) http.Handler { return f.Mux }, false)
	})

	chiParts := func(b *testing.B, pick func([]func(http.Handler) http.Handler) []func(http.Handler) http.Handler, creds bool) {
		mw, _ := ChiMiddleware(io.Discard)
		h := http.Handler(Hello)
		parts := pick(mw)
		for i := len(parts) - 1; i >= 0; i-- {
			h = parts[i](h)
		}
		var prep func(*http.Request)
		if creds {
			v, err := Build(Chi, Options{})
			if err != nil {
				b.Fatal(err)
			}
			prep = v.Prepare
		}
		benchServe(b, h, prep)
	}
	// ChiMiddleware's order: RequestID, RealIP, the five hlog handlers,
	// Recoverer, Timeout, LoadAndSave, BasicAuth.
	b.Run("chi/RequestID", func(b *testing.B) {
		chiParts(b, func(m []func(http.Handler) http.Handler) []func(http.Handler) http.Handler { return m[0:1] }, false)
	})
	b.Run("chi/RealIP", func(b *testing.B) {
		chiParts(b, func(m []func(http.Handler) http.Handler) []func(http.Handler) http.Handler { return m[1:2] }, false)
	})
	b.Run("chi/hlog (5 handlers)", func(b *testing.B) {
		chiParts(b, func(m []func(http.Handler) http.Handler) []func(http.Handler) http.Handler { return m[2:7] }, false)
	})
	b.Run("chi/Recoverer", func(b *testing.B) {
		chiParts(b, func(m []func(http.Handler) http.Handler) []func(http.Handler) http.Handler { return m[7:8] }, false)
	})
	b.Run("chi/Timeout", func(b *testing.B) {
		chiParts(b, func(m []func(http.Handler) http.Handler) []func(http.Handler) http.Handler { return m[8:9] }, false)
	})
	b.Run("chi/scs LoadAndSave", func(b *testing.B) {
		chiParts(b, func(m []func(http.Handler) http.Handler) []func(http.Handler) http.Handler { return m[9:10] }, false)
	})
	b.Run("chi/BasicAuth", func(b *testing.B) {
		chiParts(b, func(m []func(http.Handler) http.Handler) []func(http.Handler) http.Handler { return m[10:11] }, true)
	})
	b.Run("chi/router Mount", func(b *testing.B) {
		r := chi.NewRouter()
		r.Mount("/hello", Hello)
		benchServe(b, r, nil)
	})
}

// BenchmarkStackPrefix builds the full stack one filter at a time, from
// the outside in: the difference between two neighbours is what the
// filter added inside a stack that already has an exchange.
func BenchmarkStackPrefix(b *testing.B) {
	steps := []struct {
		name  string
		stack func(FullFilters) (wsapi.Stack, http.Handler)
		creds bool
	}{
		{"1 logging", func(f FullFilters) (wsapi.Stack, http.Handler) { return wsapi.New(f.Logging), Hello }, false},
		{"2 +isolate", func(f FullFilters) (wsapi.Stack, http.Handler) { return wsapi.New(f.Logging, f.Isolate), Hello }, false},
		{"3 +session", func(f FullFilters) (wsapi.Stack, http.Handler) {
			return wsapi.New(f.Logging, f.Isolate, f.Session), Hello
		}, false},
		{"4 +auth", func(f FullFilters) (wsapi.Stack, http.Handler) {
			return wsapi.New(f.Logging, f.Isolate, f.Session, f.Auth), Hello
		}, true},
		{"5 +require", func(f FullFilters) (wsapi.Stack, http.Handler) {
			return wsapi.New(f.Logging, f.Isolate, f.Session, f.Auth, f.Require), Hello
		}, true},
		{"6 +deadline", func(f FullFilters) (wsapi.Stack, http.Handler) {
			return wsapi.New(f.Logging, f.Isolate, f.Session, f.Auth, f.Require, f.Deadline), Hello
		}, true},
		{"7 +mux (full)", func(f FullFilters) (wsapi.Stack, http.Handler) { return f.Stack(), f.Mux }, true},
	}
	for _, s := range steps {
		b.Run(s.name, func(b *testing.B) {
			f, err := FullStack(Hello, io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Store.Close()
			st, app := s.stack(f)
			var prep func(*http.Request)
			if s.creds {
				prep = bearer(f)
			}
			benchServe(b, st.Then(app), prep)
		})
	}
}

// BenchmarkChiPrefix builds the chi stack one middleware at a time, as
// BenchmarkStackPrefix does for the full stack.
func BenchmarkChiPrefix(b *testing.B) {
	names := []string{"RequestID", "RealIP", "hlog.NewHandler", "hlog.AccessHandler", "hlog.RequestIDHandler",
		"hlog.RemoteAddrHandler", "hlog.UserAgentHandler", "Recoverer", "Timeout", "LoadAndSave", "BasicAuth"}
	v, err := Build(Chi, Options{})
	if err != nil {
		b.Fatal(err)
	}
	for n := 1; n <= len(names); n++ {
		b.Run(string(rune('a'+n-1))+" +"+names[n-1], func(b *testing.B) {
			mw, _ := ChiMiddleware(io.Discard)
			r := chi.NewRouter()
			r.Use(mw[:n]...)
			r.Mount("/hello", Hello)
			benchServe(b, r, v.Prepare)
		})
	}
}
