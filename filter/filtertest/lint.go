package filtertest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
)

// Lint checks that a filter or an app keeps the contract of net/http and of
// package filter, after Rack::Lint and WSAPI's own checks. It sits around
// the handler under test and reports each broken rule as a problem. It
// changes nothing the handler sends, except that it drops writes made after
// the handler returned; Around also adds a value to the request's context,
// for its probe to find.
//
// [Lint.Wrap] checks the response from outside: that is, what the server
// would receive. [Lint.Around] also puts a probe between a filter and its
// app, so it checks what the filter does to the request and the writer on
// the way in. The checks:
//
//   - (Around) the filter calls the app at most once per request, and not
//     after it returned;
//   - no header changes after the headers were sent (trailers excepted:
//     keys starting with [http.TrailerPrefix] and keys declared in the
//     Trailer header);
//   - one final status, in 100..999; informational 1xx statuses may come
//     before it, but nothing after it;
//   - a Content-Length sent with the headers equals the body bytes written
//     by the end (not checked for HEAD, bodiless statuses or a hijack);
//   - no body bytes for HEAD requests, 1xx, 204 and 304 responses;
//   - no write, flush or WriteHeader after a hijack;
//   - (Around) the writer the app receives has the same [Abilities] as the
//     writer the server handed to Lint: the filter neither lost nor
//     invented an optional interface;
//   - (Around) the [filter.Env] of the request the app receives keeps its
//     invariants: SCRIPT_NAME is "" or starts with "/" and is not "/";
//     PATH_INFO is "" or starts with "/"; together they make the request
//     path; QUERY_STRING is present; CONTENT_TYPE and CONTENT_LENGTH do not
//     appear as HTTP_*;
//   - no use of the writer after the handler returned.
//
// The writer Lint hands on has exactly the optional interfaces of the one
// it was given, and Unwrap, so it does not disturb the abilities check or
// [http.ResponseController].
//
// A Lint is safe for concurrent requests; its problems accumulate across
// requests until the Lint is dropped.
type Lint struct {
	tb       testing.TB
	mu       sync.Mutex
	problems []string
}

var _ filter.Filter = (*Lint)(nil)

// NewLint returns a Lint that reports each problem with tb.Errorf, prefixed
// with "filtertest.Lint: ", and also keeps it for [Lint.Problems]. tb may be
// nil: then problems are only kept. With a tb, a problem found after the
// test finished (a write from a goroutine that outlived it) makes the
// testing package panic, as any late t.Errorf does.
func NewLint(tb testing.TB) *Lint { return &Lint{tb: tb} }

// Check returns f around app with a Lint reporting to tb:
// NewLint(tb).Around(f, app), or NewLint(tb).Wrap(app) when f is nil.
func Check(tb testing.TB, f filter.Filter, app http.Handler) http.Handler {
	l := NewLint(tb)
	if f == nil {
		return l.Wrap(app)
	}
	return l.Around(f, app)
}

// Wrap returns next with its responses checked from outside. It makes Lint
// a [filter.Filter], so it can sit anywhere in a stack.
func (l *Lint) Wrap(next http.Handler) http.Handler {
	if next == nil {
		panic("filtertest: Lint.Wrap of a nil handler")
	}
	return l.outer(next, false)
}

// Around returns f wrapped around app, checked from outside as by
// [Lint.Wrap], and with a probe between f and app that checks the request
// and the writer f hands to app. Around calls f.Wrap once.
func (l *Lint) Around(f filter.Filter, app http.Handler) http.Handler {
	if f == nil {
		panic("filtertest: Lint.Around with a nil filter; use Lint.Wrap to check an app alone")
	}
	if app == nil {
		panic("filtertest: Lint.Around of a nil app")
	}
	h := f.Wrap(l.probe(app))
	if h == nil {
		panic("filtertest: Lint.Around: " + filter.NameOf(f) + ".Wrap returned nil")
	}
	return l.outer(h, true)
}

// Problems returns the problems found so far, in the order found. Each
// starts with the method and path of the request, as in
// "GET /a: Content-Length is 10 but 3 body bytes were written".
func (l *Lint) Problems() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.problems)
}

// Err returns nil when no problem was found, and otherwise an error that
// lists them all.
func (l *Lint) Err() error {
	ps := l.Problems()
	if len(ps) == 0 {
		return nil
	}
	return errors.New("filtertest.Lint: " + strings.Join(ps, "; "))
}

// report records a problem about r and passes it to the test.
func (l *Lint) report(r *http.Request, format string, args ...any) {
	method, path := r.Method, ""
	if method == "" {
		method = http.MethodGet
	}
	if r.URL != nil {
		path = r.URL.Path
	}
	p := method + " " + path + ": " + fmt.Sprintf(format, args...)
	l.mu.Lock()
	l.problems = append(l.problems, p)
	l.mu.Unlock()
	if l.tb != nil {
		l.tb.Helper()
		l.tb.Errorf("filtertest.Lint: %s", p)
	}
}

// stateKey finds a request's lintWriter from the probe; it holds the Lint
// so that nested Lints keep apart.
type stateKey struct{ l *Lint }

// outer returns next behind a checking writer. With probe, the request
// carries the writer's state for the probe of [Lint.Around].
func (l *Lint) outer(next http.Handler, probe bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := &lintWriter{l: l, r: r, w: w, ab: AbilitiesOf(w)}
		if probe {
			r = r.WithContext(context.WithValue(r.Context(), stateKey{l}, s))
		}
		returned := false
		defer func() {
			if !returned { // a panic: let it go on; no end checks
				s.done.Store(true)
			}
		}()
		next.ServeHTTP(composeUnwrap(s, s.ab), r)
		returned = true
		s.finish()
	})
}
