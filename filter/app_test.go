package filter_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
)

// eventWriter records the order of header, write and flush events, and can
// fail writes after a number of them, as a gone client does.
type eventWriter struct {
	h      http.Header
	events []string
	failAt int // the write number that fails; 0 never
	writes int
	body   bytes.Buffer
	status int
}

func newEventWriter() *eventWriter { return &eventWriter{h: http.Header{}} }

func (e *eventWriter) Header() http.Header { return e.h }
func (e *eventWriter) WriteHeader(code int) {
	if e.status == 0 {
		e.status = code
		e.events = append(e.events, "header")
	}
}
func (e *eventWriter) Write(p []byte) (int, error) {
	if e.status == 0 {
		e.WriteHeader(200)
	}
	e.writes++
	if e.failAt > 0 && e.writes >= e.failAt {
		return 0, errors.New("client gone")
	}
	e.events = append(e.events, "write "+string(p))
	return e.body.Write(p)
}
func (e *eventWriter) Flush() { e.events = append(e.events, "flush") }

func helloChunks(env *filter.Env) (int, http.Header, filter.Body) {
	return 200, http.Header{"Content-Type": {"text/plain"}}, filter.Chunks(func(yield func([]byte) bool) {
		for _, s := range []string{"a", "", "b", "c"} {
			if !yield([]byte(s)) {
				return
			}
		}
	})
}

func TestChunksAreWrittenAndFlushedOneByOne(t *testing.T) {
	for _, attached := range []bool{false, true} {
		w := newEventWriter()
		var h http.Handler = filter.AppFunc(helloChunks)
		if attached {
			h = withExchange(h)
		}
		lint(t, h).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		want := "header, write a, flush, write b, flush, write c, flush"
		if got := strings.Join(w.events, ", "); got != want {
			t.Errorf("attached=%v: events\n got %s\nwant %s", attached, got, want)
		}
		if w.h.Get("Content-Length") != "" {
			t.Error("a streamed body must not get Content-Length")
		}
	}
}

// withExchange attaches an exchange before h, as any filter of a stack does.
func withExchange(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, w, r, owner := filter.Begin(w, r)
		defer owner.End()
		h.ServeHTTP(w, r)
	})
}

func TestTextChunksStream(t *testing.T) {
	w := newEventWriter()
	app := filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
		return 200, nil, filter.TextChunks(func(yield func(string) bool) {
			_ = yield("x") && yield("y")
		})
	})
	lint(t, app).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if got := strings.Join(w.events, ", "); got != "header, write x, flush, write y, flush" {
		t.Errorf("events: %s", got)
	}
}

func TestAClientThatGoesAwayStopsTheIterator(t *testing.T) {
	w := newEventWriter()
	w.failAt = 2
	var produced int
	var stopped bool
	app := filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
		return 200, nil, filter.Chunks(func(yield func([]byte) bool) {
			for i := 0; i < 100; i++ {
				produced++
				if !yield([]byte("chunk")) {
					stopped = true
					return
				}
			}
		})
	})
	lint(t, app).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if !stopped || produced != 2 {
		t.Errorf("iterator produced %d chunks, stopped=%v; want it stopped after the failed 2nd write", produced, stopped)
	}
}

func TestKnownLengthBodies(t *testing.T) {
	tests := []struct {
		name string
		body filter.Body
		want string
	}{
		{"bytes", filter.Bytes([]byte("hello")), "hello"},
		{"text", filter.Text("hello, world"), "hello, world"},
		{"empty", filter.Body{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			app := filter.AppFunc(func(*filter.Env) (int, http.Header, filter.Body) { return 200, nil, tt.body })
			lint(t, app).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Body.String() != tt.want {
				t.Errorf("body = %q", rec.Body.String())
			}
			if got, want := rec.Header().Get("Content-Length"), len(tt.want); got != itoa(want) {
				t.Errorf("Content-Length = %q, want %d", got, want)
			}
			if n, ok := tt.body.Len(); !ok || n != len(tt.want) {
				t.Errorf("Len = %d, %v", n, ok)
			}
		})
	}
	if _, ok := filter.Chunks(nil).Len(); ok {
		t.Error("a streamed body has no known length")
	}
}

func itoa(n int) string {
	var b []byte
	if n == 0 {
		return "0"
	}
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestTheContentLengthOfTheAppIsCorrectedForAKnownBody(t *testing.T) {
	rec := httptest.NewRecorder()
	app := filter.AppFunc(func(*filter.Env) (int, http.Header, filter.Body) {
		return 200, http.Header{"Content-Length": {"99"}}, filter.Text("abc")
	})
	lint(t, app).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Header().Get("Content-Length") != "3" {
		t.Errorf("Content-Length = %q, want 3", rec.Header().Get("Content-Length"))
	}
}

func TestDefaultContentTypeIsHTML(t *testing.T) {
	rec := httptest.NewRecorder()
	filter.AppFunc(func(*filter.Env) (int, http.Header, filter.Body) { return 200, nil, filter.Text("<p>") }).
		ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := rec.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	rec = httptest.NewRecorder()
	filter.AppFunc(func(*filter.Env) (int, http.Header, filter.Body) {
		return 200, http.Header{"content-type": {"application/json"}}, filter.Text("{}")
	}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := rec.Header().Values("Content-Type"); len(got) != 1 || got[0] != "application/json" {
		t.Errorf("a lower-case content-type from the app must be canonicalized and kept, got %q", got)
	}
}

func TestNoBodyIsSentOrIteratedWhenNoneIsAllowed(t *testing.T) {
	tests := []struct {
		name   string
		method string
		status int
		wantCL string
	}{
		{"HEAD keeps the length of a known body", "HEAD", 200, "5"},
		{"204 has no body", "GET", 204, ""},
		{"304 has no body", "GET", 304, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, streamed := range []bool{false, true} {
				iterated := false
				app := filter.AppFunc(func(*filter.Env) (int, http.Header, filter.Body) {
					if streamed {
						return tt.status, nil, filter.Chunks(func(yield func([]byte) bool) { iterated = true; yield([]byte("hello")) })
					}
					return tt.status, nil, filter.Text("hello")
				})
				rec := httptest.NewRecorder()
				lint(t, app).ServeHTTP(rec, httptest.NewRequest(tt.method, "/", nil))
				if rec.Code != tt.status || rec.Body.Len() != 0 || iterated {
					t.Errorf("streamed=%v: status %d, body %q, iterated %v", streamed, rec.Code, rec.Body.String(), iterated)
				}
				if want := tt.wantCL; !streamed && rec.Header().Get("Content-Length") != want {
					t.Errorf("Content-Length = %q, want %q", rec.Header().Get("Content-Length"), want)
				}
			}
		})
	}
}

func TestAnInvalidStatusIsAnswered500AndLogged(t *testing.T) {
	for _, status := range []int{0, 99, 1000, -1, 100, 199} {
		var buf bytes.Buffer
		rec := httptest.NewRecorder()
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			x, w, r, owner := filter.Begin(w, r)
			defer owner.End()
			x.SetLogger(captureLog(&buf))
			filter.AppFunc(func(*filter.Env) (int, http.Header, filter.Body) {
				return status, http.Header{"X-App": {"1"}}, filter.Text("never")
			}).ServeHTTP(w, r)
		})
		lint(t, h).ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
		if rec.Code != 500 || strings.Contains(rec.Body.String(), "never") || rec.Header().Get("X-App") != "" {
			t.Errorf("status %d: got %d %q", status, rec.Code, rec.Body.String())
		}
		if !strings.Contains(buf.String(), "invalid status") || !strings.Contains(buf.String(), `"path":"/x"`) {
			t.Errorf("status %d: log %q", status, buf.String())
		}
	}
}

func TestSeveralValuesGoOutAsRepeatedLines(t *testing.T) {
	srv := httptest.NewServer(withCookieFilter(filter.AppFunc(func(*filter.Env) (int, http.Header, filter.Body) {
		return 200, http.Header{"Set-Cookie": {"a=1", "b=2"}, "X-Multi": {"x", "y"}}, filter.Text("ok")
	})))
	defer srv.Close()
	conn, err := netDial(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	raw, _ := io.ReadAll(conn)
	head := string(raw)
	for _, line := range []string{"Set-Cookie: filter=0\r\n", "Set-Cookie: a=1\r\n", "Set-Cookie: b=2\r\n", "X-Multi: x\r\n", "X-Multi: y\r\n"} {
		if !strings.Contains(head, line) {
			t.Errorf("response lacks %q:\n%s", line, head)
		}
	}
	res, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Cookies()); n != 3 {
		t.Errorf("cookies = %d, want 3 (the filter's is kept beside the app's)", n)
	}
}

// withCookieFilter sets a cookie before the app runs, as a filter may.
func withCookieFilter(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "filter", Value: "0"})
		h.ServeHTTP(w, r)
	})
}

func TestAFilterAppendingAfterTheAppDoesNotWriteIntoTheAppsHeader(t *testing.T) {
	shared := http.Header{"Vary": make([]string, 1, 8)}
	shared["Vary"][0] = "Accept"
	rec := httptest.NewRecorder()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, r, owner := filter.Begin(w, r)
		defer owner.End()
		x.OnHeaders(func(x *filter.Exchange) { x.Header().Add("Vary", "Cookie") })
		filter.AppFunc(func(*filter.Env) (int, http.Header, filter.Body) { return 200, shared, filter.Text("") }).ServeHTTP(w, r)
	})
	lint(t, h).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := rec.Header().Values("Vary"); strings.Join(got, ",") != "Accept,Cookie" {
		t.Errorf("Vary = %q", got)
	}
	if len(shared["Vary"]) != 1 || shared["Vary"][:2][1] != "" {
		t.Errorf("the app's header slice was written into: %q", shared["Vary"][:2])
	}
}

func TestTheAppSeesItsEnv(t *testing.T) {
	rec := httptest.NewRecorder()
	app := filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
		body, _ := io.ReadAll(env.Input())
		return 200, nil, filter.Text(env.Method() + " " + env.ScriptName() + "|" + env.PathInfo() + "?" + env.QueryString() + " " + string(body))
	})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, w, r, owner := filter.Begin(w, r)
		defer owner.End()
		x.SetMountPoint("/app/")
		app.ServeHTTP(w, r)
	})
	lint(t, h).ServeHTTP(rec, httptest.NewRequest("POST", "/app/a/b?q=1", strings.NewReader("data")))
	if got := rec.Body.String(); got != "POST /app|/a/b?q=1 data" {
		t.Errorf("got %q", got)
	}
}

func netDial(addr string) (net.Conn, error) { return net.Dial("tcp", addr) }

// lint checks every response a test handler gives with filtertest.Lint.
func lint(t *testing.T, h http.Handler) http.Handler { return filtertest.NewLint(t).Wrap(h) }
