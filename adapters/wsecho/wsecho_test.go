package wsecho_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/rs/zerolog"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/adapters/wsecho"
	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/auth"
	"github.com/wsapi-go/wsapi/filters/isolate"
	"github.com/wsapi-go/wsapi/filters/session"
	"github.com/wsapi-go/wsapi/filters/upload"
)

func newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard)
	return e
}

// app registers the routes the tests drive.
func app(e *echo.Echo, k *kit) {
	e.GET("/count", func(c echo.Context) error {
		r := c.Request()
		n := session.GetInt(r, "n") + 1
		if err := session.Put(r, "n", n); err != nil {
			return err
		}
		return c.String(http.StatusOK, fmt.Sprintf("n=%d", n))
	})
	e.POST("/login", echo.WrapHandler(k.auth.LoginHandler()))
	e.GET("/me", func(c echo.Context) error {
		id := auth.IdentityOf(c.Request())
		return c.String(http.StatusOK, "user="+id.Name+" exchange-user="+filter.From(c.Request()).User())
	}, wsecho.Middleware(auth.Require()))
	e.POST("/upload", func(c echo.Context) error {
		form, err := upload.Parse(c.Request())
		if err != nil {
			upload.WriteError(c.Response(), err)
			return nil
		}
		f := form.File("file")
		if f == nil {
			return echo.NewHTTPError(http.StatusBadRequest, "no file")
		}
		return c.String(http.StatusOK, fmt.Sprintf("%s %d %s %s", f.Name, f.Size, f.SHA256Hex(), form.Value("note")))
	})
	e.GET("/teapot", func(c echo.Context) error {
		return echo.NewHTTPError(http.StatusTeapot, "short and stout")
	})
	e.GET("/panic", func(c echo.Context) error { panic("boom") })
	e.GET("/logger", func(c echo.Context) error {
		// The logging filter's per-request logger, through the request
		// echo hands the handler.
		zerolog.Ctx(c.Request().Context()).Info().Msg("from the handler")
		return c.NoContent(http.StatusNoContent)
	})
}

func newClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

func do(t *testing.T, c *http.Client, req *http.Request) (int, http.Header, string) {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header, string(body)
}

func get(t *testing.T, c *http.Client, u string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, c, req)
}

// Every filter of the project, through one stack, on a real server: the
// session counter, the login handler, a rule per route, an upload, an
// error page, a recovered panic and the request's logger.
func TestFiltersOnEcho(t *testing.T) {
	k := newKit(t)
	e := newEcho()
	e.Use(wsecho.Stack(wsapi.New(k.logs, k.recover, k.sessions, k.auth, k.upload)))
	app(e, k)
	srv := httptest.NewServer(e)
	defer srv.Close()
	cl := newClient(t)

	for i := 1; i <= 2; i++ {
		code, _, body := get(t, cl, srv.URL+"/count")
		if want := fmt.Sprintf("n=%d", i); code != 200 || body != want {
			t.Fatalf("GET /count: %d %q, want 200 %q", code, body, want)
		}
	}
	if a := waitAccess(t, k.out, "GET", "/count"); a.Status != 200 || a.Bytes != 3 {
		t.Errorf("access line of /count: %+v", a)
	}

	if code, h, _ := get(t, cl, srv.URL+"/me"); code != http.StatusUnauthorized || h.Get("WWW-Authenticate") == "" {
		t.Errorf("anonymous GET /me: %d, WWW-Authenticate %q; want 401 with a challenge", code, h.Get("WWW-Authenticate"))
	}
	if a := waitAccess(t, k.out, "GET", "/me"); a.Status != 401 {
		t.Errorf("access line of the anonymous /me: %+v", a)
	}

	login := func(password string) (int, http.Header) {
		req, _ := http.NewRequest("POST", srv.URL+"/login", strings.NewReader(url.Values{"username": {"ana"}, "password": {password}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		code, h, _ := do(t, cl, req)
		return code, h
	}
	if code, _ := login("wrong"); code != http.StatusUnauthorized {
		t.Errorf("login with a wrong password: %d, want 401", code)
	}
	if code, h := login("secret"); code != http.StatusSeeOther || h.Get("Location") != "/" {
		t.Fatalf("login: %d Location %q, want 303 to /", code, h.Get("Location"))
	}
	if code, _, body := get(t, cl, srv.URL+"/me"); code != 200 || body != "user=ana exchange-user=ana" {
		t.Errorf("GET /me after login: %d %q", code, body)
	}
	if a := waitAccess(t, k.out, "GET", "/me"); a.Status != 200 || a.User != "ana" {
		t.Errorf("access line of /me after login: %+v", a)
	}
	// The login started a new session: the counter starts again.
	if _, _, body := get(t, cl, srv.URL+"/count"); body != "n=1" {
		t.Errorf("GET /count after login: %q, want n=1", body)
	}

	content := []byte("hello upload\n")
	body, ctype := filtertest.MultipartBody(url.Values{"note": {"hi"}}, filtertest.File{Field: "file", Name: "a.txt", Content: content})
	req, _ := http.NewRequest("POST", srv.URL+"/upload", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", ctype)
	sum := sha256.Sum256(content)
	if code, _, got := do(t, cl, req); code != 200 || got != fmt.Sprintf("a.txt %d %s hi", len(content), hex.EncodeToString(sum[:])) {
		t.Errorf("POST /upload: %d %q", code, got)
	}

	code, _, got := get(t, cl, srv.URL+"/teapot")
	if code != http.StatusTeapot || got != `{"message":"short and stout"}`+"\n" {
		t.Errorf("GET /teapot: %d %q, want 418 and echo's error page", code, got)
	}
	if a := waitAccess(t, k.out, "GET", "/teapot"); a.Status != http.StatusTeapot || a.Bytes != int64(len(got)) || a.User != "ana" {
		t.Errorf("access line of /teapot: %+v, want status 418, %d bytes, user ana", a, len(got))
	}

	if code, _, got := get(t, cl, srv.URL+"/panic"); code != 500 || got != "Internal Server Error\n" {
		t.Errorf("GET /panic: %d %q, want isolate.Recover's 500", code, got)
	}
	if a := waitAccess(t, k.out, "GET", "/panic"); a.Status != 500 {
		t.Errorf("access line of /panic: %+v", a)
	}

	code, h, _ := get(t, cl, srv.URL+"/logger")
	if code != http.StatusNoContent {
		t.Errorf("GET /logger: %d", code)
	}
	waitAccess(t, k.out, "GET", "/logger")
	found := false
	for _, l := range lines(t, k.out) {
		if l["message"] == "from the handler" {
			found = true
			if l["request_id"] != h.Get("X-Request-ID") || h.Get("X-Request-ID") == "" {
				t.Errorf("the handler's log line has request_id %v, the response %q", l["request_id"], h.Get("X-Request-ID"))
			}
		}
	}
	if !found {
		t.Errorf("no line from the handler's logger in:\n%s", k.out.String())
	}
}

// The error a handler returns is answered inside the filter: the access
// line has its status, and a session change made before the error is
// saved on the error page.
func TestErrorAnsweredInsideTheFilter(t *testing.T) {
	k := newKit(t)
	e := newEcho()
	e.Use(wsecho.Middleware(k.logs), wsecho.Middleware(k.sessions))
	e.GET("/teapot", func(c echo.Context) error {
		if err := session.Put(c.Request(), "seen", true); err != nil {
			return err
		}
		return echo.NewHTTPError(http.StatusTeapot)
	})
	e.GET("/plain", func(c echo.Context) error { return errors.New("plain error") })

	rec := filtertest.NewRecorder()
	e.ServeHTTP(rec, filtertest.Get("/teapot"))
	if rec.Code != http.StatusTeapot || rec.Body.String() != `{"message":"I'm a teapot"}`+"\n" {
		t.Errorf("answer: %d %q", rec.Code, rec.Body.String())
	}
	if c := rec.SentHeader().Get("Set-Cookie"); !strings.HasPrefix(c, "session=") {
		t.Errorf("Set-Cookie %q: the session change before the error was not saved", c)
	}
	if a := waitAccess(t, k.out, "GET", "/teapot"); a.Status != http.StatusTeapot || a.Bytes != int64(rec.Body.Len()) {
		t.Errorf("access line %+v, want status 418 and %d bytes", a, rec.Body.Len())
	}

	rec = filtertest.NewRecorder()
	e.ServeHTTP(rec, filtertest.Get("/plain"))
	if rec.Code != 500 {
		t.Errorf("a plain error: %d, want 500", rec.Code)
	}
	if a := waitAccess(t, k.out, "GET", "/plain"); a.Status != 500 {
		t.Errorf("access line %+v, want status 500", a)
	}
}

// A custom HTTPErrorHandler runs inside the filter too, and the adapter
// hands echo no error to answer a second time.
func TestCustomErrorHandlerRunsOnce(t *testing.T) {
	k := newKit(t)
	e := newEcho()
	var calls atomic.Int32
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		calls.Add(1)
		// No Committed check: the handler writes whatever it is given.
		c.Response().WriteHeader(http.StatusConflict)
		io.WriteString(c.Response(), "custom: "+err.Error())
	}
	e.Use(wsecho.Middleware(k.logs))
	e.GET("/", func(c echo.Context) error { return errors.New("taken") })
	rec := filtertest.NewRecorder()
	e.ServeHTTP(rec, filtertest.Get("/"))
	if rec.Code != http.StatusConflict || rec.Body.String() != "custom: taken" || calls.Load() != 1 {
		t.Errorf("answer %d %q after %d calls of the error handler; want 409, one call", rec.Code, rec.Body.String(), calls.Load())
	}
	if a := waitAccess(t, k.out, "GET", "/"); a.Status != http.StatusConflict {
		t.Errorf("access line %+v", a)
	}
}

// Echo middleware outside the adapter sees the answer the client got, the
// request and the writer it had, also when a filter answered itself.
func TestOuterEchoMiddlewareSeesTheAnswer(t *testing.T) {
	k := newKit(t)
	type seen struct {
		status    int
		committed bool
		size      int64
		sameReq   bool
		sameW     bool
		sameRes   bool
	}
	var got seen
	e := newEcho()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req, res, w := c.Request(), c.Response(), c.Response().Writer
			err := next(c)
			got = seen{res.Status, res.Committed, res.Size, c.Request() == req, res.Writer == w, c.Response() == res}
			return err
		}
	})
	e.Use(wsecho.Stack(wsapi.New(k.logs, k.sessions, k.auth)))
	// echo's own WrapMiddleware inside the adapter replaces the Response;
	// the adapter puts the outer one back.
	e.Use(echo.WrapMiddleware(chimw.NoCache))
	var handled atomic.Int32
	e.GET("/private", func(c echo.Context) error {
		handled.Add(1)
		return c.String(200, "secret")
	}, wsecho.Middleware(auth.Require()))
	e.GET("/empty", func(c echo.Context) error {
		handled.Add(1)
		return session.Put(c.Request(), "k", "v")
	})

	rec := filtertest.NewRecorder()
	e.ServeHTTP(rec, filtertest.Get("/private"))
	if rec.Code != 401 || handled.Load() != 0 {
		t.Errorf("anonymous /private: %d, handler ran %d times; want 401 and no run", rec.Code, handled.Load())
	}
	if want := (seen{401, true, int64(rec.Body.Len()), true, true, true}); got != want {
		t.Errorf("outer middleware saw %+v, want %+v", got, want)
	}

	// A handler that writes nothing: the empty 200 goes out through the
	// filters (the session's cookie with it) before the adapter returns.
	rec = filtertest.NewRecorder()
	e.ServeHTTP(rec, filtertest.Get("/empty"))
	if rec.Code != 200 || !strings.HasPrefix(rec.SentHeader().Get("Set-Cookie"), "session=") {
		t.Errorf("/empty: %d, Set-Cookie %q", rec.Code, rec.SentHeader().Get("Set-Cookie"))
	}
	if want := (seen{200, true, 0, true, true, true}); got != want {
		t.Errorf("outer middleware saw %+v, want %+v", got, want)
	}
}

// The handler's writer has exactly the optional interfaces of the server's,
// for each of the 16 kinds; Flush and Hijack through c.Response() reach it.
func TestWriterAbilities(t *testing.T) {
	k := newKit(t)
	e := newEcho()
	e.Use(wsecho.Middleware(k.logs), wsecho.Middleware(k.sessions))
	var ab filtertest.Abilities
	e.GET("/", func(c echo.Context) error {
		ab = filtertest.AbilitiesOf(c.Response().Writer)
		return c.NoContent(204)
	})
	for want := range filtertest.AllAbilities + 1 {
		rec, w := filtertest.NewWriter(want)
		e.ServeHTTP(w, filtertest.Get("/"))
		if ab != want || rec.Code != 204 {
			t.Errorf("server writer with %v: the handler's writer has %v (status %d)", want, ab, rec.Code)
		}
	}
}

func TestStreaming(t *testing.T) {
	k := newKit(t)
	e := newEcho()
	e.Use(wsecho.Stack(wsapi.New(k.logs, k.recover, k.sessions)))
	e.GET("/events", func(c echo.Context) error {
		res := c.Response()
		res.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(res, "data: 1\n\n")
		res.Flush()
		io.WriteString(res, "data: 2\n\n")
		return http.NewResponseController(res).Flush()
	})
	rec, w := filtertest.NewWriter(filtertest.Flusher)
	e.ServeHTTP(w, filtertest.Get("/events"))
	if want := "header 200, write 9, flush, write 9, flush"; rec.String() != want {
		t.Errorf("events %q, want %q", rec.String(), want)
	}
	if a := waitAccess(t, k.out, "GET", "/events"); a.Status != 200 || a.Bytes != 18 {
		t.Errorf("access line %+v", a)
	}
}

func TestHijack(t *testing.T) {
	k := newKit(t)
	e := newEcho()
	e.Use(wsecho.Stack(wsapi.New(k.logs, k.recover, k.sessions)))
	rec, w := filtertest.NewWriter(filtertest.Hijacker | filtertest.Flusher)
	client := make(chan net.Conn, 1)
	e.GET("/ws", func(c echo.Context) error {
		conn, brw, err := c.Response().Hijack()
		if err != nil {
			close(client)
			return err
		}
		defer conn.Close()
		client <- rec.ClientConn() // the serving goroutine may read the recorder
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\n\r\nhello")
		return brw.Flush()
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.ServeHTTP(w, filtertest.Get("/ws"))
	}()
	conn, ok := <-client
	if !ok {
		<-done
		t.Fatalf("the hijack failed: %s", rec.String())
	}
	got, err := io.ReadAll(conn)
	conn.Close()
	<-done
	if err != nil || string(got) != "HTTP/1.1 101 Switching Protocols\r\n\r\nhello" {
		t.Errorf("read %q, %v", got, err)
	}
	if !rec.Hijacked() || rec.String() != "hijack" {
		t.Errorf("events %q: want only the hijack", rec.String())
	}
	waitAccess(t, k.out, "GET", "/ws")
}

// A panic in a handler with no filter to recover it goes on to echo's
// Recover middleware outside the adapter; the access line says 500 and
// echo's context is whole again.
func TestPanicReachesOuterRecover(t *testing.T) {
	k := newKit(t)
	e := newEcho()
	e.Use(middleware.Recover())
	e.Use(wsecho.Middleware(k.logs))
	e.GET("/panic", func(c echo.Context) error { panic("boom") })
	e.GET("/ok", func(c echo.Context) error { return c.String(200, "ok") })
	rec := filtertest.NewRecorder()
	e.ServeHTTP(rec, filtertest.Get("/panic"))
	if rec.Code != 500 {
		t.Errorf("status %d, want 500 from echo's Recover", rec.Code)
	}
	if a := waitAccess(t, k.out, "GET", "/panic"); a.Status != 500 {
		t.Errorf("access line %+v", a)
	}
	for range 3 {
		rec = filtertest.NewRecorder()
		e.ServeHTTP(rec, filtertest.Get("/ok"))
		if rec.Code != 200 || rec.Body.String() != "ok" {
			t.Errorf("after the panic: %d %q", rec.Code, rec.Body.String())
		}
	}
}

// Lint checks the filters from inside the adapter (Around: what each
// filter hands the rest of echo's chain) and the whole from outside.
func TestLint(t *testing.T) {
	k := newKit(t)
	lint := filtertest.NewLint(t)
	linted := func(f filter.Filter) echo.MiddlewareFunc {
		return wsecho.Middleware(filter.Named(filter.NameOf(f), func(next http.Handler) http.Handler {
			return lint.Around(f, next)
		}))
	}
	e := newEcho()
	e.Use(linted(k.logs), linted(k.recover), linted(k.sessions), linted(k.auth), linted(k.upload))
	app(e, k)
	e.GET("/stream", func(c echo.Context) error {
		io.WriteString(c.Response(), "a")
		// echo's Flush panics on a writer that cannot flush: ask the
		// writer below it.
		if _, ok := c.Response().Writer.(http.Flusher); ok {
			c.Response().Flush()
		}
		return nil
	})
	e.HEAD("/count", func(c echo.Context) error {
		c.Response().Header().Set("Content-Type", "text/plain")
		return c.NoContent(200) // no body for HEAD: Lint would report one
	})
	h := lint.Wrap(e)
	reqs := []func() *http.Request{
		func() *http.Request { return filtertest.Get("/count") },
		func() *http.Request { return filtertest.NewRequest("HEAD", "/count", nil) },
		func() *http.Request { return filtertest.Get("/me") },
		func() *http.Request { return filtertest.Get("/teapot") },
		func() *http.Request { return filtertest.Get("/panic") },
		func() *http.Request { return filtertest.Get("/logger") },
		func() *http.Request { return filtertest.Get("/stream") },
		func() *http.Request { return filtertest.Get("/no-such-route") },
		func() *http.Request {
			return filtertest.PostForm("/login", url.Values{"username": {"ana"}, "password": {"secret"}})
		},
		func() *http.Request {
			return filtertest.PostMultipart("/upload", nil, filtertest.File{Field: "file", Name: "x.bin", Content: []byte{1, 2, 3}})
		},
	}
	for ab := range filtertest.AllAbilities + 1 {
		for _, req := range reqs {
			_, w := filtertest.NewWriter(ab)
			h.ServeHTTP(w, req())
		}
	}
	if len(lint.Problems()) != 0 {
		t.Errorf("%d problems", len(lint.Problems()))
	}
}

// Several adapters share the request's exchange: the access line of the
// outermost one sees the user an auth filter of a later one set.
func TestAdaptersShareTheExchange(t *testing.T) {
	k := newKit(t)
	e := newEcho()
	e.Use(wsecho.Middleware(k.logs))
	g := e.Group("/g", wsecho.Middleware(k.sessions), wsecho.Middleware(k.auth))
	var same atomic.Bool
	g.GET("/me", func(c echo.Context) error {
		return c.String(200, "user="+filter.From(c.Request()).User())
	}, func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			// Middleware inside the adapters sees the exchange the
			// outermost one attached.
			same.Store(filter.From(c.Request()) != nil)
			return next(c)
		}
	})
	e.POST("/login", echo.WrapHandler(k.auth.LoginHandler()), wsecho.Middleware(k.sessions))

	rec := filtertest.NewRecorder()
	e.ServeHTTP(rec, filtertest.PostForm("/login", url.Values{"username": {"ana"}, "password": {"secret"}}))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login: %d %q", rec.Code, rec.Body.String())
	}
	r := filtertest.Get("/g/me")
	for _, c := range (&http.Response{Header: rec.SentHeader()}).Cookies() {
		r.AddCookie(c)
	}
	rec = filtertest.NewRecorder()
	e.ServeHTTP(rec, r)
	if rec.Body.String() != "user=ana" || !same.Load() {
		t.Errorf("GET /g/me: %q (exchange seen: %t)", rec.Body.String(), same.Load())
	}
	if a := waitAccess(t, k.out, "GET", "/g/me"); a.User != "ana" || a.Status != 200 {
		t.Errorf("access line %+v, want user ana", a)
	}
}

// Wrap is called once, whatever the number of requests: echo composes the
// middleware of e.Use per request.
func TestWrapCalledOnce(t *testing.T) {
	var wraps atomic.Int32
	f := filter.Func(func(next http.Handler) http.Handler {
		wraps.Add(1)
		return next
	})
	e := newEcho()
	e.Use(wsecho.Middleware(f))
	e.GET("/", func(c echo.Context) error { return c.String(200, "ok") })
	for range 5 {
		e.ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/"))
	}
	if n := wraps.Load(); n != 1 {
		t.Errorf("Wrap called %d times, want 1", n)
	}
}

// A filter that hands on a request with an unrelated context loses the
// echo context; the client gets a 500, not a crash.
func TestLostExchange(t *testing.T) {
	f := filter.Func(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.Background()))
		})
	})
	e := newEcho()
	e.Use(wsecho.Middleware(f))
	var ran atomic.Bool
	e.GET("/", func(c echo.Context) error { ran.Store(true); return nil })
	var logs filtertest.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	rec := filtertest.NewRecorder()
	e.ServeHTTP(rec, filtertest.Get("/"))
	if rec.Code != 500 || ran.Load() {
		t.Errorf("status %d, handler ran: %t; want 500 and no run", rec.Code, ran.Load())
	}
	if !strings.Contains(logs.String(), "does not derive from the one it was given") {
		t.Errorf("logged %q, want the reason", logs.String())
	}
}

func TestBuildErrors(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		build      func()
	}{
		{"nil filter", "wsecho: Middleware(nil)", func() { wsecho.Middleware(nil) }},
		{"nil handler", "returned a nil handler", func() {
			wsecho.Middleware(filter.Func(func(http.Handler) http.Handler { return nil }))
		}},
		{"unmet need", "session", func() {
			wsecho.Stack(wsapi.New(auth.New(auth.NewSession(nil))))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				p := recover()
				if s := fmt.Sprint(p); p == nil || !strings.Contains(s, tc.want) {
					t.Errorf("panic %v, want one mentioning %q", p, tc.want)
				}
			}()
			tc.build()
		})
	}
}

// isolate.Deadline answers at the deadline from another goroutine, below
// the exchange, while the handler still runs; the adapter returns only
// after the handler did, and echo's Response knows the 503.
func TestDeadline(t *testing.T) {
	k := newKit(t)
	statusOut := make(chan int, 1) // the handler returns after the client has its answer
	e := newEcho()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			err := next(c)
			statusOut <- c.Response().Status
			return err
		}
	})
	e.Use(wsecho.Stack(wsapi.New(k.logs, k.recover, &isolate.Deadline{Timeout: 50 * time.Millisecond})))
	e.GET("/slow", func(c echo.Context) error {
		<-c.Request().Context().Done()
		return c.String(200, "too late") // dropped
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	code, _, body := get(t, srv.Client(), srv.URL+"/slow")
	if code != http.StatusServiceUnavailable || body != "Service Unavailable\n" {
		t.Errorf("GET /slow: %d %q, want the deadline's 503", code, body)
	}
	if a := waitAccess(t, k.out, "GET", "/slow"); a.Status != http.StatusServiceUnavailable {
		t.Errorf("access line %+v", a)
	}
	var status int
	select {
	case status = <-statusOut:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not return")
	}
	if status != http.StatusServiceUnavailable {
		t.Errorf("echo's Response says %d, want 503", status)
	}
}

// A filter that calls its app twice (against the contract) does not run
// echo's chain twice.
func TestAppCalledTwice(t *testing.T) {
	twice := filter.Func(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			next.ServeHTTP(w, r)
		})
	})
	runs := 0
	e := newEcho()
	e.Use(wsecho.Middleware(twice))
	e.GET("/", func(c echo.Context) error { runs++; return c.String(http.StatusOK, "ok") })
	rec := filtertest.NewRecorder()
	e.ServeHTTP(rec, filtertest.Get("/"))
	if runs != 1 || rec.Code != http.StatusOK || rec.Body.String() != "ok" {
		t.Errorf("the handler ran %d times, client got %d %q; want once, 200 \"ok\"", runs, rec.Code, rec.Body.String())
	}
}

// A before-headers hook that changes the status does so on the way out:
// echo middleware inside the adapter sees the handler's status, middleware
// outside it and the access line the one the client got.
func TestStatusChangedByAHook(t *testing.T) {
	k := newKit(t)
	unavailable := filter.Func(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			x, w, r, owner := filter.Begin(w, r)
			defer owner.End()
			x.OnHeaders(func(x *filter.Exchange) { x.SetStatus(http.StatusServiceUnavailable) })
			next.ServeHTTP(w, r)
		})
	})
	var inside, outside int
	seen := func(status *int) echo.MiddlewareFunc {
		return func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				err := next(c)
				*status = c.Response().Status
				return err
			}
		}
	}
	e := newEcho()
	e.Use(seen(&outside), wsecho.Stack(wsapi.New(k.logs, unavailable)), seen(&inside))
	e.GET("/", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	rec := filtertest.NewRecorder()
	e.ServeHTTP(rec, filtertest.Get("/"))
	a := waitAccess(t, k.out, "GET", "/")
	if rec.Code != 503 || outside != 503 || a.Status != 503 || inside != 200 {
		t.Errorf("client %d, outside %d, access line %d, inside %d; want 503, 503, 503, 200", rec.Code, outside, a.Status, inside)
	}
}
