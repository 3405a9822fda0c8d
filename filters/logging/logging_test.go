package logging_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/logging"
)

// syncBuffer holds a server's log for the test to read.
type syncBuffer struct{ filtertest.Buffer }

// lines returns the log's lines, decoded from JSON.
func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(s.String(), "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

var pinned = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// newFilter returns a filter writing JSON to a buffer, with a clock that
// advances 1.5 ms per call.
func newFilter() (*logging.Filter, *syncBuffer) {
	buf := &syncBuffer{}
	f := logging.New(buf)
	var mu sync.Mutex
	now := pinned
	f.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := now
		now = now.Add(1500 * time.Microsecond)
		return t
	}
	return f, buf
}

// do serves one request through f and app under Lint.
func do(t *testing.T, f filter.Filter, app http.Handler, r *http.Request) *filtertest.Recorder {
	t.Helper()
	rec := filtertest.NewRecorder()
	filtertest.Check(t, f, app).ServeHTTP(rec, r)
	return rec
}

var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, "hello")
})

func TestTheAccessLine(t *testing.T) {
	f, buf := newFilter()
	r := filtertest.Get("/items/7?token=secret")
	r.Header.Set("User-Agent", "probe/1")
	r.Header.Set("Referer", "https://example.com/")
	r.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	inner := filter.Func(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			x := filter.From(r)
			x.SetUser("alice")
			x.SetSessionID("s-1")
			next.ServeHTTP(w, r)
		})
	})
	rec := do(t, f, inner.Wrap(hello), r)
	lines := buf.lines(t)
	if len(lines) != 1 {
		t.Fatalf("want one line, got %d: %s", len(lines), buf)
	}
	l := lines[0]
	want := map[string]any{
		"level": "info", "message": "request", "method": "GET", "path": "/items/7",
		"status": 201.0, "bytes": 5.0, "duration_ms": 1.5, "ip": "192.0.2.1",
		"user_agent": "probe/1", "referer": "https://example.com/", "proto": "HTTP/1.1",
		"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7",
		"user": "alice", "session": "s-1", "time": "2026-11-21T12:00:01Z",
	}
	for k, v := range want {
		if k == "time" {
			continue
		}
		if l[k] != v {
			t.Errorf("%s = %v, want %v", k, l[k], v)
		}
	}
	if _, ok := l["query"]; ok {
		t.Error("the query must not be logged unless Query is set")
	}
	id, _ := l["request_id"].(string)
	if !logging.ValidRequestID(id) || len(id) != 20 {
		t.Errorf("request_id %q is not a generated id", id)
	}
	if got := rec.SentHeader().Get("X-Request-ID"); got != id {
		t.Errorf("response X-Request-ID = %q, want the logged %q", got, id)
	}
}

func TestQueryIsLoggedOnlyWhenAskedFor(t *testing.T) {
	f, buf := newFilter()
	f.Query = true
	do(t, f, hello, filtertest.Get("/x?a=1&b=2"))
	if got := buf.lines(t)[0]["query"]; got != "a=1&b=2" {
		t.Errorf("query = %v", got)
	}
}

func TestIncomingRequestIDs(t *testing.T) {
	long := strings.Repeat("a", 64)
	tests := []struct {
		name, header, in string
		kept             bool
	}{
		{"a valid id is kept", "X-Request-ID", "abc-123_x.y", true},
		{"64 characters are kept", "X-Request-ID", long, true},
		{"65 characters are replaced", "X-Request-ID", long + "a", false},
		{"an id with a space is replaced", "X-Request-ID", "a b", false},
		{"an id with CR LF is replaced", "X-Request-ID", "a\r\nb", false},
		{"an empty id is replaced", "X-Request-ID", "", false},
		{"a custom header is read", "X-Trace", "trace-9", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, buf := newFilter()
			f.RequestIDHeader = tt.header
			r := filtertest.Get("/")
			r.Header[http.CanonicalHeaderKey(tt.header)] = []string{tt.in}
			var seen string
			app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = filter.From(r).RequestID() })
			rec := do(t, f, app, r)
			got := buf.lines(t)[0]["request_id"].(string)
			if (got == tt.in) != tt.kept {
				t.Errorf("logged id %q for incoming %q, kept=%v", got, tt.in, tt.kept)
			}
			if seen != got || rec.SentHeader().Get(tt.header) != got {
				t.Errorf("exchange %q, header %q, log %q must agree", seen, rec.SentHeader().Get(tt.header), got)
			}
		})
	}
}

func TestInvalidTraceparentAddsNothing(t *testing.T) {
	for _, tp := range []string{"garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"} {
		f, buf := newFilter()
		r := filtertest.Get("/")
		r.Header.Set("Traceparent", tp)
		do(t, f, hello, r)
		if l := buf.lines(t)[0]; l["trace_id"] != nil || l["span_id"] != nil {
			t.Errorf("traceparent %q: logged %v %v", tp, l["trace_id"], l["span_id"])
		}
	}
}

func TestThePerRequestLoggerReachesAppsInAnyFramework(t *testing.T) {
	f, buf := newFilter()
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zerolog.Ctx(r.Context()).Info().Str("from", "zerolog.Ctx").Msg("app")
		hlog.FromRequest(r).Info().Str("from", "hlog").Msg("app")
		w.WriteHeader(204)
	})
	do(t, f, app, filtertest.Get("/"))
	lines := buf.lines(t)
	if len(lines) != 3 {
		t.Fatalf("want 2 app lines and the access line, got %s", buf)
	}
	id := lines[2]["request_id"]
	for _, l := range lines[:2] {
		if l["message"] != "app" || l["request_id"] != id || l["time"] == nil {
			t.Errorf("app line %v must carry the request id %v and a time", l, id)
		}
	}
}

func TestTheEnvErrorStreamGoesToTheRequestLogger(t *testing.T) {
	f, buf := newFilter()
	app := filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
		n, _ := io.WriteString(env.Errors(), "disk full\r\nretrying\n")
		if n != len("disk full\r\nretrying\n") {
			t.Errorf("Write returned %d", n)
		}
		return 200, nil, filter.Text("ok")
	})
	do(t, f, app, filtertest.Get("/"))
	lines := buf.lines(t)
	if len(lines) != 3 || lines[0]["line"] != "disk full" || lines[1]["line"] != "retrying" || lines[0]["level"] != "error" {
		t.Fatalf("log: %s", buf)
	}
	if lines[0]["request_id"] != lines[2]["request_id"] {
		t.Error("error records must carry the request id")
	}
}

func TestLevelsFollowTheStatus(t *testing.T) {
	for status, level := range map[int]string{200: "info", 302: "info", 404: "warn", 503: "error"} {
		f, buf := newFilter()
		do(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }), filtertest.Get("/"))
		if got := buf.lines(t)[0]["level"]; got != level {
			t.Errorf("status %d: level %v, want %s", status, got, level)
		}
	}
	f, buf := newFilter()
	f.Level = func(int) zerolog.Level { return zerolog.DebugLevel }
	do(t, f, hello, filtertest.Get("/"))
	if got := buf.lines(t)[0]["level"]; got != "debug" {
		t.Errorf("custom level: %v", got)
	}
}

func TestSkippedPathsAreNotTouched(t *testing.T) {
	f, buf := newFilter()
	f.Skip = []string{"/healthz"}
	var hadExchange bool
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hadExchange = filter.From(r) != nil })
	rec := do(t, f, app, filtertest.Get("/healthz"))
	if buf.String() != "" || rec.SentHeader().Get("X-Request-ID") != "" || hadExchange {
		t.Errorf("a skipped path must not be logged or annotated: log %q", buf)
	}
	do(t, f, app, filtertest.Get("/healthz/deep"))
	if len(buf.lines(t)) != 1 {
		t.Error("Skip matches exact paths only")
	}
}

func TestSamplingKeepsEveryError(t *testing.T) {
	f, buf := newFilter()
	f.Sample = 3
	h := f.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(500)
		}
	}))
	for i := 0; i < 9; i++ {
		h.ServeHTTP(httptest.NewRecorder(), filtertest.Get("/ok"))
		h.ServeHTTP(httptest.NewRecorder(), filtertest.Get("/fail"))
	}
	var ok, fail int
	for _, l := range buf.lines(t) {
		switch l["path"] {
		case "/ok":
			ok++
		case "/fail":
			fail++
		}
	}
	if ok != 3 || fail != 9 {
		t.Errorf("logged %d of 9 successes (want 3) and %d of 9 errors (want 9)", ok, fail)
	}
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		name, remote, xff, want string
		trusted                 []string
	}{
		{"the peer by default", "198.51.100.7:5555", "", "198.51.100.7", nil},
		{"forwarding headers of an untrusted peer are ignored", "198.51.100.7:5555", "203.0.113.9", "198.51.100.7", nil},
		{"a trusted proxy's X-Forwarded-For is believed", "10.0.0.2:80", "203.0.113.9, 10.0.0.1", "203.0.113.9", []string{"10.0.0.0/8"}},
		{"an IPv6 peer", "[2001:db8::1]:443", "", "2001:db8::1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, buf := newFilter()
			for _, p := range tt.trusted {
				f.TrustedProxies = append(f.TrustedProxies, netip.MustParsePrefix(p))
			}
			r := filtertest.Get("/")
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			var seen netip.Addr
			do(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = filter.From(r).ClientIP() }), r)
			if seen.String() != tt.want || buf.lines(t)[0]["ip"] != tt.want {
				t.Errorf("client IP: exchange %v, log %v, want %s", seen, buf.lines(t)[0]["ip"], tt.want)
			}
		})
	}
}

func TestPanics(t *testing.T) {
	tests := []struct {
		name       string
		app        http.HandlerFunc
		status     float64
		aborted    bool
		stackLines int
	}{
		{"a panic before any write is a 500", func(w http.ResponseWriter, r *http.Request) { panic("boom") }, 500, false, 1},
		{"a panic after the headers is aborted", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("partial"))
			panic("boom")
		}, 200, true, 1},
		{"http.ErrAbortHandler is aborted without a stack", func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) }, 0, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, buf := newFilter()
			h := f.Wrap(tt.app)
			func() {
				defer func() {
					if recover() == nil {
						t.Error("the panic must go on after it is logged")
					}
				}()
				h.ServeHTTP(httptest.NewRecorder(), filtertest.Get("/p"))
			}()
			lines := buf.lines(t)
			if len(lines) != 1+tt.stackLines {
				t.Fatalf("want the access line and %d panic lines, got %s", tt.stackLines, buf)
			}
			access := lines[0]
			if access["status"] != tt.status || (access["aborted"] == true) != tt.aborted || access["level"] != "error" {
				t.Errorf("access line %v", access)
			}
			if tt.stackLines == 1 {
				p := lines[1]
				if p["panic"] != "boom" || !strings.Contains(p["stack"].(string), "logging_test") || p["request_id"] != access["request_id"] {
					t.Errorf("panic line %v", p)
				}
			}
		})
	}
}

func TestHostileInputNeverForgesALine(t *testing.T) {
	forged := "/x\n{\"level\":\"info\",\"message\":\"request\",\"path\":\"/admin\"}\n127.0.0.1 - - [01/Jan/2026:00:00:00 +0000] \"GET /admin HTTP/1.1\" 200 1"
	for _, format := range []logging.Format{logging.JSON, logging.Console, logging.Common, logging.Combined} {
		f, buf := newFilter()
		f.Format = format
		f.Query = true
		r := filtertest.Get("/")
		r.Method = "GET\x1b]0;pwned\x07"
		r.URL.Path = forged
		r.RequestURI = forged + "?q=\x00\x1b[2J"
		r.URL.RawQuery = "q=\x00\x1b[2J"
		r.Header.Set("User-Agent", "evil\r\n\x1b[31mred")
		app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			filter.From(r).SetUser("bob\nroot")
			zerolog.Ctx(r.Context()).Info().Str("echo", r.URL.Path).Msg("app")
		})
		f.Wrap(app).ServeHTTP(httptest.NewRecorder(), r)
		out := buf.String()
		if n := strings.Count(out, "\n"); n != 2 {
			t.Errorf("format %d: %d lines, want 2 (app + access):\n%s", format, n, out)
		}
		for _, raw := range []string{"\x1b]0;pwned", "\x00", "\x1b[2J", "\r", "\x07"} {
			if strings.Contains(out, raw) {
				t.Errorf("format %d: the client's %q reached the log raw:\n%q", format, raw, out)
			}
		}
	}
}

func TestCommonAndCombinedLines(t *testing.T) {
	for _, tt := range []struct {
		format logging.Format
		want   string
	}{
		{logging.Common, `192.0.2.1 - alice [21/Nov/2026:12:00:00 +0000] "GET /a?b=1 HTTP/1.1" 201 5` + "\n"},
		{logging.Combined, `192.0.2.1 - alice [21/Nov/2026:12:00:00 +0000] "GET /a?b=1 HTTP/1.1" 201 5 "https://r.example/" "probe/1"` + "\n"},
	} {
		f, buf := newFilter()
		calls := 0
		f.Now = func() time.Time { calls++; return pinned.Add(time.Duration(calls-1) * 1500 * time.Millisecond) }
		f.Format = tt.format
		var app strings.Builder
		appLogger := zerolog.New(&app)
		f.Logger = &appLogger
		r := filtertest.Get("/a?b=1")
		r.Header.Set("Referer", "https://r.example/")
		r.Header.Set("User-Agent", "probe/1")
		do(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			filter.From(r).SetUser("alice")
			zerolog.Ctx(r.Context()).Info().Msg("to the app log")
			hello(w, r)
		}), r)
		if buf.String() != tt.want {
			t.Errorf("format %d:\n got %q\nwant %q", tt.format, buf.String(), tt.want)
		}
		if !strings.Contains(app.String(), "to the app log") {
			t.Errorf("app logs must go to Logger, got %q", app.String())
		}
	}
}

func TestUnderARealServerWithAStack(t *testing.T) {
	f, buf := newFilter()
	app := filter.AppFunc(func(env *filter.Env) (int, http.Header, filter.Body) {
		return 200, nil, filter.TextChunks(func(yield func(string) bool) { _ = yield("a") && yield("b") })
	})
	stack := wsapi.New(f)
	if got := stack.String(); got != "logging" {
		t.Errorf("listing: %s", got)
	}
	srv := httptest.NewServer(filtertest.NewLint(t).Wrap(stack.Then(app)))
	defer srv.Close()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := http.Get(srv.URL + "/s")
			if err != nil {
				t.Error(err)
				return
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(body) != "ab" || !logging.ValidRequestID(res.Header.Get("X-Request-Id")) {
				t.Errorf("body %q, id %q", body, res.Header.Get("X-Request-Id"))
			}
		}()
	}
	wg.Wait()
	ids := map[string]bool{}
	for _, l := range buf.lines(t) {
		ids[l["request_id"].(string)] = true
		if l["bytes"] != 2.0 || l["ip"] != "127.0.0.1" {
			t.Errorf("line %v", l)
		}
	}
	if len(ids) != 20 {
		t.Errorf("%d distinct request ids in 20 lines", len(ids))
	}
}

func TestAuthCanFindTheClientIPProvider(t *testing.T) {
	needsIP := needing{}
	if err := wsapi.New(logging.New(io.Discard), needsIP).Check(); err != nil {
		t.Errorf("logging must provide clientip: %v", err)
	}
}

type needing struct{}

func (needing) Wrap(next http.Handler) http.Handler { return next }
func (needing) Needs() []filter.Need                { return []filter.Need{{Service: "clientip"}} }
