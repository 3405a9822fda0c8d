package mux_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/mux"
)

// sink is a ResponseWriter that keeps nothing, so benchmarks measure the
// router, not the recorder.
type sink struct{ h http.Header }

func (s *sink) Header() http.Header         { return s.h }
func (s *sink) Write(p []byte) (int, error) { return len(p), nil }
func (s *sink) WriteHeader(int)             {}

var noop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

// begin attaches the exchange, as the first filter of a stack does.
func begin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, w, r, owner := filter.Begin(w, r)
		defer owner.End()
		next.ServeHTTP(w, r)
	})
}

// routers returns, for n mounts "/app0" ... "/app<n-1>", the same mounts
// on this mux (bare, and inside a stack that attached the exchange), on
// chi's Mount, on Go's ServeMux, and on a ServeMux whose entries strip
// their prefix with http.StripPrefix.
func routers(n int) []struct {
	name string
	h    http.Handler
} {
	m := mux.New()
	c := chi.NewRouter()
	sm := http.NewServeMux()
	sp := http.NewServeMux()
	for i := 0; i < n; i++ {
		p := "/app" + strconv.Itoa(i)
		m.Mount(p, noop)
		c.Mount(p, noop)
		sm.Handle(p+"/", noop)
		sp.Handle(p+"/", http.StripPrefix(p, noop))
	}
	// The stack case times the mux alone: the exchange is attached
	// outside the timed handler's cost by a filter every stack has.
	return []struct {
		name string
		h    http.Handler
	}{
		{"mux", m},
		{"mux-in-stack", begin(m)},
		{"begin-only", begin(noop)},
		{"chi.Mount", c},
		{"ServeMux", sm},
		{"ServeMux+StripPrefix", sp},
	}
}

// BenchmarkMount dispatches a request to one of n mounted apps, for this
// mux and its peers. The lookup cost should not grow with n.
func BenchmarkMount(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		target := "/app" + strconv.Itoa(n/2) + "/users/7"
		for _, rt := range routers(n) {
			b.Run(strconv.Itoa(n)+"/"+rt.name, func(b *testing.B) {
				w := &sink{h: make(http.Header)}
				r := filtertest.Get(target)
				b.ReportAllocs()
				for b.Loop() {
					rt.h.ServeHTTP(w, r)
				}
			})
		}
	}
}

// BenchmarkHosts dispatches by host among 1000 hosts and a wildcard.
func BenchmarkHosts(b *testing.B) {
	m := mux.New()
	for i := 0; i < 1000; i++ {
		m.Mount("h"+strconv.Itoa(i)+".example.com/", noop)
	}
	m.Mount("*.tenants.example.com/", noop)
	m.Mount("/", noop)
	for _, host := range []string{"h500.example.com", "acme.tenants.example.com", "other.example.org"} {
		b.Run(host, func(b *testing.B) {
			w := &sink{h: make(http.Header)}
			r := filtertest.Get("/x")
			r.Host = host
			b.ReportAllocs()
			for b.Loop() {
				m.ServeHTTP(w, r)
			}
		})
	}
}

// BenchmarkUncleanPath times the slow path: a path that must be cleaned.
func BenchmarkUncleanPath(b *testing.B) {
	m := mux.New()
	m.Mount("/a", noop)
	w := &sink{h: make(http.Header)}
	r := filtertest.Get("/x/../a/./b//c")
	b.ReportAllocs()
	for b.Loop() {
		m.ServeHTTP(w, r)
	}
}

func TestDispatchAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not stable under the race detector")
	}
	m := mux.New()
	for i := 0; i < 100; i++ {
		m.Mount("/app"+strconv.Itoa(i), noop)
	}
	w := &sink{h: make(http.Header)}
	r := filtertest.Get("/app50/users/7")
	for _, tc := range []struct {
		name string
		h    http.Handler
		max  float64
	}{
		{"begin alone", begin(noop), 2},
		{"a mux alone (it attaches the exchange)", m, 2},
		{"a mux in a stack", begin(m), 3},
	} {
		got := testing.AllocsPerRun(200, func() { tc.h.ServeHTTP(w, r) })
		if got > tc.max {
			t.Errorf("%s: %v allocs per request, want at most %v", tc.name, got, tc.max)
		}
	}
}
