package filtertest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
)

// fakeTB collects what Lint reports to a test.
type fakeTB struct {
	testing.TB // nil: only the methods below may be called
	mu         sync.Mutex
	errors     []string
}

func (tb *fakeTB) Helper() {}

func (tb *fakeTB) Errorf(format string, args ...any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.errors = append(tb.errors, fmt.Sprintf(format, args...))
}

var shortBody = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Length", "10")
	w.Write([]byte("abc"))
})

var passOn = mw(func(next http.Handler, w http.ResponseWriter, r *http.Request) { next.ServeHTTP(w, r) })

func TestLintReportsToTheTestWithAPrefix(t *testing.T) {
	tb := new(fakeTB)
	lint := filtertest.NewLint(tb)
	lint.Wrap(shortBody).ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/short"))
	const want = "filtertest.Lint: GET /short: Content-Length is 10 but 3 body bytes were written"
	if len(tb.errors) != 1 || tb.errors[0] != want {
		t.Errorf("reported %q, want %q", tb.errors, want)
	}
	if ps := lint.Problems(); len(ps) != 1 || "filtertest.Lint: "+ps[0] != want {
		t.Errorf("Problems() = %q", ps)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		f    filter.Filter
		app  http.Handler
		want int // errors reported
	}{
		{"without a filter a correct app passes", nil, hello, 0},
		{"without a filter the app is checked", nil, shortBody, 1},
		{"with a filter a correct pair passes", passOn, hello, 0},
		{"with a filter the app behind it is checked", passOn, shortBody, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := new(fakeTB)
			filtertest.Check(tb, tt.f, tt.app).ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/"))
			if len(tb.errors) != tt.want {
				t.Errorf("reported %q, want %d errors", tb.errors, tt.want)
			}
		})
	}
}

func TestLintErr(t *testing.T) {
	lint := filtertest.NewLint(nil)
	if err := lint.Err(); err != nil {
		t.Errorf("Err() before any request = %v", err)
	}
	lint.Wrap(hello).ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/ok"))
	if err := lint.Err(); err != nil {
		t.Errorf("Err() after a correct request = %v", err)
	}
	lint.Wrap(shortBody).ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/a"))
	lint.Wrap(shortBody).ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/b"))
	const want = "filtertest.Lint: GET /a: Content-Length is 10 but 3 body bytes were written; " +
		"GET /b: Content-Length is 10 but 3 body bytes were written"
	if err := lint.Err(); err == nil || err.Error() != want {
		t.Errorf("Err() = %v, want %s", err, want)
	}
}

func TestProblemsReturnsACopy(t *testing.T) {
	lint := filtertest.NewLint(nil)
	lint.Wrap(shortBody).ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/"))
	lint.Problems()[0] = "changed"
	if lint.Problems()[0] == "changed" {
		t.Error("changing the result of Problems changed the Lint")
	}
}

func TestLintPanicsOnBuildMistakes(t *testing.T) {
	lint := filtertest.NewLint(nil)
	nilWrap := filter.Func(func(http.Handler) http.Handler { return nil })
	tests := []struct {
		name  string
		build func()
		want  string
	}{
		{"Wrap of nil", func() { lint.Wrap(nil) }, "filtertest: Lint.Wrap of a nil handler"},
		{"Around a nil filter", func() { lint.Around(nil, hello) }, "use Lint.Wrap"},
		{"Around a nil app", func() { lint.Around(passOn, nil) }, "nil app"},
		{"Around a filter that wraps into nil", func() { lint.Around(nilWrap, hello) }, "Wrap returned nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				p := recover()
				if s, _ := p.(string); !strings.Contains(s, tt.want) {
					t.Errorf("panic %v, want one containing %q", p, tt.want)
				}
			}()
			tt.build()
		})
	}
}

func TestLintIsSafeForConcurrentRequests(t *testing.T) {
	tb := new(fakeTB)
	lint := filtertest.NewLint(tb)
	h := lint.Around(passOn, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("bad") {
			shortBody(w, r)
			return
		}
		hello(w, r)
	}))
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			target := "/ok"
			if i%2 == 1 {
				target = "/bad?bad"
			}
			_, w := filtertest.NewWriter(filtertest.Abilities(i % 16))
			h.ServeHTTP(w, filtertest.Get(target))
		})
	}
	wg.Wait()
	if n := len(lint.Problems()); n != 32 {
		t.Errorf("%d problems, want 32", n)
	}
	if len(tb.errors) != 32 {
		t.Errorf("%d errors reported, want 32", len(tb.errors))
	}
}

func TestLintUnderARealServer(t *testing.T) {
	lint := filtertest.NewLint(nil)
	var (
		mu        sync.Mutex
		abilities filtertest.Abilities
	)
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		abilities = filtertest.AbilitiesOf(w)
		mu.Unlock()
		switch r.URL.Path {
		case "/stream":
			io.WriteString(w, "one")
			http.NewResponseController(w).Flush()
			io.WriteString(w, "two")
		case "/sized":
			w.Header().Set("Content-Length", "5")
			if r.Method != http.MethodHead {
				io.WriteString(w, "sized")
			}
		}
	})
	srv := httptest.NewServer(lint.Around(stamp{}, app))
	defer srv.Close()
	for _, req := range []struct{ method, path, body string }{
		{"GET", "/stream", "onetwo"},
		{"GET", "/sized", "sized"},
		{"HEAD", "/sized", ""},
		{"GET", "/empty", ""},
	} {
		r, _ := http.NewRequest(req.method, srv.URL+req.path, nil)
		res, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(b) != req.body || res.Header.Get("X-Stamp") != "200" {
			t.Errorf("%s %s: body %q, X-Stamp %q", req.method, req.path, b, res.Header.Get("X-Stamp"))
		}
	}
	assertProblems(t, lint)
	mu.Lock()
	defer mu.Unlock()
	if want := filtertest.Flusher | filtertest.Hijacker | filtertest.ReaderFrom; abilities != want {
		t.Errorf("the app's writer has %v, want the server's %v", abilities, want)
	}
}

func TestLintOverHTTPTestsRecorderSeesNoHeaderChange(t *testing.T) {
	// httptest.ResponseRecorder adds a sniffed Content-Type to the header
	// map on the first Write; that is the server's doing, not the handler's.
	lint := filtertest.NewLint(nil)
	rec := httptest.NewRecorder()
	lint.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<p>hi</p>"))
		w.Write([]byte("<p>again</p>"))
	})).ServeHTTP(rec, filtertest.Get("/"))
	assertProblems(t, lint)
	if rec.Header().Get("Content-Type") == "" {
		t.Error("httptest.ResponseRecorder no longer sniffs the Content-Type; this test checks nothing")
	}
}
