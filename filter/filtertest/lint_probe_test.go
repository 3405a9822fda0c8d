package filtertest_test

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
)

// mw turns a function into a filter for the tests.
func mw(f func(next http.Handler, w http.ResponseWriter, r *http.Request)) filter.Filter {
	return filter.Func(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f(next, w, r) })
	})
}

var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte("hello"))
})

// flushOnly wraps a writer and adds Flush, whatever the writer has.
type flushOnly struct{ http.ResponseWriter }

func (flushOnly) Flush() {}

func TestLintAroundPassesCorrectFilters(t *testing.T) {
	tests := []struct {
		name string
		f    filter.Filter
	}{
		{"a filter that passes everything on", mw(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
		})},
		{"a filter that answers without the app", mw(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
			http.Error(w, "no", http.StatusForbidden)
		})},
		{"a filter that derives the request context", mw(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithCancel(r.Context())
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})},
		{"a filter that mounts the app with the exchange", mw(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
			x, w, r, owner := filter.Begin(w, r)
			defer owner.End()
			x.SetMountPoint("/api/")
			next.ServeHTTP(w, r)
		})},
		{"net/http's StripPrefix", filter.Func(func(next http.Handler) http.Handler {
			return http.StripPrefix("/api", next)
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lint := filtertest.NewLint(nil)
			_, w := filtertest.NewWriter(filtertest.AllAbilities)
			lint.Around(tt.f, hello).ServeHTTP(w, filtertest.Get("/api/users/7?x=1"))
			assertProblems(t, lint)
		})
	}
}

func TestLintAroundFindsBrokenFilters(t *testing.T) {
	tests := []struct {
		name      string
		abilities filtertest.Abilities // of the server's writer
		f         filter.Filter
		want      []string
	}{
		{"a filter that calls the app twice", filtertest.AllAbilities,
			mw(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				next.ServeHTTP(w, r)
				next.ServeHTTP(w, r)
			}), []string{"the filter called the app 2 times; at most once is allowed"}},
		{"a filter that hides the optional interfaces", filtertest.Flusher | filtertest.Hijacker,
			mw(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				next.ServeHTTP(struct{ http.ResponseWriter }{w}, r)
			}), []string{"the app's writer has abilities none, the server's has Flusher|Hijacker: lost Flusher|Hijacker"}},
		{"a filter that claims Flush on a writer without it", filtertest.Pusher,
			mw(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				next.ServeHTTP(flushOnly{w}, r)
			}), []string{"the app's writer has abilities Flusher, the server's has Pusher: lost Pusher, invented Flusher"}},
		{"a filter that replaces the request context", filtertest.AllAbilities,
			mw(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
				next.ServeHTTP(w, r.WithContext(context.Background()))
			}), []string{"the app received a request whose context does not come from the request the filter was given"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lint := filtertest.NewLint(nil)
			_, w := filtertest.NewWriter(tt.abilities)
			lint.Around(tt.f, hello).ServeHTTP(w, filtertest.Get("/p"))
			assertProblems(t, lint, tt.want...)
		})
	}
}

func TestLintAroundFindsAnAppCalledAfterTheFilterReturned(t *testing.T) {
	lint := filtertest.NewLint(nil)
	var wg sync.WaitGroup
	returned := make(chan struct{})
	// The filter calls the app from a goroutine, once the filter's handler
	// has returned.
	async := mw(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-returned
			next.ServeHTTP(w, r)
		}()
	})
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("too late"))
	})
	lint.Around(async, app).ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/async"))
	close(returned)
	wg.Wait()
	assertProblems(t, lint, "the filter called the app after it returned", "Write after the handler returned")
}

// FuzzLintEnvInvariants feeds odd paths, mount points and router patterns
// through a mounting filter and checks that the app's filter.Env keeps its
// invariants.
func FuzzLintEnvInvariants(f *testing.F) {
	f.Add("/api/users/7", "", "/api", "/api/*", "x=1")
	f.Add("/api", "", "/api/", "", "")
	f.Add("*", "", "", "", "")
	f.Add("/a%2Fb/c", "/a%2Fb/c", "", "/{x}/{rest...}", "")
	f.Add("", "", "/", "/", "")
	f.Add("//x//y", "", "//x", "GET example.com/x/", "a=%zz")
	f.Fuzz(func(t *testing.T, path, rawPath, mount, pattern, query string) {
		r := filtertest.Get("/")
		r.URL = &url.URL{Path: path, RawPath: rawPath, RawQuery: query}
		r.Pattern = pattern
		r.Header.Set("Content-Type", "text/plain")
		mounting := mw(func(next http.Handler, w http.ResponseWriter, r *http.Request) {
			x, w, r, owner := filter.Begin(w, r)
			defer owner.End()
			x.SetMountPoint(mount)
			next.ServeHTTP(w, r)
		})
		lint := filtertest.NewLint(nil)
		lint.Around(mounting, hello).ServeHTTP(filtertest.NewRecorder(), r)
		if ps := lint.Problems(); len(ps) > 0 {
			t.Errorf("path %q raw %q mount %q pattern %q: %q", path, rawPath, mount, pattern, ps)
		}
	})
}
