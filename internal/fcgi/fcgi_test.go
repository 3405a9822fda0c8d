package fcgi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/fcgi"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	ifcgi "github.com/wsapi-go/wsapi/internal/fcgi"
)

func TestParamsRoundTrip(t *testing.T) {
	long := strings.Repeat("v", 127)
	longer := strings.Repeat("w", 128) // the first length that takes 4 bytes
	pairs := [][2]string{{"A", ""}, {"SCRIPT_NAME", "/app"}, {"N127", long}, {"N128", longer}, {longer, "x"}}
	var b []byte
	for _, p := range pairs {
		b = ifcgi.AppendParams(b, p[0], p[1])
	}
	var got [][2]string
	if err := ifcgi.ParseParams(b, func(n, v []byte) bool {
		got = append(got, [2]string{string(n), string(v)})
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(pairs) {
		t.Fatalf("got %d pairs, want %d", len(got), len(pairs))
	}
	for i := range pairs {
		if got[i] != pairs[i] {
			t.Errorf("pair %d: %q, want %q", i, got[i], pairs[i])
		}
	}
	// 127 takes one length byte, 128 four.
	if n := len(ifcgi.AppendParams(nil, "", long)); n != 2+127 {
		t.Errorf("127-byte value encodes in %d bytes, want 129", n)
	}
	if n := len(ifcgi.AppendParams(nil, "", longer)); n != 5+128 {
		t.Errorf("128-byte value encodes in %d bytes, want 133", n)
	}
}

func TestParseParamsRejectsTruncatedStreams(t *testing.T) {
	full := ifcgi.AppendParams(nil, "NAME", strings.Repeat("x", 200))
	for cut := 1; cut < len(full); cut++ {
		err := ifcgi.ParseParams(full[:cut], func(n, v []byte) bool { return true })
		if !errors.Is(err, ifcgi.ErrMalformed) {
			t.Fatalf("cut at %d: %v, want ErrMalformed", cut, err)
		}
	}
}

func TestHeaderChecksVersionAndType(t *testing.T) {
	for _, tt := range []struct {
		b  [8]byte
		ok bool
	}{
		{[8]byte{1, 6, 0, 1, 0, 0, 0, 0}, true},
		{[8]byte{1, 11, 0, 1, 0, 0, 0, 0}, true},
		{[8]byte{1, 12, 0, 1, 0, 0, 0, 0}, false},
		{[8]byte{1, 0, 0, 1, 0, 0, 0, 0}, false},
		{[8]byte{2, 6, 0, 1, 0, 0, 0, 0}, false},
	} {
		_, err := ifcgi.ParseHeader(&tt.b)
		if (err == nil) != tt.ok {
			t.Errorf("%v: %v", tt.b, err)
		}
	}
}

// serveGo serves h with net/http/fcgi on a free port until the test ends.
func serveGo(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = fcgi.Serve(ln, h) }()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

func TestClientAgainstNetHTTPFCGI(t *testing.T) {
	verifyNoLeaks(t)
	addr := serveGo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Path", r.URL.Path)
		w.WriteHeader(201)
		_, _ = w.Write(bytes.ToUpper(b))
	}))
	c := &ifcgi.Client{Network: "tcp", Address: addr}
	defer c.Close()
	var params []byte
	for _, kv := range [][2]string{{"REQUEST_METHOD", "POST"}, {"SERVER_PROTOCOL", "HTTP/1.1"}, {"REQUEST_URI", "/p"}, {"CONTENT_LENGTH", "5"}} {
		params = ifcgi.AppendParams(params, kv[0], kv[1])
	}
	for i := range 3 {
		resp, err := c.Do(context.Background(), &ifcgi.Request{Params: params, Body: strings.NewReader("hello")})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.Status != 201 || string(b) != "HELLO" || resp.Header.Get("X-Path") != "/p" {
			t.Fatalf("request %d: %d %v %q %v", i, resp.Status, resp.Header, b, err)
		}
		if c.Idle() != 1 {
			t.Errorf("request %d: %d idle connections, want 1", i, c.Idle())
		}
	}
}

func TestClientCancelledByContext(t *testing.T) {
	verifyNoLeaks(t)
	block := make(chan struct{})
	addr := serveGo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer close(block)
	c := &ifcgi.Client{Network: "tcp", Address: addr}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	params := ifcgi.AppendParams(nil, "REQUEST_METHOD", "GET")
	params = ifcgi.AppendParams(params, "SERVER_PROTOCOL", "HTTP/1.1")
	_, err := c.Do(ctx, &ifcgi.Request{Params: params})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Do: %v, want context.Canceled", err)
	}
	if c.Idle() != 0 {
		t.Error("a cancelled connection went back to the pool")
	}
}

func TestTapRepeatsParams(t *testing.T) {
	verifyNoLeaks(t)
	got := make(chan map[string]string, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- fcgi.ProcessEnv(r) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = fcgi.Serve(tapListener{ln}, h) }()
	defer func() { ln.Close(); <-done }()

	c := &ifcgi.Client{Network: "tcp", Address: ln.Addr().String()}
	defer c.Close()
	var params []byte
	params = ifcgi.AppendParams(params, "REQUEST_METHOD", "GET")
	params = ifcgi.AppendParams(params, "SERVER_PROTOCOL", "HTTP/1.1")
	params = ifcgi.AppendParams(params, "SCRIPT_NAME", "/app")
	params = ifcgi.AppendParams(params, "PADDING", strings.Repeat("p", 70000)) // spans records
	params = ifcgi.AppendParams(params, "PATH_INFO", "/rest")
	resp, err := c.Do(context.Background(), &ifcgi.Request{Params: params})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	env := <-got
	if env["x.SCRIPT_NAME"] != "/app" || env["x.PATH_INFO"] != "/rest" {
		t.Errorf("repeated params: %q %q", env["x.SCRIPT_NAME"], env["x.PATH_INFO"])
	}
}

type tapListener struct{ net.Listener }

func (l tapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return ifcgi.Tap(c, "x.", "SCRIPT_NAME", "PATH_INFO"), nil
}

// verifyNoLeaks checks, after the test and all its cleanups, that no
// goroutine it started is left.
func verifyNoLeaks(t *testing.T) {
	t.Helper()
	current := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, current) })
}

func TestTapFollowsTheRequestsOnItsConnection(t *testing.T) {
	verifyNoLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	web, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer web.Close()
	raw, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	tc := ifcgi.Tap(raw, "x.", "SCRIPT_NAME")
	defer tc.Close()
	if tc.Busy() {
		t.Fatal("busy before any request")
	}
	begin := ifcgi.AppendBeginRequest(nil, 1, ifcgi.RoleResponder, ifcgi.FlagKeepConn)
	if _, err := web.Write(begin); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(tc, make([]byte, len(begin))); err != nil {
		t.Fatal(err)
	}
	if !tc.Busy() {
		t.Fatal("not busy after BEGIN_REQUEST")
	}
	// The answer, its END_REQUEST record written in three pieces.
	answer := ifcgi.AppendRecord(nil, ifcgi.TypeStdout, 1, []byte("Status: 200\r\n\r\n"))
	answer = ifcgi.AppendEnd(answer, ifcgi.TypeStdout, 1)
	answer = ifcgi.AppendEndRequest(answer, 1, 0, ifcgi.StatusRequestComplete)
	cut1, cut2 := len(answer)-12, len(answer)-3
	for i, part := range [][]byte{answer[:cut1], answer[cut1:cut2], answer[cut2:]} {
		if tc.CloseIdle() {
			t.Fatalf("closed under a request, after part %d of the answer", i)
		}
		if _, err := tc.Write(part); err != nil {
			t.Fatal(err)
		}
	}
	if tc.Busy() {
		t.Error("busy after END_REQUEST")
	}
	if !tc.CloseIdle() {
		t.Error("CloseIdle kept an idle connection open")
	}
}

func TestBodyBufferedCountsOnlyTheBody(t *testing.T) {
	verifyNoLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	more := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		var h [8]byte
		for {
			if _, err := io.ReadFull(c, h[:]); err != nil {
				return
			}
			n := int(h[4])<<8 | int(h[5]) + int(h[6])
			if _, err := io.CopyN(io.Discard, c, int64(n)); err != nil {
				return
			}
			if h[1] == ifcgi.TypeStdin && n == 0 {
				break
			}
		}
		var b []byte
		b = ifcgi.AppendRecord(b, ifcgi.TypeStdout, 1, []byte("\r\nbody"))
		b = ifcgi.AppendRecord(b, ifcgi.TypeStderr, 1, []byte("a log line\n"))
		_, _ = c.Write(b)
		<-more
		b = ifcgi.AppendEnd(nil, ifcgi.TypeStdout, 1)
		_, _ = c.Write(ifcgi.AppendEndRequest(b, 1, 0, ifcgi.StatusRequestComplete))
	}()
	defer func() { <-done }()
	c := &ifcgi.Client{Network: "tcp", Address: ln.Addr().String()}
	defer c.Close()
	resp, err := c.Do(context.Background(), &ifcgi.Request{Params: ifcgi.AppendParams(nil, "REQUEST_METHOD", "GET")})
	if err != nil {
		close(more)
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 64)
	n, err := resp.Body.Read(buf)
	if err != nil || string(buf[:n]) != "body" {
		close(more)
		t.Fatalf("Read: %q %v", buf[:n], err)
	}
	if b := resp.Body.Buffered(); b != 0 {
		t.Errorf("Buffered() = %d after the body so far, with only a stderr record behind it; want 0", b)
	}
	close(more)
	if rest, err := io.ReadAll(resp.Body); err != nil || len(rest) != 0 {
		t.Errorf("rest %q %v", rest, err)
	}
}
