package auth_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/auth"
)

func TestRequireAnswersBrowsersAndAPIClients(t *testing.T) {
	a := auth.New(auth.NewBasic(testUsers(t)))
	a.LoginPath = "/login"
	h := filtertest.Check(t, a, auth.Require().Wrap(whoami))

	api := serve(h, get("/report?year=2024", ""))
	if api.Code != 401 || api.SentHeader().Get("WWW-Authenticate") == "" {
		t.Errorf("an API client: %d, WWW-Authenticate %q", api.Code, api.SentHeader().Get("WWW-Authenticate"))
	}

	r := get("/report?year=2024", "")
	r.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	browser := serve(h, r)
	want := "/login?next=" + url.QueryEscape("/report?year=2024")
	if browser.Code != http.StatusSeeOther || browser.SentHeader().Get("Location") != want {
		t.Errorf("a browser: %d to %q, want 303 to %q", browser.Code, browser.SentHeader().Get("Location"), want)
	}

	// A browser that posts is sent to the login page without a return path.
	r = filtertest.PostForm("/report", url.Values{"x": {"1"}})
	r.Header.Set("Accept", "text/html")
	if rec := serve(h, r); rec.SentHeader().Get("Location") != "/login" {
		t.Errorf("a browser's POST: Location %q", rec.SentHeader().Get("Location"))
	}

	if rec := serve(h, get("/report", basicHeader("bob", bobPass))); rec.Code != 200 || rec.Body.String() != "bob bob bob" {
		t.Errorf("with an identity: %d %q", rec.Code, rec.Body.String())
	}
}

func TestRequireFuncAndAFailureApp(t *testing.T) {
	a := auth.New(auth.NewBasic(testUsers(t)))
	var got []auth.Denial
	a.FailureHandler = func(w http.ResponseWriter, r *http.Request, d auth.Denial) {
		got = append(got, d)
		w.WriteHeader(418)
	}
	ownPath := auth.RequireFunc(func(r *http.Request, id *auth.Identity) bool {
		return strings.HasPrefix(r.URL.Path, "/"+id.Name+"/")
	})
	h := filtertest.Check(t, a, ownPath.Wrap(whoami))
	if rec := serve(h, get("/bob/notes", basicHeader("bob", bobPass))); rec.Code != 200 {
		t.Errorf("bob's own page: %d", rec.Code)
	}
	if rec := serve(h, get("/ana/notes", basicHeader("bob", bobPass))); rec.Code != 418 {
		t.Errorf("ana's page for bob: %d", rec.Code)
	}
	if rec := serve(h, get("/ana/notes", "")); rec.Code != 418 {
		t.Errorf("anonymous: %d", rec.Code)
	}
	if len(got) != 2 || got[0].Status != 403 || got[0].Err != auth.ErrForbidden ||
		got[1].Status != 401 || got[1].Err != auth.ErrUnauthenticated || len(got[1].Challenges) != 1 {
		t.Errorf("denials %+v", got)
	}
}

func TestRulesWithoutAnAuthFilterFailClosed(t *testing.T) {
	for _, rule := range []*auth.Rule{auth.Require(), auth.RequireRole("admin"), auth.RequireScope("x"),
		auth.RequireFunc(func(*http.Request, *auth.Identity) bool { return true })} {
		if rec := serve(rule.Wrap(whoami), get("/", basicHeader("ana", anaPass))); rec.Code != 401 {
			t.Errorf("%s alone: %d, want 401", rule.Name(), rec.Code)
		}
	}
}

func TestRulesPerRouteOnChi(t *testing.T) {
	a := auth.New(auth.NewBasic(testUsers(t)))
	r := chi.NewRouter()
	r.Use(a.Wrap)
	r.Get("/", whoami)
	r.With(auth.RequireRole("admin").Wrap).Get("/admin", whoami)
	for _, tc := range []struct {
		path, header string
		status       int
	}{
		{"/", "", 200},
		{"/admin", "", 401},
		{"/admin", basicHeader("bob", bobPass), 403},
		{"/admin", basicHeader("ana", anaPass), 200},
	} {
		if rec := serve(r, get(tc.path, tc.header)); rec.Code != tc.status {
			t.Errorf("%s %q: %d, want %d", tc.path, tc.header, rec.Code, tc.status)
		}
	}
}

func TestAStackChecksTheNeeds(t *testing.T) {
	sessions := newSessions(t)
	a := auth.New(auth.NewSession(nil))
	mustPanic := func(name string, s wsapi.Stack, want string) {
		t.Helper()
		defer func() {
			p := recover()
			if p == nil || !strings.Contains(fmt.Sprint(p), want) {
				t.Errorf("%s: panic %v, want one with %q", name, p, want)
			}
		}()
		s.Then(whoami)
	}
	mustPanic("no session filter", wsapi.New(a), "no filter provides it")
	mustPanic("the session filter inside auth", wsapi.New(a, sessions), "move session before auth")
	mustPanic("a rule before auth", wsapi.New(sessions, auth.Require(), a), "move auth before auth.Require")
	wsapi.New(sessions, a, auth.RequireRole("admin")).Then(whoami) // must not panic

	// Basic and Bearer alone need nothing.
	if n := auth.New(auth.NewBasic(testUsers(t)), auth.NewBearer()).Needs(); len(n) != 0 {
		t.Errorf("Needs without a session strategy: %v", n)
	}
}

// An empty list of roles or scopes is a mistake (a value missing from a
// configuration): both panic rather than let everyone, or no one, in.
func TestEmptyRoleAndScopeListsPanic(t *testing.T) {
	for name, f := range map[string]func(){
		"RequireRole()":  func() { auth.RequireRole() },
		"RequireScope()": func() { auth.RequireScope([]string{}...) },
	} {
		func() {
			defer func() {
				if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "Require()") {
					t.Errorf("%s: panic %v", name, p)
				}
			}()
			f()
		}()
	}
}
