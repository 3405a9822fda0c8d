package wsapi_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wsapi-go/wsapi"
	"github.com/wsapi-go/wsapi/filter/filtertest"
)

// countingListener counts the connections it accepted.
type countingListener struct {
	net.Listener
	n atomic.Int32
}

func (c *countingListener) Accept() (net.Conn, error) {
	conn, err := c.Listener.Accept()
	if err == nil {
		c.n.Add(1)
	}
	return conn, err
}

// startResponder serves h as a FastCGI responder through the launcher on
// network ("tcp" or "unix") until the test ends.
func startResponder(t *testing.T, network string, h http.Handler) (addr string, ln *countingListener) {
	t.Helper()
	where := "127.0.0.1:0"
	if network == "unix" {
		where = filepath.Join(t.TempDir(), "fcgi.sock")
	}
	l, err := net.Listen(network, where)
	if err != nil {
		t.Fatal(err)
	}
	ln = &countingListener{Listener: l}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&wsapi.Launcher{Logger: quietLogger()}).ServeFastCGI(ctx, ln, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeFastCGI: %v", err)
		}
	})
	return l.Addr().String(), ln
}

// hostAt serves app under the prefix /app/ of a test server.
func hostAt(t *testing.T, app http.Handler) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/app/", app)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, url string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: body: %v", method, url, err)
	}
	return resp, string(b)
}

func TestFastCGIAppAgainstTheLauncher(t *testing.T) {
	verifyNoLeaks(t)
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			addr, ln := startResponder(t, network, showEnv)
			app := wsapi.NewFastCGIApp(network, addr)
			defer app.Close()
			srv := hostAt(t, app)

			resp, body := do(t, "GET", srv.URL+"/app/users/7?x=1", nil)
			if resp.StatusCode != 200 || resp.Header.Get("X-Method") != "GET" {
				t.Fatalf("GET: %d %q", resp.StatusCode, body)
			}
			for _, want := range []string{"SCRIPT_NAME=/app\n", "PATH_INFO=/users/7\n", "QUERY=x=1\n"} {
				if !strings.Contains(body, want) {
					t.Errorf("GET: body %q lacks %q", body, want)
				}
			}
			resp, body = do(t, "HEAD", srv.URL+"/app/x", nil)
			if resp.StatusCode != 200 || body != "" || resp.Header.Get("X-Method") != "HEAD" {
				t.Errorf("HEAD: %d %q %v", resp.StatusCode, body, resp.Header)
			}
			resp, body = do(t, "POST", srv.URL+"/app/echo", strings.NewReader("a posted body"))
			if resp.StatusCode != 200 || !strings.HasSuffix(body, "BODY=a posted body") {
				t.Errorf("POST: %d %q", resp.StatusCode, body)
			}
			if n := ln.n.Load(); n != 1 {
				t.Errorf("%d connections for 3 requests in a row, want 1 (kept alive)", n)
			}
		})
	}
}

func TestFastCGIAppStreamsLargeBodiesBothWays(t *testing.T) {
	verifyNoLeaks(t)
	// The responder hashes what it reads and writes back as much as it got.
	echoSize := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("X-Sum", fmt.Sprintf("%x", h.Sum(nil)[:4]))
		chunk := bytes.Repeat([]byte("z"), 64<<10)
		for left := n; left > 0; left -= int64(len(chunk)) {
			_, _ = w.Write(chunk[:min(int64(len(chunk)), left)])
		}
	})
	addr, _ := startResponder(t, "tcp", echoSize)
	app := wsapi.NewFastCGIApp("tcp", addr)
	defer app.Close()
	srv := hostAt(t, app)

	const size = 10 << 20
	pr, pw := io.Pipe()
	go func() {
		block := bytes.Repeat([]byte("0123456789abcdef"), 4096)
		for sent := 0; sent < size; sent += len(block) {
			if _, err := pw.Write(block); err != nil {
				return
			}
		}
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", srv.URL+"/app/big", pr) // chunked: length unknown
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || n != size || resp.StatusCode != 200 {
		t.Fatalf("answer: %d, %d bytes, %v", resp.StatusCode, n, err)
	}
}

func TestFastCGIAppFlushesEachRecord(t *testing.T) {
	verifyNoLeaks(t)
	next := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		<-next
		_, _ = io.WriteString(w, "second\n")
	})
	addr, _ := startResponder(t, "tcp", h)
	app := wsapi.NewFastCGIApp("tcp", addr)
	defer app.Close()
	srv := hostAt(t, app)
	resp, err := http.Get(srv.URL + "/app/stream")
	if err != nil {
		close(next)
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 6)
	_, err = io.ReadFull(resp.Body, buf) // arrives before the second chunk is written
	close(next)
	if err != nil || string(buf) != "first\n" {
		t.Fatalf("first chunk %q, %v", buf, err)
	}
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != "second\n" {
		t.Errorf("rest %q", rest)
	}
}

// fakeResponder accepts connections on a free port and runs serve on
// each, until the test ends.
func fakeResponder(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			serve(c)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

// readRequest reads records up to the end of the stdin stream.
func readRequest(c net.Conn) error { return readUntilEmpty(c, 5) }

// readUntilEmpty reads records up to the empty one of type typ, which ends
// its stream (4: params, 5: stdin).
func readUntilEmpty(c net.Conn, typ byte) error {
	var h [8]byte
	for {
		if _, err := io.ReadFull(c, h[:]); err != nil {
			return err
		}
		n := int(binary.BigEndian.Uint16(h[4:6])) + int(h[6])
		if _, err := io.CopyN(io.Discard, c, int64(n)); err != nil {
			return err
		}
		if h[1] == typ && n == 0 {
			return nil
		}
	}
}

func record(typ byte, content string) []byte {
	b := []byte{1, typ, 0, 1, byte(len(content) >> 8), byte(len(content)), 0, 0}
	return append(b, content...)
}

func endRequest() []byte { return record(3, "\x00\x00\x00\x00\x00\x00\x00\x00") }

func TestFastCGIAppAnswersFaultsWith502Or504(t *testing.T) {
	tests := []struct {
		name    string
		serve   func(c net.Conn)
		status  int
		logged  string
		timeout time.Duration
	}{
		{"the responder closes before answering", func(c net.Conn) { _ = readRequest(c) }, 502, "closed the connection", 0},
		{"a record of version 2", func(c net.Conn) {
			_ = readRequest(c)
			b := record(6, "Status: 200\r\n\r\nhi")
			b[0] = 2
			_, _ = c.Write(b)
		}, 502, "malformed record: version 2", 0},
		{"a record of an unknown type", func(c net.Conn) {
			_ = readRequest(c)
			_, _ = c.Write(record(42, "x"))
		}, 502, "malformed record: type 42", 0},
		{"a record for another request", func(c net.Conn) {
			_ = readRequest(c)
			b := record(6, "Status: 200\r\n\r\n")
			b[3] = 9
			_, _ = c.Write(b)
		}, 502, "request id 9", 0},
		{"a bad Status header", func(c net.Conn) {
			_ = readRequest(c)
			_, _ = c.Write(append(record(6, "Status: abc\r\n\r\n"), endRequest()...))
		}, 502, "bad Status header", 0},
		{"the request ends without an answer", func(c net.Conn) {
			_ = readRequest(c)
			_, _ = c.Write(endRequest())
		}, 502, "without an answer", 0},
		{"the responder never answers", func(c net.Conn) {
			_ = readRequest(c)
			_, _ = io.Copy(io.Discard, c) // until the client gives up
		}, 504, "was silent", 200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verifyNoLeaks(t)
			var logs filtertest.Buffer
			addr := fakeResponder(t, tt.serve)
			app := wsapi.NewFastCGIApp("tcp", addr)
			app.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			app.ResponseTimeout = tt.timeout
			defer app.Close()
			rec := httptest.NewRecorder()
			app.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			if !strings.Contains(logs.String(), tt.logged) || !strings.Contains(logs.String(), "level=ERROR") {
				t.Errorf("log %q does not say %q", logs.String(), tt.logged)
			}
		})
	}
}

func TestFastCGIAppCutsTheClientWhenTheResponderDiesMidAnswer(t *testing.T) {
	verifyNoLeaks(t)
	var logs filtertest.Buffer
	addr := fakeResponder(t, func(c net.Conn) {
		_ = readRequest(c)
		_, _ = c.Write(record(6, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\npartial"))
	})
	app := wsapi.NewFastCGIApp("tcp", addr)
	app.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	defer app.Close()
	srv := hostAt(t, app)
	srv.Config.ErrorLog = slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)
	resp, err := http.Get(srv.URL + "/app/")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil {
		t.Errorf("the client got a whole answer %q; want a cut one", b)
	}
	if string(b) != "partial" {
		t.Errorf("client got %q before the cut, want %q", b, "partial")
	}
	if !strings.Contains(logs.String(), "mid-answer") {
		t.Errorf("log %q does not tell of the fault", logs.String())
	}
	if n := app.Idle(); n != 0 {
		t.Errorf("%d idle connections after a fault, want 0 (discarded)", n)
	}
}

func TestFastCGIAppLogsStderrAndKeepsTheConnection(t *testing.T) {
	verifyNoLeaks(t)
	var logs filtertest.Buffer
	accepted := 0
	addr := fakeResponder(t, func(c net.Conn) {
		accepted++
		for readRequest(c) == nil {
			var b []byte
			b = append(b, record(7, "warning: one\nlevel=ERROR msg=forged\n")...)
			b = append(b, record(6, "Content-Type: text/plain\r\nX-From: responder\r\n\r\nbody")...)
			b = append(b, record(6, "")...)
			b = append(b, endRequest()...)
			if _, err := c.Write(b); err != nil {
				return
			}
		}
	})
	app := wsapi.NewFastCGIApp("tcp", addr)
	app.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	defer app.Close()
	for i := range 3 {
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != 200 || rec.Body.String() != "body" || rec.Header().Get("X-From") != "responder" {
			t.Fatalf("request %d: %d %q %v", i, rec.Code, rec.Body, rec.Header())
		}
	}
	if accepted != 1 {
		t.Errorf("%d connections for 3 requests, want 1", accepted)
	}
	if app.Idle() != 1 {
		t.Errorf("%d idle connections, want 1", app.Idle())
	}
	out := logs.String()
	if !strings.Contains(out, `line="warning: one"`) || !strings.Contains(out, `line="level=ERROR msg=forged"`) {
		t.Errorf("stderr lines not logged (quoted): %q", out)
	}
}

func TestFastCGIAppReconnectsWhenAPooledConnectionWasClosed(t *testing.T) {
	verifyNoLeaks(t)
	accepted := 0
	addr := fakeResponder(t, func(c net.Conn) {
		accepted++
		if readRequest(c) == nil { // one request, then close despite KEEP_CONN
			_, _ = c.Write(append(record(6, "\r\nok"), endRequest()...))
		}
	})
	app := wsapi.NewFastCGIApp("tcp", addr)
	defer app.Close()
	for i := range 3 {
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != 200 || rec.Body.String() != "ok" {
			t.Fatalf("request %d: %d %q", i, rec.Code, rec.Body)
		}
	}
	if accepted != 3 {
		t.Errorf("%d connections, want 3", accepted)
	}
}

func TestFastCGIAppConnectFailures(t *testing.T) {
	verifyNoLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	var logs filtertest.Buffer
	app := wsapi.NewFastCGIApp("tcp", addr)
	app.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	defer app.Close()
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusBadGateway {
		t.Errorf("status %d, want 502", rec.Code)
	}
	if !strings.Contains(logs.String(), "connect") {
		t.Errorf("log %q does not tell of the connection", logs.String())
	}
}

func TestFastCGIAppSendsTheMountPointAsParams(t *testing.T) {
	verifyNoLeaks(t)
	params := make(chan map[string]string, 1)
	addr := fakeResponder(t, func(c net.Conn) {
		m := map[string]string{}
		var h [8]byte
		var stream []byte
		for {
			if _, err := io.ReadFull(c, h[:]); err != nil {
				return
			}
			content := make([]byte, int(binary.BigEndian.Uint16(h[4:6]))+int(h[6]))
			if _, err := io.ReadFull(c, content); err != nil {
				return
			}
			if h[1] == 4 {
				stream = append(stream, content[:binary.BigEndian.Uint16(h[4:6])]...)
			}
			if h[1] == 5 && len(content) == 0 {
				break
			}
		}
		for len(stream) > 0 { // short names and values only, in this test
			nl, vl := int(stream[0]), int(stream[1])
			m[string(stream[2:2+nl])] = string(stream[2+nl : 2+nl+vl])
			stream = stream[2+nl+vl:]
		}
		params <- m
		_, _ = c.Write(append(record(6, "\r\n"), endRequest()...))
	})
	app := wsapi.NewFastCGIApp("tcp", addr)
	app.Root = "/srv/www"
	app.Params = map[string]string{"APP_ENV": "test"}
	defer app.Close()
	mux := http.NewServeMux()
	mux.Handle("/lua/", app)
	req := httptest.NewRequest("GET", "/lua/a/b?q=1", nil)
	req.Header.Set("X-Thing", "v")
	mux.ServeHTTP(httptest.NewRecorder(), req)
	m := <-params
	for k, want := range map[string]string{
		"SCRIPT_NAME": "/lua", "PATH_INFO": "/a/b", "QUERY_STRING": "q=1", "REQUEST_METHOD": "GET",
		"SCRIPT_FILENAME": "/srv/www/lua", "DOCUMENT_ROOT": "/srv/www", "REQUEST_URI": "/lua/a/b?q=1",
		"HTTP_X_THING": "v", "APP_ENV": "test", "GATEWAY_INTERFACE": "CGI/1.1",
	} {
		if m[k] != want {
			t.Errorf("%s = %q, want %q", k, m[k], want)
		}
	}
}

// verifyNoLeaks checks, after the test and all its cleanups, that no
// goroutine it started is left.
func verifyNoLeaks(t *testing.T) {
	t.Helper()
	current := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, current) })
}

// readHead reads records up to the end of the params stream.
func readHead(c net.Conn) error { return readUntilEmpty(c, 4) }

// watchedBody counts the Reads under way, and the Reads that start after
// it is marked done.
type watchedBody struct {
	io.ReadCloser
	reading   atomic.Int32
	done      atomic.Bool
	lateReads atomic.Int32
}

func (b *watchedBody) Read(p []byte) (int, error) {
	if b.done.Load() {
		b.lateReads.Add(1)
	}
	b.reading.Add(1)
	defer b.reading.Add(-1)
	return b.ReadCloser.Read(p)
}

func TestFastCGIAppPassesAnEarlyAnswerOnAtOnce(t *testing.T) {
	verifyNoLeaks(t)
	addr := fakeResponder(t, func(c net.Conn) {
		if readHead(c) != nil {
			return
		}
		// Too large: answered before any of the body is read.
		_, _ = c.Write(append(record(6, "Status: 413 Payload Too Large\r\n\r\ntoo large"), endRequest()...))
		_, _ = io.Copy(io.Discard, c)
	})
	app := wsapi.NewFastCGIApp("tcp", addr)
	defer app.Close()
	stillReading := make(chan int32, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := &watchedBody{ReadCloser: r.Body}
		r.Body = body
		app.ServeHTTP(w, r)
		stillReading <- body.reading.Load()
		body.done.Store(true)
	}))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// 10 bytes of a body of 1,000,000, and then nothing more.
	fmt.Fprintf(conn, "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n%s", strings.Repeat("y", 10))
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second)) // the test fails, rather than hangs
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer while the client's body stalls: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 || string(b) != "too large" {
		t.Errorf("answer %d %q, want the responder's 413", resp.StatusCode, b)
	}
	if !resp.Close {
		t.Error("the connection is kept open with the rest of the body unread")
	}
	if n := <-stillReading; n != 0 {
		t.Errorf("%d reads of the request body still under way when ServeHTTP returned", n)
	}
}

// slowBody is a request body that sends its first chunk, waits for the
// responder to have it, and then for pause before its end.
type slowBody struct {
	arrived <-chan struct{}
	pause   time.Duration
	n       int
}

func (b *slowBody) Read(p []byte) (int, error) {
	b.n++
	switch b.n {
	case 1:
		return copy(p, "chunk"), nil
	case 2:
		<-b.arrived
		time.Sleep(b.pause)
		return copy(p, "chunk"), nil
	}
	return 0, io.EOF
}

func TestFastCGIAppWaitsForTheAnswerWhileTheBodyIsSent(t *testing.T) {
	verifyNoLeaks(t)
	arrived := make(chan struct{})
	addr := fakeResponder(t, func(c net.Conn) {
		var h [8]byte
		var got []byte
		for { // reads stdin as it comes, answers at its end
			if _, err := io.ReadFull(c, h[:]); err != nil {
				return
			}
			content := make([]byte, int(binary.BigEndian.Uint16(h[4:6]))+int(h[6]))
			if _, err := io.ReadFull(c, content); err != nil {
				return
			}
			if h[1] != 5 {
				continue
			}
			if len(content) == 0 {
				break
			}
			if len(got) == 0 {
				close(arrived)
			}
			got = append(got, content...)
		}
		_, _ = c.Write(append(record(6, "Status: 200 OK\r\n\r\n"+string(got)), endRequest()...))
	})
	app := wsapi.NewFastCGIApp("tcp", addr)
	app.ResponseTimeout = 500 * time.Millisecond
	app.Logger = quietLogger()
	defer app.Close()
	// The upload pauses three times as long as the responder may be
	// silent: it is the client that is slow, not the responder.
	req := httptest.NewRequest("POST", "/", &slowBody{arrived: arrived, pause: 1500 * time.Millisecond})
	req.ContentLength = -1
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Body.String() != "chunkchunk" {
		t.Errorf("answer %d %q, want 200 with the body", rec.Code, rec.Body)
	}
}

func TestFastCGIAppSendsOnlyIdempotentRequestsAgain(t *testing.T) {
	verifyNoLeaks(t)
	var requests atomic.Int32
	var drop atomic.Bool
	addr := fakeResponder(t, func(c net.Conn) {
		for readRequest(c) == nil {
			requests.Add(1)
			if drop.Load() {
				return // ran the request, and died before answering
			}
			if _, err := c.Write(append(record(6, "Status: 200 OK\r\n\r\nok"), endRequest()...)); err != nil {
				return
			}
		}
	})
	app := wsapi.NewFastCGIApp("tcp", addr)
	app.Logger = quietLogger()
	defer app.Close()
	serve := func(method string, header ...string) int {
		req := httptest.NewRequest(method, "/", nil)
		for i := 0; i < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, tt := range []struct {
		name   string
		method string
		header []string
		runs   int32
	}{
		{"DELETE", "DELETE", nil, 1},
		{"POST", "POST", nil, 1},
		{"GET", "GET", nil, 2},
		{"POST with an Idempotency-Key", "POST", []string{"Idempotency-Key", "k1"}, 2},
	} {
		drop.Store(false)
		if code := serve("GET"); code != 200 { // a pooled connection
			t.Fatalf("%s: warm-up: %d", tt.name, code)
		}
		drop.Store(true)
		requests.Store(0)
		serve(tt.method, tt.header...)
		if n := requests.Load(); n != tt.runs {
			t.Errorf("%s: the responder got the request %d times, want %d", tt.name, n, tt.runs)
		}
	}
}

func TestFastCGIAppFlushesBehindAStderrRecord(t *testing.T) {
	verifyNoLeaks(t)
	gotFirst := make(chan struct{})
	var gaveUp atomic.Bool
	addr := fakeResponder(t, func(c net.Conn) {
		if readRequest(c) != nil {
			return
		}
		var b []byte
		b = append(b, record(6, "Content-Type: text/event-stream\r\n\r\ndata: first\n\n")...)
		b = append(b, record(7, "a log line\n")...)
		_, _ = c.Write(b) // one write: both records arrive together
		select {
		case <-gotFirst:
		case <-time.After(20 * time.Second):
			gaveUp.Store(true)
		}
		_, _ = c.Write(append(record(6, "data: second\n\n"), endRequest()...))
	})
	app := wsapi.NewFastCGIApp("tcp", addr)
	app.Logger = quietLogger()
	defer app.Close()
	srv := httptest.NewServer(app)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, len("data: first\n\n"))
	_, err = io.ReadFull(resp.Body, buf)
	if gaveUp.Load() {
		t.Error("the first event was held back until the responder wrote again")
	}
	close(gotFirst)
	if err != nil || string(buf) != "data: first\n\n" {
		t.Fatalf("first event %q, %v", buf, err)
	}
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != "data: second\n\n" {
		t.Errorf("rest %q", rest)
	}
}

func TestFastCGIAppAnswers504AtTheRequestsDeadline(t *testing.T) {
	verifyNoLeaks(t)
	addr := fakeResponder(t, func(c net.Conn) {
		_ = readRequest(c)
		_, _ = io.Copy(io.Discard, c) // never answers
	})
	app := wsapi.NewFastCGIApp("tcp", addr)
	app.Logger = quietLogger()
	defer app.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil).WithContext(ctx))
	if rec.Code != http.StatusGatewayTimeout {
		t.Errorf("status %d, want 504", rec.Code)
	}
}
