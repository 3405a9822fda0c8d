package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi"
)

// chunkRecorder records each write and flush that reaches the server's
// writer, so a test can see how the body was streamed.
type chunkRecorder struct {
	*httptest.ResponseRecorder
	events []string
}

func newChunkRecorder() *chunkRecorder {
	return &chunkRecorder{ResponseRecorder: httptest.NewRecorder()}
}

func (c *chunkRecorder) Write(p []byte) (int, error) {
	c.events = append(c.events, string(p))
	return c.ResponseRecorder.Write(p)
}

func (c *chunkRecorder) WriteString(s string) (int, error) {
	c.events = append(c.events, s)
	return c.ResponseRecorder.WriteString(s)
}

func (c *chunkRecorder) Flush() {
	c.events = append(c.events, "<flush>")
	c.ResponseRecorder.Flush()
}

func get(t *testing.T, target string) *chunkRecorder {
	t.Helper()
	rec := newChunkRecorder()
	newHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

func TestHelloShowsTheEnvironment(t *testing.T) {
	tests := []struct {
		name       string
		target     string
		pathInfo   string
		scriptName string
	}{
		{"a path below the mount point", "/hello/world", "/world", "/hello"},
		{"the mount point with a slash", "/hello/", "/", "/hello"},
		{"the mount point itself", "/hello", "", "/hello"},
		{"a deeper path with a query", "/hello/a/b/c?x=1", "/a/b/c", "/hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, tt.target)
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200", rec.Code)
			}
			body := rec.Body.String()
			for _, want := range []string{
				"<p>PATH_INFO: " + tt.pathInfo + "</p>",
				"<p>SCRIPT_NAME: " + tt.scriptName + "</p>",
			} {
				if !strings.Contains(body, want) {
					t.Errorf("body %q does not contain %q", body, want)
				}
			}
		})
	}
}

func TestHelloStreamsChunksInOrder(t *testing.T) {
	rec := get(t, "/hello/world")
	want := []string{
		"<html><body>", "<flush>",
		"<p>Hello Wsapi!</p>", "<flush>",
		"<p>PATH_INFO: /world</p>", "<flush>",
		"<p>SCRIPT_NAME: /hello</p>", "<flush>",
		"</body></html>", "<flush>",
	}
	if !slices.Equal(rec.events, want) {
		t.Errorf("writes and flushes:\n got %q\nwant %q", rec.events, want)
	}
	if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", got)
	}
	if got := rec.Header().Get("Content-Length"); got != "" {
		t.Errorf("Content-Length = %q on a streamed body, want none", got)
	}
}

func TestHelloIsPoweredByWsapiGo(t *testing.T) {
	for _, target := range []string{"/hello/world", "/hello"} {
		rec := get(t, target)
		if got := rec.Header().Get("X-Powered-By"); got != "wsapi-go" {
			t.Errorf("GET %s: X-Powered-By = %q, want %q", target, got, "wsapi-go")
		}
	}
}

func TestHelloEscapesThePath(t *testing.T) {
	rec := get(t, `/hello/%3Cscript%3Ealert(%22x%22)%3C/script%3E&amp;`)
	body := rec.Body.String()
	if strings.Contains(body, "<script>") {
		t.Fatalf("body contains an unescaped script tag: %q", body)
	}
	want := "<p>PATH_INFO: /&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;amp;</p>"
	if !strings.Contains(body, want) {
		t.Errorf("body %q does not contain %q", body, want)
	}
}

func TestRootRedirectsToHello(t *testing.T) {
	rec := get(t, "/")
	if rec.Code != http.StatusFound {
		t.Fatalf("status = %d, want 302", rec.Code)
	}
	if got := rec.Header().Get("Location"); got != "/hello/" {
		t.Errorf("Location = %q, want /hello/", got)
	}
}

func TestOtherPathsAreNotFound(t *testing.T) {
	if rec := get(t, "/elsewhere"); rec.Code != http.StatusNotFound {
		t.Errorf("status = %d, want 404", rec.Code)
	}
}

func TestStackListing(t *testing.T) {
	if got, want := stack.String(), "middleware.Recoverer > poweredBy"; got != want {
		t.Errorf("stack.String() = %q, want %q", got, want)
	}
}

// TestServeStreamsAndShutsDown runs the real server through the
// launcher: the body arrives chunked, and cancelling the context shuts the
// server down cleanly.
func TestServeStreamsAndShutsDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	l := &wsapi.Launcher{Stack: stack, Logger: slog.New(slog.DiscardHandler)}
	go func() { done <- l.Serve(ctx, ln, newHandler()) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/hello/world")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := "<html><body><p>Hello Wsapi!</p><p>PATH_INFO: /world</p><p>SCRIPT_NAME: /hello</p></body></html>"
	if string(body) != want {
		t.Errorf("body = %q, want %q", body, want)
	}
	if !slices.Equal(resp.TransferEncoding, []string{"chunked"}) {
		t.Errorf("Transfer-Encoding = %q, want chunked", resp.TransferEncoding)
	}
	if got := resp.Header.Get("X-Powered-By"); got != "wsapi-go" {
		t.Errorf("X-Powered-By = %q, want wsapi-go", got)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve returned %v after the context was cancelled, want nil", err)
	}
}
