package wsapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	"github.com/wsapi-go/wsapi/filters/logging"
	"github.com/wsapi-go/wsapi/internal/testservice"
)

// luaApp is testdata/lua/hello.lua, a WSAPI application in Lua.
func luaApp(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("testdata/lua/hello.lua")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// lookWSAPI returns the path of a WSAPI launcher, or skips the test.
func lookWSAPI(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("service unavailable: %s is not on PATH (on Debian: apt-get install lua-wsapi lua-wsapi-fcgi)", name)
	}
	return p
}

// goStack serves app at /lua/ behind a stack that logs each request and
// adds an X-Go header.
func goStack(t *testing.T, app http.Handler) (*httptest.Server, *filtertest.Buffer) {
	t.Helper()
	var logs filtertest.Buffer
	addHeader := filter.Named("addHeader", func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Go", "stack")
			next.ServeHTTP(w, r)
		})
	})
	stack := wsapi.New(logging.New(&logs), addHeader)
	mux := http.NewServeMux()
	mux.Handle("/lua/", stack.Then(app))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &logs
}

func checkLua(t *testing.T, srv *httptest.Server, logs *filtertest.Buffer) {
	t.Helper()
	tests := []struct {
		method, path, body string
		want               []string
	}{
		{"GET", "/lua/a/b", "", []string{"Hello Wsapi!\n", "PATH_INFO: /a/b\n", "SCRIPT_NAME: /lua\n"}},
		{"POST", "/lua/echo", "posted from Go", []string{"PATH_INFO: /echo\n", "POSTED: posted from Go\n"}},
	}
	for _, tt := range tests {
		var body io.Reader
		if tt.body != "" {
			body = strings.NewReader(tt.body)
		}
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: status %d, body %q", tt.method, tt.path, resp.StatusCode, b)
		}
		if resp.Header.Get("X-Lua") != "wsapi" || resp.Header.Get("X-Go") != "stack" {
			t.Errorf("%s %s: headers from both sides missing: %v", tt.method, tt.path, resp.Header)
		}
		for _, want := range tt.want {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s %s: body %q lacks %q", tt.method, tt.path, b, want)
			}
		}
	}
	if out := logs.String(); !strings.Contains(out, `"/lua/a/b"`) || !strings.Contains(out, `"/lua/echo"`) {
		t.Errorf("access log %q lacks the requests", out)
	}
}

func TestLuaWSAPIUnderCGIAppBehindAGoStack(t *testing.T) {
	launcher := lookWSAPI(t, "wsapi.cgi")
	srv, logs := goStack(t, wsapi.NewCGIApp(launcher, luaApp(t)))
	checkLua(t, srv, logs)
}

func TestLuaWSAPIUnderFastCGIAppBehindAGoStack(t *testing.T) {
	verifyNoLeaks(t)
	launcher := lookWSAPI(t, "wsapi.fcgi")
	resp := testservice.SpawnFCGI(t, nil, launcher)
	app := wsapi.NewFastCGIApp(resp.Network, resp.Address)
	app.Script = luaApp(t)
	t.Cleanup(func() { app.Close() })
	srv, logs := goStack(t, app)
	checkLua(t, srv, logs)
}
