package session_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"

	"github.com/wsapi-go/wsapi/filters/session"
)

// discard is a ResponseWriter that keeps nothing.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

var okBody = []byte("ok")

// The apps of the four cases, each for our accessors and for scs's.
var (
	readOurs = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = session.GetInt(r, "n")
		w.Write(okBody)
	})
	writeOurs = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.Put(r, "n", session.GetInt(r, "n")+1)
		w.Write(okBody)
	})
)

func scsApps(m *scs.SessionManager) (read, write http.Handler) {
	read = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = m.GetInt(r.Context(), "n")
		w.Write(okBody)
	})
	write = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.Put(r.Context(), "n", m.GetInt(r.Context(), "n")+1)
		w.Write(okBody)
	})
	return read, write
}

// manager returns an scs manager with the settings session.New uses, but
// no idle timeout: with one, scs saves every loaded session on every
// request, and the read-only case would measure a write.
func configure(m *scs.SessionManager) *scs.SessionManager {
	m.IdleTimeout = 0
	return m
}

// existing returns a cookie for a session saved through h.
func existing(b *testing.B, h http.Handler) *http.Cookie {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	cs := rec.Result().Cookies()
	if len(cs) == 0 {
		b.Fatal("no session cookie")
	}
	return cs[0]
}

func run(b *testing.B, h http.Handler, ck *http.Cookie) {
	b.Helper()
	w := &discard{h: http.Header{}}
	r := httptest.NewRequest("GET", "/", nil)
	if ck != nil {
		r.AddCookie(ck)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.ServeHTTP(w, r)
		clear(w.h)
	}
}

// BenchmarkSession compares the filter with scs's own LoadAndSave, on the
// memory store, in the four cases of a session's life, and for a request
// that never uses its session.
func BenchmarkSession(b *testing.B) {
	ours := session.New(memstore.NewWithCleanupInterval(0))
	configure(ours.Manager)
	ours.MaxSize = 0 // scs has no size cap; compare like with like
	m := configure(scs.New())
	m.Store = memstore.NewWithCleanupInterval(0)
	m.HashTokenInStore = true
	scsRead, scsWrite := scsApps(m)

	oursRead, oursWrite := ours.Wrap(readOurs), ours.Wrap(writeOurs)
	theirsRead, theirsWrite := m.LoadAndSave(scsRead), m.LoadAndSave(scsWrite)
	oursCookie, theirsCookie := existing(b, oursWrite), existing(b, theirsWrite)

	// A request that never asks for its session (an API call, a static
	// file): the filter makes none.
	unused := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	b.Run("no-cookie-unused/wsapi", func(b *testing.B) { run(b, ours.Wrap(unused), nil) })
	b.Run("no-cookie-unused/scs", func(b *testing.B) { run(b, m.LoadAndSave(unused), nil) })
	b.Run("no-cookie/wsapi", func(b *testing.B) { run(b, oursRead, nil) })
	b.Run("no-cookie/scs", func(b *testing.B) { run(b, theirsRead, nil) })
	b.Run("read-only/wsapi", func(b *testing.B) { run(b, oursRead, oursCookie) })
	b.Run("read-only/scs", func(b *testing.B) { run(b, theirsRead, theirsCookie) })
	b.Run("modified/wsapi", func(b *testing.B) { run(b, oursWrite, oursCookie) })
	b.Run("modified/scs", func(b *testing.B) { run(b, theirsWrite, theirsCookie) })
	b.Run("new-session/wsapi", func(b *testing.B) { run(b, oursWrite, nil) })
	b.Run("new-session/scs", func(b *testing.B) { run(b, theirsWrite, nil) })
}
