package auth_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/auth"
	"github.com/wsapi-go/wsapi/filters/session"
)

// browser is a site with session login, apps that read and write the
// session, and a client with a cookie jar.
type browser struct {
	srv     *httptest.Server
	client  *http.Client
	entered chan struct{} // /slow has started
	release chan struct{} // lets /slow finish
}

func newBrowser(t *testing.T, a *auth.Filter) *browser {
	t.Helper()
	b := &browser{entered: make(chan struct{}, 1), release: make(chan struct{})}
	stack := wsapi.New(filtertest.NewLint(t), newSessions(t), a)
	r := chi.NewRouter()
	r.Use(stack.Wrap)
	r.Post("/login", a.LoginHandler().ServeHTTP)
	r.Post("/logout", a.LogoutHandler().ServeHTTP)
	r.Post("/put", func(w http.ResponseWriter, r *http.Request) {
		session.Put(r, "data", r.URL.Query().Get("v"))
	})
	r.Get("/slow", func(w http.ResponseWriter, r *http.Request) {
		b.entered <- struct{}{}
		<-b.release
		session.Put(r, "last_seen", "now") // any write saves the session
	})
	r.Get("/me", func(w http.ResponseWriter, r *http.Request) {
		name := "-"
		if id := auth.IdentityOf(r); id != nil {
			name = id.Name
		}
		io.WriteString(w, name+" data="+session.GetString(r, "data"))
	})
	b.srv = httptest.NewServer(r)
	t.Cleanup(b.srv.Close)
	jar, _ := cookiejar.New(nil)
	b.client = b.srv.Client()
	b.client.Jar = jar
	b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return b
}

func (b *browser) post(t *testing.T, path string, form url.Values) *http.Response {
	t.Helper()
	res, err := b.client.PostForm(b.srv.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// me returns what /me answers with the jar's cookies, or with cookies
// when given.
func (b *browser) me(t *testing.T, cookies ...*http.Cookie) string {
	t.Helper()
	req, _ := http.NewRequest("GET", b.srv.URL+"/me", nil)
	c := b.client
	if cookies != nil {
		c = b.srv.Client()
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return string(body)
}

func (b *browser) cookies() []*http.Cookie {
	u, _ := url.Parse(b.srv.URL)
	return b.client.Jar.Cookies(u)
}

func (b *browser) login(t *testing.T, user, pass string) {
	t.Helper()
	if res := b.post(t, "/login", url.Values{"username": {user}, "password": {pass}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login as %s: %d", user, res.StatusCode)
	}
}

// A request in flight at logout saves the old session again when it
// ends; the login it holds stays ended, for the old token and for the
// browser that got it back.
func TestALogoutIsNotUndoneByARequestInFlight(t *testing.T) {
	users := testUsers(t)
	b := newBrowser(t, auth.New(auth.NewSession(users)))
	b.login(t, "ana", anaPass)
	if got := b.me(t); got != "ana data=" {
		t.Fatalf("after login: %q", got)
	}
	old := b.cookies()
	done := make(chan struct{})
	go func() {
		defer close(done)
		res, err := b.client.Get(b.srv.URL + "/slow")
		if err == nil {
			res.Body.Close()
		}
	}()
	<-b.entered
	if res := b.post(t, "/logout", nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	close(b.release)
	<-done
	if got := b.me(t, old...); !strings.HasPrefix(got, "- ") {
		t.Errorf("the old token after logout: %q, want anonymous", got)
	}
	if got := b.me(t); !strings.HasPrefix(got, "- ") {
		t.Errorf("the browser after logout: %q, want anonymous", got)
	}
	// A new login works.
	b.login(t, "ana", anaPass)
	if got := b.me(t); got != "ana data=" {
		t.Errorf("a new login: %q", got)
	}
}

// Logging in starts an empty session with a new token, written to the
// client: nothing of the previous user's session, or of data put in it
// before login, carries over.
func TestLoginStartsAFreshSession(t *testing.T) {
	b := newBrowser(t, auth.New(auth.NewSession(testUsers(t))))
	b.login(t, "ana", anaPass)
	b.post(t, "/put?v=ana's", nil)
	if got := b.me(t); got != "ana data=ana's" {
		t.Fatalf("ana's session: %q", got)
	}
	anas := b.cookies()
	b.login(t, "bob", bobPass)
	if got := b.me(t); got != "bob data=" {
		t.Errorf("bob after ana on the same browser: %q, want none of ana's data", got)
	}
	if len(b.cookies()) != 1 || b.cookies()[0].Value == anas[0].Value {
		t.Errorf("the session cookie was not renewed: %v then %v", anas, b.cookies())
	}
	if got := b.me(t, anas...); !strings.HasPrefix(got, "- ") {
		t.Errorf("ana's old token after bob's login: %q", got)
	}

	// Data planted before login is dropped by default...
	b = newBrowser(t, auth.New(auth.NewSession(testUsers(t))))
	b.post(t, "/put?v=planted", nil)
	b.login(t, "ana", anaPass)
	if got := b.me(t); got != "ana data=" {
		t.Errorf("data put before login: %q, want it dropped", got)
	}

	// ...and kept, under a new token, with LoginKeepsData.
	a := auth.New(auth.NewSession(testUsers(t)))
	a.LoginKeepsData = true
	b = newBrowser(t, a)
	b.post(t, "/put?v=cart", nil)
	before := b.cookies()
	b.login(t, "ana", anaPass)
	if got := b.me(t); got != "ana data=cart" {
		t.Errorf("LoginKeepsData: %q, want the cart kept", got)
	}
	if len(before) != 1 || b.cookies()[0].Value == before[0].Value {
		t.Errorf("LoginKeepsData: the token was not renewed")
	}
	// Another user's login is dropped even so.
	b.post(t, "/put?v=ana's", nil)
	b.login(t, "bob", bobPass)
	if got := b.me(t); got != "bob data=" {
		t.Errorf("LoginKeepsData, bob after ana: %q, want none of ana's data", got)
	}
}

// A password changed in the htpasswd file ends the sessions logged in
// with the old one.
func TestAPasswordChangeEndsTheSessions(t *testing.T) {
	a0, b0 := hashes()
	path := writeFile(t, "ana:"+a0+"\nbob:"+b0+"\n")
	users := &auth.Htpasswd{File: path, CheckEvery: -1}
	if err := users.Load(); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, auth.New(auth.NewSession(users)))
	b.login(t, "ana", anaPass)
	if got := b.me(t); got != "ana data=" {
		t.Fatalf("after login: %q", got)
	}
	// bob's line changes, not ana's: ana stays logged in.
	setFile(t, path, "ana:"+a0+"\nbob:"+a0+"\n", time.Now().Add(-time.Hour))
	if got := b.me(t); got != "ana data=" {
		t.Errorf("after another user's change: %q", got)
	}
	// ana's password changes (her new hash is bob's old one).
	setFile(t, path, "ana:"+b0+"\nbob:"+a0+"\n", time.Now().Add(-time.Minute))
	if got := b.me(t); !strings.HasPrefix(got, "- ") {
		t.Errorf("after ana's password changed: %q, want anonymous", got)
	}
	b.login(t, "ana", bobPass)
	if got := b.me(t); got != "ana data=" {
		t.Errorf("a login with the new password: %q", got)
	}
}

func TestLogoutWithoutASessionFilter(t *testing.T) {
	a := auth.New(auth.NewBasic(testUsers(t)))
	for _, accept := range []string{"", "text/html"} {
		r := filtertest.NewRequest("POST", "/logout", nil)
		r.Header.Set("Accept", accept)
		if rec := serve(a.LogoutHandler(), r); rec.Code != 500 {
			t.Errorf("Accept %q: %d, want 500", accept, rec.Code)
		}
	}
}
