package auth_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2/memstore"
	"github.com/go-chi/chi/v5"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/auth"
	"github.com/wsapi-go/wsapi/filters/session"
)

func newSessions(t testing.TB) *session.Filter {
	t.Helper()
	return session.New(memstore.NewWithCleanupInterval(0))
}

// site is an app with session login: /login (POST), /logout (POST), /me
// (requires an identity), /admin (requires the admin role), and / (open).
type site struct {
	srv    *httptest.Server
	client *http.Client
	auth   *auth.Filter
}

func newSite(t *testing.T, configure func(a *auth.Filter)) *site {
	t.Helper()
	users := testUsers(t)
	a := auth.New(auth.NewSession(users), auth.NewBasic(users))
	a.LoginPath = "/login"
	if configure != nil {
		configure(a)
	}
	stack := wsapi.New(filtertest.NewLint(t), newSessions(t), a)
	r := chi.NewRouter()
	r.Use(stack.Wrap)
	r.Get("/", whoami)
	r.Post("/login", a.LoginHandler().ServeHTTP)
	r.Post("/logout", a.LogoutHandler().ServeHTTP)
	r.With(auth.Require().Wrap).Get("/me", whoami)
	r.With(auth.RequireRole("admin").Wrap).Get("/admin", whoami)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &site{srv: srv, client: c, auth: a}
}

func (s *site) do(t *testing.T, method, path, contentType, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(b)
}

func (s *site) form(t *testing.T, path string, v url.Values) (*http.Response, string) {
	t.Helper()
	return s.do(t, "POST", path, "application/x-www-form-urlencoded", v.Encode(), "Accept", "text/html")
}

func (s *site) cookie() string {
	u, _ := url.Parse(s.srv.URL)
	for _, c := range s.client.Jar.Cookies(u) {
		if c.Name == "session" {
			return c.Value
		}
	}
	return ""
}

func TestSessionLoginWithAForm(t *testing.T) {
	s := newSite(t, nil)
	// A session exists before login (planted, say): login must renew it.
	res, _ := s.do(t, "GET", "/me", "", "", "Accept", "text/html")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login?next=%2Fme" {
		t.Fatalf("/me before login: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	s.form(t, "/login", url.Values{"username": {"ana"}, "password": {"wrong"}})
	before := s.cookie()

	res, _ = s.form(t, "/login", url.Values{"username": {"ana"}, "password": {anaPass}, "next": {"/me"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/me" {
		t.Fatalf("login: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	after := s.cookie()
	if after == "" || after == before {
		t.Errorf("the session token was not renewed at login (%q before, %q after)", before, after)
	}
	if res, body := s.do(t, "GET", "/me", "", ""); res.StatusCode != 200 || body != "ana ana ana" {
		t.Errorf("/me after login: %d %q", res.StatusCode, body)
	}
	if res, _ := s.do(t, "GET", "/admin", "", ""); res.StatusCode != 200 {
		t.Errorf("/admin for ana: %d", res.StatusCode)
	}

	res, _ = s.do(t, "POST", "/logout", "", "", "Accept", "text/html")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Errorf("logout: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := s.do(t, "GET", "/me", "", ""); res.StatusCode != 401 {
		t.Errorf("/me after logout: %d", res.StatusCode)
	}
}

func TestSessionLoginWithJSON(t *testing.T) {
	s := newSite(t, nil)
	res, body := s.do(t, "POST", "/login", "application/json", `{"username":"bob","password":"`+bobPass+`"}`)
	var got map[string]string
	if err := json.Unmarshal([]byte(body), &got); err != nil || res.StatusCode != 200 || got["user"] != "bob" || got["next"] != "/" {
		t.Fatalf("login: %d %q (%v)", res.StatusCode, body, err)
	}
	if res, _ := s.do(t, "GET", "/admin", "", ""); res.StatusCode != http.StatusForbidden {
		t.Errorf("/admin for bob: %d", res.StatusCode)
	}
	res, body = s.do(t, "POST", "/login", "application/json", `{"username":"bob","password":"nope"}`)
	if res.StatusCode != 401 || !strings.Contains(body, `"error"`) {
		t.Errorf("a wrong password: %d %q", res.StatusCode, body)
	}
	if res, _ := s.do(t, "POST", "/logout", "", ""); res.StatusCode != http.StatusNoContent {
		t.Errorf("logout: %d", res.StatusCode)
	}
	if res, _ := s.do(t, "GET", "/me", "", ""); res.StatusCode != 401 {
		t.Errorf("/me after logout: %d", res.StatusCode)
	}
}

func TestLoginRefusesBadRequests(t *testing.T) {
	s := newSite(t, nil)
	for _, tc := range []struct {
		name, method, ct, body string
		status                 int
	}{
		{"GET", "GET", "", "", 405},
		{"another content type", "POST", "text/plain", "username=ana", 415},
		{"multipart", "POST", "multipart/form-data; boundary=x", "--x--", 415},
		{"bad JSON", "POST", "application/json", `{"username":`, 400},
		{"no password", "POST", "application/x-www-form-urlencoded", "username=ana", 400},
		{"a user name with a newline", "POST", "application/x-www-form-urlencoded", "username=ana%0A&password=x", 400},
		{"a body over 4 KiB", "POST", "application/x-www-form-urlencoded", "username=ana&password=" + strings.Repeat("x", 4<<10), 413},
	} {
		res, body := s.do(t, tc.method, "/login", tc.ct, tc.body)
		if res.StatusCode != tc.status {
			t.Errorf("%s: %d %q, want %d", tc.name, res.StatusCode, body, tc.status)
		}
	}
	// At the limit, exactly: 4096 bytes are read.
	b := "username=bob&password=" + bobPass + "&pad="
	b += strings.Repeat("x", 4<<10-len(b))
	if res, body := s.do(t, "POST", "/login", "application/x-www-form-urlencoded", b); res.StatusCode != 303 {
		t.Errorf("a body of 4096 bytes: %d %q", res.StatusCode, body)
	}
	if res, _ := s.do(t, "POST", "/login", "application/x-www-form-urlencoded", b+"x"); res.StatusCode != 413 {
		t.Errorf("a body of 4097 bytes: %d", res.StatusCode)
	}
}

// A huge body sent without a Content-Length is cut off at the limit: the
// handler stops reading long before the end.
func TestLoginStopsReadingAHugeBody(t *testing.T) {
	a := auth.New(auth.NewBasic(testUsers(t)))
	pr, pw := io.Pipe()
	sent := make(chan int64, 1)
	go func() {
		var n int64
		chunk := []byte(strings.Repeat("x", 1024))
		pw.Write([]byte("username=ana&password="))
		for n < 100<<20 {
			if _, err := pw.Write(chunk); err != nil {
				break
			}
			n += int64(len(chunk))
		}
		pw.Close()
		sent <- n
	}()
	r := filtertest.NewRequest("POST", "/login", pr)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := serve(newSessions(t).Wrap(a.LoginHandler()), r)
	pr.CloseWithError(io.ErrClosedPipe)
	if n := <-sent; n >= 100<<20 || rec.Code != 413 {
		t.Errorf("%d after the client sent %d bytes; want 413 well before 100 MiB", rec.Code, n)
	}
}

func TestLoginRefusesForeignReturnPaths(t *testing.T) {
	s := newSite(t, nil)
	for _, next := range []string{
		"//evil.example", "https://evil.example", `/\evil.example`, "/%2F%2Fevil.example", "/%5Cevil.example",
		"%2F%2Fevil.example", "/%252F%252Fevil.example", "http:evil.example", "/\t/evil.example", "javascript:alert(1)",
		"/../evil", "",
	} {
		s.form(t, "/logout", nil)
		res, _ := s.form(t, "/login", url.Values{"username": {"ana"}, "password": {anaPass}, "next": {next}})
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/" {
			t.Errorf("next %q: %d to %q, want 303 to /", next, res.StatusCode, loc)
		}
	}
	res, _ := s.form(t, "/login", url.Values{"username": {"ana"}, "password": {anaPass}, "next": {"/a/b?c=d#e"}})
	if loc := res.Header.Get("Location"); loc != "/a/b?c=d#e" {
		t.Errorf("a local path: to %q", loc)
	}
}

func TestAFailedFormLoginGoesBackToTheLoginPage(t *testing.T) {
	s := newSite(t, nil)
	res, _ := s.form(t, "/login", url.Values{"username": {"ana"}, "password": {"x"}, "next": {"/me"}})
	if loc := res.Header.Get("Location"); res.StatusCode != 303 || loc != "/login?error=invalid&next=%2Fme" {
		t.Errorf("%d to %q", res.StatusCode, loc)
	}
	res, _ = s.form(t, "/login", url.Values{"username": {"ana"}, "password": {"x"}, "next": {"//evil.example"}})
	if loc := res.Header.Get("Location"); loc != "/login?error=invalid" {
		t.Errorf("with a foreign next: to %q", loc)
	}
}

func TestLoginWithoutASessionFilter(t *testing.T) {
	a := auth.New(auth.NewBasic(testUsers(t)))
	r := filtertest.PostForm("/login", url.Values{"username": {"ana"}, "password": {anaPass}})
	if rec := serve(a.LoginHandler(), r); rec.Code != 500 {
		t.Errorf("%d, want 500", rec.Code)
	}
}

func TestLoginHandlerNeedsUsers(t *testing.T) {
	defer func() {
		if p := recover(); p == nil || !strings.Contains(p.(string), "Users") {
			t.Errorf("panic %v", p)
		}
	}()
	auth.New(auth.NewBearer()).LoginHandler()
}

func TestCrossOriginRequestsAreRefused(t *testing.T) {
	s := newSite(t, func(a *auth.Filter) { a.TrustedOrigins = []string{"https://partner.example"} })
	login := url.Values{"username": {"ana"}, "password": {anaPass}}.Encode()
	const form = "application/x-www-form-urlencoded"
	if res, _ := s.do(t, "POST", "/login", form, login, "Sec-Fetch-Site", "cross-site"); res.StatusCode != 403 {
		t.Errorf("a cross-site login: %d", res.StatusCode)
	}
	if res, _ := s.do(t, "POST", "/login", form, login, "Origin", "https://evil.example"); res.StatusCode != 403 {
		t.Errorf("a login from another origin: %d", res.StatusCode)
	}
	if res, _ := s.do(t, "POST", "/login", form, login, "Origin", "https://partner.example"); res.StatusCode != 303 {
		t.Errorf("a login from a trusted origin: %d", res.StatusCode)
	}
	if res, _ := s.do(t, "POST", "/logout", "", "", "Sec-Fetch-Site", "cross-site"); res.StatusCode != 403 {
		t.Errorf("a cross-site logout: %d", res.StatusCode)
	}
	if res, _ := s.do(t, "GET", "/me", "", "", "Sec-Fetch-Site", "cross-site"); res.StatusCode != 200 {
		t.Errorf("a cross-site GET (safe): %d", res.StatusCode)
	}
	if res, _ := s.do(t, "POST", "/login", form, login, "Sec-Fetch-Site", "same-origin"); res.StatusCode != 303 {
		t.Errorf("a same-origin login: %d", res.StatusCode)
	}

	// The filter guards every unsafe method, not only the handlers.
	h := auth.New().Wrap(whoami)
	r := filtertest.NewRequest("DELETE", "/thing", nil)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	if rec := serve(h, r); rec.Code != 403 {
		t.Errorf("a cross-site DELETE: %d", rec.Code)
	}
	off := auth.New()
	off.NoCrossOriginProtection = true
	if rec := serve(off.Wrap(whoami), r); rec.Code != 200 {
		t.Errorf("with the protection off: %d", rec.Code)
	}
}

func TestABadTrustedOriginPanicsAtBuild(t *testing.T) {
	defer func() {
		if p := recover(); p == nil || !strings.HasPrefix(p.(string), "auth: TrustedOrigins") {
			t.Errorf("panic %v", p)
		}
	}()
	a := auth.New()
	a.TrustedOrigins = []string{"not an origin"}
	a.Wrap(whoami)
}

// Only the login handler reads a request body.
func TestAuthDoesNotReadTheBody(t *testing.T) {
	tok, hash := auth.NewToken()
	b := auth.NewBearer()
	b.Add(hash, auth.Identity{Name: "ci", Scopes: []string{"s"}})
	users := testUsers(t)
	a := auth.New(auth.NewSession(users), auth.NewBasic(users), b)
	a.LoginPath = "/login"
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	h := newSessions(t).Wrap(a.Wrap(auth.RequireScope("s").Wrap(app)))
	for _, header := range []string{"", "Bearer " + tok, "Bearer x", "Bearer !", basicHeader("ana", anaPass), basicHeader("ana", "no"), "Basic !"} {
		for _, method := range []string{"POST", "PUT"} {
			r := filtertest.NewRequest(method, "/upload", nil)
			r.Body = noBody{t}
			r.ContentLength = -1
			if header != "" {
				r.Header.Set("Authorization", header)
			}
			r.Header.Set("Origin", "https://evil.example")
			serve(h, r)
			r.Header.Del("Origin")
			serve(h, r)
		}
	}
}

// The identity from a login in this request is seen by the handlers after
// it, and the exchange's user is set.
func TestLoginSetsTheUser(t *testing.T) {
	a := auth.New(auth.NewSession(nil), auth.NewBasic(testUsers(t)))
	var user string
	h := newSessions(t).Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.LoginHandler().ServeHTTP(w, r)
		user = filter.From(r).User()
	}))
	serve(h, filtertest.PostForm("/login", url.Values{"username": {"ana"}, "password": {anaPass}}))
	if user != "ana" {
		t.Errorf("user %q after login", user)
	}
}
