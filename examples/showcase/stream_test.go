package main

import (
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/mux"
)

// checkChunks checks that body holds chunks 1 to n of n, in order.
func checkChunks(t *testing.T, body string, n int) {
	t.Helper()
	last := -1
	for i := 1; i <= n; i++ {
		want := "chunk " + strconv.Itoa(i) + " of " + strconv.Itoa(n)
		at := strings.Index(body, want)
		if at < 0 || at < last {
			t.Fatalf("%q missing or out of order in:\n%s", want, body)
		}
		last = at
	}
}

func TestStreamAppFlushesEachChunk(t *testing.T) {
	p, err := loadPages()
	if err != nil {
		t.Fatal(err)
	}
	m := mux.New()
	m.Mount("/stream", newStreamApp(p, "a test"))
	app := filtertest.Check(t, nil, m)
	r := filtertest.Get("/stream?n=3&ms=0")
	r.Header.Set(streamUserHeader, "ana<script>")
	rec := filtertest.NewRecorder()
	app.ServeHTTP(rec, r)
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	// The head, three chunks and the foot: five writes, each flushed.
	if got := strings.Count(rec.String(), "flush"); got != 5 {
		t.Errorf("events %s: %d flushes, want 5", rec, got)
	}
	body := rec.Body.String()
	checkChunks(t, body, 3)
	contains(t, "the stream", body, `<span id="user">ana&lt;script&gt;</span>`, `id="stream-done"`, "(a test)")

	rec = filtertest.NewRecorder()
	app.ServeHTTP(rec, filtertest.NewRequest("POST", "/stream", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}

func TestStreamInProcess(t *testing.T) {
	a := start(t)
	c := a.client()
	if resp, _ := c.page("/stream"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("anonymous /stream: %d", resp.StatusCode)
	}
	c.mustLogin(demoUser, testPassword)
	// A client cannot pass for another user through the app's header.
	resp, body := c.do("GET", "/stream?n=5&ms=1", nil, streamUserHeader, "mallory")
	if len(resp.Header.Values("X-Frame-Options")) != 1 {
		t.Errorf("X-Frame-Options %q, want one", resp.Header.Values("X-Frame-Options"))
	}
	if resp.StatusCode != 200 || resp.ContentLength != -1 {
		t.Fatalf("GET /stream: %d, length %d", resp.StatusCode, resp.ContentLength)
	}
	checkChunks(t, body, 5)
	contains(t, "the stream", body, `<span id="user">demo</span>`, "SCRIPT_NAME <code>/stream</code>",
		`<strong id="stream-pid">`+strconv.Itoa(os.Getpid())+`</strong>`)
	if strings.Contains(body, "mallory") {
		t.Errorf("the client's %s header reached the app", streamUserHeader)
	}
	contains(t, "the stream", body, "PATH_INFO empty.")
}

func TestStreamHeadersCannotBeSpoofed(t *testing.T) {
	// alice has no admin role: the admin link must not appear on her
	// stream page, whatever headers she sends. (demo is an admin, so the
	// header of the admin role cannot be tested with demo.)
	a := start(t, withUser(t, alice, alicePass))
	c := a.client()
	c.mustLogin(alice, alicePass)
	resp, body := c.do("GET", "/stream?n=1&ms=0", nil, streamAdminHeader, "1", streamUserHeader, "demo")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /stream as alice: %d", resp.StatusCode)
	}
	contains(t, "alice's stream", body, `<span id="user">alice</span>`)
	if strings.Contains(body, `href="/admin"`) {
		t.Errorf("alice's stream page links to /admin: the client's %s header reached the app", streamAdminHeader)
	}
	// The unit that does it: without withStreamUser's removal, the
	// client's headers would stay.
	var got http.Header
	h := withStreamUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	r := filtertest.Get("/stream")
	r.Header.Set(streamUserHeader, "mallory")
	r.Header.Set(streamAdminHeader, "1")
	h.ServeHTTP(filtertest.NewRecorder(), r) // anonymous: no identity
	if got.Get(streamUserHeader) != "" || got.Get(streamAdminHeader) != "" {
		t.Errorf("an anonymous request kept the client's headers: %v", got)
	}
}

func TestStreamInWorkerProcesses(t *testing.T) {
	// The workers are this test binary started again: TestMain serves the
	// stream in them.
	a := start(t, func(c *config) { c.Workers = 2 })
	c := a.client()
	c.mustLogin(demoUser, testPassword)
	var resp *http.Response
	var body string
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, body = c.page("/stream?n=3&ms=1")
		if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET /stream: %d %s", resp.StatusCode, body)
	}
	checkChunks(t, body, 3)
	if len(resp.Header.Values("X-Frame-Options")) != 1 || len(resp.Header.Values("X-Content-Type-Options")) != 1 {
		t.Errorf("security headers from a worker: %v, want each once", resp.Header)
	}
	m := regexp.MustCompile(`<strong id="stream-pid">(\d+)</strong> \(worker process \d\)`).FindStringSubmatch(body)
	if m == nil || m[1] == strconv.Itoa(os.Getpid()) {
		t.Errorf("not served by a worker process:\n%s", body)
	}
	contains(t, "the stream", body, `<span id="user">demo</span>`)
	_, admin := c.page("/admin")
	if !regexp.MustCompile(`<td id="workers">\d of 2 ready</td>`).MatchString(admin) {
		t.Errorf("the admin page does not show the workers:\n%s", admin)
	}
}

func TestLuaApp(t *testing.T) {
	cgi, err := exec.LookPath("wsapi.cgi")
	if err != nil {
		t.Skip("service unavailable: wsapi.cgi is not on PATH (on Debian: apt-get install lua-wsapi)")
	}
	a := start(t, func(c *config) { c.Lua = cgi })
	c := a.client()
	if resp, _ := c.page("/lua/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("anonymous /lua/: %d", resp.StatusCode)
	}
	c.mustLogin(demoUser, testPassword)
	resp, body := c.page("/lua/a/b?x=1")
	if resp.StatusCode != 200 || resp.Header.Get("X-Lua") != "wsapi" {
		t.Fatalf("GET /lua/a/b: %d %v\n%s\n%s", resp.StatusCode, resp.Header, body, a.logs)
	}
	contains(t, "the Lua page", body, `<h1 id="lua-hello">Hello from Lua</h1>`, "Lua 5.",
		`<td id="env-SCRIPT_NAME"><code>/lua</code>`, `<td id="env-PATH_INFO"><code>/a/b</code>`,
		`<td id="env-QUERY_STRING"><code>x=1</code>`, `<td id="env-REMOTE_USER"><code>demo</code>`,
		`<span id="user">demo</span>`)
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("the Go stack's headers are missing: %v", resp.Header)
	}
}

func TestLuaMissing(t *testing.T) {
	a := start(t) // Lua off
	c := a.client()
	c.mustLogin(demoUser, testPassword)
	resp, body := c.page("/lua/")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /lua/ without lua-wsapi: %d", resp.StatusCode)
	}
	contains(t, "the page", body, "lua-wsapi is not installed", `<span id="user">demo</span>`)
}
