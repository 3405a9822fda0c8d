package wsapi_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter"
	"github.com/wsapi-go/wsapi/filter/filtertest"
	ifcgi "github.com/wsapi-go/wsapi/internal/fcgi"
)

// TestMain lets the test binary run as a CGI child: the CGI tests run
// this binary with WSAPI_TEST_CGI_CHILD=1, as a web server would run a
// CGI program.
func TestMain(m *testing.M) {
	if os.Getenv("WSAPI_TEST_CGI_CHILD") == "1" {
		l := &wsapi.Launcher{Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))}
		if os.Getenv("WSAPI_TEST_CGI_GETENV") == "1" {
			l.Getenv = func(k string) string {
				if k == "REQUEST_METHOD" {
					return "GET"
				}
				return os.Getenv(k)
			}
		}
		if err := l.Run(context.Background(), showEnv); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// showEnv answers with the request's mount point, path below it, method
// and body.
var showEnv = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("X-Method", r.Method)
	fmt.Fprintf(w, "SCRIPT_NAME=%s\nPATH_INFO=%s\nQUERY=%s\nBODY=%s", filter.MountPoint(r), filter.PathInfo(r), r.URL.RawQuery, body)
})

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// serveNative runs l.Serve on a free port until the test ends; it returns
// the address and a function that stops the server and returns Serve's
// error.
func serveNative(t *testing.T, l *wsapi.Launcher, h http.Handler) (addr string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln.Addr().String(), serveUntilStopped(t, func(ctx context.Context) error { return l.Serve(ctx, ln, h) })
}

// serveUntilStopped runs serve in a goroutine until stop (also called when
// the test ends) cancels its context; stop returns serve's error.
func serveUntilStopped(t *testing.T, serve func(context.Context) error) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx) }()
	var once sync.Once
	var serveErr error
	stop = func() error {
		once.Do(func() { cancel(); serveErr = <-done })
		return serveErr
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func TestNativeDropsAClientThatSendsItsHeadersSlowly(t *testing.T) {
	called := false
	l := &wsapi.Launcher{ReadHeaderTimeout: 300 * time.Millisecond, Logger: quietLogger()}
	addr, _ := serveNative(t, l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called = true }))

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, c) // returns when the server drops us
		close(closed)
	}()
	// One byte every 50 ms: a whole header would take far longer than
	// the server waits. Stop after 60 s in all.
	header := "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 1200)
	sent := 0
	for sent < len(header) {
		select {
		case <-closed:
			if sent >= len(header) {
				t.Fatal("the whole header was sent before the server dropped the client")
			}
			if called {
				t.Error("the handler ran for a request whose headers never came")
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
		if _, err := c.Write([]byte{header[sent]}); err != nil {
			return // dropped: the write failed
		}
		sent++
	}
	t.Fatalf("the server still held the connection after %d bytes sent one by one", sent)
}

func TestNativeAnswers431WhenHeadersAreTooLarge(t *testing.T) {
	l := &wsapi.Launcher{MaxHeaderBytes: 1024, Logger: quietLogger()}
	addr, _ := serveNative(t, l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, tt := range []struct {
		size int
		want int
	}{
		{512, http.StatusOK},
		{64 << 10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
		req.Header.Set("X-Big", strings.Repeat("b", tt.size))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%d-byte header: %v", tt.size, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%d-byte header: status %d, want %d", tt.size, resp.StatusCode, tt.want)
		}
	}
}

func TestNativeServerSettings(t *testing.T) {
	srv := (&wsapi.Launcher{}).Server(http.NotFoundHandler())
	if srv.ReadHeaderTimeout != wsapi.DefaultReadHeaderTimeout || srv.ReadTimeout != wsapi.DefaultReadTimeout ||
		srv.IdleTimeout != wsapi.DefaultIdleTimeout || srv.MaxHeaderBytes != wsapi.DefaultMaxHeaderBytes {
		t.Errorf("defaults: %v %v %v %d", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}
	if srv.WriteTimeout != 0 {
		t.Errorf("WriteTimeout = %v, want 0 (streams are not cut)", srv.WriteTimeout)
	}
	srv = (&wsapi.Launcher{ReadHeaderTimeout: time.Second, MaxHeaderBytes: 10}).Server(nil)
	if srv.ReadHeaderTimeout != time.Second || srv.MaxHeaderBytes != 10 {
		t.Errorf("set fields not used: %v %d", srv.ReadHeaderTimeout, srv.MaxHeaderBytes)
	}
}

func TestNativeShutdownLetsRequestsInFlightFinish(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "finished")
	})
	addr, stop := serveNative(t, &wsapi.Launcher{Logger: quietLogger()}, h)

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	<-entered
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	// New connections are refused once the listener is closed.
	refused := false
	for range 500 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			refused = true
			break
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	if !refused {
		t.Error("new connections were still accepted during the shutdown")
	}
	close(release)
	if body := <-got; body != "finished" {
		t.Errorf("request in flight: %q, want finished", body)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Serve: %v, want nil after a clean shutdown", err)
	}
}

func TestNativeShutdownCutsRequestsAfterTheGracePeriod(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	})
	addr, stop := serveNative(t, &wsapi.Launcher{ShutdownGrace: 50 * time.Millisecond, Logger: quietLogger()}, h)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-entered
	err := stop()
	if err == nil || !strings.Contains(err.Error(), "grace period") {
		t.Errorf("Serve: %v, want an error about the grace period", err)
	}
	if err := <-errc; err == nil {
		t.Error("the cut request got an answer")
	}
}

func TestServeContextLogsTheStack(t *testing.T) {
	var logs bytes.Buffer
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l := &wsapi.Launcher{Stack: wsapi.New(filter.Named("first", nil), filter.Named("second", nil)),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	if err := l.Serve(ctx, ln, http.NotFoundHandler()); err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(logs.String(), "\n")
	for _, want := range []string{"mode=native", "addr=http://" + ln.Addr().String() + "/", `stack="first > second"`} {
		if !strings.Contains(line, want) {
			t.Errorf("start-up line %q lacks %q", line, want)
		}
	}
}

func TestModeIsPickedFromTheEnvironment(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sock, err := ln.(*net.UnixListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	conn, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	connFile, err := conn.(*net.UnixConn).File()
	if err != nil {
		t.Fatal(err)
	}
	defer connFile.Close()
	plain, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()

	tests := []struct {
		name string
		l    wsapi.Launcher
		want wsapi.Mode
	}{
		{"GATEWAY_INTERFACE set: CGI", wsapi.Launcher{Getenv: env("GATEWAY_INTERFACE", "CGI/1.1"), Stdin: sock}, wsapi.CGI},
		{"a listening socket on stdin: FastCGI", wsapi.Launcher{Getenv: env(), Stdin: sock}, wsapi.FastCGI},
		{"a FastCGI address: FastCGI", wsapi.Launcher{Getenv: env(), Stdin: plain, FastCGIAddr: "127.0.0.1:0"}, wsapi.FastCGI},
		{"a connected socket on stdin: native", wsapi.Launcher{Getenv: env(), Stdin: connFile}, wsapi.Native},
		{"a file on stdin: native", wsapi.Launcher{Getenv: env("PORT", "9000"), Stdin: plain}, wsapi.Native},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.l.Mode(); got != tt.want {
				t.Errorf("Mode() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNativeAddressFromPORT(t *testing.T) {
	// A port that is taken makes Run fail, and its error names the address
	// it tried.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, port, _ := net.SplitHostPort(busy.Addr().String())
	l := &wsapi.Launcher{Getenv: func(k string) string {
		if k == "PORT" {
			return port
		}
		return ""
	}, Logger: quietLogger(), Stdin: nil}
	err = l.Run(context.Background(), http.NotFoundHandler())
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:"+port) {
		t.Errorf("Run: %v, want an error about 127.0.0.1:%s", err, port)
	}
}

// cgiChild returns the command that runs this test binary as a CGI child
// with env.
func cgiChild(t *testing.T, stdin string, env ...string) (status string, out string) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append([]string{"WSAPI_TEST_CGI_CHILD=1", "GATEWAY_INTERFACE=CGI/1.1", "SERVER_PROTOCOL=HTTP/1.1"}, env...)
	cmd.Stdin = strings.NewReader(stdin)
	b, _ := cmd.Output() // the exit status is checked through the answer
	first, _, _ := strings.Cut(string(b), "\r\n")
	return first, string(b)
}

func TestCGIChildRejectsBadRequestsWith400(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		why  string
	}{
		{"no REQUEST_METHOD", nil, "no REQUEST_METHOD"},
		{"a method with a space", []string{"REQUEST_METHOD=GE T"}, "not a method name"},
		{"a method with a newline", []string{"REQUEST_METHOD=GET\nX: y"}, "not a method name"},
		{"a negative CONTENT_LENGTH", []string{"REQUEST_METHOD=POST", "CONTENT_LENGTH=-1"}, "CONTENT_LENGTH"},
		{"a CONTENT_LENGTH with a plus", []string{"REQUEST_METHOD=POST", "CONTENT_LENGTH=+5"}, "CONTENT_LENGTH"},
		{"a CONTENT_LENGTH that is no number", []string{"REQUEST_METHOD=POST", "CONTENT_LENGTH=12x"}, "CONTENT_LENGTH"},
		{"a CONTENT_LENGTH over int64", []string{"REQUEST_METHOD=POST", "CONTENT_LENGTH=9223372036854775808"}, "CONTENT_LENGTH"},
		{"a bad SERVER_PROTOCOL", []string{"REQUEST_METHOD=GET", "SERVER_PROTOCOL=HTTP/x"}, "SERVER_PROTOCOL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := cgiChild(t, "", tt.env...)
			if status != "Status: 400 Bad Request" {
				t.Fatalf("answer %q, want status 400", out)
			}
			if !strings.Contains(out, tt.why) {
				t.Errorf("answer %q does not say %q", out, tt.why)
			}
		})
	}
	t.Run("the largest CONTENT_LENGTH is valid", func(t *testing.T) {
		status, out := cgiChild(t, "abc", "REQUEST_METHOD=POST", "CONTENT_LENGTH=3")
		if status != "Status: 200 OK" || !strings.Contains(out, "BODY=abc") {
			t.Errorf("answer %q, want 200 with the body", out)
		}
	})
}

func TestCGIChildTakesItsMountPointFromSCRIPT_NAME(t *testing.T) {
	tests := []struct {
		name       string
		env        []string
		script     string
		pathInfo   string
		wantStatus string
	}{
		{"a script with a path below it", []string{"SCRIPT_NAME=/cgi-bin/app", "PATH_INFO=/users/7", "REQUEST_URI=/cgi-bin/app/users/7"}, "/cgi-bin/app", "/users/7", "Status: 200 OK"},
		{"a script alone", []string{"SCRIPT_NAME=/app", "REQUEST_URI=/app"}, "/app", "", "Status: 200 OK"},
		{"a rewrite: REQUEST_URI differs", []string{"SCRIPT_NAME=/app", "PATH_INFO=/inner", "REQUEST_URI=/pretty"}, "/app", "/inner", "Status: 200 OK"},
		{"no REQUEST_URI", []string{"SCRIPT_NAME=/app", "PATH_INFO=/x", "QUERY_STRING=a=1"}, "/app", "/x", "Status: 200 OK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := cgiChild(t, "", append([]string{"REQUEST_METHOD=GET", "HTTP_HOST=example.org"}, tt.env...)...)
			if status != tt.wantStatus {
				t.Fatalf("answer %q", out)
			}
			for _, want := range []string{"SCRIPT_NAME=" + tt.script + "\n", "PATH_INFO=" + tt.pathInfo + "\n"} {
				if !strings.Contains(out, want) {
					t.Errorf("answer %q lacks %q", out, want)
				}
			}
		})
	}
}

func TestCGIAppRunsAProgramAtItsMountPoint(t *testing.T) {
	var logs filtertest.Buffer
	app := wsapi.NewCGIApp(os.Args[0])
	app.Env = []string{"WSAPI_TEST_CGI_CHILD=1"}
	app.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	mux := http.NewServeMux()
	mux.Handle("/cgi/", app)
	mux.Handle("/", app)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tests := []struct {
		name, method, path, body string
		want                     []string
	}{
		{"GET below the mount point", "GET", "/cgi/a/b?x=1", "", []string{"SCRIPT_NAME=/cgi\n", "PATH_INFO=/a/b\n", "QUERY=x=1\n"}},
		{"GET at the root", "GET", "/top", "", []string{"SCRIPT_NAME=\n", "PATH_INFO=/top\n"}},
		{"POST with a body", "POST", "/cgi/echo", "hello body", []string{"SCRIPT_NAME=/cgi\n", "BODY=hello body"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if tt.body == "" {
				req.Body = nil
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("X-Method") != tt.method {
				t.Fatalf("status %d, X-Method %q, body %q", resp.StatusCode, resp.Header.Get("X-Method"), b)
			}
			for _, want := range tt.want {
				if !strings.Contains(string(b), want) {
					t.Errorf("body %q lacks %q", b, want)
				}
			}
		})
	}
}

func TestCGIAppLogsTheProgramsStderr(t *testing.T) {
	var logs filtertest.Buffer
	app := wsapi.NewCGIApp("/bin/sh", "-c", `echo 'first line' >&2; printf 'forged\nlevel=ERROR msg=x\n' >&2; printf 'Content-Type: text/plain\r\n\r\nok'`)
	app.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 200 || rec.Body.String() != "ok" {
		t.Fatalf("answer %d %q", rec.Code, rec.Body)
	}
	out := logs.String()
	if !strings.Contains(out, `line="first line"`) {
		t.Errorf("log %q lacks the stderr line", out)
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, "time=") {
			t.Errorf("a stderr line made a log line of its own: %q", l)
		}
	}
}

func TestCGIAppDropsHeadersWithUnderscores(t *testing.T) {
	app := wsapi.NewCGIApp("/bin/sh", "-c", `printf 'Content-Type: text/plain\r\n\r\n'; echo "xff=$HTTP_X_FORWARDED_FOR proxy=$HTTP_PROXY ok=$HTTP_X_OK"`)
	req := httptest.NewRequest("GET", "/", nil)
	req.Header["X_Forwarded_For"] = []string{"6.6.6.6"}
	req.Header.Set("Proxy", "http://evil")
	req.Header.Set("X-Ok", "yes")
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, req)
	if got, want := strings.TrimSpace(rec.Body.String()), "xff= proxy= ok=yes"; got != want {
		t.Errorf("program saw %q, want %q", got, want)
	}
}

// fcgiParams encodes name-value pairs as a params stream.
func fcgiParams(kv ...string) []byte {
	var b []byte
	for i := 0; i < len(kv); i += 2 {
		b = ifcgi.AppendParams(b, kv[i], kv[i+1])
	}
	return b
}

// serveFastCGI runs l.ServeFastCGI on ln (a free TCP port when nil) until
// the test ends; stop cancels it and returns its error.
func serveFastCGI(t *testing.T, l *wsapi.Launcher, ln net.Listener, h http.Handler) (addr string, stop func() error) {
	t.Helper()
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	if l.Logger == nil {
		l.Logger = quietLogger()
	}
	return ln.Addr().String(), serveUntilStopped(t, func(ctx context.Context) error { return l.ServeFastCGI(ctx, ln, h) })
}

// fcgiGet sends GET path, with more params, to the responder at addr and
// returns the status and the body.
func fcgiGet(t *testing.T, c *ifcgi.Client, path string, more ...string) (int, string, error) {
	t.Helper()
	resp, err := c.Do(context.Background(), &ifcgi.Request{Params: fcgiParams(append([]string{
		"REQUEST_METHOD", "GET", "SERVER_PROTOCOL", "HTTP/1.1", "REQUEST_URI", path}, more...)...)})
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.Status, string(b), err
}

// heldListener hands out connections whose first Write after armed is
// closed waits until the test releases it, or until the connection is
// closed.
type heldListener struct {
	net.Listener
	armed, entered, release chan struct{}
	once                    sync.Once
}

func (l *heldListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &heldConn{Conn: c, l: l}, nil
}

type heldConn struct {
	net.Conn
	l     *heldListener
	first sync.Once
}

func (c *heldConn) Write(p []byte) (int, error) {
	select {
	case <-c.l.armed:
		c.first.Do(func() {
			close(c.l.entered)
			<-c.l.release
		})
	default:
	}
	return c.Conn.Write(p)
}

func (c *heldConn) Close() error {
	err := c.Conn.Close()
	c.l.once.Do(func() { close(c.l.release) })
	return err
}

func TestFastCGIShutdownWaitsForTheAnswerToBeWritten(t *testing.T) {
	verifyNoLeaks(t)
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	held := &heldListener{Listener: tcp, armed: make(chan struct{}), entered: make(chan struct{}), release: make(chan struct{})}
	// net/http/fcgi buffers the body of the answer: it writes it after the
	// handler has returned.
	_, stop := serveFastCGI(t, &wsapi.Launcher{}, held, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(held.armed)
		_, _ = io.WriteString(w, "the whole answer")
	}))
	c := &ifcgi.Client{Network: "tcp", Address: tcp.Addr().String()}
	defer c.Close()
	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		status, body, err := fcgiGet(t, c, "/")
		got <- result{status, body, err}
	}()
	<-held.entered
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(100 * time.Millisecond) // a shutdown that does not wait closes the connection now
	held.once.Do(func() { close(held.release) })
	if r := <-got; r.err != nil || r.status != 200 || r.body != "the whole answer" {
		t.Errorf("answer during the shutdown: %d %q %v", r.status, r.body, r.err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("ServeFastCGI: %v, want nil after a clean shutdown", err)
	}
}

func TestFastCGIShutdownWaitsForARequestNotYetHandled(t *testing.T) {
	verifyNoLeaks(t)
	addr, stop := serveFastCGI(t, &wsapi.Launcher{}, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "answered")
	}))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The request's head, without its stdin stream: the handler has not
	// started yet.
	var head []byte
	head = ifcgi.AppendBeginRequest(head, 1, ifcgi.RoleResponder, 0)
	head = ifcgi.AppendRecord(head, ifcgi.TypeParams, 1, fcgiParams("REQUEST_METHOD", "GET", "SERVER_PROTOCOL", "HTTP/1.1", "REQUEST_URI", "/"))
	head = ifcgi.AppendEnd(head, ifcgi.TypeParams, 1)
	if _, err := conn.Write(head); err != nil {
		t.Fatal(err)
	}
	// The answer to a management record shows that the responder has read
	// all that came before it.
	if _, err := conn.Write(ifcgi.AppendRecord(nil, ifcgi.TypeGetValues, 0, fcgiParams("FCGI_MPXS_CONNS", ""))); err != nil {
		t.Fatal(err)
	}
	var hbuf [ifcgi.HeaderLen]byte
	h, err := ifcgi.ReadHeader(conn, &hbuf)
	if err != nil || h.Type != ifcgi.TypeGetValuesResult {
		t.Fatalf("answer to GET_VALUES: %+v %v", h, err)
	}
	if _, err := io.CopyN(io.Discard, conn, int64(h.ContentLength)+int64(h.PaddingLength)); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(100 * time.Millisecond) // a shutdown that does not wait closes the connection now
	if _, err := conn.Write(ifcgi.AppendEnd(nil, ifcgi.TypeStdin, 1)); err != nil {
		t.Fatalf("the connection was closed under a request: %v", err)
	}
	answer, err := io.ReadAll(conn) // to the end: no FCGI_KEEP_CONN
	if err != nil || !bytes.Contains(answer, []byte("answered")) {
		t.Errorf("answer %q, %v", answer, err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("ServeFastCGI: %v, want nil", err)
	}
}

func TestFastCGIShutdownClosesIdleConnectionsAtOnce(t *testing.T) {
	verifyNoLeaks(t)
	// A grace period longer than any test: the shutdown must not wait for
	// the idle, kept-alive connection of the pool.
	addr, stop := serveFastCGI(t, &wsapi.Launcher{ShutdownGrace: time.Hour}, nil, showEnv)
	c := &ifcgi.Client{Network: "tcp", Address: addr}
	defer c.Close()
	if status, _, err := fcgiGet(t, c, "/"); err != nil || status != 200 {
		t.Fatalf("GET: %d %v", status, err)
	}
	if c.Idle() != 1 {
		t.Fatalf("%d idle connections, want 1", c.Idle())
	}
	if err := stop(); err != nil {
		t.Errorf("ServeFastCGI: %v", err)
	}
}

func TestFastCGIShutdownReportsCutRequests(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	entered := make(chan struct{})
	addr, stop := serveFastCGI(t, &wsapi.Launcher{ShutdownGrace: 50 * time.Millisecond}, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	}))
	c := &ifcgi.Client{Network: "tcp", Address: addr}
	defer c.Close()
	errc := make(chan error, 1)
	go func() { _, _, err := fcgiGet(t, c, "/"); errc <- err }()
	<-entered
	if err := stop(); err == nil || !strings.Contains(err.Error(), "grace period") {
		t.Errorf("ServeFastCGI: %v, want an error about the grace period", err)
	}
	if err := <-errc; err == nil {
		t.Error("the cut request got an answer")
	}
}

func TestFastCGIMountPoint(t *testing.T) {
	verifyNoLeaks(t)
	mux := http.NewServeMux()
	show := func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "path=%s mount=%s prefix=%s", r.URL.Path, filter.MountPoint(r), filter.PrefixMountPoint(r))
	}
	mux.HandleFunc("/dir/", show)
	mux.HandleFunc("/", show)
	addr, _ := serveFastCGI(t, &wsapi.Launcher{}, nil, mux)
	c := &ifcgi.Client{Network: "tcp", Address: addr}
	defer c.Close()
	tests := []struct {
		name, uri string
		params    []string
		want      string
	}{
		{"SCRIPT_NAME and PATH_INFO", "/app/a/b", []string{"SCRIPT_NAME", "/app", "PATH_INFO", "/a/b"}, "path=/app/a/b mount=/app prefix=/app"},
		{"a SCRIPT_NAME with a slash, an empty PATH_INFO", "/dir/", []string{"SCRIPT_NAME", "/dir/", "PATH_INFO", ""}, "path=/dir/ mount=/dir prefix=/dir"},
		{"a SCRIPT_NAME with a slash, no PATH_INFO", "/dir/", []string{"SCRIPT_NAME", "/dir/"}, "path=/dir/ mount=/dir prefix=/dir"},
		{"nginx's stock params: the whole path, no PATH_INFO", "/hello/world", []string{"SCRIPT_NAME", "/hello/world"}, "path=/hello/world mount= prefix="},
		{"no PATH_INFO after a rewrite", "/pretty", []string{"SCRIPT_NAME", "/inner/x"}, "path=/inner/x mount= prefix="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, err := fcgiGet(t, c, tt.uri, tt.params...)
			if err != nil || status != 200 || body != tt.want {
				t.Errorf("%d %q %v, want 200 %q", status, body, err, tt.want)
			}
		})
	}
}

func TestCGIChildKeepsTheSlashOfSCRIPT_NAME(t *testing.T) {
	status, out := cgiChild(t, "", "REQUEST_METHOD=GET", "HTTP_HOST=example.org", "SCRIPT_NAME=/dir/", "REQUEST_URI=/dir/")
	if status != "Status: 200 OK" || !strings.Contains(out, "SCRIPT_NAME=/dir\n") || !strings.Contains(out, "PATH_INFO=/\n") {
		t.Errorf("answer %q, want SCRIPT_NAME /dir and PATH_INFO /", out)
	}
}

func TestCGIChildWithoutREQUEST_URIEscapesThePath(t *testing.T) {
	for _, tt := range []struct{ info, query string }{
		{"/100%", "x=1"},
		{"/a?b", "x=1"},
		{"/50%25", ""},
		{"/sp ace", "q=a%20b"},
	} {
		status, out := cgiChild(t, "", "REQUEST_METHOD=GET", "HTTP_HOST=example.org",
			"SCRIPT_NAME=/app", "PATH_INFO="+tt.info, "QUERY_STRING="+tt.query)
		if status != "Status: 200 OK" {
			t.Errorf("PATH_INFO %q: answer %q", tt.info, out)
			continue
		}
		for _, want := range []string{"SCRIPT_NAME=/app\n", "PATH_INFO=" + tt.info + "\n", "QUERY=" + tt.query + "\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("PATH_INFO %q: answer %q lacks %q", tt.info, out, want)
			}
		}
	}
}

func TestCGIChildTakesTheRequestFromTheProcessEnvironment(t *testing.T) {
	// The child's Launcher has a Getenv that claims a REQUEST_METHOD the
	// process environment lacks: the request is still found invalid.
	status, out := cgiChild(t, "", "WSAPI_TEST_CGI_GETENV=1")
	if status != "Status: 400 Bad Request" || !strings.Contains(out, "no REQUEST_METHOD") {
		t.Errorf("answer %q, want 400 for no REQUEST_METHOD", out)
	}
}

func TestFastCGIIgnoresPrivateParamsFromUpstream(t *testing.T) {
	verifyNoLeaks(t)
	addr, _ := serveFastCGI(t, &wsapi.Launcher{}, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "path=%s mount=%s", r.URL.Path, filter.MountPoint(r))
	}))
	c := &ifcgi.Client{Network: "tcp", Address: addr}
	defer c.Close()
	for name, more := range map[string][]string{
		"no SCRIPT_NAME":         nil,
		"a params stream of 1MB": {"SCRIPT_NAME", "", "PATH_INFO", "/real", "HTTP_COOKIE", strings.Repeat("c", 1<<20)},
	} {
		status, body, err := fcgiGet(t, c, "/real", append([]string{
			"wsapi.launcher.SCRIPT_NAME", "/admin", "wsapi.launcher.PATH_INFO", "/secret"}, more...)...)
		if err != nil || status != 200 || body != "path=/real mount=" {
			t.Errorf("%s: %d %q %v, want path=/real and no mount point", name, status, body, err)
		}
	}
}

// flakyListener fails its first Accept with an error that may pass.
type flakyListener struct {
	net.Listener
	failed sync.Once
}

type tooManyFiles struct{}

func (tooManyFiles) Error() string   { return "accept: too many open files" }
func (tooManyFiles) Timeout() bool   { return false }
func (tooManyFiles) Temporary() bool { return true }

func (f *flakyListener) Accept() (net.Conn, error) {
	first := false
	f.failed.Do(func() { first = true })
	if first {
		return nil, tooManyFiles{}
	}
	return f.Listener.Accept()
}

func TestFastCGIRetriesATemporaryAcceptError(t *testing.T) {
	verifyNoLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- (&wsapi.Launcher{Logger: quietLogger()}).ServeFastCGI(ctx, &flakyListener{Listener: ln}, showEnv)
	}()
	c := &ifcgi.Client{Network: "tcp", Address: ln.Addr().String(), ResponseTimeout: 10 * time.Second}
	defer c.Close()
	status, _, err := fcgiGet(t, c, "/")
	if err != nil || status != 200 {
		t.Errorf("GET after a failed Accept: %d %v", status, err)
	}
	cancel()
	ln.Close()
	if err := <-done; err != nil {
		t.Errorf("ServeFastCGI: %v", err)
	}
}

// streamUntilDraining writes a line, then waits for the launcher's
// shutdown and ends the answer.
var streamUntilDraining = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	draining := wsapi.Draining(r)
	if draining == nil {
		http.Error(w, "no drain signal", 500)
		return
	}
	_, _ = io.WriteString(w, "event\n")
	w.(http.Flusher).Flush()
	<-draining
	_, _ = io.WriteString(w, "bye\n")
})

func TestDrainingEndsStreamsAtShutdown(t *testing.T) {
	check := func(t *testing.T, read func() (io.ReadCloser, error), stop func() error) {
		t.Helper()
		body, err := read()
		if err != nil {
			t.Fatal(err)
		}
		defer body.Close()
		line := make([]byte, len("event\n"))
		if _, err := io.ReadFull(body, line); err != nil || string(line) != "event\n" {
			t.Fatalf("first line %q, %v", line, err)
		}
		stopped := make(chan error, 1)
		go func() { stopped <- stop() }()
		rest, err := io.ReadAll(body)
		if err != nil || string(rest) != "bye\n" {
			t.Errorf("rest %q, %v", rest, err)
		}
		if err := <-stopped; err != nil {
			t.Errorf("shutdown: %v, want nil", err)
		}
	}
	t.Run("native", func(t *testing.T) {
		addr, stop := serveNative(t, &wsapi.Launcher{Logger: quietLogger(), ShutdownGrace: time.Hour}, streamUntilDraining)
		check(t, func() (io.ReadCloser, error) {
			resp, err := http.Get("http://" + addr + "/")
			if err != nil {
				return nil, err
			}
			return resp.Body, nil
		}, stop)
	})
	t.Run("fastcgi", func(t *testing.T) {
		addr, stop := serveFastCGI(t, &wsapi.Launcher{ShutdownGrace: time.Hour}, nil, streamUntilDraining)
		c := &ifcgi.Client{Network: "tcp", Address: addr}
		defer c.Close()
		check(t, func() (io.ReadCloser, error) {
			resp, err := c.Do(context.Background(), &ifcgi.Request{Params: fcgiParams(
				"REQUEST_METHOD", "GET", "SERVER_PROTOCOL", "HTTP/1.1", "REQUEST_URI", "/")})
			if err != nil {
				return nil, err
			}
			return resp.Body, nil
		}, stop)
	})
	t.Run("elsewhere", func(t *testing.T) {
		if ch := wsapi.Draining(httptest.NewRequest("GET", "/", nil)); ch != nil {
			t.Error("a request no launcher serves has a drain channel")
		}
	})
}

func TestFastCGIAddrReplacesAStaleSocket(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // as after a crash: the file stays, nothing listens
	noEnv := func(string) string { return "" }
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (&wsapi.Launcher{FastCGIAddr: stale, Getenv: noEnv, Logger: quietLogger()}).Run(ctx, showEnv); err != nil {
		t.Errorf("Run on a stale socket: %v", err)
	}
	live := filepath.Join(dir, "live.sock")
	ln, err = net.Listen("unix", live)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := (&wsapi.Launcher{FastCGIAddr: "unix:" + live, Getenv: noEnv, Logger: quietLogger()}).Run(ctx, showEnv); err == nil {
		t.Error("Run took over the socket of a live responder")
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the live socket is gone: %v", err)
	}
}

func TestCGIAppPassesTheExchangesUserAsREMOTE_USER(t *testing.T) {
	app := wsapi.NewCGIApp("/bin/sh", "-c", `printf 'Content-Type: text/plain\r\n\r\n'; echo "user=$REMOTE_USER"`)
	// login stands for an auth filter: it sets the user on the exchange.
	login := func(user string) filter.Filter {
		return filter.Func(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				x, w, r, owner := filter.Begin(w, r)
				defer owner.End()
				if user != "" {
					x.SetUser(user)
				}
				next.ServeHTTP(w, r)
			})
		})
	}
	for _, tt := range []struct{ user, want string }{
		{"alice", "user=alice"},
		{"", "user="},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		// A client cannot choose REMOTE_USER through a header.
		req.Header.Set("Remote-User", "mallory")
		rec := httptest.NewRecorder()
		wsapi.New(login(tt.user)).Then(app).ServeHTTP(rec, req)
		if got := strings.TrimSpace(rec.Body.String()); got != tt.want {
			t.Errorf("user %q: program saw %q, want %q", tt.user, got, tt.want)
		}
	}
}

func TestNativeClosesTheConnectionAfterAChunkedRequest(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	l := &wsapi.Launcher{Logger: quietLogger()}
	addr, _ := serveNative(t, l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		_, _ = io.WriteString(w, "ok "+r.URL.Path)
	}))

	// answers sends raw on one connection and reads every answer until the
	// server closes it (or 5 s pass): the status lines it got.
	answers := func(raw string) []string {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, raw); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		var got []string
		for {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				return got
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			got = append(got, resp.Status)
			if resp.Close {
				return got
			}
		}
	}

	// CL.TE: a proxy going by Content-Length sees one request; the server
	// reads the chunks, and must not serve the bytes after the last one.
	smuggled := "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
	chunked := "0\r\n\r\n" + smuggled
	got := answers("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(len(chunked)) +
		"\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
	if len(got) != 1 {
		t.Errorf("CL.TE: %d answers %q, want 1 and the connection closed", len(got), got)
	}
	// Transfer-Encoding alone: closed after the answer, too.
	got = answers("POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + smuggled)
	if len(got) != 1 {
		t.Errorf("chunked: %d answers %q, want 1", len(got), got)
	}
	// Requests with a Content-Length keep the connection.
	got = answers("POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if len(got) != 2 {
		t.Errorf("keep-alive: %d answers %q, want 2", len(got), got)
	}
	mu.Lock()
	defer mu.Unlock()
	if slices.Contains(paths, "/smuggled") {
		t.Errorf("the smuggled request was served: %q", paths)
	}
	if want := []string{"/a", "/b", "/c", "/d"}; !slices.Equal(paths, want) {
		t.Errorf("served %q, want %q", paths, want)
	}
}
