package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/session"
)

func init() { gin.SetMode(gin.TestMode) }

// step is one request of the scenario every router is driven through.
type step struct {
	name     string
	method   string
	path     string
	body     func() (io.Reader, string) // body and Content-Type, or nil
	status   int                        // the status every router must answer
	wantBody string                     // the body every router must answer, when not ""
}

// answer is what one router answered to one step, in the parts that must
// be the same everywhere.
type answer struct {
	Status int
	Body   string
	Header map[string]string
	Access map[string]any
}

const uploadLimit = 1024

var fileContent = []byte("hello from every router\n")

func form(vals url.Values) func() (io.Reader, string) {
	return func() (io.Reader, string) {
		return strings.NewReader(vals.Encode()), "application/x-www-form-urlencoded"
	}
}

func multipart(content []byte) func() (io.Reader, string) {
	return func() (io.Reader, string) {
		b, ct := filtertest.MultipartBody(url.Values{"note": {"n"}}, filtertest.File{Field: "file", Name: "hello.txt", Content: content})
		return bytes.NewReader(b), ct
	}
}

func scenario() []step {
	sum := sha256.Sum256(fileContent)
	return []step{
		{name: "index", method: "GET", path: "/", status: 200, wantBody: index},
		{name: "first visit", method: "GET", path: "/count", status: 200, wantBody: "count=1\n"},
		{name: "second visit", method: "GET", path: "/count", status: 200, wantBody: "count=2\n"},
		{name: "anonymous me", method: "GET", path: "/me", status: 401},
		{name: "wrong password", method: "POST", path: "/login", status: 401,
			body: form(url.Values{"username": {"ana"}, "password": {"wrong"}})},
		{name: "login", method: "POST", path: "/login", status: 303,
			body: form(url.Values{"username": {"ana"}, "password": {"secret"}})},
		{name: "me", method: "GET", path: "/me", status: 200, wantBody: "user=ana\n"},
		{name: "visit after login", method: "GET", path: "/count", status: 200, wantBody: "count=1\n"},
		{name: "upload", method: "POST", path: "/upload", status: 200, body: multipart(fileContent),
			wantBody: fmt.Sprintf("name=hello.txt size=%d type=text/plain; charset=utf-8 sha256=%s\n", len(fileContent), hex.EncodeToString(sum[:]))},
		{name: "upload too large", method: "POST", path: "/upload", status: 413, body: multipart(bytes.Repeat([]byte("x"), uploadLimit+1))},
		{name: "upload at the limit", method: "POST", path: "/upload", status: 200, body: multipart(bytes.Repeat([]byte("x"), uploadLimit))},
		{name: "stream", method: "GET", path: "/stream", status: 200, wantBody: "line 1\nline 2\nline 3\n"},
		{name: "framework error", method: "GET", path: "/teapot", status: 418, wantBody: "I'm a teapot\n"},
		{name: "panic", method: "GET", path: "/panic", status: 500, wantBody: "Internal Server Error\n"},
		{name: "logout", method: "POST", path: "/logout", status: 204},
		{name: "me after logout", method: "GET", path: "/me", status: 401},
	}
}

// The same filter values behind four routers: the same requests get the
// same answers and the same access lines.
func TestSameAnswersOnEveryRouter(t *testing.T) {
	out := new(filtertest.Buffer)
	store, err := session.OpenStore("memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	users, err := demoUsers(t.TempDir(), "ana", "secret", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	uploads := t.TempDir()
	f := NewFilters(Config{AccessLog: out, Store: store, Users: users, UploadDir: uploads, MaxFileBytes: uploadLimit})

	steps := scenario()
	routers := []string{"servemux", "chi", "echo", "gin"}
	if len(routers) != len(Routers) {
		t.Fatalf("the test drives %d routers, the program has %d", len(routers), len(Routers))
	}
	answers := map[string][]answer{}
	for _, name := range routers {
		srv := httptest.NewServer(Routers[name](f))
		answers[name] = drive(t, name, srv.URL, steps, out)
		srv.Close()
	}

	for i, s := range steps {
		ref := answers["servemux"][i]
		if ref.Status != s.status || (s.wantBody != "" && ref.Body != s.wantBody) {
			t.Errorf("servemux, %s: %d %q, want %d %q", s.name, ref.Status, ref.Body, s.status, s.wantBody)
		}
		if ref.Access["status"] != float64(s.status) {
			t.Errorf("servemux, %s: access line %v, want status %d", s.name, ref.Access, s.status)
		}
		for _, name := range routers[1:] {
			got := answers[name][i]
			if !reflect.DeepEqual(got, ref) {
				t.Errorf("%s, %s:\n got %s\nwant %s (as servemux)", name, s.name, show(got), show(ref))
			}
		}
	}

	// A few answers checked for what they are, not only for agreeing.
	me := answers["servemux"][slices.IndexFunc(steps, func(s step) bool { return s.name == "me" })]
	if me.Access["user"] != "ana" {
		t.Errorf("the access line of /me has user %v, want ana", me.Access["user"])
	}
	first := answers["servemux"][1]
	if c := first.Header["Set-Cookie"]; !strings.Contains(c, "session=VALUE; Path=/") || !strings.Contains(c, "HttpOnly") {
		t.Errorf("the first visit's cookie: %q", c)
	}
	login := answers["servemux"][slices.IndexFunc(steps, func(s step) bool { return s.name == "login" })]
	if login.Header["Location"] != "/" {
		t.Errorf("login sent the browser to %q, want /", login.Header["Location"])
	}

	// No upload left behind.
	if entries, err := os.ReadDir(uploads); err != nil || len(entries) != 0 {
		t.Errorf("the upload directory holds %d entries (%v)", len(entries), err)
	}
}

// drive runs the steps against one router, with a client of its own (its
// own cookie jar), and returns the answers.
func drive(t *testing.T, router, base string, steps []step, out *filtertest.Buffer) []answer {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	var answers []answer
	for i, s := range steps {
		var body io.Reader
		ctype := ""
		if s.body != nil {
			body, ctype = s.body()
		}
		req, err := http.NewRequest(s.method, base+s.path, body)
		if err != nil {
			t.Fatal(err)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		id := fmt.Sprintf("%s-%d", router, i)
		req.Header.Set("X-Request-ID", id)
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s, %s: %v", router, s.name, err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatalf("%s, %s: %v", router, s.name, err)
		}
		if got := res.Header.Get("X-Request-ID"); got != id {
			t.Errorf("%s, %s: X-Request-ID %q, want %q", router, s.name, got, id)
		}
		answers = append(answers, answer{
			Status: res.StatusCode,
			Body:   string(b),
			Header: relevantHeaders(res.Header),
			Access: accessLine(t, out, id),
		})
	}
	return answers
}

// relevantHeaders returns the headers the routers must agree on, with the
// parts that change from run to run (a cookie's value) left out and media
// types in one spelling ("charset=UTF-8" is "charset=utf-8").
func relevantHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"Location", "WWW-Authenticate", "Retry-After", "Connection"} {
		if v := h.Values(k); len(v) > 0 {
			out[k] = strings.Join(v, ", ")
		}
	}
	if ct := h.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			out["Content-Type"] = "unparsable: " + ct
		} else {
			if cs, ok := params["charset"]; ok {
				params["charset"] = strings.ToLower(cs)
			}
			out["Content-Type"] = mime.FormatMediaType(mt, params)
		}
	}
	var cookies []string
	for _, c := range (&http.Response{Header: h}).Cookies() {
		c.Value = "VALUE"
		if !c.Expires.IsZero() {
			c.Expires = time.Time{}
			c.RawExpires = ""
		}
		c.Raw = ""
		cookies = append(cookies, c.String())
	}
	if len(cookies) > 0 {
		out["Set-Cookie"] = strings.Join(cookies, " | ")
	}
	return out
}

// accessLine waits for the access line of the request id and returns its
// fields, without those that change from run to run.
func accessLine(t *testing.T, out *filtertest.Buffer, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, line := range strings.Split(out.String(), "\n") {
			if line == "" {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			if m["request_id"] != id || m["message"] != "request" {
				continue
			}
			for _, k := range []string{"time", "duration_ms", "request_id", "session", "trace_id", "span_id"} {
				delete(m, k)
			}
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("no access line for request %s in:\n%s", id, out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func show(a answer) string {
	keys := slices.Sorted(maps.Keys(a.Access))
	var access []string
	for _, k := range keys {
		access = append(access, fmt.Sprintf("%s=%v", k, a.Access[k]))
	}
	return fmt.Sprintf("%d %q %v access{%s}", a.Status, a.Body, a.Header, strings.Join(access, " "))
}

func TestUnknownRouter(t *testing.T) {
	err := run([]string{"-router", "martini"})
	if err == nil || !strings.Contains(err.Error(), `unknown -router "martini"`) || !strings.Contains(err.Error(), "chi, echo, gin, servemux") {
		t.Errorf("error %v, want one naming the routers", err)
	}
}
