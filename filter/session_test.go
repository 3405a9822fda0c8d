package filter_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
)

// mapSessions is a Sessions on a map, for one request at a time.
type mapSessions struct{ m map[string]any }

func (s *mapSessions) GetString(_ *http.Request, key string) string {
	v, _ := s.m[key].(string)
	return v
}
func (s *mapSessions) Put(_ *http.Request, key string, val any) error { s.m[key] = val; return nil }
func (s *mapSessions) Remove(_ *http.Request, key string) error       { delete(s.m, key); return nil }
func (s *mapSessions) RenewToken(*http.Request) error                 { return nil }
func (s *mapSessions) Destroy(*http.Request) error                    { clear(s.m); return errors.New("destroyed") }

func TestSessionsOfWithoutAnExchangeIsNil(t *testing.T) {
	if s := filter.SessionsOf(filtertest.Get("/")); s != nil {
		t.Errorf("SessionsOf = %v, want nil", s)
	}
	filter.SetSessions(nil, &mapSessions{}) // must not panic
}

func TestSessionsOfFindsTheRegisteredService(t *testing.T) {
	svc := &mapSessions{m: map[string]any{"user": "ana"}}
	var got filter.Sessions
	var before filter.Sessions
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, r, owner := filter.Begin(w, r)
		defer owner.End()
		before = filter.SessionsOf(r)
		filter.SetSessions(x, svc)
		got = filter.SessionsOf(r)
		_ = w
	})
	h.ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/"))
	if before != nil {
		t.Errorf("before SetSessions: %v, want nil", before)
	}
	if got != svc {
		t.Fatalf("SessionsOf = %v, want the registered service", got)
	}
	if u := got.GetString(nil, "user"); u != "ana" {
		t.Errorf("GetString = %q", u)
	}
}

// TestSessionsAlloc compares with a bare exchange, so it holds with the
// race detector on as well.
func TestSessionsAlloc(t *testing.T) {
	svc := &mapSessions{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, _, r, owner := filter.Begin(w, r)
		defer owner.End()
		filter.SetSessions(x, svc)
		if filter.SessionsOf(r) == nil {
			t.Error("no service")
		}
	})
	rec := filtertest.NewRecorder()
	r := filtertest.Get("/")
	h.ServeHTTP(rec, r) // warm the pool
	base := testing.AllocsPerRun(100, func() {
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _, _, owner := filter.Begin(w, r)
			defer owner.End()
		}).ServeHTTP(rec, r)
	})
	n := testing.AllocsPerRun(100, func() { h.ServeHTTP(rec, r) })
	if n > base {
		t.Errorf("%v allocations per request with SetSessions and SessionsOf, %v without", n, base)
	}
}
