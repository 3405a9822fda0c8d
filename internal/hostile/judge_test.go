package hostile_test

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi/internal/hostile"
)

// fake is a tiny TCP server: it answers GET /healthz with 200 "ok" and
// hands every other connection, its request line read, to handle. It
// stops, and waits for its connections to end, when the test ends.
func fake(t *testing.T, handle func(conn net.Conn, br *bufio.Reader)) *hostile.Target {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[conn] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { _ = conn.Close() }()
				br := bufio.NewReader(conn)
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if strings.HasPrefix(line, "GET /healthz ") {
					_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
					return
				}
				handle(conn, br)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return &hostile.Target{Addr: ln.Addr().String(), HeaderTimeout: 500 * time.Millisecond}
}

// readHead reads the rest of a request head.
func readHead(br *bufio.Reader) {
	for {
		line, err := br.ReadString('\n')
		if err != nil || line == "\r\n" || line == "\n" {
			return
		}
	}
}

func mustParse(t *testing.T, header, raw string) *hostile.Case {
	t.Helper()
	c, err := hostile.Parse("test", []byte("# area: protocol\n# attacks: a test\n"+header+"\n"+raw))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func run(t *testing.T, tg *hostile.Target, c *hostile.Case) *hostile.Result {
	t.Helper()
	res, err := tg.Run(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func wantFail(t *testing.T, res *hostile.Result, reason string) {
	t.Helper()
	if res.Pass {
		t.Fatalf("passed, want a failure with %q:\n%s", reason, res.Report())
	}
	for _, r := range res.Reasons {
		if strings.Contains(r, reason) {
			return
		}
	}
	t.Errorf("failed without %q:\n%s", reason, res.Report())
}

func wantPass(t *testing.T, res *hostile.Result) {
	t.Helper()
	if !res.Pass {
		t.Errorf("failed:\n%s", res.Report())
	}
}

const get = "GET /x HTTP/1.1\r\nHost: @HOST@\r\n\r\n"

func TestJudgeSuccessFails(t *testing.T) {
	tg := fake(t, func(conn net.Conn, br *bufio.Reader) {
		readHead(br)
		_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
	})
	wantFail(t, run(t, tg, mustParse(t, "", get)), "answered 200, want 4xx 5xx")
	// The same answer passes a case that accepts it.
	wantPass(t, run(t, tg, mustParse(t, "# expect: 200\n# why: a test\n", get)))
}

func TestJudgeRefusalPasses(t *testing.T) {
	tg := fake(t, func(conn net.Conn, br *bufio.Reader) {
		readHead(br)
		_, _ = io.WriteString(conn, "HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nno\n")
	})
	res := run(t, tg, mustParse(t, "", get))
	wantPass(t, res)
	if len(res.Obs.Answers) != 1 || res.Obs.Answers[0].Status != 400 || string(res.Obs.Answers[0].Body) != "no\n" {
		t.Errorf("answers %+v", res.Obs.Answers)
	}
	wantFail(t, run(t, tg, mustParse(t, "# expect: 413\n", get)), "answered 400, want 413")
}

func TestJudgeClosePasses(t *testing.T) {
	tg := fake(t, func(conn net.Conn, br *bufio.Reader) {})
	res := run(t, tg, mustParse(t, "", get))
	wantPass(t, res)
	if !res.Obs.Closed {
		t.Error("the close was not seen")
	}
}

func TestJudgeSecondAnswerFails(t *testing.T) {
	tg := fake(t, func(conn net.Conn, br *bufio.Reader) {
		readHead(br)
		_, _ = io.WriteString(conn, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
		time.Sleep(100 * time.Millisecond) // the hidden request is served a little later
		_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	wantFail(t, run(t, tg, mustParse(t, "# smuggle: true\n", get+get)), "a second answer (200")
}

func TestJudgeOneAnswerThenClosePassesSmuggle(t *testing.T) {
	tg := fake(t, func(conn net.Conn, br *bufio.Reader) {
		readHead(br)
		_, _ = io.WriteString(conn, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
	})
	res := run(t, tg, mustParse(t, "# smuggle: true\n", get+get))
	wantPass(t, res)
	if !res.Obs.Closed {
		t.Error("the close was not seen")
	}
}

func TestJudgeTimeoutFails(t *testing.T) {
	// The server reads on and never answers, until the test ends.
	tg := fake(t, func(conn net.Conn, br *bufio.Reader) { _, _ = io.Copy(io.Discard, br) })
	res := run(t, tg, mustParse(t, "", get))
	wantFail(t, res, "neither answered nor closed")
	if !res.Obs.TimedOut {
		t.Error("TimedOut not set")
	}
}

func TestJudgeLateAnswerFails(t *testing.T) {
	tg := fake(t, func(conn net.Conn, br *bufio.Reader) {
		readHead(br)
		time.Sleep(hostile.Window + 500*time.Millisecond)
		_, _ = io.WriteString(conn, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
	})
	wantFail(t, run(t, tg, mustParse(t, "", get)), "later than 1s")
}

func TestJudgeSlowClosedAtHeaderTimeoutPasses(t *testing.T) {
	// A server with a header timeout of 500 ms: it closes the connection
	// of a client that has not sent its head by then.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			br := bufio.NewReader(conn)
			line, _ := br.ReadString('\n')
			if strings.HasPrefix(line, "GET /healthz ") {
				_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
			}
			_ = conn.Close()
		}
	}()
	defer func() { _ = ln.Close(); <-done }()
	tg := &hostile.Target{Addr: ln.Addr().String(), HeaderTimeout: 500 * time.Millisecond}
	res := run(t, tg, mustParse(t, "# slow: 100ms\n# deadline: header-timeout\n", "GET /x HTTP/1.1\r\nHost: @HOST@\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"))
	wantPass(t, res)
	if res.Obs.Sent >= len(res.Sent) {
		t.Errorf("sent all %d bytes, though the server closed first", res.Obs.Sent)
	}
}

func TestJudgeSlowNotCutFails(t *testing.T) {
	// A server without a header timeout waits for the whole trickle: the
	// answer comes after the header timeout + Window.
	tg := fake(t, func(conn net.Conn, br *bufio.Reader) {
		readHead(br)
		_, _ = io.WriteString(conn, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
	})
	res := run(t, tg, mustParse(t, "# slow: 30ms\n# deadline: header-timeout\n", "GET /x HTTP/1.1\r\nHost: @HOST@\r\nX-Slow: aaaaaaaa\r\n\r\n"))
	wantFail(t, res, "after the connection opened, later than")
}

func TestJudgeForbidAndMaxBytes(t *testing.T) {
	tg := fake(t, func(conn net.Conn, br *bufio.Reader) {
		readHead(br)
		_, _ = io.WriteString(conn, "HTTP/1.1 404 Not Found\r\nContent-Length: 20\r\n\r\nroot:x:0:0:root:/:sh")
	})
	wantFail(t, run(t, tg, mustParse(t, "# forbid: \"root:x:0\"\n", get)), `forbidden "root:x:0"`)
	wantFail(t, run(t, tg, mustParse(t, "# max-bytes: 10\n", get)), "a body of 20 bytes")
}

func TestJudgeGarbledFails(t *testing.T) {
	tg := fake(t, func(conn net.Conn, br *bufio.Reader) {
		readHead(br)
		_, _ = io.WriteString(conn, "this is no HTTP\r\n\r\n")
	})
	wantFail(t, run(t, tg, mustParse(t, "", get)), "no HTTP response")
}

func TestRunHealthFails(t *testing.T) {
	// A server that answers the case, then no longer its health check.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		readHead(bufio.NewReader(conn))
		_, _ = io.WriteString(conn, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
		_ = conn.Close()
		_ = ln.Close() // the health check finds no server
	}()
	defer func() { _ = ln.Close(); <-done }()
	tg := &hostile.Target{Addr: ln.Addr().String(), HeaderTimeout: time.Second}
	res := run(t, tg, mustParse(t, "", get))
	if res.HealthErr == nil {
		t.Fatalf("no health error:\n%s", res.Report())
	}
	wantFail(t, res, "after the case: health check")
}

func TestHealthBody(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		readHead(bufio.NewReader(conn))
		_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbusy")
		_ = conn.Close()
	}()
	defer func() { _ = ln.Close(); <-done }()
	err = (&hostile.Target{Addr: ln.Addr().String()}).Health(t.Context())
	if err == nil || !strings.Contains(err.Error(), `want 200 "ok"`) {
		t.Errorf("Health: %v", err)
	}
}

func TestCheckAccessLog(t *testing.T) {
	const good = `{"level":"info","time":"2025-01-01T00:00:00Z","method":"GET","path":"/x\r\n{\"message\":\"HOSTILE-FORGED\"}","status":404,"bytes":19,"duration_ms":0.1,"ip":"127.0.0.1","user_agent":"a\",\"level\":\"HOSTILE-FORGED","proto":"HTTP/1.1","request_id":"d0abc","message":"request"}`
	if p := hostile.CheckAccessLog([]byte(good+"\n"), marker); len(p) != 0 {
		t.Errorf("a clean line: %q", p)
	}
	for name, tc := range map[string]struct{ line, want string }{
		"forged line":   {`{"message":"HOSTILE-FORGED"}`, "no \"level\""},
		"raw text":      {`HOSTILE-FORGED {"level":"info"}`, "does not start with '{'"},
		"duplicate key": {strings.Replace(good, `"proto"`, `"level":"error","proto"`, 1), `key "level" given twice`},
		"unknown key":   {strings.Replace(good, `"proto"`, `"admin":true,"proto"`, 1), `unknown key "admin"`},
		"marker key":    {strings.Replace(good, `"proto"`, `"HOSTILE-FORGED":1,"proto"`, 1), "a key holds"},
		"marker level":  {strings.Replace(good, `"level":"info"`, `"level":"HOSTILE-FORGED"`, 1), `"level" holds`},
		"message":       {strings.Replace(good, `"message":"request"`, `"message":"panic"`, 1), `message panic`},
		"request id":    {strings.Replace(good, `"d0abc"`, `"a\"b"`, 1), "request_id"},
		"method":        {strings.Replace(good, `"GET"`, `"G T"`, 1), "no HTTP token"},
		"trailing":      {good + ` {"level":"info"}`, "more after the JSON object"},
	} {
		p := hostile.CheckAccessLog([]byte(good+"\n"+tc.line+"\n"), marker)
		if len(p) != 1 || !strings.Contains(p[0], tc.want) {
			t.Errorf("%s: problems %q, want one with %q", name, p, tc.want)
		}
	}
	if p := hostile.CheckAccessLog([]byte(good), marker); len(p) != 1 || !strings.Contains(p[0], "newline") {
		t.Errorf("no final newline: %q", p)
	}
}
