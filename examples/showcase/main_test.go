package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/wsapi-go/wsapi/filter/filtertest"
)

// binDir holds the binary the process tests build; TestMain removes it.
var binDir string

// TestMain serves the stream as a worker when a test started this test
// binary again through isolate.Workers (-workers above 0), and removes the
// binary that the process tests built.
func TestMain(m *testing.M) {
	if isWorker() {
		os.Exit(runWorker())
	}
	bcryptCost = bcrypt.MinCost // the hashes of throw-away test users
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

const (
	testPassword = "demo-password-1"
	testToken    = "test-token-0123456789abcdef"
	alice        = "alice" // a user without the admin role
	alicePass    = "alice-password"
)

// testApp is a server on an httptest.Server, with its data in a temporary
// directory.
type testApp struct {
	t    *testing.T
	s    *server
	srv  *httptest.Server
	cfg  *config
	logs *filtertest.Buffer
}

// start starts a server with test settings (1 MiB uploads, no workers, no
// Lua), changed by mods before it is built.
func start(t *testing.T, mods ...func(*config)) *testApp {
	t.Helper()
	dir := t.TempDir()
	logs := new(filtertest.Buffer)
	cfg := &config{
		Data:          dir,
		Tmp:           filepath.Join(dir, "tmp"),
		Password:      testPassword,
		Token:         testToken,
		MaxUpload:     1 << 20,
		HeaderTimeout: 10 * time.Second,
		logOut:        logs,
	}
	for _, mod := range mods {
		mod(cfg)
	}
	s, err := newServer(cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	srv := httptest.NewServer(s.handler)
	t.Cleanup(srv.Close)
	return &testApp{t: t, s: s, srv: srv, cfg: cfg, logs: logs}
}

// withUser adds a user (without roles) to the htpasswd file before the
// server starts.
func withUser(t *testing.T, name, password string) func(*config) {
	return func(c *config) {
		hash, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
		if err != nil {
			t.Fatal(err)
		}
		line := name + ":" + string(hash) + "\n"
		if err := os.WriteFile(filepath.Join(c.Data, "htpasswd"), []byte(line), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// client is a browser-like client with a cookie jar that does not follow
// redirects, so tests see each 303.
type client struct {
	t    *testing.T
	c    *http.Client
	base string
}

func (a *testApp) client() *client { return newClient(a.t, a.srv.URL) }

func newClient(t *testing.T, base string) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: base, c: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request; header holds name, value pairs. It returns the
// response with its body read.
func (c *client) do(method, path string, body io.Reader, header ...string) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp, string(b)
}

// page GETs path as a browser does.
func (c *client) page(path string) (*http.Response, string) {
	c.t.Helper()
	return c.do("GET", path, nil, "Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
}

// login posts the login form and returns the answer (a 303).
func (c *client) login(user, password string) *http.Response {
	c.t.Helper()
	form := url.Values{"username": {user}, "password": {password}, "next": {"/"}}
	resp, _ := c.do("POST", "/login", strings.NewReader(form.Encode()),
		"Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html")
	return resp
}

// mustLogin logs in and checks that it worked.
func (c *client) mustLogin(user, password string) {
	c.t.Helper()
	resp := c.login(user, password)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		c.t.Fatalf("login as %s: %d, Location %q", user, resp.StatusCode, resp.Header.Get("Location"))
	}
}

// upload posts files under the field "file" to path; header holds more
// name, value pairs (Accept, Authorization).
func (c *client) upload(path string, files []filtertest.File, header ...string) (*http.Response, string) {
	c.t.Helper()
	for i := range files {
		if files[i].Field == "" {
			files[i].Field = "file"
		}
	}
	body, ct := filtertest.MultipartBody(nil, files...)
	return c.do("POST", path, bytes.NewReader(body), append([]string{"Content-Type", ct}, header...)...)
}

// uploadJSON uploads as the page's JavaScript does, and decodes the answer.
func (c *client) uploadJSON(files ...filtertest.File) (*http.Response, uploadAnswer) {
	c.t.Helper()
	resp, body := c.upload("/files", files, "Accept", "application/json")
	var ans uploadAnswer
	if err := json.Unmarshal([]byte(body), &ans); err != nil {
		c.t.Fatalf("upload: status %d, body %q is not JSON: %v", resp.StatusCode, body, err)
	}
	return resp, ans
}

// uploadAnswer is the JSON of an upload or a list.
type uploadAnswer struct {
	Files []fileMeta `json:"files"`
	Error string     `json:"error"`
}

func textFile(name, content string) filtertest.File {
	return filtertest.File{Name: name, ContentType: "text/plain", Content: []byte(content)}
}

// waitEmpty waits until dir holds no file (the upload filter removes its
// temporary files when it returns, which may be just after the client has
// the answer).
func waitEmpty(t *testing.T, dir string) {
	t.Helper()
	var names []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		names = names[:0]
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if len(names) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still holds %v", dir, names)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// contains fails the test unless body contains each of wants.
func contains(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, body)
		}
	}
}
