package session_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
)

// The service registered on the exchange reaches the same session as the
// package's accessors: a login in one request is seen by the next.
func TestTheSessionServiceIsOnTheExchange(t *testing.T) {
	sessions := newSessions(t)
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := filter.SessionsOf(r)
		if s == nil {
			http.Error(w, "no session service", 500)
			return
		}
		switch r.URL.Path {
		case "/login":
			if err := s.RenewToken(r); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			if err := s.Put(r, "user", "ana"); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
		case "/forget":
			if err := s.Remove(r, "user"); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
		case "/logout":
			if err := s.Destroy(r); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
		}
		w.Write([]byte("user=" + s.GetString(r, "user")))
	})
	h := filtertest.Check(t, sessions, app)

	do := func(path string, ck *http.Cookie) (*filtertest.Recorder, *http.Cookie) {
		t.Helper()
		r := filtertest.Get(path)
		if ck != nil {
			r.AddCookie(ck)
		}
		rec := filtertest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
		}
		for _, line := range rec.SentHeader()["Set-Cookie"] {
			if c, err := http.ParseSetCookie(line); err == nil && c.Name == "session" {
				return rec, c
			}
		}
		return rec, ck
	}

	rec, ck := do("/login", nil)
	if rec.Body.String() != "user=ana" || ck == nil {
		t.Fatalf("login: %q, cookie %v", rec.Body.String(), ck)
	}
	rec, _ = do("/", ck)
	if rec.Body.String() != "user=ana" {
		t.Errorf("after login: %q", rec.Body.String())
	}
	rec, ck2 := do("/logout", ck)
	if rec.Body.String() != "user=" || ck2.MaxAge >= 0 {
		t.Errorf("logout: %q, cookie %v: want an empty session and a cleared cookie", rec.Body.String(), ck2)
	}
	rec, _ = do("/", ck)
	if rec.Body.String() != "user=" {
		t.Errorf("the old cookie after logout: %q", rec.Body.String())
	}
}

func TestTheSessionServiceReportsLateChanges(t *testing.T) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("x"))
		err := filter.SessionsOf(r).RenewToken(r)
		if err == nil || !strings.Contains(err.Error(), "headers") {
			t.Errorf("RenewToken after the headers: %v", err)
		}
		if err := filter.SessionsOf(r).Put(r, "k", "v"); err != nil {
			t.Errorf("Put after the headers: %v", err)
		}
	})
	newSessions(t).Wrap(app).ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/"))
}

func TestWithoutASessionFilterThereIsNoService(t *testing.T) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, _, r, owner := filter.Begin(w, r)
		defer owner.End()
		_ = x
		if s := filter.SessionsOf(r); s != nil {
			t.Errorf("SessionsOf = %v without a session filter", s)
		}
	})
	app.ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/"))
}
