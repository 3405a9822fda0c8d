package wsgin_test

import (
	"bytes"
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

	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/adapters/wsgin"
	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/auth"
	"github.com/wsapi-go/wsapi/filters/isolate"
	"github.com/wsapi-go/wsapi/filters/session"
	"github.com/wsapi-go/wsapi/filters/upload"
)

func init() { gin.SetMode(gin.TestMode) }

// app registers the routes the tests drive.
func app(r gin.IRoutes, k *kit) {
	r.GET("/count", func(c *gin.Context) {
		n := session.GetInt(c.Request, "n") + 1
		if err := session.Put(c.Request, "n", n); err != nil {
			c.AbortWithStatus(http.StatusInternalServerError)
			return
		}
		c.String(http.StatusOK, "n=%d", n)
	})
	r.POST("/login", gin.WrapH(k.auth.LoginHandler()))
	r.GET("/me", wsgin.Middleware(auth.Require()), func(c *gin.Context) {
		id := auth.IdentityOf(c.Request)
		c.String(http.StatusOK, "user="+id.Name+" exchange-user="+filter.From(c.Request).User())
	})
	r.POST("/upload", func(c *gin.Context) {
		form, err := upload.Parse(c.Request)
		if err != nil {
			upload.WriteError(c.Writer, err)
			c.Abort()
			return
		}
		f := form.File("file")
		if f == nil {
			c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"message": "no file"})
			return
		}
		c.String(http.StatusOK, "%s %d %s %s", f.Name, f.Size, f.SHA256Hex(), form.Value("note"))
	})
	r.GET("/teapot", func(c *gin.Context) {
		c.AbortWithStatusJSON(http.StatusTeapot, gin.H{"message": "short and stout"})
	})
	r.GET("/panic", func(c *gin.Context) { panic("boom") })
	r.GET("/logger", func(c *gin.Context) {
		zerolog.Ctx(c.Request.Context()).Info().Msg("from the handler")
		c.Status(http.StatusNoContent)
	})
	r.GET("/status-only", func(c *gin.Context) {
		if err := session.Put(c.Request, "seen", true); err != nil {
			c.AbortWithStatus(http.StatusInternalServerError)
			return
		}
		c.Status(http.StatusAccepted) // no body: the status goes out after the chain
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

// Every filter of the project, through one stack, on a real server.
func TestFiltersOnGin(t *testing.T) {
	k := newKit(t)
	r := gin.New()
	r.Use(wsgin.Stack(wsapi.New(k.logs, k.recover, k.sessions, k.auth, k.upload)))
	app(r, k)
	srv := httptest.NewServer(r)
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
	if code != http.StatusTeapot || got != `{"message":"short and stout"}` {
		t.Errorf("GET /teapot: %d %q", code, got)
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

	if code, _, got := get(t, cl, srv.URL+"/status-only"); code != http.StatusAccepted || got != "" {
		t.Errorf("GET /status-only: %d %q, want 202 and no body", code, got)
	}
	if a := waitAccess(t, k.out, "GET", "/status-only"); a.Status != http.StatusAccepted {
		t.Errorf("access line of /status-only: %+v", a)
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

// A status set without a body goes out through the filter, once: the
// session's cookie with it, the access line with its status; gin's engine
// sends nothing more.
func TestStatusWithoutBody(t *testing.T) {
	k := newKit(t)
	r := gin.New()
	r.Use(wsgin.Middleware(k.logs), wsgin.Middleware(k.sessions))
	app(r, k)
	rec := filtertest.NewRecorder()
	h := filtertest.NewLint(t).Wrap(r) // reports a second status line
	h.ServeHTTP(rec, filtertest.Get("/status-only"))
	if rec.String() != "header 202" || !strings.HasPrefix(rec.SentHeader().Get("Set-Cookie"), "session=") {
		t.Errorf("events %q, Set-Cookie %q; want one 202 with the session cookie", rec.String(), rec.SentHeader().Get("Set-Cookie"))
	}
	if a := waitAccess(t, k.out, "GET", "/status-only"); a.Status != http.StatusAccepted {
		t.Errorf("access line %+v", a)
	}
}

// Gin middleware outside the adapter sees the answer the client got, and
// its own writer and request again.
func TestOuterGinMiddlewareSeesTheAnswer(t *testing.T) {
	k := newKit(t)
	type seen struct {
		status           int
		size             int
		written, aborted bool
		sameReq, sameW   bool
	}
	var got seen
	r := gin.New()
	r.Use(func(c *gin.Context) {
		req, w := c.Request, c.Writer
		c.Next()
		got = seen{c.Writer.Status(), c.Writer.Size(), c.Writer.Written(), c.IsAborted(), c.Request == req, c.Writer == w}
	})
	r.Use(wsgin.Stack(wsapi.New(k.logs, k.sessions, k.auth)))
	var handled atomic.Int32
	r.GET("/private", wsgin.Middleware(auth.Require()), func(c *gin.Context) {
		handled.Add(1)
		c.String(200, "secret")
	})
	r.GET("/hello", func(c *gin.Context) { c.String(200, "hello") })
	r.GET("/empty", func(c *gin.Context) {})

	for _, tc := range []struct {
		path string
		want seen
		body string
	}{
		// The rule answered: the handler must not run, and gin's writer
		// has the 401.
		{"/private", seen{401, -2, true, true, true, true}, ""},
		{"/hello", seen{200, 5, true, false, true, true}, "hello"},
		{"/empty", seen{200, 0, true, false, true, true}, ""},
	} {
		rec := filtertest.NewRecorder()
		r.ServeHTTP(rec, filtertest.Get(tc.path))
		if tc.want.size == -2 {
			tc.want.size = rec.Body.Len()
		}
		if got != tc.want || rec.Code != tc.want.status || (tc.body != "" && rec.Body.String() != tc.body) {
			t.Errorf("%s: outer middleware saw %+v, want %+v; client got %d %q", tc.path, got, tc.want, rec.Code, rec.Body.String())
		}
	}
	if handled.Load() != 0 {
		t.Errorf("the handler behind the refused rule ran %d times", handled.Load())
	}
}

// c.Abort and c.AbortWithStatus in gin middleware inside the adapter stop
// the chain, and the status goes out through the filters.
func TestAbortInsideTheAdapter(t *testing.T) {
	k := newKit(t)
	r := gin.New()
	r.Use(wsgin.Middleware(k.logs))
	var ran atomic.Int32
	r.GET("/forbidden", func(c *gin.Context) { c.AbortWithStatus(http.StatusForbidden) }, func(c *gin.Context) {
		ran.Add(1)
		c.String(200, "should not run")
	})
	r.GET("/quiet", func(c *gin.Context) { c.Abort() }, func(c *gin.Context) { ran.Add(1) })

	rec := filtertest.NewRecorder()
	r.ServeHTTP(rec, filtertest.Get("/forbidden"))
	if rec.Code != 403 || rec.Body.Len() != 0 {
		t.Errorf("/forbidden: %d %q", rec.Code, rec.Body.String())
	}
	if a := waitAccess(t, k.out, "GET", "/forbidden"); a.Status != 403 {
		t.Errorf("access line %+v", a)
	}
	rec = filtertest.NewRecorder()
	r.ServeHTTP(rec, filtertest.Get("/quiet"))
	if rec.Code != 200 {
		t.Errorf("/quiet: %d", rec.Code)
	}
	if ran.Load() != 0 {
		t.Errorf("handlers after an abort ran %d times", ran.Load())
	}
}

// A panic recovered by a filter stops gin's chain where it was: the
// handlers after the one that panicked do not run.
func TestRecoveredPanicAbortsTheChain(t *testing.T) {
	k := newKit(t)
	r := gin.New()
	r.Use(wsgin.Stack(wsapi.New(k.logs, k.recover)))
	var ran atomic.Int32
	r.GET("/", func(c *gin.Context) { panic("before Next") }, func(c *gin.Context) {
		ran.Add(1)
		c.String(200, "should not run")
	})
	rec := filtertest.NewRecorder()
	r.ServeHTTP(rec, filtertest.Get("/"))
	if rec.Code != 500 || rec.Body.String() != "Internal Server Error\n" || ran.Load() != 0 {
		t.Errorf("%d %q, later handler ran %d times", rec.Code, rec.Body.String(), ran.Load())
	}
	if a := waitAccess(t, k.out, "GET", "/"); a.Status != 500 {
		t.Errorf("access line %+v", a)
	}
}

// A panic with no filter to recover it goes on to gin's Recovery outside
// the adapter; the access line says 500 and the engine serves on.
func TestPanicReachesOuterRecovery(t *testing.T) {
	k := newKit(t)
	r := gin.New()
	r.Use(gin.RecoveryWithWriter(io.Discard))
	r.Use(wsgin.Middleware(k.logs))
	r.GET("/panic", func(c *gin.Context) { panic("boom") })
	r.GET("/ok", func(c *gin.Context) { c.String(200, "ok") })
	rec := filtertest.NewRecorder()
	r.ServeHTTP(rec, filtertest.Get("/panic"))
	if rec.Code != 500 {
		t.Errorf("status %d, want 500 from gin's Recovery", rec.Code)
	}
	if a := waitAccess(t, k.out, "GET", "/panic"); a.Status != 500 {
		t.Errorf("access line %+v", a)
	}
	for range 3 {
		rec = filtertest.NewRecorder()
		r.ServeHTTP(rec, filtertest.Get("/ok"))
		if rec.Code != 200 || rec.Body.String() != "ok" {
			t.Errorf("after the panic: %d %q", rec.Code, rec.Body.String())
		}
	}
}

// The filter gets a writer with exactly the optional interfaces of the
// server's, for each of the 16 kinds; the handlers' gin writer has Flush
// and Hijack as gin requires, and the rest as the filter's writer has them.
func TestWriterAbilities(t *testing.T) {
	var inFilter, inHandler, below filtertest.Abilities
	probe := filter.Func(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inFilter = filtertest.AbilitiesOf(w)
			next.ServeHTTP(w, r)
		})
	})
	k := newKit(t)
	r := gin.New()
	r.Use(wsgin.Middleware(k.logs), wsgin.Middleware(probe))
	r.GET("/", func(c *gin.Context) {
		inHandler = filtertest.AbilitiesOf(c.Writer)
		below = filtertest.AbilitiesOf(c.Writer.(interface{ Unwrap() http.ResponseWriter }).Unwrap())
		c.Status(204)
	})
	for want := range filtertest.AllAbilities + 1 {
		rec, w := filtertest.NewWriter(want)
		r.ServeHTTP(w, filtertest.Get("/"))
		if inFilter != want || below != want || inHandler != want|filtertest.Flusher|filtertest.Hijacker || rec.Code != 204 {
			t.Errorf("server writer with %v: the filter got %v, the handler %v over %v (status %d)", want, inFilter, inHandler, below, rec.Code)
		}
	}
}

func TestStreaming(t *testing.T) {
	k := newKit(t)
	r := gin.New()
	r.Use(wsgin.Stack(wsapi.New(k.logs, k.recover, k.sessions)))
	r.GET("/events", func(c *gin.Context) {
		c.Header("Content-Type", "text/event-stream")
		c.Writer.WriteString("data: 1\n\n")
		c.Writer.Flush()
		n := 0
		c.Stream(func(w io.Writer) bool {
			n++
			io.WriteString(w, "data: 2\n\n")
			return false
		})
	})
	rec, w := filtertest.NewWriter(filtertest.Flusher)
	r.ServeHTTP(w, filtertest.Get("/events"))
	if want := "header 200, write 9, flush, write 9, flush"; rec.String() != want {
		t.Errorf("events %q, want %q", rec.String(), want)
	}
	if a := waitAccess(t, k.out, "GET", "/events"); a.Status != 200 || a.Bytes != 18 {
		t.Errorf("access line %+v", a)
	}
}

// An informational status goes out at once, before the final one.
func TestInformational(t *testing.T) {
	k := newKit(t)
	r := gin.New()
	r.Use(wsgin.Middleware(k.logs))
	r.GET("/", func(c *gin.Context) {
		c.Header("Link", "</app.css>; rel=preload")
		c.Status(http.StatusEarlyHints)
		c.String(200, "ok")
	})
	rec := filtertest.NewRecorder()
	filtertest.NewLint(t).Wrap(r).ServeHTTP(rec, filtertest.Get("/"))
	if want := "header 103, header 200, write 2"; rec.String() != want {
		t.Errorf("events %q, want %q", rec.String(), want)
	}
}

// io.Copy into c.Writer keeps the server's ReadFrom (sendfile), and counts.
func TestReadFrom(t *testing.T) {
	k := newKit(t)
	r := gin.New()
	r.Use(wsgin.Middleware(k.logs))
	var size int
	r.GET("/", func(c *gin.Context) {
		// A reader without WriteTo, so that io.Copy uses c.Writer's ReadFrom.
		io.Copy(c.Writer, struct{ io.Reader }{strings.NewReader("0123456789")})
		size = c.Writer.Size()
	})
	rec, w := filtertest.NewWriter(filtertest.ReaderFrom)
	r.ServeHTTP(w, filtertest.Get("/"))
	if rec.String() != "header 200, readfrom 10" || size != 10 {
		t.Errorf("events %q, Size %d", rec.String(), size)
	}
	if a := waitAccess(t, k.out, "GET", "/"); a.Bytes != 10 {
		t.Errorf("access line %+v", a)
	}
}

func TestPush(t *testing.T) {
	r := gin.New()
	r.Use(wsgin.Middleware(newKit(t).logs))
	var hasPusher bool
	r.GET("/", func(c *gin.Context) {
		p := c.Writer.Pusher()
		hasPusher = p != nil
		if p != nil {
			if err := p.Push("/app.css", nil); err != nil {
				c.AbortWithStatus(500)
				return
			}
		}
		c.String(200, "ok")
	})
	rec, w := filtertest.NewWriter(filtertest.Pusher)
	r.ServeHTTP(w, filtertest.Get("/"))
	if !hasPusher || rec.String() != "push /app.css, header 200, write 2" {
		t.Errorf("Pusher %t, events %q", hasPusher, rec.String())
	}
	rec, w = filtertest.NewWriter(0)
	r.ServeHTTP(w, filtertest.Get("/"))
	if hasPusher || rec.String() != "header 200, write 2" {
		t.Errorf("without a Pusher below: Pusher %t, events %q", hasPusher, rec.String())
	}
}

func TestHijack(t *testing.T) {
	k := newKit(t)
	r := gin.New()
	r.Use(wsgin.Stack(wsapi.New(k.logs, k.recover, k.sessions)))
	rec, w := filtertest.NewWriter(filtertest.Hijacker | filtertest.Flusher)
	client := make(chan net.Conn, 1)
	r.GET("/ws", func(c *gin.Context) {
		conn, brw, err := c.Writer.Hijack()
		if err != nil {
			close(client)
			return
		}
		defer conn.Close()
		client <- rec.ClientConn() // the serving goroutine may read the recorder
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\n\r\nhello")
		brw.Flush()
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.ServeHTTP(w, filtertest.Get("/ws"))
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
	// Nothing after the hijack: neither the adapter nor gin's engine sent
	// a status.
	if !rec.Hijacked() || rec.String() != "hijack" {
		t.Errorf("events %q: want only the hijack", rec.String())
	}
	waitAccess(t, k.out, "GET", "/ws")
}

func TestHijackRefused(t *testing.T) {
	r := gin.New()
	r.Use(wsgin.Middleware(newKit(t).logs))
	var errs []error
	r.GET("/", func(c *gin.Context) {
		_, _, err := c.Writer.Hijack()
		errs = append(errs, err)
		c.String(200, "body")
		_, _, err = c.Writer.Hijack()
		errs = append(errs, err)
	})
	_, w := filtertest.NewWriter(0) // a server writer that cannot hijack
	r.ServeHTTP(w, filtertest.Get("/"))
	if len(errs) != 2 || !errors.Is(errs[0], http.ErrNotSupported) || errs[1] == nil {
		t.Errorf("errors %v: want ErrNotSupported, then an error for a hijack after the body", errs)
	}
}

// gin's Stream reads CloseNotify: it fires when the request's context ends.
func TestCloseNotify(t *testing.T) {
	r := gin.New()
	r.Use(wsgin.Middleware(newKit(t).logs))
	waiting := make(chan struct{})
	var notified atomic.Bool
	r.GET("/", func(c *gin.Context) {
		ch := c.Writer.CloseNotify()
		close(waiting)
		select {
		case <-ch:
			notified.Store(true)
		case <-time.After(10 * time.Second):
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/").WithContext(ctx))
	}()
	<-waiting
	cancel()
	<-done
	if !notified.Load() {
		t.Error("CloseNotify did not fire when the request's context ended")
	}
}

// Lint checks the filters from inside the adapter (Around: what each
// filter hands the rest of gin's chain) and the whole from outside.
func TestLint(t *testing.T) {
	k := newKit(t)
	lint := filtertest.NewLint(t)
	linted := func(f filter.Filter) gin.HandlerFunc {
		return wsgin.Middleware(filter.Named(filter.NameOf(f), func(next http.Handler) http.Handler {
			return lint.Around(f, next)
		}))
	}
	r := gin.New()
	r.Use(linted(k.logs), linted(k.recover), linted(k.sessions), linted(k.auth), linted(k.upload))
	app(r, k)
	r.GET("/stream", func(c *gin.Context) {
		c.Writer.WriteString("a")
		c.Writer.Flush()
	})
	r.HEAD("/count", func(c *gin.Context) {
		c.Header("Content-Type", "text/plain")
		c.Status(200) // no body for HEAD: Lint would report one
	})
	h := lint.Wrap(r)
	reqs := []func() *http.Request{
		func() *http.Request { return filtertest.Get("/count") },
		func() *http.Request { return filtertest.NewRequest("HEAD", "/count", nil) },
		func() *http.Request { return filtertest.Get("/me") },
		func() *http.Request { return filtertest.Get("/teapot") },
		func() *http.Request { return filtertest.Get("/panic") },
		func() *http.Request { return filtertest.Get("/logger") },
		func() *http.Request { return filtertest.Get("/status-only") },
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
	r := gin.New()
	r.Use(wsgin.Middleware(k.logs))
	g := r.Group("/g", wsgin.Middleware(k.sessions), wsgin.Middleware(k.auth))
	g.GET("/me", func(c *gin.Context) {
		c.String(200, "user="+filter.From(c.Request).User())
	})
	r.POST("/login", wsgin.Middleware(k.sessions), gin.WrapH(k.auth.LoginHandler()))

	rec := filtertest.NewRecorder()
	r.ServeHTTP(rec, filtertest.PostForm("/login", url.Values{"username": {"ana"}, "password": {"secret"}}))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login: %d %q", rec.Code, rec.Body.String())
	}
	req := filtertest.Get("/g/me")
	for _, c := range (&http.Response{Header: rec.SentHeader()}).Cookies() {
		req.AddCookie(c)
	}
	rec = filtertest.NewRecorder()
	r.ServeHTTP(rec, req)
	if rec.Body.String() != "user=ana" {
		t.Errorf("GET /g/me: %q", rec.Body.String())
	}
	if a := waitAccess(t, k.out, "GET", "/g/me"); a.User != "ana" || a.Status != 200 {
		t.Errorf("access line %+v, want user ana", a)
	}
}

func TestWrapCalledOnce(t *testing.T) {
	var wraps atomic.Int32
	f := filter.Func(func(next http.Handler) http.Handler {
		wraps.Add(1)
		return next
	})
	r := gin.New()
	r.Use(wsgin.Middleware(f))
	r.GET("/", func(c *gin.Context) { c.String(200, "ok") })
	for range 5 {
		r.ServeHTTP(filtertest.NewRecorder(), filtertest.Get("/"))
	}
	if n := wraps.Load(); n != 1 {
		t.Errorf("Wrap called %d times, want 1", n)
	}
}

func TestLostExchange(t *testing.T) {
	f := filter.Func(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.Background()))
		})
	})
	r := gin.New()
	r.Use(wsgin.Middleware(f))
	var ran atomic.Bool
	r.GET("/", func(c *gin.Context) { ran.Store(true) })
	var logs filtertest.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	rec := filtertest.NewRecorder()
	r.ServeHTTP(rec, filtertest.Get("/"))
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
		{"nil filter", "wsgin: Middleware(nil)", func() { wsgin.Middleware(nil) }},
		{"nil handler", "returned a nil handler", func() {
			wsgin.Middleware(filter.Func(func(http.Handler) http.Handler { return nil }))
		}},
		{"unmet need", "session", func() {
			wsgin.Stack(wsapi.New(auth.New(auth.NewSession(nil))))
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

// A request no route matches gets gin's own answer, through the filters:
// the access line has its status and its bytes.
func TestNoRoute(t *testing.T) {
	k := newKit(t)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(wsgin.Middleware(k.logs), wsgin.Middleware(k.sessions))
	r.GET("/only-get", func(c *gin.Context) { c.String(200, "ok") })
	h := filtertest.NewLint(t).Wrap(r)
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/nowhere", 404, "404 page not found"},
		{"POST", "/only-get", 405, "405 method not allowed"},
	} {
		rec := filtertest.NewRecorder()
		h.ServeHTTP(rec, filtertest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.status || rec.Body.String() != tc.body || rec.SentHeader().Get("Content-Type") != "text/plain" {
			t.Errorf("%s %s: %d %q (%q), want %d %q", tc.method, tc.path, rec.Code, rec.Body.String(), rec.SentHeader().Get("Content-Type"), tc.status, tc.body)
		}
		if a := waitAccess(t, k.out, tc.method, tc.path); a.Status != tc.status || a.Bytes != int64(len(tc.body)) {
			t.Errorf("%s %s: access line %+v", tc.method, tc.path, a)
		}
	}

	// A NoRoute handler of the app's own answers instead.
	r.NoRoute(func(c *gin.Context) { c.String(404, "nothing here") })
	rec := filtertest.NewRecorder()
	h.ServeHTTP(rec, filtertest.Get("/elsewhere"))
	if rec.Code != 404 || rec.Body.String() != "nothing here" {
		t.Errorf("with a NoRoute handler: %d %q", rec.Code, rec.Body.String())
	}
}

// A status gin middleware set before the adapter is the handlers' default,
// as with gin's own writer.
func TestStatusSetBeforeTheAdapter(t *testing.T) {
	r := gin.New()
	r.Use(func(c *gin.Context) { c.Status(http.StatusCreated) }, wsgin.Middleware(newKit(t).logs))
	var seen int
	r.POST("/items", func(c *gin.Context) {
		seen = c.Writer.Status()
		c.Writer.WriteString("made")
	})
	rec := filtertest.NewRecorder()
	r.ServeHTTP(rec, filtertest.NewRequest("POST", "/items", nil))
	if rec.Code != http.StatusCreated || seen != http.StatusCreated {
		t.Errorf("status %d (the handler saw %d), want 201", rec.Code, seen)
	}
}

// isolate.Deadline answers at the deadline from another goroutine, below
// the exchange, while the handler still runs; the adapter returns only
// after the handler did, and gin's writer knows the 503.
func TestDeadline(t *testing.T) {
	k := newKit(t)
	statusOut := make(chan int, 1) // the handler returns after the client has its answer
	r := gin.New()
	r.Use(func(c *gin.Context) {
		c.Next()
		statusOut <- c.Writer.Status()
	})
	r.Use(wsgin.Stack(wsapi.New(k.logs, k.recover, &isolate.Deadline{Timeout: 50 * time.Millisecond})))
	r.GET("/slow", func(c *gin.Context) {
		<-c.Request.Context().Done()
		c.String(200, "too late") // dropped
	})
	srv := httptest.NewServer(r)
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
		t.Errorf("gin's writer says %d, want 503", status)
	}
}

// gin's internal redirect, c.Request.URL.Path changed and then
// Engine.HandleContext(c), resets c.Writer to gin's own writer, below the
// filters. The answer of the second pass still goes through the filters
// when an adapter runs on it: the session cookie goes out with it, and the
// access line (one for the request, with the path it ended on) has the
// status and the bytes the client got. The filters of an adapter that runs
// on both passes run once.
func TestHandleContext(t *testing.T) {
	tagger := filter.Func(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			x, w, r, owner := filter.Begin(w, r)
			defer owner.End()
			x.OnHeaders(func(x *filter.Exchange) { x.Header().Set("X-Tag", "old") })
			next.ServeHTTP(w, r)
		})
	})
	// redirect registers GET /old, which puts a value in the session
	// and passes the request on to to.
	redirect := func(r *gin.Engine, to string, handlers ...gin.HandlerFunc) {
		r.GET("/old", append(handlers, func(c *gin.Context) {
			if err := session.Put(c.Request, "seen", true); err != nil {
				c.AbortWithStatus(http.StatusInternalServerError)
				return
			}
			c.Request.URL.Path = to
			r.HandleContext(c)
		})...)
	}
	created := func(c *gin.Context) { c.String(http.StatusCreated, "created") }
	for _, tt := range []struct {
		name   string
		setup  func(r *gin.Engine, k *kit)
		path   string // where the request ends
		status int
		body   string
		tag    string // the X-Tag header the client gets
	}{
		{"stack on the engine", func(r *gin.Engine, k *kit) {
			r.Use(wsgin.Stack(wsapi.New(k.logs, k.sessions)))
			redirect(r, "/new")
			r.GET("/new", created)
		}, "/new", http.StatusCreated, "created", ""},
		{"stack on the engine, a filter on the first route", func(r *gin.Engine, k *kit) {
			r.Use(wsgin.Stack(wsapi.New(k.logs, k.sessions)))
			redirect(r, "/new", wsgin.Middleware(tagger))
			r.GET("/new", created)
		}, "/new", http.StatusCreated, "created", "old"},
		{"stack on both routes", func(r *gin.Engine, k *kit) {
			stack := wsgin.Stack(wsapi.New(k.logs, k.sessions))
			redirect(r, "/new", stack)
			r.GET("/new", stack, created)
		}, "/new", http.StatusCreated, "created", ""},
		{"stack on the engine, to a path no route matches", func(r *gin.Engine, k *kit) {
			r.Use(wsgin.Stack(wsapi.New(k.logs, k.sessions)))
			redirect(r, "/missing")
		}, "/missing", http.StatusNotFound, "404 page not found", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k := newKit(t)
			r := gin.New()
			tt.setup(r, k)
			rec := filtertest.NewRecorder()
			filtertest.NewLint(t).Wrap(r).ServeHTTP(rec, filtertest.Get("/old")) // Lint reports a second status line
			if rec.Code != tt.status || rec.Body.String() != tt.body {
				t.Errorf("client got %d %q (events %q), want %d %q", rec.Code, rec.Body.String(), rec.String(), tt.status, tt.body)
			}
			if c := rec.SentHeader().Get("Set-Cookie"); !strings.HasPrefix(c, "session=") {
				t.Errorf("Set-Cookie %q, want the session cookie", c)
			}
			if got := rec.SentHeader().Get("X-Tag"); got != tt.tag {
				t.Errorf("X-Tag %q, want %q", got, tt.tag)
			}
			a := waitAccess(t, k.out, "GET", tt.path)
			if a.Status != tt.status || a.Bytes != int64(len(tt.body)) {
				t.Errorf("access line %+v, want status %d and %d bytes", a, tt.status, len(tt.body))
			}
			if as := accessLines(t, k.out); len(as) != 1 {
				t.Errorf("%d access lines, want 1:\n%s", len(as), k.out.String())
			}
		})
	}
}

// When the route Engine.HandleContext reaches has no adapter, its answer
// goes out through gin's writer, below the filters: the filters cannot add
// headers to it (no session cookie), but the access line still has the
// status and the bytes the client got, and nothing is sent twice.
func TestHandleContextToARouteWithoutTheAdapter(t *testing.T) {
	k := newKit(t)
	r := gin.New()
	r.GET("/old", wsgin.Stack(wsapi.New(k.logs, k.sessions)), func(c *gin.Context) {
		if err := session.Put(c.Request, "seen", true); err != nil {
			c.AbortWithStatus(http.StatusInternalServerError)
			return
		}
		c.Request.URL.Path = "/new"
		r.HandleContext(c)
	})
	r.GET("/new", func(c *gin.Context) { c.String(http.StatusCreated, "created") })
	rec := filtertest.NewRecorder()
	filtertest.NewLint(t).Wrap(r).ServeHTTP(rec, filtertest.Get("/old"))
	if rec.String() != "header 201, write 7" || rec.Body.String() != "created" {
		t.Errorf("client got events %q, body %q; want one 201 with \"created\"", rec.String(), rec.Body.String())
	}
	if c := rec.SentHeader().Get("Set-Cookie"); c != "" {
		t.Errorf("Set-Cookie %q: the filters cannot add headers to an answer below them", c)
	}
	if a := waitAccess(t, k.out, "GET", "/new"); a.Status != http.StatusCreated || a.Bytes != int64(len("created")) {
		t.Errorf("access line %+v, want status 201 and 7 bytes", a)
	}
}

// unwrapping is the writer of a gin middleware that transforms the body
// and has Unwrap, for http.ResponseController.
type unwrapping struct{ gin.ResponseWriter }

func (u unwrapping) Write(p []byte) (int, error) {
	return u.ResponseWriter.Write(bytes.ToUpper(p))
}

func (u unwrapping) WriteString(s string) (int, error) {
	return u.ResponseWriter.WriteString(strings.ToUpper(s))
}

func (u unwrapping) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// opaque is the writer of a gin middleware that has no Unwrap.
type opaque struct{ gin.ResponseWriter }

// When gin middleware before the adapter wraps c.Writer, the filter's
// writer has the optional interfaces of the server's writer, found through
// Unwrap; ReaderFrom only when the middleware's writer has it, so that the
// body goes through that writer. Below a writer without Unwrap nothing can
// be seen: the filter's writer has what that writer has, and gin's
// interface gives it Flush and Hijack.
func TestWriterAbilitiesBelowGinMiddleware(t *testing.T) {
	var inFilter filtertest.Abilities
	probe := filter.Func(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inFilter = filtertest.AbilitiesOf(w)
			next.ServeHTTP(w, r)
		})
	})
	for _, tt := range []struct {
		name string
		wrap func(gin.ResponseWriter) gin.ResponseWriter
		want func(server filtertest.Abilities) filtertest.Abilities
		body string // what the client gets
	}{
		{"with Unwrap", func(w gin.ResponseWriter) gin.ResponseWriter { return unwrapping{w} },
			func(server filtertest.Abilities) filtertest.Abilities { return server &^ filtertest.ReaderFrom }, "BODY"},
		{"twice with Unwrap", func(w gin.ResponseWriter) gin.ResponseWriter { return unwrapping{unwrapping{w}} },
			func(server filtertest.Abilities) filtertest.Abilities { return server &^ filtertest.ReaderFrom }, "BODY"},
		{"without Unwrap", func(w gin.ResponseWriter) gin.ResponseWriter { return &opaque{w} },
			func(filtertest.Abilities) filtertest.Abilities { return filtertest.Flusher | filtertest.Hijacker }, "body"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := gin.New()
			r.Use(func(c *gin.Context) { c.Writer = tt.wrap(c.Writer) }, wsgin.Middleware(probe))
			r.GET("/", func(c *gin.Context) {
				// A reader without WriteTo, so that io.Copy uses
				// c.Writer's ReadFrom when it has one.
				io.Copy(c.Writer, struct{ io.Reader }{strings.NewReader("body")})
			})
			for server := range filtertest.AllAbilities + 1 {
				rec, w := filtertest.NewWriter(server)
				r.ServeHTTP(w, filtertest.Get("/"))
				if want := tt.want(server); inFilter != want {
					t.Errorf("server writer with %v: the filter's has %v, want %v", server, inFilter, want)
				}
				if body := rec.Body.String(); body != tt.body {
					t.Errorf("server writer with %v: body %q, want %q (through the middleware's writer)", server, body, tt.body)
				}
			}
		})
	}
}

// Gin's own redirects answer before any middleware runs: with
// RedirectTrailingSlash on (gin's default) the filters never see the
// request; with it off, gin's 404 goes through them.
func TestGinRedirectsSkipTheFilters(t *testing.T) {
	for _, redirect := range []bool{true, false} {
		k := newKit(t)
		r := gin.New()
		r.RedirectTrailingSlash = redirect
		r.Use(wsgin.Middleware(k.logs))
		r.GET("/a", func(c *gin.Context) { c.String(200, "a") })
		rec := filtertest.NewRecorder()
		r.ServeHTTP(rec, filtertest.Get("/a/"))
		as := accessLines(t, k.out) // ServeHTTP logs before it returns
		switch {
		case redirect && (rec.Code != http.StatusMovedPermanently || len(as) != 0):
			t.Errorf("RedirectTrailingSlash on: %d, %d access lines; want gin's 301 without the filters", rec.Code, len(as))
		case !redirect && (rec.Code != http.StatusNotFound || len(as) != 1 || as[0].Status != http.StatusNotFound):
			t.Errorf("RedirectTrailingSlash off: %d, access lines %+v; want one 404 through the filters", rec.Code, as)
		}
	}
}

// A before-headers hook that changes the status does so on the way out:
// gin middleware inside the adapter sees the handler's status, middleware
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
	r := gin.New()
	r.Use(func(c *gin.Context) { c.Next(); outside = c.Writer.Status() })
	r.Use(wsgin.Stack(wsapi.New(k.logs, unavailable)))
	r.Use(func(c *gin.Context) { c.Next(); inside = c.Writer.Status() })
	r.GET("/", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	rec := filtertest.NewRecorder()
	r.ServeHTTP(rec, filtertest.Get("/"))
	a := waitAccess(t, k.out, "GET", "/")
	if rec.Code != 503 || outside != 503 || a.Status != 503 || inside != 200 {
		t.Errorf("client %d, outside %d, access line %d, inside %d; want 503, 503, 503, 200", rec.Code, outside, a.Status, inside)
	}
}

// An adapter listed twice in a chain runs its filters once: one access
// line.
func TestAdapterListedTwice(t *testing.T) {
	k := newKit(t)
	logs := wsgin.Middleware(k.logs)
	r := gin.New()
	r.Use(logs)
	r.GET("/", logs, func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	rec := filtertest.NewRecorder()
	r.ServeHTTP(rec, filtertest.Get("/"))
	if as := accessLines(t, k.out); rec.Body.String() != "ok" || len(as) != 1 || as[0].Status != 200 || as[0].Bytes != 2 {
		t.Errorf("body %q, access lines %+v; want \"ok\" and one line", rec.Body.String(), as)
	}
}

// A filter that calls its app twice (against the contract) does not run
// gin's chain twice.
func TestAppCalledTwice(t *testing.T) {
	twice := filter.Func(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			next.ServeHTTP(w, r)
		})
	})
	runs := 0
	r := gin.New()
	r.Use(wsgin.Middleware(twice))
	r.GET("/", func(c *gin.Context) { runs++; c.String(http.StatusOK, "ok") })
	rec := filtertest.NewRecorder()
	r.ServeHTTP(rec, filtertest.Get("/"))
	if runs != 1 || rec.Code != 200 || rec.Body.String() != "ok" {
		t.Errorf("the handler ran %d times, client got %d %q; want once, 200 \"ok\"", runs, rec.Code, rec.Body.String())
	}
}
