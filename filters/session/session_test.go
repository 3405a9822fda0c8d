package session_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/go-chi/chi/v5"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/session"
)

// counter increments "n" and answers its new value.
var counter = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	n := session.GetInt(r, "n") + 1
	if err := session.Put(r, "n", n); err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	io.WriteString(w, strconv.Itoa(n))
})

func newSessions(t *testing.T) *session.Filter {
	t.Helper()
	store := memstore.NewWithCleanupInterval(0)
	return session.New(store)
}

// client returns an HTTP client with a cookie jar.
func client(t *testing.T, base *http.Client) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := *base
	c.Jar = jar
	return &c
}

func get(t *testing.T, c *http.Client, u string) (string, *http.Response) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return string(body), res
}

func TestACounterLivesInTheSession(t *testing.T) {
	srv := httptest.NewServer(filtertest.Check(t, newSessions(t), counter))
	defer srv.Close()
	c := client(t, srv.Client())
	for want := 1; want <= 3; want++ {
		body, res := get(t, c, srv.URL+"/")
		if body != strconv.Itoa(want) {
			t.Fatalf("visit %d: body %q", want, body)
		}
		if want == 1 {
			ck := res.Cookies()[0]
			if ck.Name != "session" || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure {
				t.Errorf("cookie %+v: want HttpOnly, SameSite=Lax, Path=/, not Secure over HTTP", ck)
			}
			if v := res.Header.Values("Vary"); len(v) == 0 || v[0] != "Cookie" {
				t.Errorf("Vary = %v", v)
			}
		}
	}
	// Another client starts its own session.
	if body, _ := get(t, client(t, srv.Client()), srv.URL+"/"); body != "1" {
		t.Errorf("a new client got %q", body)
	}
}

func TestTheCookieIsSecureOverTLSOrBehindATrustedProxy(t *testing.T) {
	srv := httptest.NewTLSServer(filtertest.Check(t, newSessions(t), counter))
	defer srv.Close()
	_, res := get(t, client(t, srv.Client()), srv.URL+"/")
	if ck := res.Cookies(); len(ck) != 1 || !ck[0].Secure {
		t.Errorf("over TLS the cookie must be Secure: %v", res.Header["Set-Cookie"])
	}

	f := newSessions(t)
	f.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	h := filtertest.Check(t, f, counter)
	for _, tt := range []struct {
		remote string
		secure bool
	}{{"192.0.2.1:1234", true}, {"198.51.100.1:1234", false}} {
		r := filtertest.Get("/")
		r.RemoteAddr = tt.remote
		r.Header.Set("X-Forwarded-Proto", "https")
		rec := filtertest.NewRecorder()
		h.ServeHTTP(rec, r)
		if got := strings.Contains(rec.SentHeader().Get("Set-Cookie"), "Secure"); got != tt.secure {
			t.Errorf("peer %s saying https: Secure=%v, want %v", tt.remote, got, tt.secure)
		}
	}
}

func TestAPutBeforeAFlushIsSaved(t *testing.T) {
	// scs v2.9.0's own LoadAndSave sends no cookie when a Put is followed
	// by a Flush; the filter commits in the before-headers hook, which the
	// Flush runs.
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := session.Put(r, "user", "alice"); err != nil {
			t.Error(err)
		}
		w.(http.Flusher).Flush()
		io.WriteString(w, "event: hello\n\n")
	})
	srv := httptest.NewServer(filtertest.Check(t, newSessions(t), app))
	defer srv.Close()
	_, res := get(t, client(t, srv.Client()), srv.URL+"/")
	if len(res.Cookies()) != 1 {
		t.Fatalf("no session cookie after Put + Flush: %v", res.Header)
	}
}

func TestAStreamedWSAPIBodyKeepsItsSession(t *testing.T) {
	app := filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
		r := env.Request()
		n := session.GetInt(r, "n") + 1
		session.Put(r, "n", n)
		return 200, nil, filter.TextChunks(func(yield func(string) bool) {
			_ = yield("visit ") && yield(strconv.Itoa(n))
		})
	})
	srv := httptest.NewServer(filtertest.Check(t, newSessions(t), app))
	defer srv.Close()
	c := client(t, srv.Client())
	get(t, c, srv.URL+"/")
	if body, _ := get(t, c, srv.URL+"/"); body != "visit 2" {
		t.Errorf("body %q", body)
	}
}

func TestAPutAfterTheHeadersIsReportedAndSavedWhenTheClientHasTheCookie(t *testing.T) {
	var late []string
	var mu sync.Mutex
	cancel := filter.DefaultHub.Subscribe("session:write:late", func(ev filter.Event) {
		mu.Lock()
		late = append(late, ev.Data.(string))
		mu.Unlock()
	})
	defer cancel()
	var logs bytes.Buffer
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		filter.From(r).SetLogger(slog.New(slog.NewTextHandler(&logs, nil)))
		if r.URL.Path == "/first" {
			session.Put(r, "seen", true)
			io.WriteString(w, "hi")
			return
		}
		io.WriteString(w, "answer first, ")
		if err := session.Put(r, "late", "kept"); err != nil {
			t.Error(err)
		}
		if err := session.RenewToken(r); !errors.Is(err, session.ErrHeadersSent) {
			t.Errorf("RenewToken after the headers: %v, want ErrHeadersSent", err)
		}
		io.WriteString(w, session.GetString(r, "late"))
	})
	srv := httptest.NewServer(filtertest.Check(t, newSessions(t), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/check" {
			io.WriteString(w, session.GetString(r, "late"))
			return
		}
		app(w, r)
	})))
	defer srv.Close()
	c := client(t, srv.Client())
	get(t, c, srv.URL+"/first")
	get(t, c, srv.URL+"/late")
	if body, _ := get(t, c, srv.URL+"/check"); body != "kept" {
		t.Errorf("a late write of a client with a cookie must be saved, got %q", body)
	}
	mu.Lock()
	if len(late) != 1 || late[0] != "late" {
		t.Errorf("late-write events: %v", late)
	}
	mu.Unlock()
	if !strings.Contains(logs.String(), "after the response headers") {
		t.Errorf("no log line for the late write: %s", logs.String())
	}

	// A new session's late write has no cookie to carry it: it is lost,
	// and said so.
	logs.Reset()
	get(t, client(t, srv.Client()), srv.URL+"/late")
	if !strings.Contains(logs.String(), "is lost") {
		t.Errorf("a lost late write must be logged as lost: %s", logs.String())
	}
}

func TestAppsMountedApartKeepSeparateSessions(t *testing.T) {
	sessions := newSessions(t)
	r := chi.NewRouter()
	stack := wsapi.New(sessions)
	r.Mount("/a", stack.Then(counter))
	r.Mount("/b", stack.Then(counter))
	srv := httptest.NewServer(filtertest.NewLint(t).Wrap(r))
	defer srv.Close()
	c := client(t, srv.Client())
	get(t, c, srv.URL+"/a/")
	_, res := get(t, c, srv.URL+"/b/")
	if ck := res.Cookies(); len(ck) != 1 || ck[0].Path != "/b" {
		t.Fatalf("cookie of /b: %v", res.Header["Set-Cookie"])
	}
	if body, _ := get(t, c, srv.URL+"/a/x"); body != "2" {
		t.Errorf("/a's counter = %s, want 2", body)
	}
	if body, _ := get(t, c, srv.URL+"/b/x"); body != "2" {
		t.Errorf("/b's counter = %s, want 2", body)
	}
}

// do runs one request with the given session cookie value.
func do(t *testing.T, h http.Handler, path string, cookies ...*http.Cookie) *filtertest.Recorder {
	t.Helper()
	r := filtertest.Get(path)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	rec := filtertest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func sessionCookie(t *testing.T, rec *filtertest.Recorder) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: rec.SentHeader()}).Cookies() {
		if c.Name == "session" {
			return c
		}
	}
	t.Fatalf("no session cookie in %v", rec.SentHeader())
	return nil
}

func TestDestroyAndRenew(t *testing.T) {
	f := newSessions(t)
	h := filtertest.Check(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			session.Put(r, "user", "alice")
			if err := session.RenewToken(r); err != nil {
				t.Error(err)
			}
		case "/logout":
			if err := session.Destroy(r); err != nil {
				t.Error(err)
			}
		}
		io.WriteString(w, session.GetString(r, "user")+"|")
	}))
	anon := sessionCookie(t, do(t, h, "/login"))
	login := do(t, h, "/login", anon)
	renewed := sessionCookie(t, login)
	if renewed.Value == anon.Value {
		t.Error("RenewToken must change the token")
	}
	if body := do(t, h, "/whoami", anon).Body.String(); body != "|" {
		t.Errorf("the pre-login token must be worthless after renewal, got %q", body)
	}
	if body := do(t, h, "/whoami", renewed).Body.String(); body != "alice|" {
		t.Errorf("the renewed token must carry the session, got %q", body)
	}
	out := do(t, h, "/logout", renewed)
	if ck := sessionCookie(t, out); ck.MaxAge >= 0 && ck.Value != "" {
		t.Errorf("logout must clear the cookie: %+v", ck)
	}
	if body := do(t, h, "/whoami", renewed).Body.String(); body != "|" {
		t.Errorf("a destroyed session's token must not come back, got %q", body)
	}
}

func TestHostileCookiesGiveAFreshSession(t *testing.T) {
	f := newSessions(t)
	h := filtertest.Check(t, f, counter)
	real := sessionCookie(t, do(t, h, "/"))
	do(t, h, "/", real) // n = 2 for the real session
	tests := []struct {
		name   string
		header string
	}{
		{"garbage", "session=%%%not-a-token!!!"},
		{"a 5 KiB value", "session=" + strings.Repeat("A", 5<<10)},
		{"a token never issued", "session=" + strings.Repeat("Q", 43)},
		{"an encoded name shadowing the real one", "%73ession=" + real.Value},
		{"an empty value", "session="},
		{"a NUL in the value", "session=abc\x00def"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := filtertest.Get("/")
			r.Header.Set("Cookie", tt.header)
			rec := filtertest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != 200 || rec.Body.String() != "1" {
				t.Errorf("got %d %q, want a fresh session (1)", rec.Code, rec.Body.String())
			}
		})
	}
	t.Run("duplicated cookies use the first", func(t *testing.T) {
		r := filtertest.Get("/")
		r.Header.Set("Cookie", "session=bogus; session="+real.Value)
		rec := filtertest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Body.String() != "1" {
			t.Errorf("got %q: an unknown first cookie must not fall back to another user's", rec.Body.String())
		}
	})
}

func TestMaxSizeAtTheLimitAndOnePast(t *testing.T) {
	// Measure the encoded size of a session holding "v" = 100 bytes.
	value := strings.Repeat("x", 100)
	measure := session.New(memstore.NewWithCleanupInterval(0))
	var limit int
	measure.MaxSize = 1 << 20
	probe := filtertest.Check(t, measure, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.Put(r, "v", value)
		b, err := measure.Manager.Codec.Encode(measure.Manager.Deadline(r.Context()), map[string]any{"v": value})
		if err != nil {
			t.Fatal(err)
		}
		limit = len(b)
	}))
	do(t, probe, "/")

	for _, tt := range []struct {
		max  int
		fits bool
	}{{limit, true}, {limit - 1, false}} {
		f := newSessions(t)
		f.MaxSize = tt.max
		var putErr error
		var stored bool
		do(t, filtertest.Check(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			putErr = session.Put(r, "v", value)
			stored = session.Exists(r, "v")
		})), "/")
		if tt.fits && (putErr != nil || !stored) {
			t.Errorf("MaxSize %d (the exact size): Put = %v, stored %v", tt.max, putErr, stored)
		}
		if !tt.fits && (!errors.Is(putErr, session.ErrTooLarge) || stored) {
			t.Errorf("MaxSize %d (one short): Put = %v, stored %v; want ErrTooLarge and nothing stored", tt.max, putErr, stored)
		}
	}
}

func TestFlashMessages(t *testing.T) {
	f := newSessions(t)
	h := filtertest.Check(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/save" {
			session.AddFlash(r, "saved")
			session.AddFlash(r, "twice")
			return
		}
		io.WriteString(w, strings.Join(session.Flashes(r), ","))
	}))
	ck := sessionCookie(t, do(t, h, "/save"))
	if got := do(t, h, "/show", ck).Body.String(); got != "saved,twice" {
		t.Errorf("flashes %q", got)
	}
	if got := do(t, h, "/show", ck).Body.String(); got != "" {
		t.Errorf("flashes must be shown once, got %q", got)
	}
}

func TestAccessorsWithoutASessionFilter(t *testing.T) {
	r := filtertest.Get("/")
	if session.Get(r, "k") != nil || session.GetString(r, "k") != "" || session.Exists(r, "k") || session.Keys(r) != nil || session.Token(r) != "" {
		t.Error("getters must return zero values without a session")
	}
	for name, err := range map[string]error{
		"Put": session.Put(r, "k", 1), "Remove": session.Remove(r, "k"),
		"Destroy": session.Destroy(r), "RenewToken": session.RenewToken(r),
	} {
		if !errors.Is(err, session.ErrNoSession) {
			t.Errorf("%s = %v, want ErrNoSession", name, err)
		}
	}
}

func TestTheManagersOwnMethodsWorkOnTheRequestContext(t *testing.T) {
	f := newSessions(t)
	rec := do(t, filtertest.Check(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.Manager.Put(r.Context(), "via", "scs")
		io.WriteString(w, session.GetString(r, "via"))
	})), "/")
	if rec.Body.String() != "scs" {
		t.Errorf("got %q", rec.Body.String())
	}
}

func TestALoggableSessionIDIsLeftForTheAccessLog(t *testing.T) {
	f := newSessions(t)
	var id string
	logged := filter.Func(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			x, w, r, owner := filter.Begin(w, r)
			defer owner.End()
			x.SetRequestID("req-1")                                     // as the logging filter does
			x.OnFinish(func(x *filter.Exchange) { id = x.SessionID() }) // runs after the inner filters' hooks
			next.ServeHTTP(w, r)
		})
	})
	h := wsapi.New(logged, f).Then(counter)
	rec := do(t, h, "/")
	ck := sessionCookie(t, rec)
	if len(id) != 12 || strings.Contains(ck.Value, id) {
		t.Errorf("session id %q must be a short hash, not part of the token %q", id, ck.Value)
	}
}

// failingStore fails every call while down is set.
type failingStore struct {
	scs.Store
	mu   sync.Mutex
	down bool
}

func (s *failingStore) fail() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.down }
func (s *failingStore) Find(token string) ([]byte, bool, error) {
	if s.fail() {
		return nil, false, errors.New("connection refused")
	}
	return s.Store.Find(token)
}
func (s *failingStore) Commit(token string, b []byte, expiry time.Time) error {
	if s.fail() {
		return errors.New("connection refused")
	}
	return s.Store.Commit(token, b, expiry)
}

func TestAStoreThatFailsGives503AndAnEvent(t *testing.T) {
	store := &failingStore{Store: memstore.NewWithCleanupInterval(0)}
	f := session.New(store)
	var events int
	cancel := filter.DefaultHub.Subscribe("session:store:error", func(filter.Event) { events++ })
	defer cancel()
	h := filtertest.Check(t, f, counter)
	ck := sessionCookie(t, do(t, h, "/"))

	store.mu.Lock()
	store.down = true
	store.mu.Unlock()
	rec := do(t, h, "/", ck)
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), "session store is unavailable") || rec.SentHeader().Get("Retry-After") == "" {
		t.Errorf("store down at load: %d %q", rec.Code, rec.Body.String())
	}
	rec = do(t, h, "/") // no cookie: nothing to find, the commit fails
	if rec.Code != 503 {
		t.Errorf("store down at commit: status %d, want 503", rec.Code)
	}
	if events != 2 {
		t.Errorf("store error events = %d, want 2", events)
	}

	store.mu.Lock()
	store.down = false
	store.mu.Unlock()
	if rec := do(t, h, "/", ck); rec.Body.String() != "2" {
		t.Errorf("after the store came back: %q, want the session to go on (2)", rec.Body.String())
	}
}

func TestHijackGoesThrough(t *testing.T) {
	f := newSessions(t)
	srv := httptest.NewServer(f.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.Put(r, "k", "v")
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: demo\r\nConnection: Upgrade\r\n\r\nraw")
		brw.Flush()
	})))
	defer srv.Close()
	conn, err := netDial(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: demo\r\nConnection: Upgrade\r\n\r\n")
	got, _ := io.ReadAll(conn)
	if !strings.HasPrefix(string(got), "HTTP/1.1 101") || !strings.HasSuffix(string(got), "raw") {
		t.Errorf("hijacked response: %q", got)
	}
}

func TestWrapWithoutAStorePanicsClearly(t *testing.T) {
	defer func() {
		if p, _ := recover().(string); !strings.HasPrefix(p, "session: ") {
			t.Errorf("panic %q", p)
		}
	}()
	(&session.Filter{}).Wrap(counter)
}

func netDial(addr string) (net.Conn, error) { return net.Dial("tcp", addr) }

func TestAnExactRouteDoesNotScopeTheCookie(t *testing.T) {
	f := newSessions(t)
	mux := http.NewServeMux()
	mux.Handle("POST /login", f.Wrap(counter))
	mux.Handle("GET /users/{id}", f.Wrap(counter))
	h := filtertest.NewLint(t).Wrap(mux)
	for _, tt := range []struct{ method, path string }{{"POST", "/login"}, {"GET", "/users/7"}} {
		rec := filtertest.NewRecorder()
		h.ServeHTTP(rec, filtertest.NewRequest(tt.method, tt.path, nil))
		if ck := sessionCookie(t, rec); ck.Path != "/" {
			t.Errorf("%s %s: cookie path %q, want / (a route is not a mount)", tt.method, tt.path, ck.Path)
		}
	}
}

func TestEachSessionFilterSavesItsOwnSessionOnce(t *testing.T) {
	user := newSessions(t)
	admin := session.New(memstore.NewWithCleanupInterval(0))
	admin.Manager.Cookie.Name = "admin"
	userOnly := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.Put(r, "who", "innermost") // the innermost session
	})
	both := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.Put(r, "who", "innermost")
		admin.Manager.Put(r.Context(), "role", "administrator") // the outer one, through its manager
	})
	for name, h := range map[string]http.Handler{
		"two filters":             wsapi.New(admin, user).Then(both),
		"one filter listed twice": wsapi.New(user, wsapi.New(user)).Then(userOnly),
	} {
		rec := do(t, filtertest.NewLint(t).Wrap(h), "/")
		cookies := (&http.Response{Header: rec.SentHeader()}).Cookies()
		names := map[string]int{}
		for _, c := range cookies {
			names[c.Name]++
		}
		want := map[string]int{"session": 1}
		if name == "two filters" {
			want["admin"] = 1
		}
		if len(names) != len(want) || names["session"] != 1 || names["admin"] != want["admin"] {
			t.Errorf("%s: cookies %v, want %v", name, names, want)
		}
	}
}

// countingStore counts the commits that reach it.
type countingStore struct {
	scs.Store
	mu      sync.Mutex
	commits int
}

func (s *countingStore) Commit(token string, b []byte, expiry time.Time) error {
	s.mu.Lock()
	s.commits++
	s.mu.Unlock()
	return s.Store.Commit(token, b, expiry)
}

func TestARejectedPutLeavesANewSessionUnsaved(t *testing.T) {
	store := &countingStore{Store: memstore.NewWithCleanupInterval(0)}
	f := session.New(store)
	f.MaxSize = 1 << 10
	rec := do(t, filtertest.Check(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := session.Put(r, "big", strings.Repeat("x", 4<<10)); !errors.Is(err, session.ErrTooLarge) {
			t.Errorf("Put = %v, want ErrTooLarge", err)
		}
	})), "/")
	if got := rec.SentHeader().Get("Set-Cookie"); got != "" || store.commits != 0 {
		t.Errorf("a rejected Put on a new session: Set-Cookie %q, %d commits; want none", got, store.commits)
	}
}

// ctxStore fails a save whose context is done, as a network store does.
type ctxStore struct {
	scs.Store
	mu      sync.Mutex
	commits int
}

func (s *ctxStore) Find(token string) ([]byte, bool, error) { return s.Store.Find(token) }
func (s *ctxStore) FindCtx(_ context.Context, token string) ([]byte, bool, error) {
	return s.Store.Find(token)
}
func (s *ctxStore) Delete(token string) error { return s.Store.Delete(token) }
func (s *ctxStore) DeleteCtx(_ context.Context, token string) error {
	return s.Store.Delete(token)
}
func (s *ctxStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}
func (s *ctxStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.commits++
	s.mu.Unlock()
	return s.Store.Commit(token, b, expiry)
}

// A client that went away before the answer (a dropped upload) does not
// make the save fail: the app's change is saved, and no store error is
// logged or answered.
func TestASessionIsSavedWhenTheClientWentAway(t *testing.T) {
	store := &ctxStore{Store: memstore.NewWithCleanupInterval(0)}
	f := session.New(store)
	var events int
	stop := filter.DefaultHub.Subscribe("session:store:error", func(filter.Event) { events++ })
	defer stop()
	h := filtertest.Check(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := session.Put(r, "flash", "saved"); err != nil {
			t.Error(err)
		}
		w.WriteHeader(http.StatusSeeOther)
	}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the client is gone
	rec := filtertest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil).WithContext(ctx))
	if rec.Code != http.StatusSeeOther || events != 0 {
		t.Errorf("status %d, %d store errors; want 303 and none", rec.Code, events)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if store.commits != 1 {
		t.Errorf("%d commits, want 1", store.commits)
	}
}

// A request that did not change its session, and whose client went away,
// does not save it: with an IdleTimeout scs would write the data it loaded
// over a change a newer request of the same session saved meanwhile.
func TestAnUnchangedSessionIsNotSavedWhenTheClientWentAway(t *testing.T) {
	store := &ctxStore{Store: memstore.NewWithCleanupInterval(0)}
	f := session.New(store)
	if f.Manager.IdleTimeout == 0 {
		f.Manager.IdleTimeout = time.Hour
	}
	var stale, fresh http.Handler
	loaded := make(chan struct{})
	goOn := make(chan struct{})
	stale = filtertest.Check(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = session.GetString(r, "flash") // loads the session as it is now
		close(loaded)
		<-goOn
	}))
	fresh = filtertest.Check(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := session.Put(r, "flash", "uploaded"); err != nil {
			t.Error(err)
		}
	}))
	ck := sessionCookie(t, do(t, fresh, "/"))

	// The stale request loads the session, its client hangs up, and a
	// newer request changes the session before the stale one ends.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
		req.AddCookie(ck)
		stale.ServeHTTP(filtertest.NewRecorder(), req)
	}()
	<-loaded
	cancel()
	do(t, filtertest.Check(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := session.Put(r, "flash", "second upload"); err != nil {
			t.Error(err)
		}
	})), "/", ck)
	close(goOn)
	<-done

	var got string
	do(t, filtertest.Check(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = session.GetString(r, "flash")
	})), "/", ck)
	if got != "second upload" {
		t.Errorf("flash %q after the stale request ended, want the newer change kept", got)
	}
}
