package auth_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/auth"
	"github.com/wsapi-go/wsapi/filters/session"
)

// discard is a ResponseWriter that keeps nothing.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

var okBody, anonBody = []byte("ok"), []byte("anonymous")

// named answers "ok" when the request has an identity (or when chi let
// it in: chi's BasicAuth leaves none), "anonymous" otherwise.
var named = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if auth.IdentityOf(r) == nil && r.Header.Get("Authorization") == "" {
		w.Write(anonBody)
		return
	}
	w.Write(okBody)
})

// sessionUser reads the session as an app would, for the session-only case.
var sessionUser = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_ = session.GetString(r, auth.SessionKey)
	w.Write(okBody)
})

func run(b *testing.B, h http.Handler, r *http.Request) {
	b.Helper()
	w := &discard{h: http.Header{}}
	h.ServeHTTP(w, r)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.ServeHTTP(w, r)
		clear(w.h)
	}
}

// allocs returns the allocations per request of h on r.
func allocs(h http.Handler, r *http.Request) float64 {
	w := &discard{h: http.Header{}}
	h.ServeHTTP(w, r)
	return testing.AllocsPerRun(200, func() {
		h.ServeHTTP(w, r)
		clear(w.h)
	})
}

// BenchmarkBasic compares a Basic check whose bcrypt verification is
// cached with chi's middleware.BasicAuth, which compares plain-text
// passwords.
func BenchmarkBasic(b *testing.B) {
	users := testUsers(b)
	ours := auth.New(auth.NewBasic(users)).Wrap(named)
	theirs := middleware.BasicAuth("restricted", map[string]string{"ana": anaPass})(named)
	good := get("/", basicHeader("ana", anaPass))
	b.Run("pass-through/wsapi", func(b *testing.B) { run(b, ours, get("/", "")) })
	b.Run("cached/wsapi", func(b *testing.B) { run(b, ours, good) })
	b.Run("plain/chi", func(b *testing.B) { run(b, theirs, good) })
	// In a stack, an outer filter (logging, session) has attached the
	// exchange already; both run behind the same one.
	b.Run("in-stack/cached/wsapi", func(b *testing.B) { run(b, outer(ours), good) })
	b.Run("in-stack/plain/chi", func(b *testing.B) { run(b, outer(theirs), good) })
}

// outer attaches the exchange, as the outermost filter of a stack does.
func outer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, w, r, owner := filter.Begin(w, r)
		defer owner.End()
		next.ServeHTTP(w, r)
	})
}

// BenchmarkBearer measures a known token.
func BenchmarkBearer(b *testing.B) {
	tok, hash := auth.NewToken()
	bearer := auth.NewBearer()
	bearer.Add(hash, auth.Identity{Name: "ci", Scopes: []string{"deploy"}})
	h := auth.New(bearer).Wrap(named)
	b.Run("token/wsapi", func(b *testing.B) { run(b, h, get("/", "Bearer "+tok)) })
	b.Run("token+scope/wsapi", func(b *testing.B) {
		run(b, auth.New(bearer).Wrap(auth.RequireScope("deploy").Wrap(named)), get("/", "Bearer "+tok))
	})
}

// sessionStacks returns a session-only handler, the same with auth's
// Session strategy inside, and a request with a logged-in session.
func sessionStacks(tb testing.TB) (only, withAuth http.Handler, r *http.Request) {
	users := testUsers(tb)
	sessions := newSessions(tb)
	sessions.Manager.IdleTimeout = 0 // no save on every read, as in the session benchmarks
	a := auth.New(auth.NewSession(users))
	only = sessions.Wrap(sessionUser)
	withAuth = sessions.Wrap(a.Wrap(named))

	login := filtertest.PostForm("/login", url.Values{"username": {"ana"}, "password": {anaPass}})
	rec := filtertest.NewRecorder()
	sessions.Wrap(a.LoginHandler()).ServeHTTP(rec, login)
	r = filtertest.Get("/")
	for _, line := range rec.SentHeader()["Set-Cookie"] {
		if c, err := http.ParseSetCookie(line); err == nil {
			r.AddCookie(c)
		}
	}
	return only, withAuth, r
}

// BenchmarkSession compares a session-only stack with the same stack and
// auth's Session strategy, on a logged-in session in the memory store.
func BenchmarkSession(b *testing.B) {
	only, withAuth, r := sessionStacks(b)
	b.Run("session-only", func(b *testing.B) { run(b, only, r) })
	b.Run("session+auth/wsapi", func(b *testing.B) { run(b, withAuth, r) })
}

func TestBearerAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes what allocates")
	}
	tok, hash := auth.NewToken()
	bearer := auth.NewBearer()
	bearer.Add(hash, auth.Identity{Name: "ci"})
	r := get("/", "Bearer "+tok)
	h := auth.New(bearer).Wrap(named)
	if w := serve(h, r); w.Body.String() != "ok" {
		t.Fatalf("not authenticated: %q", w.Body.String())
	}
	if n := allocs(h, r); n > 2 {
		t.Errorf("a bearer check allocates %v times, want at most 2", n)
	}
}

func TestBasicCachedAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes what allocates")
	}
	r := get("/", basicHeader("ana", anaPass))
	h := auth.New(auth.NewBasic(testUsers(t))).Wrap(named)
	if w := serve(h, r); w.Body.String() != "ok" {
		t.Fatalf("not authenticated: %q", w.Body.String())
	}
	if n := allocs(h, r); n > 2 {
		t.Errorf("a cached Basic check allocates %v times, want at most 2 (the exchange's)", n)
	}
}

func TestSessionIdentityAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes what allocates")
	}
	only, withAuth, r := sessionStacks(t)
	if w := serve(withAuth, r); w.Body.String() != "ok" {
		t.Fatalf("not logged in: %q", w.Body.String())
	}
	base, n := allocs(only, r), allocs(withAuth, r)
	if n > base {
		t.Errorf("the session identity check allocates %v times beyond the session filter's %v", n-base, base)
	}
}
